"""The ``council`` Typer application and its one error handler.

Every command raises :class:`~council.errors.CouncilError` (or a subclass) for anything the user
can fix; :class:`CouncilGroup` turns it into one Finnish line on stderr and exit code 2, so no
command repeats the handling.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from council.cli.finnish import OPTIONS_METAVAR, SUBCOMMAND_METAVAR, install
from council.config import get_settings
from council.errors import CouncilError
from council.store.engine import database_error

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def print_error(exc: Exception) -> None:
    """'Virhe: …' on stderr; user input may contain Rich markup ("[/a].csv"), so it is escaped."""
    err.print(f"[bold red]Virhe:[/] {escape(str(exc))}", highlight=False)


def as_council_error(exc: Exception) -> CouncilError | None:
    """Our own error for what a command let through: database and file-system errors are mapped to
    Finnish messages that name the database URL or the file; anything else is a bug (None)."""
    if isinstance(exc, CouncilError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        try:
            url = get_settings().effective_database_url
        except CouncilError:
            url = ""
        return database_error(exc, url)
    if isinstance(exc, OSError):
        where = exc.filename or ""
        return CouncilError(f"Tiedostoa {where} ei voi käyttää: {exc.strerror or exc}".replace("  ", " "))
    return None


class CouncilGroup(TyperGroup):
    """Runs a command; a CouncilError from it (or a database or file-system error, mapped to one)
    ends the command with its Finnish message and exit code 2. Nothing is half-written: every
    command's writes are in transactions that the error rolls back."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        # What follows the group's own options (the command and its arguments): click clears it
        # before the group's callback runs, which needs to know whether help was asked for.
        ctx.meta.setdefault("council.rest", [*getattr(ctx, "_protected_args", []), *ctx.args])
        try:
            return super().invoke(ctx)
        except (CouncilError, SQLAlchemyError, OSError) as exc:
            mapped = as_council_error(exc)
            if mapped is None:  # pragma: no cover - every listed type maps
                raise
            print_error(mapped)
            raise typer.Exit(2) from None


install()  # Typer's and Click's own words in Finnish, before any command is built

app = typer.Typer(
    cls=CouncilGroup,
    add_completion=False,
    options_metavar=OPTIONS_METAVAR,
    subcommand_metavar=SUBCOMMAND_METAVAR,
    help="Valtuustoesitysten seuranta: esitysten lähetys, päätösten seuranta ja muistutukset.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: Commands that act on one proposal: without --proposal they take the only active one.
ONE_PROPOSAL_COMMANDS = frozenset(
    {
        "status",
        "report",
        "render",
        "send",
        "docs-preview",
        "record",
        "agenda",
        "sent-outside",
        "history",
        "import-decisions",
        "export-decisions",
    }
)


#: Commands that send, record or remind: refused for a closed or archived proposal.
CHANGE_COMMANDS = frozenset(
    {"send", "record", "agenda", "sent-outside", "import-decisions", "follow-up", "digest"}
)


@app.callback()
def choose_proposal_option(
    ctx: typer.Context,
    proposal: str | None = typer.Option(
        None,
        "--proposal",
        "-p",
        help="Esitys, jota komento koskee (tunniste tai otsikko). Oletus: ainoa seurannassa oleva esitys.",
    ),
) -> None:
    """Valtuustoesitysten seuranta: esitysten lähetys, päätösten seuranta ja muistutukset."""
    from council.config import using_proposal
    from council.store.proposals import choose_proposal

    ctx.obj = {"proposal": proposal}
    rest = ctx.meta.get("council.rest", [])
    if ctx.resilient_parsing or "--help" in rest:
        return  # help needs no proposal (and must show even when the choice would be refused)
    if proposal or ctx.invoked_subcommand in ONE_PROPOSAL_COMMANDS:
        chosen = choose_proposal(get_settings(), proposal, to_change=ctx.invoked_subcommand in CHANGE_COMMANDS)
        ctx.obj["proposal"] = chosen
        ctx.with_resource(using_proposal(chosen))
