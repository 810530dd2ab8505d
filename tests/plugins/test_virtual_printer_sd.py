"""The SD card: listing with 8.3 names, selecting, printing, uploading with M28/M29, deleting."""
import re
import time

from octoserve_plugins.virtual_printer.sdcard import short_name
from tests.plugins.serial_host import numbered


def put(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path.stat().st_size


def test_short_names():
    taken = set()
    names = []
    for name in ["TEST.GCO", "test2.gcode", "Long Name.gcode", "Long Nail.gcode", "a.b.c.g"]:
        names.append(short_name(name, taken))
        taken.add(names[-1])
    assert names == ["TEST.GCO", "TEST2~1.GCO", "LONGNA~1.GCO", "LONGNA~2.GCO", "ABC~1.G"]


def test_m20_lists_gcode_files_with_sizes_long_names_and_timestamps(tmp_path, host):
    long_size = put(tmp_path, "Long Name.gcode", "G28\n")
    short_size = put(tmp_path, "TEST.GCO", "G28\nG1 X1\n")
    put(tmp_path, "notes.txt", "not G-code")
    put(tmp_path, ".hidden.gcode", "G28\n")
    assert host.ask("M20") == ["Begin file list", f"LONGNA~1.GCO {long_size}", f"TEST.GCO {short_size}",
                               "End file list", "ok"]
    lines = host.ask("M20 L T")
    assert re.fullmatch(rf"LONGNA~1\.GCO {long_size} 0x[0-9A-F]{{8}} Long Name\.gcode", lines[1])
    assert re.fullmatch(rf"TEST\.GCO {short_size} 0x[0-9A-F]{{8}} TEST\.GCO", lines[2])


def test_select_by_long_or_short_name(tmp_path, host):
    size = put(tmp_path, "Long Name.gcode", "G28\n")
    assert host.ask("M23 Long Name.gcode") == [
        "echo:Now fresh file: Long Name.gcode", f"File opened: Long Name.gcode Size: {size}", "File selected", "ok"]
    assert host.ask("M23 /longna~1.gco")[1] == f"File opened: longna~1.gco Size: {size}"
    assert host.ask("M27 C") == ["Current file: LONGNA~1.GCO Long Name.gcode", "ok"]
    assert host.ask("M23 missing.gco") == ["open failed, File: missing.gco.", "ok"]


def test_sd_print_runs_the_file_and_reports_progress(tmp_path, make_printer, connect):
    moves = "".join(f"G1 X{i} Y{i}\n" for i in range(1, 21))
    size = put(tmp_path, "job.gcode", "M104 S60 ; heat\n" + moves + "M117 Almost done\n")
    host = connect(make_printer(move_time=0.02))
    assert host.ask("M27") == ["Not SD printing", "ok"]
    host.ask("M23 job.gcode")
    host.ask("M24")
    time.sleep(0.1)
    host.ask("M25")
    paused = host.ask("M27")[0]
    position = int(re.fullmatch(rf"SD printing byte (\d+)/{size}", paused)[1])
    assert 0 < position < size
    time.sleep(0.1)
    assert host.ask("M27")[0] == paused
    host.ask("M27 S1")
    host.ask("M24")
    lines = host.read_until(lambda line: line == b"Done printing file", deadline=3)
    assert b"echo:Almost done" in lines
    assert host.ask("M114")[0].startswith("X:20.00 Y:20.00 ")
    assert "/60.00" in host.ask("M105")[0]
    assert host.read_until(lambda line: line == b"Not SD printing", deadline=2)


def test_upload_with_m28_m29_writes_lines_without_running_them(tmp_path, printer, host):
    assert host.ask("M28 /upload.gco", 1) == ["Writing to file: upload.gco", "ok"]
    for n, command in enumerate(["G28", "G1 X50 Y50", "M104 S200"], start=2):
        assert host.ask(command, n) == ["ok"]
    host.send("G1 X1")                                   # unnumbered while saving: refused
    assert host.until_ok() == [b"Error:No Checksum with line number, Last Line: 4", b"Resend: 5", b"ok"]
    assert host.ask("M29") == ["Done saving file.", "ok"]
    assert (tmp_path / "upload.gco").read_text() == "G28\nG1 X50 Y50\nM104 S200\n"
    assert host.ask("M114")[0].startswith("X:0.00 Y:0.00 ")
    assert host.ask("M105")[0].startswith("ok T:21.30 /0.00")
    assert host.ask("M20")[1].startswith("UPLOAD.GCO ")


def test_delete(tmp_path, host):
    put(tmp_path, "old.gcode", "G28\n")
    assert host.ask("M30 old.gcode") == ["File deleted:old.gcode", "ok"]
    assert not (tmp_path / "old.gcode").exists()
    assert host.ask("M30 old.gcode") == ["Deletion failed, File: old.gcode.", "ok"]


def test_release_and_mount(host):
    assert host.ask("M22") == ["echo:SD card released", "ok"]
    assert host.ask("M20") == ["echo:No media", "ok"]
    assert host.ask("M21") == ["echo:SD card ok", "ok"]
    assert host.ask("M20") == ["Begin file list", "End file list", "ok"]


def test_no_card(make_printer, connect):
    host = connect(make_printer(sd_card=False))
    assert host.ask("M21") == ["echo:No SD card", "ok"]
    assert host.ask(numbered(1, "M20").decode()) == ["echo:No media", "ok"]
