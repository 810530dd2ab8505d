"""A streaming multipart/form-data reader for uploads: large reads, bytes.find, file parts straight to disk.

Werkzeug's parser pulls the body through ``read()`` 64 KiB at a time and makes new bytes
objects of every piece; under gunicorn each such read also copied gunicorn's read-ahead buffer
around (most of a 0.26 s 50 MB upload). This reader keeps one fixed 1 MiB buffer, fills it
with ``readinto`` (from gunicorn's socket, see octoserve.api.body), finds delimiters with
``bytearray.find`` and hands memoryview slices of the buffer to the file part's writer: a byte
is copied once from the socket and once to the file. On a body in memory it is about 30 %
faster than werkzeug's parser too.

The format (RFC 7578, RFC 2046 section 5.1): parts are separated by ``CRLF--boundary``; the
first delimiter may come without its CRLF; a delimiter line may carry spaces or tabs before its
CRLF; ``--`` after a delimiter ends the body and whatever follows (the epilogue) is ignored.
Line breaks must be CRLF, as OctoPrint requires too. ``CRLF--boundary`` followed by anything
else is part of the data, as in werkzeug.
"""
from dataclasses import dataclass

from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_options_header

BUFFER_SIZE = 1024 * 1024
MAX_HEADER_BLOCK = 16 * 1024  # one part's headers, the blank line included
MAX_PADDING = 32  # spaces and tabs allowed between a delimiter and its CRLF
BLANKS = " \t"
CHARSETS = {"ascii", "us-ascii", "utf-8", "iso-8859-1"}  # werkzeug's list for field values
CRLF = b"\r\n"


class MalformedBody(BadRequest):
    """The body is not the multipart/form-data its Content-Type announced (400)."""

    def __init__(self, detail: str):
        super().__init__(f"Invalid multipart/form-data body: {detail}")


class TruncatedBody(MalformedBody):
    """The body ended before its closing delimiter: the client hung up or sent too little (400)."""

    def __init__(self):
        super().__init__("it ended before the final boundary")


@dataclass(frozen=True)
class Part:
    """One body part's headers: ``filename`` is None for a plain field."""

    name: str
    filename: str | None
    headers: Headers


class _Window:
    """A fixed buffer over the body: ``data[start:end]`` is read but not yet consumed."""

    def __init__(self, readinto, size: int):
        self.data = bytearray(size)
        self.view = memoryview(self.data)
        # A CRLF in front lets the first delimiter be found like every other one.
        self.data[:2] = CRLF
        self.start, self.end = 0, 2
        self.eof = False
        self._readinto = readinto

    def fill(self) -> bool:
        """Read once more (moving what is left to the front first if room runs short); False at the end."""
        if self.eof:
            return False
        size = len(self.data)
        if self.start and size - self.end < size // 2:
            left = self.end - self.start
            self.view[:left] = self.view[self.start:self.end]
            self.start, self.end = 0, left
        got = self._readinto(self.view[self.end:])
        if not got:
            self.eof = True
            return False
        self.end += got
        return True

    def ensure(self, count: int) -> bool:
        """At least ``count`` unconsumed bytes are buffered; False when the body ends first."""
        while self.end - self.start < count:
            if not self.fill():
                return False
        return True

    def find(self, needle: bytes, limit: int) -> int:
        """Where ``needle`` starts, reading on as needed; -1 at the end of the body; past ``limit``: 400."""
        offset = 0
        while True:
            found = self.data.find(needle, self.start + offset, self.end)
            if found >= 0 and found - self.start <= limit:
                return found
            full = self.start == 0 and self.end == len(self.data)
            if found >= 0 or self.end - self.start > limit or full:
                raise MalformedBody("a part's headers are too long")
            offset = max(0, self.end - self.start - len(needle) + 1)
            if not self.fill():
                return -1


