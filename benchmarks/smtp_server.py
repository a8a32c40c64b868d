"""``python -m benchmarks.smtp_server PORT FOLDER``: the local SMTP server until stdin closes."""

from __future__ import annotations

import sys
from pathlib import Path

from council.delivery.smtpd import LocalSmtpServer


def main() -> None:
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    with LocalSmtpServer(folder, port=port):
        sys.stdin.read()  # the parent closes our stdin to stop us


if __name__ == "__main__":
    main()
