"""File and folder names: OctoPrint-style sanitising, file types, and checking paths sent by clients."""
import re
import unicodedata

from octoserve.errors import Invalid

MACHINECODE_EXTENSIONS = ("gcode", "gco", "g")
MACHINECODE_TYPE_PATH = ["machinecode", "gcode"]
FOLDER_TYPE_PATH = ["folder"]
MAX_NAME_BYTES = 255

# What survives sanitising; every other run of characters becomes one "-".
_SAFE = re.compile(r"[^A-Za-z0-9._\-~()\[\] ]+")
# Latin letters that NFKD does not split into an ASCII letter and an accent.
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                          "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ı": "i"})


def sanitize_name(name: str) -> str:
    """The on-disk form of one name: ASCII only, spaces as underscores, never hidden, never . or ..

    Raises Invalid for a name that cannot be made safe (separators, NUL, nothing left).
    """
    if not isinstance(name, str) or "/" in name or "\\" in name or "\0" in name:
        raise Invalid("name must not contain / or \\")
    # NFKD splits accented letters into letter + accent: the accent goes, the letter stays. What
    # has no ASCII letter in it (CJK, emoji...) becomes "-" like any other unsafe run.
    decomposed = unicodedata.normalize("NFKD", name.translate(_LETTERS))
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    result = _SAFE.sub("-", ascii_name).replace(" ", "_")
    if result in (".", ".."):
        raise Invalid("name must not be . or ..")
    result = result.lstrip(".")
    if not result or len(result.encode()) > MAX_NAME_BYTES:
        raise Invalid("name is empty or too long")
    return result


def is_sanitized(name: str) -> bool:
    try:
        return sanitize_name(name) == name
    except Invalid:
        return False


def extension(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def is_machinecode(name: str) -> bool:
    return extension(name) in MACHINECODE_EXTENSIONS


def split_client_path(text, *, allow_empty: bool = True) -> tuple:
    """A path from a client (URL, form field or JSON) as a tuple of names, refusing escapes.

    Refused, whatever the decoding that came before: absolute paths, ``..`` and ``.``, empty
    segments (``a//b``), backslashes and NUL bytes. Names are not sanitised here.
    """
    if text is None:
        text = ""
    if not isinstance(text, str) or "\\" in text or "\0" in text or text.startswith("/"):
        raise Invalid("path is invalid")
    text = text.rstrip("/")
    if not text:
        if allow_empty:
            return ()
        raise Invalid("path is invalid")
    parts = tuple(text.split("/"))
    if any(part in ("", ".", "..") for part in parts):
        raise Invalid("path is invalid")
    return parts


def sanitized_path(text) -> tuple:
    """A client path whose every name is sanitised (an upload's or new folder's ``path``)."""
    return tuple(sanitize_name(part) for part in split_client_path(text))


def canonical_path(text) -> tuple | None:
    """The names of a path that is already in sanitised form, else None (OctoPrint answers 404)."""
    try:
        parts = split_client_path(text, allow_empty=False)
    except Invalid:
        return None
    return parts if all(is_sanitized(part) for part in parts) else None


def join(parts) -> str:
    return "/".join(parts)
