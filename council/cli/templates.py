"""council templates check: validate the DOCX and email templates a secretary has edited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from council.cli.app import CouncilGroup, app, console, err
from council.cli.finnish import OPTIONS_METAVAR, SUBCOMMAND_METAVAR
from council.config import TEMPLATES_DIR

templates_app = typer.Typer(
    cls=CouncilGroup,
    help="Mallipohjat (DOCX- ja sähköpostipohjat): tarkistus ennen käyttöä.",
    no_args_is_help=True,
    options_metavar=OPTIONS_METAVAR,
    subcommand_metavar=SUBCOMMAND_METAVAR,
)
app.add_typer(templates_app, name="templates")


@templates_app.command("check")
def check(
    folder: Annotated[
        Path, typer.Option("--folder", help="Tarkistettava mallipohjakansio (oletus: projektin templates/)")
    ] = TEMPLATES_DIR,
) -> None:
    """Tarkista jokainen mallipohja molemmilla kielillä: Jinja-syntaksi, Wordin pilkkomat tagit ja
    muuttujat sisältömallia vasten. Jokainen ongelma nimeää tiedoston, kappaleen ja tagin."""
    from council.rendering.check import check_templates

    problems = check_templates(folder)
    for problem in problems:
        err.print(str(problem), markup=False, highlight=False)
    if problems:
        err.print(
            f"Mallipohjissa {len(problems)} korjattavaa kohtaa ({folder}).", markup=False, highlight=False
        )
        raise typer.Exit(1)
    console.print(f"Mallipohjat kunnossa: {folder}", markup=False, highlight=False)
