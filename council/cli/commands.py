"""The ``council`` command line with every command registered (Finnish help texts), over the same
services as the flows.

One module per command group; each registers its commands on :data:`council.cli.app.app`:

- ``proposal``: init, render, send, docs-preview
- ``proposals``: the ``proposal`` group (list, show, import, close, archive)
- ``archive``: proposal archive (on the ``proposal`` group)
- ``decisions``: record, agenda, history, import-decisions, export-decisions
- ``follow_up``: follow-up
- ``committee``: status, dashboard, report, digest
- ``operations``: run, smtp-server, refresh-forms, backup, restore
- ``replies``: replies
- ``candidates``: candidates, confirm, reject (decisions found in replies and publications)
- ``templates``: templates check
"""

from council.cli import (  # noqa: F401 - registers
    archive,
    candidates,
    committee,
    decisions,
    follow_up,
    operations,
    proposal,
    proposals,
    replies,
    templates,
)
from council.cli.app import app

__all__ = ["app"]
