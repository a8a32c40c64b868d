"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message as an .eml file.

The local default when no SMTP host is configured: a coordinator opens exactly what a
municipality would receive. Run it with ``council smtp-server``; tests start it on a free port.
"""

from __future__ import annotations

import itertools
import os
import threading
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from council.paths import write_atomic

_counter = itertools.count(1)
_lock = threading.Lock()


class EmlHandler:
    """Stores each accepted message under ``folder`` as ``<time>-<n>.eml`` (written atomically)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with _lock:
            n = next(_counter)
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        write_atomic(self.folder / f"{stamp}-{os.getpid()}-{n:05d}.eml", content)
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    """Context manager around aiosmtpd's threaded Controller."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 8025):
        self.folder = folder
        self.host = host
        self.port = port
        self.handler = EmlHandler(folder)
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
