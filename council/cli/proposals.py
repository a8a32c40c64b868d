"""council proposal list | show | import | close | archive: the committee's proposals as campaigns."""

from __future__ import annotations

import typer

from council.cli.app import CouncilGroup, app
from council.cli.finnish import OPTIONS_METAVAR, SUBCOMMAND_METAVAR

proposal_app = typer.Typer(
    cls=CouncilGroup,
    help="Esitykset: luettelo, tiedot, tuonti, päättäminen ja arkistointi.",
    no_args_is_help=True,
    options_metavar=OPTIONS_METAVAR,
    subcommand_metavar=SUBCOMMAND_METAVAR,
)
app.add_typer(proposal_app, name="proposal")
