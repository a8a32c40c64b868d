"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message as an .eml file.

The local default when no SMTP host is configured: a coordinator opens exactly what a
municipality would receive. Run it with ``council smtp-server`` (or, lighter, ``python -m
council.delivery.smtpd``, as `council run` does: without the whole command line to import); tests
start it on a free port.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from council.paths import write_atomic

_counter = itertools.count(1)
_lock = threading.Lock()


class EmlHandler:
    """Stores each accepted message under ``folder`` as ``<time>-<n>.eml`` (written atomically);
    one addressed to ``inbox_address`` (the committee's own) also goes into ``inbox``, the drop
    folder `council replies` reads, so a registry's reply can be tried locally."""

    def __init__(self, folder: Path, *, inbox: Path | None = None, inbox_address: str | None = None):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.inbox = inbox
        self.inbox_address = (inbox_address or "").lower()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with _lock:
            n = next(_counter)
        name = f"{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}-{n:05d}.eml"
        write_atomic(self.folder / name, content)
        if self.inbox is not None and self.inbox_address in (r.lower() for r in envelope.rcpt_tos):
            self.inbox.mkdir(parents=True, exist_ok=True)
            write_atomic(self.inbox / name, content)
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    """Context manager around aiosmtpd's threaded Controller."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int = 8025,
        *,
        inbox: Path | None = None,
        inbox_address: str | None = None,
    ):
        self.folder = folder
        self.host = host
        self.port = port
        self.handler = EmlHandler(folder, inbox=inbox, inbox_address=inbox_address)
        self._controller = Controller(
            self.handler, hostname=host, port=port, data_size_limit=50 * 1024 * 1024
        )

    def start(self) -> LocalSmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))


def serve(port: int | None = None, *, say: Callable[[str], object] = print) -> None:
    """Run the configured local SMTP server until SIGINT or SIGTERM (``council smtp-server``)."""
    from council.config import get_settings
    from council.errors import CouncilError

    settings = get_settings()
    folder = settings.mail_dir
    server = LocalSmtpServer(
        folder, port=port or settings.local_smtp_port, inbox=settings.inbox_dir, inbox_address=settings.sender
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before start: a Ctrl-C while starting stops cleanly too
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        raise CouncilError(f"SMTP-palvelinta ei voitu käynnistää porttiin {server.port}: {exc}") from exc
    say(
        f"SMTP-palvelin: 127.0.0.1:{server.port}, viestit kansioon {folder}; "
        f"osoitteeseen {settings.sender} tulevat myös kansioon {settings.inbox_dir} (council replies)"
    )
    stop.wait()
    server.stop()


if __name__ == "__main__":
    from council.errors import CouncilError

    try:
        serve(say=lambda line: print(line, flush=True))
    except CouncilError as exc:
        print(f"Virhe: {exc}", file=sys.stderr)
        sys.exit(1)
