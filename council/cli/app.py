"""The ``council`` Typer application and its one error handler.

Every command raises :class:`~council.errors.CouncilError` (or a subclass) for anything the user
can fix; :class:`CouncilGroup` turns it into one Finnish line on stderr and exit code 2, so no
command repeats the handling.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from council.errors import CouncilError

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def print_error(exc: Exception) -> None:
    """'Virhe: …' on stderr; user input may contain Rich markup ("[/a].csv"), so it is escaped."""
    err.print(f"[bold red]Virhe:[/] {escape(str(exc))}", highlight=False)


class CouncilGroup(TyperGroup):
    """Runs a command; a CouncilError from it ends the command with its message and exit code 2."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except CouncilError as exc:
            print_error(exc)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=CouncilGroup,
    help="Valtuustoesitysten seuranta: esitysten lähetys, päätösten seuranta ja muistutukset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
