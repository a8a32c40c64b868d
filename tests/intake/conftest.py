"""A real HTTP server on 127.0.0.1 (a free port) for the publication client's tests, and the recorded
publication pages of tests/fixtures/publications (see tests/fixtures/README.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "publications"


@dataclass(frozen=True)
class Seen:
    """One request as the server received it, with its arrival time (time.monotonic())."""

    path: str
    headers: dict[str, str]
    at: float


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class PageServer:
    """Answers each request with ``respond(seen, count)`` (count: requests so far to that path)."""

    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    respond: Callable[[Seen, int], Reply] = lambda seen, count: (404, {}, b"")

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    state = PageServer()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
            with lock:
                state.seen.append(seen)
                count = len(state.requests_to(self.path))
            status, headers, body = state.respond(seen, count)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
