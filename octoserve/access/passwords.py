"""Password hashing with scrypt (memory-hard, in the standard library) and constant-time checks."""
import base64
import functools
import hashlib
import hmac
import secrets

from octoserve.errors import Invalid

# 2**14 x 8 x 128 bytes = 16 MiB per hash: expensive to brute-force, ~50 ms on a Raspberry Pi 4.
_N, _R, _P = 2**14, 8, 1
_PREFIX = "scrypt"
MIN_LENGTH = 1


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise Invalid("password must be a non-empty string")
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, _N, _R, _P)
    return f"{_PREFIX}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    if not isinstance(password, str) or not isinstance(stored, str):
        return False
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)


@functools.cache
def dummy_hash() -> str:
    """A hash of nothing in particular, checked against when a user name is unknown."""
    return hash_password(secrets.token_urlsafe(16))
