"""The printer's SD card through the daemon and the virtual printer: list, print, delete, upload."""
import pytest

from octoserve.errors import Conflict, NotFound
from tests.daemon_helpers import connect_virtual, wait_for

PART = "G28\n" + "\n".join(f"G1 X{i} Y{i} E{i * 0.1:.1f}" for i in range(60)) + "\nM84\n"


def card_files(client):
    return {entry["name"]: entry for entry in client.call("sd_files")}


def test_the_card_is_listed_after_connecting(printer_daemon, printer_client):
    connect_virtual(printer_client)
    wait_for(lambda: printer_client.snapshot.sd_ready, what="the card")
    with open(printer_daemon.ports.printer.sd_folder + "/cube.gco", "w") as handle:
        handle.write(PART)
    printer_client.call("sd_refresh")
    wait_for(lambda: "CUBE.GCO" in {n.upper() for n in card_files(printer_client)}, what="the listing")


def test_upload_list_print_and_delete(printer_daemon, printer_client, tmp_path, services):
    events = []
    services.events.subscribe(lambda name, payload: events.append((name, payload)))
    connect_virtual(printer_client)
    wait_for(lambda: printer_client.snapshot.sd_ready, what="the card")
    local = tmp_path / "part.gcode"
    local.write_text("; comment\n" + PART)
    printer_client.call("sd_upload", abs_path=str(local), remote_name="part.gco")
    wait_for(lambda: any(name.lower() == "part.gco" for name in card_files(printer_client)), timeout=15,
             what="the uploaded file in the listing")
    name = next(n for n in card_files(printer_client) if n.lower() == "part.gco")
    wait_for(lambda: printer_client.snapshot.flags.ready, what="the upload to end")
    assert card_files(printer_client)[name]["size"] > 0
    printer_client.call("sd_select", name=name, print=True)
    assert printer_client.call("snapshot").job.file.origin == "sdcard"
    wait_for(lambda: any(n == "PrintDone" and p["origin"] == "sdcard" for n, p in events), timeout=20,
             what="the SD print to end")
    assert any(n == "PrinterStateChanged" and p["state_string"] == "Printing" for n, p in events)
    wait_for(lambda: printer_client.snapshot.state.text == "Operational", what="operational again")
    with pytest.raises(NotFound):
        printer_client.call("sd_select", name="missing.gco")
    printer_client.call("sd_delete", name=name)
    wait_for(lambda: name not in card_files(printer_client), what="the file to go")


def test_sd_requests_need_a_ready_card(printer_client):
    with pytest.raises(Conflict):
        printer_client.call("sd_select", name="x.gco")
