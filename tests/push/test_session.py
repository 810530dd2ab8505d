"""Push sessions on a hub fed by hand: the message sequence, deltas, throttle, permissions, subscriptions."""
import json

import pytest

from octoserve import events
from octoserve.push import session as session_module

LINES = [f"Recv: line {n}" for n in range(6)]


@pytest.fixture(autouse=True)
def fast_ticks(monkeypatch):
    monkeypatch.setattr(session_module, "TICK", 0.02)


def kinds(messages):
    return [next(iter(m)) for m in messages]


def test_a_guest_gets_connected_and_nothing_else(hub, feed, connect):
    guest = connect()
    first = guest.take(others=True)
    assert kinds(first) == ["connected"]
    connected = first[0]["connected"]
    assert connected["version"] == "1.11.8" and "apikey" not in connected
    assert {p["key"] for p in connected["permissions"]} >= {"ADMIN", "STATUS", "MONITOR_TERMINAL"}
    feed.update(logs=LINES, temps=[{"time": 1, "tool0": {"actual": 20, "target": 0}}])
    hub.cut_batch()
    hub.services.events.fire(events.PRINT_STARTED, {"name": "a.gcode"})
    assert guest.take(0.1) == []


def test_after_auth_the_backlog_then_history_then_timelapse(hub, feed, connect, people):
    client = connect()
    client.take()
    people.events.fire(events.PRINT_STARTED, {"name": "a.gcode"})
    client.send({"auth": f"bob:{people.tokens.issue('bob')}"})
    received = client.take(others=True)
    assert kinds(received) == ["event", "event", "event", "history", "timelapse"]
    assert [m["event"]["type"] for m in received[:3]] == [events.CLIENT_OPENED, events.PRINT_STARTED,
                                                          events.CLIENT_AUTHED]
    history = received[3]["history"]
    assert history["state"]["text"] == "Operational" and "serverTime" in history and "busyFiles" not in history
    assert received[4] == {"timelapse": None}


def test_currents_carry_each_line_and_point_once_whatever_the_throttle(hub, feed, connect, people):
    fast, slow = connect(), connect()
    fast.auth(people, "bob")
    slow.auth(people, "bob")
    slow.send({"throttle": 3})
    got = {"fast": [], "slow": []}
    for number in range(12):
        feed.update(logs=[f"Recv: {number}"], temps=[{"time": number, "tool0": {"actual": number, "target": 0}}])
        hub.cut_batch()
        got["fast"] += [m["current"] for m in fast.take(0.025) if "current" in m]  # at every tick
        got["slow"] += [m["current"] for m in slow.take() if "current" in m]  # when its throttle lets it
    for name, client in (("fast", fast), ("slow", slow)):
        got[name] += [m["current"] for m in client.take(0.2) if "current" in m]
    for currents in got.values():
        assert [line for c in currents for line in c["logs"]] == [f"Recv: {n}" for n in range(12)]
        assert [p["time"] for c in currents for p in c["temps"]] == list(range(12))
    assert len(got["slow"]) < len(got["fast"])


def test_nothing_new_means_no_current(hub, feed, connect, people):
    client = connect()
    client.auth(people, "bob")
    assert hub.cut_batch() is False
    assert client.take(0.1) == []


def test_clients_in_step_share_one_encoded_current(hub, feed, connect, people):
    first, second = connect(), connect()
    first.auth(people, "bob")
    second.auth(people, "rea")  # another user, the same view of the terminal
    feed.update(logs=LINES)
    hub.cut_batch()
    texts = [hub.current_for(client.session)[0] for client in (first, second)]
    assert texts[0] is texts[1]


def test_logs_and_messages_need_monitor_terminal(hub, feed, connect, people):
    people.groups.add("lookers", "Lookers", permissions=["STATUS"])
    people.users.add("sam", "pw", groups=["lookers"])
    client = connect()
    received = client.auth(people, "sam")
    assert received[-2]["history"]["logs"] == [] and received[-2]["history"]["messages"] == []
    feed.update(logs=LINES, messages=["echo: hi"])
    hub.cut_batch()
    current = client.take(0.1)[0]["current"]
    assert "logs" not in current and "messages" not in current and "busyFiles" in current