class MultipartReader:
    """Reads one multipart/form-data body from ``readinto`` (a file's method: fills a buffer, 0 at the end).

    ``open_file(part)`` returns the writable that a file part's bytes go to (its ``write`` gets
    memoryviews that are only valid during the call). Plain fields are kept in memory, at most
    ``max_field_size`` bytes each; more than ``max_parts`` parts is refused (413), like werkzeug.
    """

    def __init__(self, readinto, boundary: bytes, open_file, *, max_field_size: int | None = None,
                 max_parts: int | None = None, buffer_size: int = BUFFER_SIZE):
        if not boundary or len(boundary) > 200 or any(byte in boundary for byte in CRLF):
            raise MalformedBody("the Content-Type has no usable boundary")
        self._delimiter = b"\r\n--" + boundary
        # Room for a delimiter line whatever the buffer holds besides: parsing always progresses.
        self._window = _Window(readinto, max(buffer_size, len(self._delimiter) + MAX_PADDING + 8))
        self._open_file = open_file
        self._max_field_size = max_field_size
        self._max_parts = max_parts

    def parse(self):
        """Read the whole body; returns ``(fields, files)``: lists of ``(name, str)`` and ``(Part, file)``."""
        fields, files = [], []
        closed = self._data(_discard)  # the preamble
        while not closed:
            if self._max_parts is not None and len(fields) + len(files) >= self._max_parts:
                raise RequestEntityTooLarge()
            part = self._part()
            if part.filename is None:
                chunks = _FieldValue(self._max_field_size)
                closed = self._data(chunks.write)
                fields.append((part.name, chunks.text(part.headers)))
            else:
                sink = self._open_file(part)
                closed = self._data(sink.write)
                sink.seek(0)
                files.append((part, sink))
        self._drain()
        return fields, files

    def _data(self, write) -> bool:
        """Pass a part's bytes to ``write`` up to the next delimiter; True if that ends the body.

        Bytes are handed on in steps of at least a quarter of the buffer (fewer, larger writes).
        """
        window, delimiter = self._window, self._delimiter
        keep = len(delimiter) - 1  # a delimiter may begin in these last bytes
        step = len(window.data) // 4
        scanned = window.start  # no delimiter begins before this
        while True:
            found = window.data.find(delimiter, scanned, window.end)
            if found < 0:
                cut = window.end - keep
                if cut > window.start and (cut - window.start >= step or window.end == len(window.data)):
                    write(window.view[window.start:cut])
                    window.start = cut
                ahead = max(0, window.end - keep - window.start)
                if not window.fill():
                    raise TruncatedBody()
                scanned = window.start + ahead
                continue
            if found > window.start:
                write(window.view[window.start:found])
                window.start = found
            closing = self._delimiter_line()
            if closing is not None:
                return closing
            write(window.view[window.start:window.start + len(delimiter)])  # data after all
            window.start += len(delimiter)
            scanned = window.start

    def _delimiter_line(self):
        """At a delimiter: True if it closes the body, False if a part follows, None if it is data.

        After a part delimiter ``start`` is left on the CRLF that ends its line, where the
        part's header block begins (an empty one is just a second CRLF).
        """
        window, length = self._window, len(self._delimiter)
        offset = length
        while True:
            if not window.ensure(offset + 2):
                raise TruncatedBody()
            at = window.start + offset
            pair = window.data[at:at + 2]
            if offset == length and pair == b"--":
                window.start = at + 2
                return True
            if pair == CRLF:
                window.start = at
                return False
            if window.data[at] not in b" \t" or offset - length >= MAX_PADDING:
                return None
            offset += 1

    def _part(self) -> Part:
        """Read a part's header block (``start`` is on the delimiter line's CRLF) and leave ``start`` at its data.

        The blank line ends the headers; RFC 2046 lets a part without content end them with the
        next delimiter instead (``CRLF--boundary`` right after the last header line's CRLF).
        """
        window = self._window
        end = window.find(b"\r\n\r\n", MAX_HEADER_BLOCK)
        if end < 0:
            raise TruncatedBody()
        headers = _headers(bytes(window.data[window.start + 2:end]))
        window.start = end + 2
        if not window.ensure(len(self._delimiter)):
            raise TruncatedBody()
        if not window.data.startswith(self._delimiter, window.start):
            window.start += 2  # the blank line
        disposition = headers.get("Content-Disposition")
        if disposition is None:
            raise MalformedBody("a part has no Content-Disposition header")
        _, options = parse_options_header(disposition)
        return Part(name=options.get("name", ""), filename=options.get("filename"), headers=headers)

    def _drain(self) -> None:
        """Read and drop the epilogue, so the whole body has been consumed."""
        window = self._window
        window.start = window.end
        while window.fill():
            window.start = window.end


def _discard(_data) -> None:
    """The writer of the preamble, which means nothing."""


def _headers(block: bytes) -> Headers:
    """A part's header lines (folded continuation lines joined); UTF-8, else Latin-1."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    pairs = []
    for line in text.split("\r\n") if text else ():
        if line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip(BLANKS)}".strip(BLANKS))
            continue
        name, colon, value = line.partition(":")
        name = name.strip(BLANKS)
        if not colon or not name:
            raise MalformedBody("a part has a malformed header line")
        pairs.append((name, value.strip(BLANKS)))
    return Headers(pairs)


class _FieldValue:
    """A plain field's bytes, collected in memory up to a limit."""

    def __init__(self, limit: int | None):
        self._chunks, self._size, self._limit = [], 0, limit

    def write(self, data) -> None:
        self._size += len(data)
        if self._limit is not None and self._size > self._limit:
            raise RequestEntityTooLarge()
        self._chunks.append(bytes(data))

    def text(self, headers: Headers) -> str:
        _, options = parse_options_header(headers.get("Content-Type"))
        charset = options.get("charset", "").lower()
        return b"".join(self._chunks).decode(charset if charset in CHARSETS else "utf-8", "replace")
