"""Replies from the registries, read from a drop folder of .eml files (issue 16, first slice).

A registry answers our email with an acknowledgement that carries the body's own case number
("Asianumero 123/00.04.01/2026", "Dnro JOK/45/2026", "Diarienummer …"). Each reply is matched to
(proposal, body) by its In-Reply-To/References against the Message-IDs of our outbox, else by the
sender's domain against the roster's registry addresses (and, when that body has several of our
proposals, by the one the subject names); the case number found is stored on that
body's recipient row once (quoted as "Viite" in later reminders) and every reply is logged as an
event, so reading the folder again changes nothing. Nothing is deleted or moved.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from council.config import Settings
from council.delivery.text import UnreadableDocument, document_text
from council.errors import CouncilError
from council.intake.minutes import concerns
from council.services.intake import Item, describe, find_candidates
from council.store.engine import checked_engine_for
from council.store.tracking import add_event, now
from models.enums import EventKind
from models.tables import Body, Event, Message, Proposal, Recipient

#: How registries write their case number: the label, then the number (letters, digits, / . - and
#: single spaces between parts, ending in a digit), e.g. "Dnro JOK/45/00.01.02/2026".
_CASE = re.compile(
    r"\b(?:dnro|dno|d:no|diaarinumero|diaarinro|diaari|asianumero|asianro|asiatunnus|"
    r"diarienummer|diarienr|dnr|ärendenummer|ärendenr)\b\.?\s*:?\s*"
    r"(?P<number>[A-ZÅÄÖ0-9](?:[A-ZÅÄÖa-zåäö0-9/.\-]|\s(?=[A-ZÅÄÖ0-9]))*\d)",
    re.IGNORECASE,
)
#: At most this much of a message body is searched (a reply quotes our whole letter below).
_SEARCHED = 4000


@dataclass(frozen=True)
class Reply:
    path: Path
    message_id: str
    sender: str
    subject: str
    text: str
    refers_to: tuple[str, ...]
    #: The whole text (``text`` is its start) and the attachments (file name, bytes): a minutes
    #: extract is read from either.
    full_text: str = ""
    attachments: tuple[tuple[str, bytes], ...] = ()


@dataclass
class RepliesReport:
    """What one reading of the folder found, in the order of the files."""

    matched: list[str] = field(default_factory=list)  # "Jokioisten kunta: asianumero JOK/45/2026"
    unmatched: list[str] = field(default_factory=list)  # file names with why
    already_read: int = 0
    candidates: int = 0  # decision candidates found in minutes extracts (council candidates)


def read_reply(path: Path) -> Reply:
    """Parse one .eml or Outlook .msg (any defects are tolerated: registries' mail systems vary); a
    file that cannot be read at all raises UnreadableMessageError naming it."""
    from council.delivery.msg import UnreadableMessageError, read_msg

    try:
        message: EmailMessage
        if path.suffix.lower() == ".msg":
            message = read_msg(path)
        else:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[assignment]
        refers = " ".join(str(message.get(h, "")) for h in ("In-Reply-To", "References"))
        body = message.get_body(("plain", "html"))
        text = body.get_content() if body is not None else ""
    except (OSError, LookupError, ValueError) as exc:  # unreadable file, unknown charset, bad header
        raise UnreadableMessageError(f"{path.name}: viestiä ei voi lukea ({exc})") from exc
    if body is not None and body.get_content_subtype() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    senders = getaddresses([str(message.get("From", ""))])
    return Reply(
        path=path,
        message_id=str(message.get("Message-ID", "")).strip() or f"<{path.name}>",
        sender=senders[0][1].lower() if senders else "",
        subject=str(message.get("Subject", "")),
        text=text[:_SEARCHED],
        refers_to=tuple(re.findall(r"<[^<>\s]+>", refers)),
        full_text=text,
        attachments=tuple(
            (part.get_filename() or "liite", part.get_payload(decode=True) or b"")
            for part in message.iter_attachments()
            if not part.is_multipart()
        ),
    )


def _plain(number: str) -> str:
    return " ".join(number.split()).casefold()


def case_number(reply: Reply, ours: frozenset[str] = frozenset()) -> str | None:
    """The body's own case number from the subject or the start of the text, or None. A number in
    ``ours`` (the committee's own diary numbers, quoted back in "Re: … (Dnro …)") is not theirs."""
    skip = {_plain(n) for n in ours}
    for source in (reply.subject, reply.text):
        for found in _CASE.finditer(source):
            number = found.group("number").strip()
            if _plain(number) not in skip:
                return number
    return None


def _match(session: Session, reply: Reply) -> list[tuple[str, str]]:
    """(proposal, body) by our Message-IDs first, then by the sender's domain (one body only). A
    reply to a combined reminder concerns every proposal it carried: one pair for each."""
    if reply.refers_to:
        row = session.execute(
            select(Message.id, Message.proposal_id, Message.body_id)
            .where(Message.message_id.in_(reply.refers_to), Message.body_id.is_not(None))
            .order_by(Message.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            carried = session.scalars(
                select(Message.proposal_id).where(Message.carried_by == row.id).order_by(Message.id)
            ).all()
            return [(proposal_id, row.body_id) for proposal_id in dict.fromkeys([row.proposal_id, *carried])]
    domain = reply.sender.rsplit("@", 1)[-1] if "@" in reply.sender else ""
    if not domain:
        return []
    bodies = [b for b in session.scalars(select(Body)) if b.registry_email.lower().endswith("@" + domain)]
    if len(bodies) != 1:
        return []
    proposals = session.scalars(
        select(Message.proposal_id).where(Message.body_id == bodies[0].id).distinct()
    ).all()
    if len(proposals) > 1:
        # Several proposals at that body: the one the subject names (its Dnro, the body's case
        # number for it, or its title), when exactly one is named.
        proposals = [p for p in proposals if _subject_names(session, p, bodies[0].id, reply.subject)]
    return [(proposals[0], bodies[0].id)] if len(proposals) == 1 else []


def _subject_names(session: Session, proposal_id: str, body_id: str, subject: str) -> bool:
    proposal = session.get_one(Proposal, proposal_id)
    recipient = session.get(Recipient, (proposal_id, body_id))
    numbers = tuple(n for n in (proposal.diary_number, recipient.case_number if recipient else None) if n)
    short_title = str((proposal.content or {}).get("short_title") or "")
    return concerns(subject, title=proposal.title, short_title=short_title, numbers=numbers)


def take_replies(*, session: Session, folder: Path, actor: str) -> RepliesReport:
    """Read every .eml in ``folder`` (oldest name first) not read before; see the module docstring."""
    report = RepliesReport()
    read_before = {
        (data or {}).get("message_id")
        for data in session.scalars(select(Event.data).where(Event.kind == EventKind.reply_received.value))
    }
    ours = frozenset(n for n in session.scalars(select(Proposal.diary_number)) if n)
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".eml", ".msg") and p.is_file()):
        try:
            reply = read_reply(path)
        except CouncilError as exc:  # an unreadable file (named in exc) does not stop the others
            report.unmatched.append(str(exc))
            continue
        if reply.message_id in read_before:
            report.already_read += 1
            continue
        read_before.add(reply.message_id)
        matched = _match(session, reply)
        number = case_number(reply, ours)
        data = {
            "message_id": reply.message_id,
            "file": path.name,
            "sender": reply.sender,
            "case_number": number,
        }
        if not matched:
            report.unmatched.append(
                f"{path.name}: lähettäjää {reply.sender or '?'} ei tunnistettu esityksen viestiksi"
            )
            add_event(
                session=session, kind=EventKind.reply_received, actor=actor, data=data | {"matched": False}
            )
            continue
        body = session.get_one(Body, matched[0][1])
        several = f" (esitykset {', '.join(p for p, _ in matched)})" if len(matched) > 1 else ""
        for proposal_id, body_id in matched:
            add_event(
                session=session,
                kind=EventKind.reply_received,
                actor=actor,
                proposal_id=proposal_id,
                body_id=body_id,
                data=data | {"matched": True},
            )
        found = _candidates(session, reply, matched, actor, report)
        if number is None:
            if not found:
                report.matched.append(f"{body.name}: vastaus luettu, asianumeroa ei löytynyt ({path.name}){several}")
            report.matched += found
            continue
        report.matched += found
        # One email registered once: a combined reminder's case number is the same for each proposal.
        for proposal_id, body_id in matched:
            row = session.get(Recipient, (proposal_id, body_id))
            if row is None:
                row = Recipient(proposal_id=proposal_id, body_id=body_id, updated_at=now())
                session.add(row)
            if row.case_number and row.case_number != number:
                report.matched.append(
                    f"{body.name}: vastauksessa on eri asianumero {number} kuin tallennettu {row.case_number}"
                    f"{f' (esitys {proposal_id})' if several else ''}; tallennettua ei muutettu"
                )
                continue
            row.case_number, row.updated_at = number, now()
            session.flush()
            report.matched.append(f"{body.name}: asianumero {number}{f' (esitys {proposal_id})' if several else ''}")
    return report


def _candidates(
    session: Session, reply: Reply, matched: list[tuple[str, str]], actor: str, report: RepliesReport
) -> list[str]:
    """Decision candidates from a reply's minutes extract (an attachment, or the text itself)."""
    items = [Item(text=reply.full_text, source=reply.path.name, source_ref=reply.message_id)]
    lines: list[str] = []
    for name, content in reply.attachments:
        try:
            text = document_text(name, content)
        except UnreadableDocument as exc:
            lines.append(str(exc))
            continue
        if text:
            items.append(Item(text=text, source=f"{reply.path.name}: {name}", source_ref=f"{reply.message_id}#{name}"))
    made, notes = find_candidates(session, pairs=matched, items=items, actor=actor)
    report.candidates += len(made)
    names = {b.id: b.name for b in session.scalars(select(Body).where(Body.id.in_({c.body_id for c in made})))}
    lines += [f"Löydös vahvistettavaksi: {describe(c, names[c.body_id], evidence_chars=120)}" for c in made]
    return lines + notes


@dataclass(frozen=True)
class ReadReplies:
    """One reading of the replies: from the mailbox (``mailbox`` is its host when one is set) into
    the drop folder, then the folder's new messages. ``mailbox_error``: the mailbox could not be
    read (the folder still was); ``mailbox_was_ok``: the reading before this one succeeded (or
    there was none), so this failure is news."""

    folder: Path
    mailbox: str | None
    fetched: int
    fetched_before: int
    report: RepliesReport
    mailbox_error: str | None = None
    mailbox_was_ok: bool = True

    def lines(self) -> list[str]:
        """What happened, in Finnish, one line each (the CLI prints them, a flow run reports them)."""
        report = self.report
        lines = []
        if self.mailbox_error:
            lines.append(f"Postilaatikkoa ei voitu lukea: {self.mailbox_error}")
        elif self.mailbox:
            lines.append(
                f"Postilaatikosta {self.mailbox}: {self.fetched} uutta viestiä ({self.fetched_before} haettu jo aiemmin)"
            )
        lines += report.matched
        lines += [f"Tunnistamaton: {line}" for line in report.unmatched]
        if report.candidates:
            lines.append(
                f"{report.candidates} löydöstä odottaa vahvistusta: Prefectin confirm-candidates tai council candidates"
            )
        lines.append(
            f"Luettu {len(report.matched) + len(report.unmatched)} uutta vastausta "
            f"({report.already_read} luettu jo aiemmin) kansiosta {self.folder}"
        )
        return lines


def read_replies(
    settings: Settings, *, actor: str, folder: Path | None = None, mailbox_may_fail: bool = False
) -> ReadReplies:
    """Fetch the committee's mailbox into the drop folder when one is configured
    (``COUNCIL_IMAP_HOST``, read-only), then read every reply not read before (:func:`take_replies`).
    The service's own drop folder is made when missing (nothing has arrived yet); a folder the
    caller names must exist. Each mailbox reading is logged as an event; with ``mailbox_may_fail``
    a mailbox that cannot be read is reported in the result (the folder is read all the same)
    instead of raised."""
    from council.delivery.imap import MailboxError, fetch_to_folder

    where = folder or settings.inbox_dir
    if folder is None:
        where.mkdir(parents=True, exist_ok=True)
    fetched, error, was_ok = None, None, True
    if settings.imap_host:
        try:
            fetched = fetch_to_folder(settings, where)
        except MailboxError as exc:
            if not mailbox_may_fail:
                _log_mailbox(settings, actor=actor, error=str(exc))
                raise
            error = str(exc)
        was_ok = _log_mailbox(settings, actor=actor, error=error, new=len(fetched.new) if fetched else 0)
    if not where.is_dir():
        raise CouncilError(f"{where}: kansiota ei ole; tallenna vastaukset .eml- tai .msg-tiedostoina tähän kansioon")
    with Session(checked_engine_for(settings)) as session, session.begin():
        report = take_replies(session=session, folder=where, actor=actor)
    return ReadReplies(
        folder=where,
        mailbox=settings.imap_host,
        fetched=len(fetched.new) if fetched else 0,
        fetched_before=fetched.already if fetched else 0,
        report=report,
        mailbox_error=error,
        mailbox_was_ok=was_ok,
    )


def _log_mailbox(settings: Settings, *, actor: str, error: str | None, new: int = 0) -> bool:
    """Log this mailbox reading (with how many new messages it fetched: the last reading with any is
    the mailbox's last change); whether the one before it succeeded (True when there was none)."""
    kinds = (EventKind.mailbox_read.value, EventKind.mailbox_failed.value)
    with Session(checked_engine_for(settings)) as session, session.begin():
        before = session.scalars(
            select(Event.kind).where(Event.kind.in_(kinds)).order_by(Event.id.desc()).limit(1)
        ).first()
        add_event(
            session=session,
            kind=EventKind.mailbox_failed if error else EventKind.mailbox_read,
            actor=actor,
            data={"host": settings.imap_host, **({"error": error[:500]} if error else {"new": new})},
        )
    return before != EventKind.mailbox_failed.value
