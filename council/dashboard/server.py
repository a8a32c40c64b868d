"""``council dashboard --serve``: the dashboard folder served read-only over HTTP on 127.0.0.1 (the
fixed names of ``publish.FILES`` and ``/``, GET and HEAD only, security headers on every answer).
Nothing needs a login: the page, its JSON, the accessibility statement, the calendar
(``kalenteri.ics``) and the Atom feed (``muutokset.atom``) are what anyone may follow.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from council.dashboard.publish import FILES, HTML_NAME

log = logging.getLogger(__name__)


ROUTES: dict[str, tuple[str, str]] = {
    "/": (HTML_NAME, FILES[HTML_NAME]),
    **{f"/{name}": (name, content_type) for name, content_type in FILES.items()},
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


class _DashboardHandler(BaseHTTPRequestHandler):
    """GET/HEAD of the fixed names in ``ROUTES``; every other path 404, every other method 405."""

    folder: Path
    server_version = "council-dashboard"
    sys_version = ""

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; any method without one is refused.
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str, *, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in SECURITY_HEADERS.items():
            self.send_header(key, value)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD")
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _text(self, status: HTTPStatus, message: str, *, head: bool = False) -> None:
        self._reply(status, (message + "\n").encode(), "text/plain; charset=utf-8", head=head)

    def _not_allowed(self) -> None:
        self._text(HTTPStatus.METHOD_NOT_ALLOWED, "Vain luku: sallitut menetelmät ovat GET ja HEAD.")

    def _serve(self, *, head: bool) -> None:
        route = ROUTES.get(urlsplit(self.path).path)
        if route is None:
            self._text(HTTPStatus.NOT_FOUND, "Ei löydy.", head=head)
            return
        name, content_type = route
        target = (self.folder / name).resolve()
        if target.parent != self.folder:  # a symlink pointing out of the folder
            self._text(HTTPStatus.NOT_FOUND, "Ei löydy.", head=head)
            return
        try:
            body = target.read_bytes()
        except FileNotFoundError:
            self._text(HTTPStatus.NOT_FOUND, "Tilannekuvaa ei ole vielä tuotettu.", head=head)
            return
        self._reply(HTTPStatus.OK, body, content_type, head=head)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


def serve_dashboard(folder: Path, host: str = "127.0.0.1", port: int = 8050) -> ThreadingHTTPServer:
    """A read-only HTTP server for ``folder``'s dashboard; the caller runs ``serve_forever``.

    ``/`` and ``/dashboard.html`` serve the page, ``/dashboard.json`` the JSON,
    ``/saavutettavuusseloste.html`` the accessibility statement, ``/kalenteri.ics`` the calendar and
    ``/muutokset.atom`` the Atom feed, each read from disk on every request (a rewrite shows on
    reload). Nothing else in the folder or outside it is ever served.
    """
    handler = type("DashboardHandler", (_DashboardHandler,), {"folder": folder.resolve()})
    return ThreadingHTTPServer((host, port), handler)
