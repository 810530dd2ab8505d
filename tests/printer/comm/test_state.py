"""States, their OctoPrint ids and display strings, the transition table and the API flags."""
import pytest

from octoserve.printer.comm.state import TRANSITIONS, Flags, InvalidTransition, State, StateMachine, can_transition

FLAG_KEYS = ["operational", "printing", "cancelling", "pausing", "resuming", "finishing", "closedOrError", "error",
             "paused", "ready", "sdReady"]


def machine_in(*path):
    machine = StateMachine()
    for state in path:
        machine.transition(state)
    return machine


CONNECTED = (State.OPENING, State.CONNECTING, State.OPERATIONAL)
PRINTING = CONNECTED + (State.STARTING, State.PRINTING)


@pytest.mark.parametrize("state, state_id, text", [
    (State.OFFLINE, "OFFLINE", "Offline"),
    (State.OPENING, "OPEN_SERIAL", "Opening serial connection"),
    (State.DETECTING, "DETECT_SERIAL", "Detecting serial connection"),
    (State.CONNECTING, "CONNECTING", "Connecting"),
    (State.OPERATIONAL, "OPERATIONAL", "Operational"),
    (State.STARTING, "STARTING", "Starting"),
    (State.PRINTING, "PRINTING", "Printing"),
    (State.PAUSING, "PAUSING", "Pausing"),
    (State.PAUSED, "PAUSED", "Paused"),
    (State.RESUMING, "RESUMING", "Resuming"),
    (State.FINISHING, "FINISHING", "Finishing"),
    (State.CANCELLING, "CANCELLING", "Cancelling"),
    (State.ERROR, "ERROR", "Error"),
    (State.CLOSED, "CLOSED", "Offline"),
    (State.CLOSED_WITH_ERROR, "CLOSED_WITH_ERROR", "Offline after error"),
    (State.TRANSFERRING_FILE, "TRANSFERING_FILE", "Transferring file to SD"),
])
def test_ids_and_display_strings(state, state_id, text):
    assert (state.value, state.state_id, state.text) == (state_id, state_id, text)
    assert State(state_id) is state


def test_every_state_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(State)


@pytest.mark.parametrize("state", list(State))
def test_errors_and_closing_are_reachable_from_anywhere(state):
    for target in (State.ERROR, State.CLOSED, State.CLOSED_WITH_ERROR):
        assert can_transition(state, target) or state is target


def test_staying_is_not_a_transition():
    assert not can_transition(State.PRINTING, State.PRINTING)


@pytest.mark.parametrize("path", [
    (State.OPENING, State.CONNECTING, State.OPERATIONAL),
    (State.DETECTING, State.OPENING, State.CONNECTING, State.DETECTING, State.CONNECTING, State.OPERATIONAL),
    PRINTING + (State.PAUSING, State.PAUSED, State.RESUMING, State.PRINTING, State.FINISHING, State.OPERATIONAL),
    PRINTING + (State.CANCELLING, State.OPERATIONAL),
    PRINTING + (State.PAUSING, State.CANCELLING, State.OPERATIONAL),
    PRINTING + (State.PAUSED, State.PRINTING),  # //action:paused and //action:resumed
    CONNECTED + (State.PRINTING,),  # an SD print started on the printer
    CONNECTED + (State.TRANSFERRING_FILE, State.OPERATIONAL),
    PRINTING + (State.ERROR, State.CLOSED_WITH_ERROR, State.OPENING),
    CONNECTED + (State.CLOSED, State.DETECTING),
])
def test_legal_paths(path):
    assert machine_in(*path).state is path[-1]


@pytest.mark.parametrize("current, target", [
    (State.OFFLINE, State.OPERATIONAL),
    (State.OFFLINE, State.PRINTING),
    (State.OPERATIONAL, State.PAUSED),
    (State.OPERATIONAL, State.CONNECTING),
    (State.PAUSED, State.FINISHING),
    (State.FINISHING, State.PRINTING),
    (State.CANCELLING, State.PRINTING),
    (State.ERROR, State.OPERATIONAL),
    (State.CLOSED, State.PRINTING),
])
def test_illegal_moves_raise(current, target):
    assert not can_transition(current, target)
    machine = StateMachine(current)
    with pytest.raises(InvalidTransition) as caught:
        machine.transition(target)
    assert caught.value.current is current and caught.value.target is target
    assert current.value in str(caught.value) and target.value in str(caught.value)
    assert machine.state is current


