"""council record, agenda, history, import-decisions and export-decisions: the bodies' decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from council.cli.app import app, console
from council.cli.common import after_change, body_name, decision_in, parse_day, resolve_body_id
from council.config import get_settings
from council.errors import CouncilError, InvalidDecisionError
from council.rules.formatting import today_helsinki
from council.store.engine import checked_engine_for
from council.store.proposals import proposal_content
from models.decisions import no_liaison_message
from models.tables import Body

#: The liaison's options of `council record` (and `council confirm`), in the order of its parameters.
LIAISON_OPTIONS = ("--liaison-name", "--liaison-title", "--liaison-email", "--liaison-work-time")
LiaisonTitle = Annotated[str | None, typer.Option("--liaison-title", help="Yhdyshenkilön tehtävänimike")]
LiaisonEmail = Annotated[str | None, typer.Option("--liaison-email", help="Yhdyshenkilön sähköposti")]
LiaisonWorkTime = Annotated[str | None, typer.Option("--liaison-work-time", help="Työaika, esim. 8 h/kk")]


@app.command()
def record(
    body: Annotated[
        str, typer.Argument(metavar="VASTAANOTTAJA", help="Vastaanottajan tunniste, esim. jokioinen")
    ],
    point: Annotated[int, typer.Argument(metavar="KOHTA", help="Esityksen kohta (1–4)")],
    outcome: Annotated[
        str, typer.Argument(metavar="PÄÄTÖS", help="Päätös, esim. 'hyväksytty ehdotuksen mukaisesti'")
    ],
    on: Annotated[str, typer.Option("--date", help="Kokouspäivä: 15.3.2021 tai 2021-03-15")],
    section: Annotated[str, typer.Option("--section", help="Pykälä (§), positiivinen kokonaisluku")],
    deciding_body: Annotated[
        str | None, typer.Option("--deciding-body", help="Toimielin (oletus: vastaanottajan oma)")
    ] = None,
    dnro: Annotated[str | None, typer.Option("--dnro", help="Diaarinumero")] = None,
    link: Annotated[str | None, typer.Option("--link", help="Pöytäkirjanotteen http(s)-linkki")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Lisätieto")] = None,
    liaison_name: Annotated[
        str | None,
        typer.Option(
            "--liaison-name",
            help="Järjestöyhdyshenkilön nimi (yhdyshenkilön nimeävä kohta, yleensä 1; "
            "vain esityksessä, jossa on järjestöyhdyshenkilön toimenkuva)",
        ),
    ] = None,
    liaison_title: LiaisonTitle = None,
    liaison_email: LiaisonEmail = None,
    liaison_work_time: LiaisonWorkTime = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Korjattava versio (jo päätetyn kohdan korjaus)")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Kirjaa yhden vastaanottajan päätös yhdestä kohdasta."""
    from council.services.bulk import parse_date, parse_int, parse_outcome
    from council.store.decisions import record_decision

    settings = get_settings()
    try:
        parsed_outcome = parse_outcome(outcome)
        meeting = parse_date(on)
        number = parse_int(section, "pykälä")
    except ValueError as exc:
        raise CouncilError(f"Virheellinen kirjaus: {exc}") from exc
    liaison = None
    parts = (liaison_name, liaison_title, liaison_email, liaison_work_time)
    proposal = proposal_content(settings)
    body_id = resolve_body_id(settings, body)
    if any(parts) and proposal.duties_point is None:
        given = next(o for o, v in zip(LIAISON_OPTIONS, parts, strict=True) if v)
        raise InvalidDecisionError(
            body_name(settings, body_id), point, f"Järjestöyhdyshenkilö ({given})", no_liaison_message()
        )
    if any(parts):
        if not all(parts):
            raise CouncilError(
                "Anna yhdyshenkilöstä kaikki: --liaison-name, --liaison-title, --liaison-email, --liaison-work-time"
            )
        liaison = {
            "name": liaison_name,
            "title": liaison_title,
            "email": liaison_email,
            "work_time": liaison_work_time,
        }
    decision = decision_in(
        proposal.duties_point,
        body_id=body_id,
        point=point,
        outcome=parsed_outcome,
        meeting_date=meeting,
        section=number,
        deciding_body=deciding_body,
        diary_number=dnro,
        minutes_url=link,
        note=note,
        liaison=liaison,
        recorded_by=by,
        expected_version=version,
    )
    engine = checked_engine_for(settings)
    with Session(engine) as session, session.begin():
        stored = record_decision(session=session, proposal_id=settings.proposal_id, decision=decision)
    from council.rules.formatting import fi_date
    from models.enums import STATUS_LABEL_FI, DecisionStatus

    console.print(
        f"Kirjattu: {body_name(settings, stored.body_id)}, kohta {stored.point_number}: {stored.outcome} "
        f"({fi_date(stored.meeting_date)} § {stored.section}), "
        f"tila: {STATUS_LABEL_FI[DecisionStatus(stored.status)]}, versio {stored.version}",
        highlight=False,
    )
    after_change(settings, decisions=True, actor=f"cli:{by}")


