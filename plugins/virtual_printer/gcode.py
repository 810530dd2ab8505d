"""G-code words: splitting a command into its code and parameters, and the line checksum."""
import re

# Returned by a handler that already sent its acknowledgement (M105's "ok T:...") or must send
# none (M112); every other handler is followed by a plain ok.
NO_ACK = object()

_PARAM = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+)?)")
_WORD = re.compile(r"([GMT])0*(\d+)(?:\.\d+)?\s*(.*)", re.S)
_LONG = re.compile(rb"\s*([-+]?\d+)")


def split(text: str):
    """('G1', 'X10 F300') from 'G1 X10 F300', also from 'G01X10 F300'; ('T', '1') from 'T1'."""
    word, _, args = text.partition(" ")
    if len(word) > 1 and word[1:].isdigit() and word[1] != "0" and word[0] != "T":
        return word, args
    match = _WORD.match(text)
    if not match:
        return text.split(" ", 1)[0], args
    letter, number, rest = match.groups()
    if letter == "T":
        return "T", number
    return letter + number, rest


def params(args: str) -> dict:
    """{'X': 10.0, 'F': 300.0}; a letter without a value (G28 X) maps to None."""
    return {letter: float(value) if value else None for letter, value in _PARAM.findall(args)}


def number(values: dict, letter: str, default=None):
    value = values.get(letter)
    return default if value is None else value


def xor_checksum(data: bytes) -> int:
    # A plain loop beats functools.reduce and int.from_bytes folding for 20-60 byte lines.
    checksum = 0
    for byte in data:
        checksum ^= byte
    return checksum


def strtol(data: bytes, pos: int):
    """C's strtol at `pos`: (value, end); (0, pos) when no digits follow, as Marlin gets it."""
    match = _LONG.match(data, pos)
    if not match:
        return 0, pos
    return int(match.group(1)), match.end()
