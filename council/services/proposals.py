"""The proposal use cases: import a new proposal (from a YAML content file or a DOCX written on the
authoring template), list, show and close proposals. The CLI (``council proposal …``) and the flows
(new-proposal, close-proposal) call these alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from council.config import Settings
from council.content.loading import dump_proposal_yaml, load_roster, load_yaml_model
from council.errors import ContentError, CouncilError, Problem, UnknownBodyError, UnknownProposalError
from council.store.engine import checked_engine_for
from council.store.proposals import ProposalSummary, list_proposals
from council.store.recipients import recipient_ids
from council.store.tracking import set_state, sync_content
from models.enums import ProposalState
from models.schemas import ProposalIn, ReminderPolicyIn


@dataclass(frozen=True)
class Imported:
    proposal: ProposalIn
    recipients: list[str]
    yaml_copy: Path
    created: bool


def read_proposal_file(path: Path) -> ProposalIn:
    """A proposal from a YAML content file or a DOCX written on the authoring template; every
    problem is reported together (file, line or paragraph, field) and nothing is stored."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml_model(path, ProposalIn)
    if suffix == ".docx":
        from council.content.authoring import read_authoring_docx

        return read_authoring_docx(path)
    raise ContentError(
        str(path), [Problem(str(path), None, "(tiedosto)", "tuettuja muotoja ovat .docx (esityspohja) ja .yaml")]
    )


def import_file_ids(settings: Settings) -> list[str]:
    """The proposals whose import files are under data/proposals/ (not their translations), the
    configured one first; the configured one even without a file (its stored content)."""
    folder = settings.path(settings.data_dir) / "proposals"
    found = sorted(p.stem for p in folder.glob("*.yaml") if "." not in p.stem) if folder.is_dir() else []
    return [settings.proposal_id, *(p for p in found if p != settings.proposal_id)]


def resolve_recipients(settings: Settings, wanted: list[str]) -> list[str]:
    """Roster ids of the bodies named by id or official name (any case); empty = the whole roster."""
    roster = load_roster(settings.path(settings.roster_file))
    if not wanted:
        return [b.id for b in roster.bodies]
    by_key = {key.casefold(): b.id for b in roster.bodies for key in (b.id, b.name)}
    ids = []
    for name in wanted:
        body_id = by_key.get(name.strip().casefold())
        if body_id is None:
            raise UnknownBodyError(name, sorted(b.id for b in roster.bodies))
        if body_id not in ids:
            ids.append(body_id)
    return ids


def import_proposal(
    settings: Settings,
    proposal: ProposalIn,
    *,
    recipients: list[str],
    actor: str,
    diary_number: str | None = None,
    deadline_days: int | None = None,
) -> Imported:
    """Store a new proposal as a draft with its chosen recipients (roster ids or names; empty = the
    whole roster), its Dnro and response deadline when given, and write its YAML copy to
    data/proposals/. A draft may be imported again (its content is replaced, recipients may be
    added); a proposal already sent is refused: its documents are out."""
    changes: dict[str, object] = {}
    if diary_number and diary_number.strip():
        changes["diary_number"] = diary_number.strip()
    if deadline_days is not None:
        policy = proposal.reminder_policy.model_dump() | {"deadline_days": deadline_days}
        changes["reminder_policy"] = ReminderPolicyIn.model_validate(policy)
    if changes:
        proposal = ProposalIn.model_validate(proposal.model_dump() | changes)
    ids = resolve_recipients(settings, recipients)
    roster = load_roster(settings.path(settings.roster_file))
    engine = checked_engine_for(settings)
    with Session(engine) as session, session.begin():
        existing = {p.id: p for p in list_proposals(session=session)}
        known = existing.get(proposal.id)
        if known is not None and known.state != ProposalState.draft:
            raise CouncilError(
                f"Esitys {proposal.id} on jo {known.state_fi}: sen sisältöä ei voi enää korvata. "
                "Anna uudelle esitykselle oma tunniste (esityspohjan kenttä Tunniste)."
            )
        sync_content(session=session, proposal=proposal, roster=roster, actor=actor, recipients=ids)
        chosen = recipient_ids(session=session, proposal_id=proposal.id)
    copy = settings.path(settings.data_dir) / "proposals" / f"{proposal.id}.yaml"
    copy.parent.mkdir(parents=True, exist_ok=True)
    dump_proposal_yaml(proposal, copy)
    return Imported(proposal=proposal, recipients=chosen, yaml_copy=copy, created=known is None)


def proposals(settings: Settings) -> list[ProposalSummary]:
    with Session(checked_engine_for(settings)) as session:
        return list_proposals(session=session)


def find_proposal(settings: Settings, proposal_id: str) -> ProposalSummary:
    for p in proposals(settings):
        if p.id == proposal_id:
            return p
    raise UnknownProposalError(proposal_id, "Katso tunnisteet komennolla council proposal list.")


def close_proposal(settings: Settings, proposal_id: str, *, reason: str, actor: str) -> bool:
    """Close a proposal by the coordinator's decision (reminders stop); False if it already was."""
    if not reason.strip():
        raise CouncilError("Kerro syy, miksi esitys päätetään (esim. 'esitys vanhentunut').")
    found = find_proposal(settings, proposal_id)
    if found.state == ProposalState.archived:
        raise CouncilError(f"Esitys {proposal_id} on jo arkistoitu.")
    with Session(checked_engine_for(settings)) as session, session.begin():
        return set_state(
            session=session, proposal_id=proposal_id, state=ProposalState.closed, actor=actor, reason=reason.strip()
        )


def archive_proposal(
    settings: Settings, proposal_id: str, dest_dir: Path | None, *, on: date, actor: str
) -> Path:
    """Write the archive package of a closed proposal (council/services/archive.py) and mark it
    archived; an open one is refused: its package would miss what is still to come."""
    from council.services.archive import write_archive

    found = find_proposal(settings, proposal_id)
    if found.state not in (ProposalState.closed, ProposalState.archived):
        raise CouncilError(
            f"Esitys {proposal_id} on vielä seurannassa ({found.state_fi}): arkistoi vasta päättynyt esitys. "
            f"Päätä se ensin: council proposal close {proposal_id} --reason \"…\" (esitys päättyy myös "
            "itsestään, kun kaikki kohdat on päätetty kaikissa vastaanottajissa)."
        )
    path = write_archive(settings, proposal_id, dest_dir, on=on)
    with Session(checked_engine_for(settings)) as session, session.begin():
        set_state(session=session, proposal_id=proposal_id, state=ProposalState.archived, actor=actor)
    return path