def test_subscribe_with_a_regex_and_without_state(hub, feed, connect, people):
    client = connect()
    client.auth(people, "bob")
    client.send({"subscribe": {"state": {"logs": "line [12]$", "messages": False}, "events": [events.PRINT_DONE]}})
    feed.update(logs=LINES, messages=["echo: hi"])
    hub.cut_batch()
    people.events.fire(events.PRINT_STARTED, {})
    people.events.fire(events.PRINT_DONE, {})
    received = client.take(0.1)
    assert [m["event"]["type"] for m in received if "event" in m] == [events.PRINT_DONE]
    currents = [m["current"] for m in received if "current" in m]
    assert currents[0]["logs"] == ["Recv: line 1", "Recv: line 2"] and currents[0]["messages"] == []
    client.send({"subscribe": {"events": True}})  # state off: no more currents
    feed.update(logs=LINES)
    hub.cut_batch()
    assert [m for m in client.take(0.1) if "current" in m] == []
    client.send({"subscribe": {"state": True}})  # on again: a fresh history first
    assert kinds(client.take()) == ["history"]


def test_admin_only_and_blanked_events(hub, connect, people):
    admin, user = connect(), connect()
    admin.auth(people, "ada")
    user.auth(people, "bob")
    admin.take(others=True), user.take(others=True)
    people.events.fire(events.USER_LOGGED_IN, {"username": "bob"})
    people.events.fire(events.CLIENT_OPENED, {"remoteAddress": "192.0.2.99"})
    assert [m["event"] for m in admin.take(others=True)] == [
        {"type": events.USER_LOGGED_IN, "payload": {"username": "bob"}},
        {"type": events.CLIENT_OPENED, "payload": {"remoteAddress": "192.0.2.99"}}]
    assert [m["event"] for m in user.take(others=True)] == [{"type": events.CLIENT_OPENED, "payload": {}}]


@pytest.mark.parametrize("text", ["{}", "not json", "[1, 2]", "null", '{"throttle": "fast"}', '{"throttle": 0}',
                                  '{"subscribe": {"state": {"logs": "("}}}', '{"auth": 5}', "[" * 100_000])
def test_malformed_or_unknown_messages_are_ignored(hub, connect, people, text):
    client = connect()
    client.auth(people, "bob")
    client.send(text)
    assert client.session.throttle == 1 and client.session.subscription.state is True
    assert client.take() == [] and not client.session.closed


def test_a_bad_auth_asks_for_a_new_login(connect, people):
    client = connect()
    client.take()
    client.send({"auth": "bob:not-a-session"})
    assert client.take() == [{"reauthRequired": {"reason": "stale"}}]
    client.send({"auth": "bob"})
    assert client.take() == [{"reauthRequired": {"reason": "stale"}}]


def test_logout_removal_and_changes_end_the_socket_login(hub, feed, connect, people):
    gone, changed, out = connect(), connect(), connect()
    gone.auth(people, "rea")
    changed.auth(people, "bob")
    people.users.add("cat", "pw", groups=["users"])
    token = people.tokens.issue("cat")
    out.send({"auth": f"cat:{token}"})
    out.take()
    people.tokens.revoke(token)
    assert out.take() == [{"reauthRequired": {"reason": "logout"}}]
    people.users.delete("rea")
    people.users.update("bob", groups=["readonly"])
    hub._check_users()
    assert gone.take() == [{"reauthRequired": {"reason": "removed"}}]
    assert changed.take() == [{"reauthRequired": {"reason": "modified"}}]
    feed.update(logs=LINES)
    hub.cut_batch()
    assert [m for client in (gone, changed, out) for m in client.take(0.1)] == []


def test_plugin_messages_follow_the_subscription(hub, connect, people):
    client = connect()
    client.auth(people, "bob")
    hub.send_plugin_message("appkeys", {"type": "request_access", "app_name": "Cura"})
    assert client.take() == [{"plugin": {"plugin": "appkeys", "data": {"type": "request_access", "app_name": "Cura"}}}]
    client.send({"subscribe": {"plugins": ["other"]}})
    hub.send_plugin_message("appkeys", {})
    assert client.take() == []


def test_a_client_that_reads_nothing_is_closed_not_buffered_forever(hub, connect, people):
    client = connect()
    client.auth(people, "bob")
    for number in range(session_module.MAX_QUEUED + 10):
        people.events.fire(events.Z_CHANGE, {"new": number, "old": None})
    assert client.session.closed
    assert client.session not in hub.sessions
    json.dumps(client.take())
