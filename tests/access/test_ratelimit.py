"""Failed logins are limited per remote address (3 a minute); correct passwords never count."""
import pytest

from octoserve.access.ratelimit import FailedLoginLimiter
from tests.api.seeded import assert_error
from tests.conftest import login

TOO_MANY = "You have made too many failed login attempts. Please try again later."


def test_fourth_attempt_after_three_failures_is_429_even_with_the_right_password(client, personas):
    for _ in range(3):
        assert_error(login(client, "user", "wrong"), 403)
    assert_error(login(client, "user"), 429, TOO_MANY)
    assert client.get("/api/currentuser").get_json()["name"] is None


def test_failures_of_unknown_users_count_too(client, personas):
    for name in ("nobody", "ghost", "user"):
        assert_error(login(client, name, "wrong"), 403)
    assert_error(login(client, "admin"), 429, TOO_MANY)


def test_successful_logins_do_not_count(client, personas):
    for _ in range(2):
        assert_error(login(client, "user", "wrong"), 403)
    for _ in range(3):
        assert login(client, "user").status_code == 200
    assert_error(login(client, "user", "wrong"), 403)  # the third failure: still judged, not limited
    assert_error(login(client, "user"), 429, TOO_MANY)


def test_the_limit_is_per_remote_address(client, personas):
    for _ in range(3):
        assert_error(login(client, "user", "wrong"), 403)
    elsewhere = {"REMOTE_ADDR": "192.168.1.77"}
    response = client.post("/api/login", json={"user": "user", "pass": "correct horse"},
                           headers={"X-CSRF-Token": "test-csrf-token"}, environ_base=elsewhere)
    assert response.status_code == 200


def test_passive_logins_are_not_limited(client, personas):
    for _ in range(3):
        login(client, "user", "wrong")
    response = client.post("/api/login", json={"passive": True}, headers={"X-CSRF-Token": "test-csrf-token"})
    assert response.status_code == 200


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(services):
    """The limiter's clock, moved by the test (FailedLoginLimiter takes a clock for this)."""
    fake = FakeClock()
    services.login_limiter = FailedLoginLimiter(clock=fake)
    return fake


def fail(client, times):
    for _ in range(times):
        assert_error(login(client, "user", "wrong"), 403)


def test_three_a_minute(client, personas, clock):
    fail(client, 3)
    clock.now += 59
    assert_error(login(client, "user"), 429, TOO_MANY)
    clock.now += 2
    assert login(client, "user").status_code == 200


def test_five_in_ten_minutes(client, personas, clock):
    fail(client, 3)
    clock.now += 61
    fail(client, 2)
    clock.now += 61  # no minute holds three failures, but ten minutes hold five
    assert_error(login(client, "user"), 429, TOO_MANY)
    clock.now += 600 - 122 + 1  # the first three leave the ten-minute window
    assert login(client, "user").status_code == 200


def test_ten_an_hour(client, personas, clock):
    for _ in range(3):
        fail(client, 3)
        clock.now += 601
    fail(client, 1)  # ten failures within the hour, at most three in any ten minutes
    clock.now += 61
    assert_error(login(client, "user"), 429, TOO_MANY)
    clock.now = 1000 + 3601  # the first three are older than an hour
    assert login(client, "user").status_code == 200
