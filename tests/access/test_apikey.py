"""API keys: the four places a key is read from, their precedence, and keys that don't count."""
import pytest

from tests.api.seeded import FORBIDDEN_TEXT, assert_error
from tests.conftest import PORT, login, persona_key

ADMIN_KEY, USER_KEY, READONLY_KEY = persona_key("admin"), persona_key("user"), persona_key("readonly")
WRONG_KEY = "W" * 43


def whoami(client, **kwargs):
    response = client.get("/api/currentuser", **kwargs)
    assert response.status_code == 200
    return response.get_json()["name"]


def test_x_api_key_header(client, personas):
    assert whoami(client, headers={"X-Api-Key": USER_KEY}) == "user"
    assert client.get("/api/version", headers={"X-Api-Key": USER_KEY}).status_code == 200


def test_bearer_authorization(client, personas):
    assert whoami(client, headers={"Authorization": f"Bearer {USER_KEY}"}) == "user"


def test_authorization_without_bearer_prefix_is_ignored(client, personas):
    assert whoami(client, headers={"Authorization": USER_KEY}) is None
    assert whoami(client, headers={"Authorization": f"Token {USER_KEY}"}) is None


def test_apikey_query_parameter(client, personas):
    assert whoami(client, query_string={"apikey": USER_KEY}) == "user"


def test_apikey_form_field(client, personas):
    response = client.post("/api/login", data={"passive": "true", "apikey": USER_KEY})
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "user"
    assert body["_login_mechanism"] == "apikey"


@pytest.mark.parametrize("headers, query", [
    ({"X-Api-Key": WRONG_KEY}, {}),
    ({"Authorization": f"Bearer {WRONG_KEY}"}, {}),
    ({}, {"apikey": WRONG_KEY}),
], ids=["header", "bearer", "query"])
def test_wrong_key_is_anonymous_not_an_error(client, personas, headers, query):
    assert_error(client.get("/api/version", headers=headers, query_string=query), 403, FORBIDDEN_TEXT)
    response = client.get("/api/currentuser", headers=headers, query_string=query)
    assert response.status_code == 200
    assert response.get_json() == {"name": None, "permissions": [], "groups": ["guests"]}


def test_deactivated_users_key_is_anonymous(client, personas, services):
    services.users.update("user", active=False)
    assert whoami(client, headers={"X-Api-Key": USER_KEY}) is None
    assert_error(client.get("/api/version", headers={"X-Api-Key": USER_KEY}), 403)


def test_deleted_key_no_longer_works(client, personas, services):
    services.users.delete_apikey("user")
    assert whoami(client, headers={"X-Api-Key": USER_KEY}) is None


def test_apikey_parameter_beats_header_and_bearer(client, personas):
    headers = {"X-Api-Key": USER_KEY, "Authorization": f"Bearer {READONLY_KEY}"}
    assert whoami(client, headers=headers, query_string={"apikey": ADMIN_KEY}) == "admin"


def test_apikey_form_field_beats_header(client, personas):
    response = client.post("/api/login", data={"passive": "1", "apikey": ADMIN_KEY}, headers={"X-Api-Key": USER_KEY})
    assert response.get_json()["name"] == "admin"


def test_header_beats_bearer(client, personas):
    headers = {"X-Api-Key": USER_KEY, "Authorization": f"Bearer {ADMIN_KEY}"}
    assert whoami(client, headers=headers) == "user"


def test_precedence_is_by_presence_not_by_validity(client, personas):
    """OctoPrint takes the first key present; a wrong one there does not fall back to the next."""
    assert whoami(client, headers={"X-Api-Key": USER_KEY}, query_string={"apikey": WRONG_KEY}) is None
    headers = {"X-Api-Key": WRONG_KEY, "Authorization": f"Bearer {USER_KEY}"}
    assert whoami(client, headers=headers) is None


def test_api_key_requests_leave_no_login_behind(client, personas):
    assert whoami(client, headers={"X-Api-Key": USER_KEY}) == "user"
    assert whoami(client) is None


def test_session_beats_api_key(client, personas):
    login(client, "readonly")
    assert whoami(client, headers={"X-Api-Key": ADMIN_KEY}) == "readonly"


def test_remember_me_beats_api_key(app, client, personas):
    login(client, "readonly", remember=True)
    remembered = app.test_client()
    remembered.set_cookie(f"remember_token_P{PORT}", client.get_cookie(f"remember_token_P{PORT}").value)
    assert whoami(remembered, headers={"X-Api-Key": ADMIN_KEY}) == "readonly"
