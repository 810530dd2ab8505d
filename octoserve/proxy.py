"""Behind a reverse proxy: the path prefix and the outside scheme and host, as OctoPrint honours them.

``X-Script-Name`` (e.g. ``/octoprint``) becomes the application root, so generated URLs
(file ``refs``, ``Location`` headers) carry the prefix; a request path that still starts
with it is stripped of it. ``X-Scheme`` or ``X-Forwarded-Proto``, ``X-Forwarded-Host`` and
``X-Forwarded-Port`` replace the scheme, host and port the proxy received. The client's
address (``X-Forwarded-For``) is left alone: whom to trust for it is a setting of its own.
"""


class ReverseProxied:
    """WSGI middleware applying the proxy headers to the environment."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        prefix = environ.get("HTTP_X_SCRIPT_NAME", "").rstrip("/")
        if prefix and prefix.startswith("/") and "\n" not in prefix:
            environ["SCRIPT_NAME"] = prefix
            path = environ.get("PATH_INFO", "")
            if path == prefix or path.startswith(prefix + "/"):
                environ["PATH_INFO"] = path[len(prefix):] or "/"
        scheme = environ.get("HTTP_X_SCHEME") or environ.get("HTTP_X_FORWARDED_PROTO")
        if scheme in ("http", "https"):
            environ["wsgi.url_scheme"] = scheme
        host = environ.get("HTTP_X_FORWARDED_HOST")
        if host:
            host = host.split(",")[0].strip()
            port = environ.get("HTTP_X_FORWARDED_PORT", "").split(",")[0].strip()
            if port.isdigit() and ":" not in host.rsplit("]", 1)[-1]:
                host = f"{host}:{port}"
            environ["HTTP_HOST"] = host
        return self.app(environ, start_response)
