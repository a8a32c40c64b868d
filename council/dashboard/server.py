"""``council dashboard --serve``: the dashboard folder served read-only over HTTP on 127.0.0.1 (the
index at ``/``, the fixed names of ``publish.INDEX_FILES`` and ``publish.FILES`` at the top and
``/<proposal_id>/`` + a name of ``publish.FILES`` for each proposal's page set; GET and HEAD only,
security headers on every answer). Nothing needs a login: the index, the pages, their JSON, the
accessibility statements, the calendars (``kalenteri.ics``) and the Atom feeds (``muutokset.atom``)
are what anyone may follow.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from council.dashboard.publish import FILES, HTML_NAME, INDEX_FILES, INDEX_NAME

log = logging.getLogger(__name__)


ROUTES: dict[str, tuple[str, str]] = {
    "/": (INDEX_NAME, INDEX_FILES[INDEX_NAME]),
    **{f"/{name}": (name, content_type) for name, content_type in (INDEX_FILES | FILES).items()},
}
#: ``/<proposal_id>/<name>``: a proposal id is a slug (models.schemas), the name one of ``FILES``;
#: ``/<proposal_id>/`` is its page.
PROPOSAL_ROUTE = re.compile(r"/(?P<folder>[a-z0-9][a-z0-9-]{0,98}[a-z0-9])/(?P<name>[a-z.]*)")
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

    def _route(self, path: str) -> tuple[Path, str] | None:
        """The file a path names (inside the folder, as the path says) and its media type, or None."""
        if path in ROUTES:
            name, content_type = ROUTES[path]
            return self.folder / name, content_type
        match = PROPOSAL_ROUTE.fullmatch(path)
        if match is None:
            return None
        name = match["name"] or HTML_NAME
        if name not in FILES:
            return None
        return self.folder / match["folder"] / name, FILES[name]

    def _serve(self, *, head: bool) -> None:
        route = self._route(urlsplit(self.path).path)
        if route is None:
            self._text(HTTPStatus.NOT_FOUND, "Ei löydy.", head=head)
            return
        path, content_type = route
        target = path.resolve()
        if target != path:  # a symlink pointing elsewhere, in or out of the folder
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

    ``/`` and ``/index.html`` serve the index of every proposal, ``/esitykset.json`` its JSON;
    ``/<proposal_id>/`` and ``/<proposal_id>/dashboard.html`` a proposal's page, beside it
    ``dashboard.json``, ``saavutettavuusseloste.html`` (the accessibility statement),
    ``kalenteri.ics`` (the calendar) and ``muutokset.atom`` (the Atom feed); the same names at the top
    serve the default proposal's page set. Each file is read from disk on every request (a rewrite
    shows on reload). Nothing else in the folder or outside it is ever served.
    """
    handler = type("DashboardHandler", (_DashboardHandler,), {"folder": folder.resolve()})
    return ThreadingHTTPServer((host, port), handler)
