"""The streaming multipart/form-data reader (octoserve.api.multipart) on its own: splits, limits, bad bodies."""
import io

import pytest
from werkzeug.exceptions import RequestEntityTooLarge

from octoserve.api.body import readinto_of
from octoserve.api.multipart import MAX_HEADER_BLOCK, MalformedBody, MultipartReader, TruncatedBody

BOUNDARY = b"----b0und4ry"
GCODE = b"G28\r\nG1 X10 Y10\r\n--not-a-boundary\r\n" * 8 + b"M84\n"


def part(name, data: bytes, filename=None, extra=b"") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        disposition += f'; filename="{filename}"'.encode()
    return b"--" + BOUNDARY + b"\r\n" + disposition + b"\r\n" + extra + b"\r\n" + data + b"\r\n"


def body(*parts: bytes, end=b"--" + BOUNDARY + b"--\r\n") -> bytes:
    return b"".join(parts) + end


class Source:
    """A body handed out at most ``step`` bytes per readinto, as a socket would."""

    def __init__(self, data: bytes, step: int = 1 << 30):
        self.data, self.pos, self.step = data, 0, step

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.step, len(self.data) - self.pos)
        buffer[:count] = self.data[self.pos:self.pos + count]
        self.pos += count
        return count


def parse(data: bytes, boundary=BOUNDARY, step=1 << 30, **options):
    """(fields, {name: (filename, bytes)}, source) of a whole body."""
    source = Source(data, step)
    reader = MultipartReader(source.readinto, boundary, lambda part: io.BytesIO(), **options)
    fields, files = reader.parse()
    return fields, [(p.name, p.filename, f.read()) for p, f in files], source


MIXED = body(part("select", b"true"), part("file", GCODE, "cube.gcode", b"Content-Type: text/x-gcode\r\n"),
             part("path", b"folder/sub"), part("other", b"", "empty.gcode"), part("userdata", b'{"a": 1}'))
EXPECTED = ([("select", "true"), ("path", "folder/sub"), ("userdata", '{"a": 1}')],
            [("file", "cube.gcode", GCODE), ("other", "empty.gcode", b"")])


def test_fields_around_several_file_parts():
    fields, files, source = parse(MIXED)
    assert (fields, files) == EXPECTED
    assert source.pos == len(MIXED)


