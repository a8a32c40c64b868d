"""The ``council`` command line, over the same services as the flows.

- :mod:`council.cli.main` is the command (pyproject's script): it starts `council run`'s Prefect
  server before anything heavy is imported (:mod:`council.cli.prefect_server`);
- :mod:`council.cli.commands` is the Typer application with every command registered
  (``from council.cli.commands import app``);
- :mod:`council.cli.app` holds that application and its one error handler, one module per command
  group registers its commands on it.

This package's own import stays empty, so that the command's first lines run at once.
"""
