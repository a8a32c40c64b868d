"""The bodies' meeting publications, read once a day (issue 16): each roster body that names its
publication (Dynasty, Tweb, or a page of PDF links) is read through the polite HTTP client, every
item that concerns one of our active proposals is read as an agenda item or minutes, and what it
says becomes candidates for the coordinator (council/services/intake.py).

Each source's freshness is stored (:class:`~models.tables.IntakeSource`): the last reading that
succeeded, the last change of what it lists, and since when it has failed; a page the parser does
not understand is a failure ("sivun rakennetta ei tunnistettu"), never an empty success, so a
redesigned site shows on the dashboard and in the digest as "lähde ei vastaa" after three days.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.http import PublicHttpClient
from council.errors import CouncilError
from council.intake.publications import PublishedItem, read_publication
from council.rules.formatting import fi_date
from council.services.intake import Item, describe, find_candidates
from council.store.engine import checked_engine_for
from council.store.tracking import now
from models.enums import ACTIVE_STATES, PublicationSystem
from models.tables import Body, Decision, IntakeSource, Proposal

#: The roster's system names → the parsers' (the roster says "pdf-lista" in Finnish).
_PARSER = {PublicationSystem.dynasty: "dynasty", PublicationSystem.tweb: "tweb", PublicationSystem.pdf_list: "pdf-list"}


@dataclass
class PublicationsReport:
    """One reading of every publication: Finnish lines of what was found, and the sources that failed."""

    lines: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # body name → why
    candidates: int = 0


def _item_text(item: PublishedItem) -> str:
    """The item as one text in the minutes' own form: the header line (body, date, §), the title,
    the body's case number, then the proposal and decision parts as the page has them."""
    kind = "Pöytäkirja" if item.kind == "minutes" else "Esityslista"
    day = fi_date(item.meeting_date) if item.meeting_date else ""
    section = f" § {item.section}" if item.section else ""
    header = f"{item.deciding_body or ''} {kind} {day}{section}".strip()
    return "\n".join(line for line in (header, item.title, item.published_case_number or "", "", item.text))


def _followed(session: Session) -> dict[str, list[str]]:
    """Body id → the active proposals it has cells in (the only ones its publication is read for)."""
    rows = session.execute(
        select(Decision.body_id, Decision.proposal_id)
        .join(Proposal, Proposal.id == Decision.proposal_id)
        .where(Proposal.state.in_([s.value for s in ACTIVE_STATES]))
        .distinct()
    )
    followed: dict[str, list[str]] = {}
    for body_id, proposal_id in rows:
        followed.setdefault(body_id, []).append(proposal_id)
    return followed


def _source(session: Session, body: Body) -> IntakeSource:
    source = session.get(IntakeSource, f"publication:{body.id}")
    if source is None:
        source = IntakeSource(
            id=f"publication:{body.id}", body_id=body.id, system=body.publication_system, address=body.publication_url
        )
        session.add(source)
    source.system, source.address = body.publication_system or "", body.publication_url or ""
    return source


def read_publications(
    settings: Settings, *, actor: str, fetch: Callable[[str], bytes] | None = None
) -> PublicationsReport:
    """Read every followed body's publication (see the module docstring). ``fetch`` is the
    client's by default (tests pass their own local server's address in the roster instead)."""
    report = PublicationsReport()
    engine = checked_engine_for(settings)
    reader = fetch or PublicHttpClient(str(settings.sender), settings.state_dir / "julkaisut").fetch
    with Session(engine) as session:
        followed = _followed(session)
        bodies = [
            b
            for b in session.scalars(select(Body).where(Body.publication_url.is_not(None)).order_by(Body.name))
            if b.id in followed
        ]
        names = {b.id: (b.name, b.publication_system, b.publication_url) for b in bodies}
    for body_id, (name, system, address) in names.items():
        try:
            items = read_publication(_PARSER[PublicationSystem(system)], address or "", reader)
        except (CouncilError, ValueError, KeyError) as exc:
            _failed(engine, body_id, str(exc))
            report.failed[name] = str(exc)
            report.lines.append(f"{name}: julkaisua ei voitu lukea: {exc}")
            continue
        fingerprint = hashlib.sha256(
            "\n".join(f"{i.url}\n{i.kind}\n{i.text}" for i in items).encode()
        ).hexdigest()
        with Session(engine) as session, session.begin():
            body = session.get_one(Body, body_id)
            source = _source(session, body)
            stamp = now()
            source.last_ok_at, source.failing_since, source.last_error = stamp, None, None
            if source.fingerprint != fingerprint:
                source.fingerprint, source.last_change_at = fingerprint, stamp
            made, notes = find_candidates(
                session,
                pairs=[(proposal_id, body_id) for proposal_id in followed[body_id]],
                items=[
                    Item(text=_item_text(i), source=f"{name}: {i.title} ({i.url})", source_ref=i.url, link=i.url)
                    for i in items
                ],
                actor=actor,
                published=True,
            )
            report.candidates += len(made)
            report.lines += [f"Löydös vahvistettavaksi: {describe(c, name, evidence_chars=120)}" for c in made]
            report.lines += notes
        report.lines.append(f"{name}: {len(items)} kokousasiaa luettu ({address})")
    if not names:
        report.lines.append("Yksikään seurattava vastaanottaja ei ole nimennyt kokousjulkaisuaan (roster: publication)")
    return report


def _failed(engine, body_id: str, error: str) -> None:  # noqa: ANN001
    with Session(engine) as session, session.begin():
        source = _source(session, session.get_one(Body, body_id))
        stamp = now()
        source.last_failed_at, source.last_error = stamp, error[:2000]
        source.failing_since = source.failing_since or stamp
