"""API keys: generation (256 random bits) and the rules a key given by hand must meet."""
import hashlib
import re
import secrets

from octoserve.errors import Invalid

# 32 characters of hex are 128 bits: the least we accept from a person choosing a key.
_GIVEN_KEY = re.compile(r"^[A-Za-z0-9_\-]{32,128}$")


def generate_key() -> str:
    """43 URL-safe characters, as OctoPrint makes them."""
    return secrets.token_urlsafe(32)


def check_given_key(key: str) -> str:
    if not isinstance(key, str) or not _GIVEN_KEY.match(key):
        raise Invalid("an API key must be 32 to 128 letters, digits, '-' or '_'")
    return key


def keys_equal(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def fingerprint(key: str) -> bytes:
    """What keys are looked up by: a lookup on the key itself would take longer the more of it matched."""
    return hashlib.sha256(key.encode("utf-8")).digest()