def test_transition_reports_whether_anything_changed():
    machine = StateMachine()
    assert machine.transition(State.OPENING) is True
    assert machine.transition(State.OPENING) is False


def test_error_text_lives_with_the_error_states():
    machine = machine_in(*PRINTING)
    machine.transition(State.ERROR, "MAXTEMP triggered")
    assert (machine.text, machine.error) == ("Error", "MAXTEMP triggered")
    machine.transition(State.CLOSED_WITH_ERROR)
    assert (machine.text, machine.error) == ("Offline after error", "MAXTEMP triggered")
    machine.transition(State.OPENING)
    assert machine.error == ""
    with pytest.raises(ValueError):
        machine.transition(State.CONNECTING, "no")


@pytest.mark.parametrize("state, sd, streaming, text", [
    (State.PRINTING, False, False, "Printing"),
    (State.PRINTING, True, False, "Printing from SD"),
    (State.PRINTING, False, True, "Sending file to SD"),
    (State.STARTING, True, False, "Starting print from SD"),
    (State.STARTING, False, True, "Starting to send file to SD"),
    (State.PAUSED, True, False, "Paused"),
])
def test_sd_variants_of_the_text(state, sd, streaming, text):
    machine = machine_in(*CONNECTED)
    machine.transition(State.STARTING, sd=sd, streaming=streaming)
    if state is not State.STARTING:
        machine.transition(State.PRINTING)
    if state is State.PAUSED:
        machine.transition(State.PAUSED)
    assert machine.text == text


def test_qualifiers_last_for_the_job_only():
    machine = machine_in(*CONNECTED)
    machine.transition(State.STARTING, sd=True)
    machine.transition(State.PRINTING)
    machine.transition(State.PAUSING)
    machine.transition(State.PAUSED)
    machine.transition(State.RESUMING)
    machine.transition(State.PRINTING)
    assert machine.text == "Printing from SD"
    machine.transition(State.FINISHING)
    machine.transition(State.OPERATIONAL)
    assert not machine.sd
    machine.transition(State.STARTING)
    machine.transition(State.PRINTING)
    assert machine.text == "Printing"


def expected_flags(**true):
    return {key: key in true for key in FLAG_KEYS}


@pytest.mark.parametrize("path, flags", [
    ((), expected_flags(closedOrError=1)),
    ((State.OPENING,), expected_flags()),
    ((State.DETECTING,), expected_flags()),
    ((State.OPENING, State.CONNECTING), expected_flags()),
    (CONNECTED, expected_flags(operational=1, ready=1)),
    (CONNECTED + (State.STARTING,), expected_flags(operational=1, printing=1)),
    (PRINTING, expected_flags(operational=1, printing=1)),
    (PRINTING + (State.PAUSING,), expected_flags(operational=1, printing=1, pausing=1)),
    (PRINTING + (State.PAUSED,), expected_flags(operational=1, paused=1)),
    (PRINTING + (State.PAUSED, State.RESUMING), expected_flags(operational=1, printing=1, resuming=1)),
    (PRINTING + (State.FINISHING,), expected_flags(operational=1, printing=1, finishing=1)),
    (PRINTING + (State.CANCELLING,), expected_flags(operational=1, printing=1, cancelling=1)),
    (CONNECTED + (State.TRANSFERRING_FILE,), expected_flags(operational=1)),
    (PRINTING + (State.ERROR,), expected_flags(closedOrError=1, error=1)),
    (CONNECTED + (State.CLOSED,), expected_flags(closedOrError=1)),
    (CONNECTED + (State.CLOSED_WITH_ERROR,), expected_flags(closedOrError=1, error=1)),
])
def test_api_flags(path, flags):
    assert machine_in(*path).flags().to_api() == flags
    assert list(machine_in(*path).flags().to_api()) == FLAG_KEYS
    assert Flags.from_api(flags) == machine_in(*path).flags()


def test_sd_ready_flag_and_streaming_is_not_ready():
    machine = machine_in(*CONNECTED)
    assert machine.flags(sd_ready=True).sd_ready is True
    machine.transition(State.STARTING, streaming=True)
    machine.transition(State.PRINTING)
    assert machine.text == "Sending file to SD"
    assert machine.flags().ready is False


def test_the_default_flags_are_those_of_a_printer_never_connected():
    assert Flags() == StateMachine().flags() == machine_in(*CONNECTED, State.CLOSED).flags()
