"""The ``council`` command (pyproject's script): ``council run`` gets its Prefect server started
before the command line is imported (:mod:`council.cli.prefect_server`), then the command runs."""

from __future__ import annotations

import sys

from council.cli.prefect_server import head_start


def main() -> None:
    head_start(sys.argv[1:])
    from council.cli.commands import app

    app()