@app.command()
def agenda(
    body: Annotated[
        str, typer.Argument(metavar="VASTAANOTTAJA", help="Vastaanottajan tunniste, esim. jokioinen")
    ],
    on: Annotated[str, typer.Option("--date", help="Kokouspäivä (voi olla tulevaisuudessa): 15.3.2021")],
    point: Annotated[
        list[int] | None, typer.Option("--point", help="Kohta; toistettavissa. Oletus: kaikki avoimet kohdat")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Merkitse kohdat kokouksen esityslistalle: muistutuksia ei lähetetä ennen kokousta seuraavaa päivää."""
    from council.store.decisions import mark_on_agenda

    settings = get_settings()
    meeting = parse_day(on, "--date")
    body = resolve_body_id(settings, body)
    engine = checked_engine_for(settings)
    with Session(engine) as session, session.begin():
        count = mark_on_agenda(
            session=session,
            proposal_id=settings.proposal_id,
            body_id=body,
            points=point or [],
            meeting_date=meeting,
            actor=f"cli:{by}",
        )
    after_change(settings, decisions=False, actor=f"cli:{by}")
    from council.rules.formatting import fi_date

    console.print(
        f"{body_name(settings, body)}: {count} kohtaa esityslistalla {fi_date(meeting)}",
        markup=False,
        highlight=False,
    )


@app.command("sent-outside")
def sent_outside(
    body: Annotated[
        str, typer.Argument(metavar="VASTAANOTTAJA", help="Vastaanottajan tunniste, esim. jokioinen")
    ],
    on: Annotated[str, typer.Option("--date", help="Päivä, jona esitys lähetettiin: 15.3.2021")],
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "koordinaattori",
) -> None:
    """Merkitse esitys lähetetyksi palvelun ulkopuolella (jo käynnissä olevan kierroksen haltuunotto).

    Päivä on vastaanottajan lähetyspäivä: määräaika ja muistutukset lasketaan siitä, eikä palvelu
    lähetä esitystä tälle vastaanottajalle uudelleen.
    """
    from council.rules.formatting import fi_date
    from council.store.tracking import mark_sent_outside

    settings = get_settings()
    day = parse_day(on, "--date")
    if day > today_helsinki():
        raise CouncilError(f"--date: lähetyspäivä {fi_date(day)} on tulevaisuudessa")
    body_id = resolve_body_id(settings, body)
    engine = checked_engine_for(settings)
    with Session(engine) as session, session.begin():
        count = mark_sent_outside(
            session=session, proposal_id=settings.proposal_id, body_id=body_id, on=day, actor=f"cli:{by}"
        )
    console.print(
        f"{body_id}: lähetetty palvelun ulkopuolella {fi_date(day)}; {count} kohtaa merkitty lähetetyiksi",
        markup=False,
        highlight=False,
    )
    after_change(settings, decisions=False, actor=f"cli:{by}")


@app.command()
def history(
    body: Annotated[
        str | None, typer.Argument(metavar="VASTAANOTTAJA", help="Vastaanottajan tunniste (oletus: kaikki)")
    ] = None,
) -> None:
    """Näytä tapahtumaloki (vanhin ensin): tilamuutokset, kirjaukset, viestit."""
    from council.store.decisions import history as read_history

    settings = get_settings()
    engine = checked_engine_for(settings)
    if body is not None:
        body = resolve_body_id(settings, body)
    with Session(engine) as session:
        events = read_history(session=session, proposal_id=settings.proposal_id, body_id=body)
        names = {body_id: name for body_id, name in session.execute(select(Body.id, Body.name))}
    from rich.table import Table

    from council.rendering.events import describe
    from council.rules.formatting import HELSINKI
    from models.enums import EVENT_LABEL_FI

    if not events:
        console.print("Ei tapahtumia.")
        return
    # A table whose cells wrap to the terminal's width (long words fold): nothing is cut. In a
    # recorded decision's details the version comes first: a correction names it (--version N).
    table = Table(expand=True)
    for header, ratio in (("Aika", 2), ("Kohde", 3), ("Tapahtuma", 3), ("Tiedot", 6)):
        table.add_column(header, ratio=ratio, overflow="fold")
    for e in events:
        when = e.occurred_at.astimezone(HELSINKI)
        subject = names.get(e.body_id, e.body_id or "–") + (
            f", kohta {e.point_number}" if e.point_number else ""
        )
        table.add_row(
            f"{when.day}.{when.month}.{when.year} {when:%H.%M}",
            subject,
            f"{EVENT_LABEL_FI.get(e.kind, e.kind)} ({e.actor})",
            describe(e.kind, e.data),
        )
    console.print(table, highlight=False, soft_wrap=False)


@app.command("import-decisions")
def import_decisions_cmd(
    file: Annotated[
        Path, typer.Argument(metavar="TIEDOSTO", help="CSV- tai XLSX-tiedosto (sarakkeet: katso README)")
    ],
    by: Annotated[str, typer.Option("--by", help="Kirjaaja")] = "cli:import",
) -> None:
    """Tuo päätökset tiedostosta: kaikki rivit tarkistetaan ensin, virheellinen rivi estää koko tuonnin."""
    from council.services.bulk import import_decisions

    settings = get_settings()
    engine = checked_engine_for(settings)
    with Session(engine) as session, session.begin():
        count = import_decisions(session=session, proposal_id=settings.proposal_id, path=file, actor=by)
    console.print(f"Tuotu {count} päätöstä tiedostosta {file}", markup=False, highlight=False)
    after_change(settings, decisions=True, actor=by)


@app.command("export-decisions")
def export_decisions_cmd(
    file: Annotated[Path, typer.Argument(metavar="TIEDOSTO", help="Kohdetiedosto: .csv tai .xlsx")],
) -> None:
    """Vie kirjatut päätökset tiedostoon samassa muodossa kuin tuonti."""
    from council.services.bulk import export_decisions

    settings = get_settings()
    with Session(checked_engine_for(settings)) as session:
        count = export_decisions(session=session, proposal_id=settings.proposal_id, path=file)
    console.print(f"Viety {count} päätöstä tiedostoon {file}", markup=False, highlight=False)
