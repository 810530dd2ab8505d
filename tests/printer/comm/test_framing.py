"""Checksums, line encoding, comment stripping and the byte-to-line splitter of framing.py."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from octoserve.printer.comm.framing import (
    MAX_LINE_BYTES,
    LineSplitter,
    checksum,
    encode_numbered,
    encode_plain,
    strip_comment,
)
from tests.printer.comm import transcripts

# --- encoding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("N0 M110 N0", 125), ("N-1 M110 N-1", 125), ("N1 M115", 39), ("N1 G28 X Y Z", 105), ("N2 G0 Z2 F6000", 3),
    ("N3 T0", 57), ("N4 G92 E0", 67), ("N5 G28", 22), ("N19 M105", 31), ("", 0),
])
def test_checksum_vectors(text, expected):
    assert checksum(text.encode("ascii")) == expected


def test_encode_numbered():
    assert encode_numbered(0, "M110 N0") == b"N0 M110 N0*125\n"
    assert encode_numbered(1, "G28 X Y Z") == b"N1 G28 X Y Z*105\n"
    assert encode_numbered(19, "M105") == b"N19 M105*31\n"


def test_encode_numbered_checksums_what_is_sent():
    data = encode_numbered(7, "M117 Héllo")
    head, _, tail = data.rstrip(b"\n").rpartition(b"*")
    assert head == b"N7 M117 H?llo"
    assert int(tail) == checksum(head)


def test_encode_plain():
    assert encode_plain("M105") == b"M105\n"
    assert encode_plain("M117 °C") == b"M117 ?C\n"


# --- comments --------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("G28", "G28"),
    ("  G1 X10 Y20  ", "G1 X10 Y20"),
    ("G28 ; home all axes", "G28"),
    ("G28;home", "G28"),
    ("; only a comment", ""),
    (";", ""),
    ("", ""),
    ("   \t ", ""),
    ("M117 Hello\\; world ; a comment", "M117 Hello; world"),
    ("M117 a\\;b\\;c", "M117 a;b;c"),
    ("M117 a\\\\;b", "M117 a\\\\"),  # an escaped backslash does not escape the semicolon
    ("M117 C:\\temp ; path", "M117 C:\\temp"),
    ("M117 \\; ; x", "M117 ;"),
    ("G1 X1 ; first ; second", "G1 X1"),
])
def test_strip_comment(line, expected):
    assert strip_comment(line) == expected


@given(st.text(alphabet="GM0123 XYZ.;\t", max_size=40))
def test_strip_comment_without_backslashes_cuts_at_the_first_semicolon(line):
    assert strip_comment(line) == line.split(";", 1)[0].strip()


# --- line splitting -----------------------------------------------------------------------------

def test_complete_lines():
    assert LineSplitter().feed(b"ok\nwait\n") == ["ok", "wait"]


@pytest.mark.parametrize("data", [b"ok\r\nwait\r\n", b"ok\rwait\r", b"ok\r\n\r\nwait\n", b"ok\n\rwait\n\n"])
def test_line_ends(data):
    assert LineSplitter().feed(data) == ["ok", "wait"]


def test_partial_lines_wait_for_the_rest():
    splitter = LineSplitter()
    assert splitter.feed(b"o") == []
    assert splitter.feed(b"k T:21.0 /0") == []
    assert splitter.pending == b"ok T:21.0 /0"
    assert splitter.feed(b".0\nwa") == ["ok T:21.0 /0.0"]
    assert splitter.feed(b"it\n") == ["wait"]
    assert splitter.pending == b""


def test_crlf_split_across_reads_gives_no_phantom_line():
    splitter = LineSplitter()
    assert splitter.feed(b"ok\r") == ["ok"]
    assert splitter.feed(b"\nwait\r") == ["wait"]
    assert splitter.feed(b"\n") == []


def test_nul_bytes_are_dropped():
    splitter = LineSplitter()
    assert splitter.feed(b"\x00\x00o\x00k\n\x00") == ["ok"]
    assert splitter.feed(b"\x00\x00") == []
    assert splitter.pending == b""


def test_trailing_whitespace_goes_leading_stays():
    assert LineSplitter().feed(b" T:21.00 /0.00 \t\r\n") == [" T:21.00 /0.00"]


def test_blank_lines_are_dropped():
    assert LineSplitter().feed(b"\n\n  \n\t\nok\n") == ["ok"]


def test_utf8_and_latin1_are_decoded_per_line():
    data = "echo:Ünïcode °C\n".encode() + b"echo:\xb0C latin-1\n" + b"ok\n"
    assert LineSplitter().feed(data) == ["echo:Ünïcode °C", "echo:°C latin-1", "ok"]


def test_wrong_baud_garbage_does_not_raise():
    lines = LineSplitter().feed(bytes(range(256)) + b"\nok\n")
    assert lines[-1] == "ok"
    assert all(isinstance(line, str) for line in lines)


def test_long_garbage_is_cut_and_memory_stays_bounded():
    splitter = LineSplitter()
    assert splitter.feed(b"x" * 10000) == ["x" * MAX_LINE_BYTES] * 2
    assert len(splitter.pending) == 10000 - 2 * MAX_LINE_BYTES
    assert splitter.feed(b"\nok\n") == ["x" * (10000 - 2 * MAX_LINE_BYTES), "ok"]


def test_long_garbage_fed_byte_by_byte():
    splitter = LineSplitter(max_line=8)
    lines = []
    for byte in b"abcdefghijklmnopqrs\nok\n":
        lines += splitter.feed(bytes([byte]))
        assert len(splitter.pending) < 8
    assert lines == ["abcdefgh", "ijklmnop", "qrs", "ok"]


def test_long_complete_line_is_cut_too():
    assert LineSplitter(max_line=4).feed(b"abcdefghij\nok\n") == ["abcd", "efgh", "ij", "ok"]


def test_empty_feed_and_reset():
    splitter = LineSplitter()
    assert splitter.feed(b"") == []
    splitter.feed(b"partial")
    splitter.reset()
    assert splitter.feed(b"ok\n") == ["ok"]


def test_max_line_must_be_positive():
    with pytest.raises(ValueError):
        LineSplitter(max_line=0)


def _split_all(data: bytes, cuts: list, max_line: int) -> tuple:
    splitter, lines, start = LineSplitter(max_line=max_line), [], 0
    for cut in sorted(cuts) + [len(data)]:
        lines += splitter.feed(data[start:cut])
        start = cut
        assert len(splitter.pending) < max_line
    return lines, splitter.pending


STREAM_BYTES = st.lists(st.sampled_from([b"ok", b"\n", b"\r", b"\r\n", b"\x00", b" ", b"T:21.0", b"\xb0", b"\xc3\xa9",
                                         b"\xff\xfe", b"x" * 7]), max_size=40).map(b"".join)


@given(STREAM_BYTES, st.lists(st.integers(min_value=0, max_value=400), max_size=10), st.sampled_from([5, 16, 4096]))
def test_chunking_does_not_change_the_lines(data, cuts, max_line):
    cuts = [cut for cut in cuts if cut <= len(data)]
    assert _split_all(data, cuts, max_line) == _split_all(data, [], max_line)


@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_any_bytes_give_clean_lines(data, max_line):
    splitter = LineSplitter(max_line=max_line)
    for line in splitter.feed(data) + splitter.feed(b"\n"):
        assert line and line == line.rstrip()
        assert "\n" not in line and "\r" not in line and "\x00" not in line
        assert len(line) <= max_line
    assert splitter.pending == b""


@pytest.mark.parametrize("path", transcripts.paths(), ids=lambda path: path.stem)
def test_transcripts_come_back_unchanged(path):
    sent = [received.text for received in transcripts.load(path)]
    data = "\r\n".join(sent).encode("utf-8") + b"\r\n"
    splitter, lines = LineSplitter(), []
    for start in range(0, len(data), 13):  # reads of odd sizes, as a serial port hands them out
        lines += splitter.feed(data[start:start + 13])
    assert lines == sent
