"""Reading an upload's body straight from gunicorn's client socket, when that is safe.

gunicorn hands the application ``wsgi.input``, a ``Body`` over a ``LengthReader`` over a
``SocketUnreader``. Each layer keeps its own BytesIO and copies what passes through it: a
50 MB body read 64 KiB at a time cost about 0.15 s, 1 MiB at a time still 0.05 s. Receiving
into the parser's buffer with ``recv_into`` takes about 0.015 s.

Doing so is only correct while gunicorn's bookkeeping stays true, so ``SocketBody.attach``
accepts exactly that stack of classes, a Content-Length body and a body nobody has read from
yet. It first takes the bytes gunicorn read ahead with the headers (handing back any beyond
the body: the next request on a keep-alive connection), then never receives past
Content-Length, and lowers the ``LengthReader``'s count by every byte it takes. After the
request gunicorn drains what is left of the body as usual, so the connection stays in step
even when the upload was refused halfway. A failed receive marks the body failed, which
makes gunicorn close the connection. Anything else (chunked bodies, the Flask test client,
other servers) returns None and the caller reads ``wsgi.input`` the ordinary way.
"""
import io

from werkzeug.exceptions import ClientDisconnected

try:
    from gunicorn.http.body import Body, LengthReader
    from gunicorn.http.unreader import SocketUnreader
except ImportError:  # pragma: no cover - gunicorn is a dependency, but the app may run elsewhere
    Body = LengthReader = SocketUnreader = None


class SocketBody:
    """A Content-Length request body received from gunicorn's client socket; ``readinto`` as on a file."""

    def __init__(self, body, reader):
        self._body, self._reader = body, reader
        self._sock = reader.unreader.sock
        early = _take_buffered(reader.unreader)
        if len(early) > reader.length:  # a pipelined next request: gunicorn's, not ours
            reader.unreader.unread(early[reader.length:])
            early = early[:reader.length]
        reader.length -= len(early)
        self._early = memoryview(early)

    @classmethod
    def attach(cls, environ):
        """A SocketBody for this request, or None when the body must be read through ``wsgi.input``."""
        body = environ.get("wsgi.input")
        if Body is None or type(body) is not Body:
            return None
        reader = body.reader
        if type(reader) is not LengthReader or type(reader.unreader) is not SocketUnreader:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if reader.length != length or body.buf.tell():
            return None  # some of it has been read already
        return cls(body, reader)

    def readinto(self, buffer) -> int:
        """Receive up to ``len(buffer)`` bytes of the body into it; 0 at its end (or if the client hung up)."""
        if self._early:
            count = min(len(buffer), len(self._early))
            buffer[:count] = self._early[:count]
            self._early = self._early[count:]
            return count
        wanted = min(len(buffer), self._reader.length)
        if wanted <= 0:
            return 0
        try:
            count = self._sock.recv_into(buffer, wanted)
        except OSError as exc:
            self._body.failed = True
            raise ClientDisconnected(f"The connection failed while receiving the body: {exc}") from None
        if not count:
            self._body.failed = True  # the client hung up: the rest of the body will never come
        self._reader.length -= count
        return count


def readinto_of(stream):
    """The stream's ``readinto``, or one made of its ``read`` (all that WSGI promises)."""
    if hasattr(stream, "readinto"):
        return stream.readinto

    def readinto(buffer) -> int:
        data = stream.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
    return readinto


def _take_buffered(unreader) -> bytes:
    """What gunicorn has received but not yet handed out (newer gunicorn has take_buffered() for it)."""
    take = getattr(unreader, "take_buffered", None)
    if take is not None:
        return take()
    data = unreader.buf.getvalue()
    unreader.buf = io.BytesIO()
    return data
