"""What several commands share: the --body and --today options, reading a day and a body, and the
follow-on work after a change."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from council.cli.app import console, err
from council.content.loading import load_roster
from council.errors import CouncilError, UnknownBodyError, field_problems
from council.rules.formatting import today_helsinki

BodyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--body", "-b", help="Vastaanottajan tunniste (esim. jokioinen); toistettavissa. Oletus: kaikki."
    ),
]


TodayOpt = Annotated[
    str | None, typer.Option("--today", help="Päivä: 15.3.2021 tai 2021-03-15 (oletus: tänään; simulointiin)")
]


def parse_day(value: str | None, option: str = "--today") -> date:
    """The day given on the command line, or today in Helsinki."""
    from council.services.bulk import parse_date

    try:
        return parse_date(value) if value else today_helsinki()
    except ValueError as exc:
        raise CouncilError(f"{option}: {exc}") from exc


def resolve_body_id(settings, value: str) -> str:  # noqa: ANN001
    """The roster id a user meant: the id in any case ('Humppila') or the official name
    ('Jokioisten kunta'); an unknown one is refused with the known ids."""
    roster = load_roster(settings.path(settings.roster_file))
    wanted = value.strip().casefold()
    for b in roster.bodies:
        if wanted in (b.id.casefold(), b.name.casefold()):
            return b.id
    raise UnknownBodyError(value, sorted(b.id for b in roster.bodies))


def body_name(settings, body_id: str) -> str:  # noqa: ANN001
    """A body's official name for what a person reads (its id if the roster lacks it)."""
    roster = load_roster(settings.path(settings.roster_file))
    return next((b.name for b in roster.bodies if b.id == body_id), body_id)


def after_change(settings, *, decisions: bool, actor: str) -> None:  # noqa: ANN001
    """Follow-on messages after recorded decisions, and the dashboard files after any change."""
    from council.delivery.mail import SmtpMailer
    from council.services.after_decision import after_decisions
    from council.services.committee import write_dashboard_files

    if decisions:
        report = after_decisions(settings, today=today_helsinki(), mailer=SmtpMailer(settings), actor=actor)
        for label in report.sent:
            console.print(f"Lähetetty: {label}", highlight=False)
        for label, why in report.failed.items():
            if why.permanent:
                err.print(f"[yellow]Ei lähetetty:[/] {label}: {why.error}", highlight=False)
            else:
                err.print(
                    f"[yellow]Lähetys epäonnistui, uusitaan seuranta-ajossa:[/] {label}: {why.error}",
                    highlight=False,
                )
        html = report.dashboard[0] if report.dashboard else None
    else:
        html = write_dashboard_files(settings)[0]
    if html:
        console.print(f"Tilannesivu: {html}", highlight=False)


def decision_in(duties_point: int | None, /, **values: object):
    """Build a DecisionIn from CLI values for a proposal whose liaison is named in ``duties_point``
    (None: the proposal has no duty description); pydantic errors become one Finnish message per field."""
    from pydantic import ValidationError

    from models.decisions import DecisionIn

    try:
        return DecisionIn.for_proposal(duties_point, **values)
    except ValidationError as exc:
        lines = field_problems(exc, DecisionIn)  # each field by its Finnish title
        raise CouncilError("Virheellinen kirjaus:\n  " + "\n  ".join(lines)) from exc
