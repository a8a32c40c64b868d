"""Small readers the tests share: DOCX text and parsed .eml files."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from docx import Document


def docx_text(path: Path) -> str:
    """All visible text of a DOCX: body paragraphs, tables, headers."""
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in doc.sections:
        for header in (section.first_page_header, section.header):
            for table in header.tables:
                for row in table.rows:
                    parts += [cell.text for cell in row.cells]
            parts += [p.text for p in header.paragraphs]
    return "\n".join(parts)


def read_eml(path: Path) -> EmailMessage:
    """Parse an .eml in strict mode: any defect raises."""
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.strict)  # type: ignore[return-value]


def delivered_proposal(settings, body_id: str, *, sent_at=None, logical_date=None) -> None:  # noqa: ANN001
    """Store the body's proposal email (round 0) as delivered, optionally back-dated."""
    from sqlalchemy.orm import Session

    from council.delivery.mail import RenderedMail
    from council.store.engine import make_engine
    from council.store.outbox import mark_delivered, queue_message
    from models.enums import MessageKind
    from models.tables import Message

    with Session(make_engine(settings.effective_database_url)) as session, session.begin():
        message_pk, _ = queue_message(
            session=session,
            settings=settings,
            proposal_id=settings.proposal_id,
            kind=MessageKind.proposal,
            round_=0,
            mail=RenderedMail(
                body_id=body_id,
                recipients=[f"kirjaamo@{body_id}.example"],
                subject="Esitys",
                body_text="teksti",
                body_html="<p>teksti</p>",
                attachments=[],
            ),
            actor="test",
            logical_date=logical_date,
        )
        message = session.get_one(Message, message_pk)
        mark_delivered(session=session, message=message, actor="test")
        if sent_at is not None:
            message.sent_at = sent_at


def process_parent(pid: int) -> int | None:
    """The parent's pid of a running process (from /proc), None when it is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def process_running(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
