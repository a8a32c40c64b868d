"""Database tables (SQLAlchemy 2, typed ``Mapped[]`` columns).

The schema is created and changed only by Alembic migrations (``migrations/``); ``Base.metadata``
is what those migrations are checked against.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC and read back as UTC on every backend.

    SQLite has no time zone type: SQLAlchemy writes an aware datetime's wall-clock time and drops
    its offset. Without this, a bound such as "midnight in Helsinki" would be compared with UTC
    wall-clock times as if both were the same zone (hours off). Naive datetimes are refused: every
    time the service handles is aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"aikaleimalta puuttuu aikavyöhyke: {value.isoformat()}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: ``proposal.duties_point`` of a proposal without a duty description: no point names a liaison.
NO_DUTIES_POINT = 0


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Proposal(Base):
    __tablename__ = "proposal"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(200))
    preparer: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64))
    #: The point whose decision names the NGO liaison (the duty description's point);
    #: NO_DUTIES_POINT (0) for a proposal without a duty description. 0 rather than NULL: points are
    #: numbered from 1, so 0 names none, and SQLite cannot drop the column's NOT NULL without copying
    #: the table, which the decisions' foreign keys forbid once anything is stored (see 0008).
    duties_point: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: The committee's own diary number (Dnro) for this proposal, quoted in every document and email.
    diary_number: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: draft → sent → closed → archived (``models.enums.ProposalState``).
    state: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    #: The validated content (``ProposalIn`` as JSON): at run time the database is the one source;
    #: files under data/ and authored DOCX files are import sources.
    content: Mapped[dict | None] = mapped_column(JSON)
    #: True when the coordinator chose the recipients; otherwise every body of the roster is one,
    #: and a body added to the roster later gets the proposal too (the first release's behaviour).
    recipients_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)

    points: Mapped[list[Point]] = relationship(back_populates="proposal", order_by="Point.number")


class Point(Base):
    __tablename__ = "point"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    short_title: Mapped[str] = mapped_column(String(200))

    proposal: Mapped[Proposal] = relationship(back_populates="points")


class Body(Base):
    __tablename__ = "body"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_genitive: Mapped[str] = mapped_column(String(200))
    name_inessive: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    deciding_body: Mapped[str] = mapped_column(String(200))
    registry_email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2))
    # Where the body publishes its agendas and minutes (issue 16): "dynasty", "tweb" or "pdf-list",
    # and the address of its feed or list; None: the body names none.
    publication_system: Mapped[str | None] = mapped_column(String(20))
    publication_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Recipient(Base):
    """What is known of one proposal at one body beyond its decisions.

    ``case_number`` is the body's own case number (their Dnro), quoted as "Viite" once known;
    ``sent_outside_on`` is set when the proposal reached the body outside the service (a campaign
    taken over), and then stands in for the outbox's sending date.
    """

    __tablename__ = "recipient"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id"), primary_key=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("body.id"), primary_key=True)
    case_number: Mapped[str | None] = mapped_column(String(60))
    sent_outside_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Decision(Base):
    """One cell of the matrix: one body's decision on one point of one proposal."""

    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("proposal_id", "body_id", "point_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id"))
    body_id: Mapped[str] = mapped_column(ForeignKey("body.id"))
    point_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="not_sent")
    outcome: Mapped[str | None] = mapped_column(String(80))
    deciding_body: Mapped[str | None] = mapped_column(String(200))
    meeting_date: Mapped[date | None] = mapped_column(Date)
    section: Mapped[int | None] = mapped_column(Integer)
    diary_number: Mapped[str | None] = mapped_column(String(60))
    minutes_url: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    liaison: Mapped[dict | None] = mapped_column(JSON)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The optimistic lock: bumped by every change of the row (sent, reminded, recorded…).
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: How many times a decision has been recorded in this cell: the "versio" people see and name
    #: when they correct one (1 after the first recording), unlike ``version``, which the sending
    #: and reminding also bump.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}


class Event(Base):
    """Append-only log of every change; never updated, never deleted."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    proposal_id: Mapped[str | None] = mapped_column(String(100), index=True)
    body_id: Mapped[str | None] = mapped_column(String(100), index=True)
    point_number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Message(Base):
    """Outbox: one row per email that must exist, unique per (proposal, body, kind, round)."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("proposal_id", "body_id", "kind", "round"),
        # Committee messages (the weekly digest) have no body: one per (proposal, kind, round).
        Index(
            "uq_message_committee_round",
            "proposal_id",
            "kind",
            "round",
            unique=True,
            sqlite_where=text("body_id IS NULL"),
            postgresql_where=text("body_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id"))
    body_id: Mapped[str | None] = mapped_column(ForeignKey("body.id"))
    kind: Mapped[str] = mapped_column(String(30))
    round: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    recipients: Mapped[list] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The business day the message belongs to (the send or reminder day, `--today` in simulations).
    logical_date: Mapped[date | None] = mapped_column(Date)
    #: After a transient failure, not retried before this time (backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cc: Mapped[list] = mapped_column(JSON, default=list)
    #: The composed message as sent over SMTP, fixed when queued (so every attempt sends the same bytes).
    wire: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: For a ``carried`` reminder: the combined reminder (same table) that went out in its place.
    carried_by: Mapped[int | None] = mapped_column(Integer, index=True)


class Candidate(Base):
    """A decision (or an agenda date) found in a reply or a publication, waiting for the coordinator.

    Never recorded silently: ``state`` is ``pending`` until the coordinator confirms it (then it is
    recorded exactly as a typed decision) or rejects it. ``point`` is None for an agenda candidate,
    which concerns the body's whole proposal. ``source_ref`` (a Message-ID or a URL) with the
    proposal, body, point and kind keeps a source read twice from making a second candidate.
    """

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("proposal_id", "body_id", "kind", "point", "source_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id"), index=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("body.id"))
    kind: Mapped[str] = mapped_column(String(20))  # CandidateKind
    point: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(60))
    meeting_date: Mapped[date] = mapped_column(Date)
    section: Mapped[int | None] = mapped_column(Integer)
    deciding_body: Mapped[str | None] = mapped_column(String(200))
    liaison_name: Mapped[str | None] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(60))
    evidence: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))  # what the coordinator reads: a file name or an address
    source_ref: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), index=True)  # CandidateState
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_by: Mapped[str | None] = mapped_column(String(200))


class IntakeSource(Base):
    """One place decisions are read from (a body's publication), and how fresh it is: the last
    reading that succeeded and understood the page, the last time what it said changed, and the
    last failure. The dashboard and the digest show a source silent for days as "lähde ei vastaa"."""

    __tablename__ = "intake_source"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # "publication:<body id>"
    body_id: Mapped[str | None] = mapped_column(String(100))
    system: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(500))
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None while it answers
    last_error: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64))


class SendBatch(Base):
    """One batch of a send shared by several flow runs (``send-proposal`` and the
    ``send-proposal-part`` runs it starts on other workers): whoever claims it renders and delivers
    it. A work list only: the outbox, not this table, keeps each email once, and a send's rows are
    deleted when it ends."""

    __tablename__ = "send_batch"

    campaign: Mapped[str] = mapped_column(String(64), primary_key=True)  # the send's own key
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    body_ids: Mapped[list] = mapped_column(JSON)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What its delivery did (a DeliveryReport as JSON), set when the batch is done.
    report: Mapped[dict | None] = mapped_column(JSON)