def test_every_read_size_and_buffer_size_gives_the_same_parts():
    """One byte per read shows the reader every delimiter split at every offset; buffer sizes move
    the edge where what is left gets moved to the front. A buffer must hold a part's headers."""
    for step in (1, 2, 3, 7, 64):
        assert parse(MIXED, step=step, buffer_size=160)[:2] == EXPECTED, step
    for size in range(160, len(MIXED) + 2):
        assert parse(MIXED, buffer_size=size)[:2] == EXPECTED, size
        assert parse(MIXED, buffer_size=size, step=size // 3)[:2] == EXPECTED, size


def test_a_body_cut_anywhere_before_the_final_boundary_is_refused():
    final = MIXED.rindex(b"--" + BOUNDARY + b"--") + len(BOUNDARY) + 4
    for cut in range(final):
        with pytest.raises(MalformedBody):
            parse(MIXED[:cut], buffer_size=160, step=5)
    for cut in range(final, len(MIXED) + 1):  # what follows "--boundary--" may go missing
        assert parse(MIXED[:cut], buffer_size=160, step=5)[:2] == EXPECTED


def test_missing_final_boundary_is_truncated():
    with pytest.raises(TruncatedBody):
        parse(body(part("file", GCODE, "a.gcode"), end=b""))
    with pytest.raises(TruncatedBody):
        parse(b"no boundary anywhere in here")


def test_preamble_epilogue_padding_and_a_leading_crlf():
    data = (b"preamble, ignored\r\n--" + BOUNDARY + b" \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"
            b"\r\n--" + BOUNDARY + b"--\r\nepilogue, ignored too")
    assert parse(data)[:2] == ([("a", "1")], [])
    assert parse(b"\r\n" + body(part("a", b"1")))[:2] == ([("a", "1")], [])
    assert parse(b"--" + BOUNDARY + b"--")[:2] == ([], [])


def test_a_part_without_content_may_omit_the_blank_line():
    """RFC 2046 makes ``[CRLF content]`` optional; werkzeug's test client sends empty fields so."""
    bare = b'Content-Disposition: form-data; name="path"\r\n'
    data = b"\r\n--".join([b"", BOUNDARY + b"\r\n" + bare, BOUNDARY + b'\r\nContent-Disposition: form-data; '
                             b'name="file"; filename="a.gcode"\r\n\r\nG1\n', BOUNDARY + b"\r\n" + bare,
                             BOUNDARY + b"--\r\n"])
    for step in (1, 1 << 30):
        assert parse(data, step=step, buffer_size=160)[:2] == ([("path", ""), ("path", "")],
                                                              [("file", "a.gcode", b"G1\n")])


def test_a_delimiter_lookalike_inside_the_data_is_data():
    tricky = b"\r\n--".join([b"x", BOUNDARY + b"not the end", BOUNDARY + b"-", BOUNDARY + b" --", BOUNDARY + b" \tx"])
    assert parse(body(part("file", tricky, "t.gcode")), buffer_size=80, step=1)[1] == [("file", "t.gcode", tricky)]


def test_filenames_as_werkzeug_reads_them():
    disposition = (b'--' + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="a\\"b.gcode"\r\n'
                   b"\r\nG1\r\n")
    extended = (b'--' + BOUNDARY + b'\r\nContent-Disposition: form-data; name="f2"; filename="fallback.gcode"; '
                b"filename*=UTF-8''%C3%BCber.gcode\r\n\r\nG1\r\n")
    folded = (b'--' + BOUNDARY + b'\r\nContent-Disposition: form-data;\r\n name="f3";'
              b'\r\n\tfilename="w\xc3\xbcrfel.gcode"\r\n\r\nG1\r\n')
    files = parse(body(disposition, extended, folded))[1]
    assert [(name, filename) for name, filename, _ in files] == [
        ("file", 'a"b.gcode'), ("f2", "über.gcode"), ("f3", "würfel.gcode")]


def test_field_charsets():
    latin = part("a", "é".encode("latin-1"), extra=b"Content-Type: text/plain; charset=iso-8859-1\r\n")
    assert parse(body(latin, part("b", "é".encode())))[0] == [("a", "é"), ("b", "é")]


@pytest.mark.parametrize("data", [
    body(b"--" + BOUNDARY + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n"),  # no Content-Disposition
    body(b"--" + BOUNDARY + b"\r\nno colon here\r\n\r\nx\r\n"),
    body(b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=\"" + b"x" * MAX_HEADER_BLOCK + b"\"\r\n\r\n"),
    body(part("a", b"1")).replace(b"\r\n", b"\n"),  # line breaks must be CRLF (as OctoPrint wants too)
])
def test_malformed_bodies_are_400(data):
    with pytest.raises(MalformedBody) as caught:
        parse(data)
    assert caught.value.code == 400


@pytest.mark.parametrize("boundary", [b"", b"a\r\nb", b"x" * 201])
def test_unusable_boundaries_are_400(boundary):
    with pytest.raises(MalformedBody):
        MultipartReader(Source(b"").readinto, boundary, io.BytesIO)


def test_field_size_and_part_count_limits_are_413():
    with pytest.raises(RequestEntityTooLarge):
        parse(body(part("a", b"x" * 101)), max_field_size=100)
    assert parse(body(part("a", b"x" * 100), part("f", b"y" * 1000, "f.gcode")), max_field_size=100)[0] == [
        ("a", "x" * 100)]  # the limit is for fields kept in memory, not files
    with pytest.raises(RequestEntityTooLarge):
        parse(body(*[part(str(n), b"") for n in range(4)]), max_parts=3)
    assert len(parse(body(*[part(str(n), b"") for n in range(3)]), max_parts=3)[0]) == 3


def test_file_parts_go_to_the_writer_in_large_slices():
    sizes = []

    class Sink(io.BytesIO):
        def write(self, data):
            sizes.append(len(data))
            return super().write(data)

    data = b"G1 X1\n" * 400_000  # 2.4 MB
    reader = MultipartReader(Source(body(part("file", data, "big.gcode")), step=65536).readinto, BOUNDARY,
                             lambda part: Sink())
    (_, sink), = reader.parse()[1]
    assert sink.getvalue() == data
    assert len(sizes) <= 12 and min(sizes[:-1]) >= 256 * 1024


def test_a_stream_with_only_read_is_enough():
    class ReadOnly:
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def read(self, size):
            return self._data.read(min(size, 5))

    reader = MultipartReader(readinto_of(ReadOnly(MIXED)), BOUNDARY, lambda part: io.BytesIO(), buffer_size=160)
    fields, files = reader.parse()
    assert (fields, [(p.name, p.filename, f.read()) for p, f in files]) == EXPECTED
