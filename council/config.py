"""Configuration from the environment (prefix ``COUNCIL_``) and an optional ``.env`` file.

Nothing secret has a default, and the SMTP password is a ``SecretStr`` so it never appears in
a repr, a log line or a Prefect artifact.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from council.errors import ConfigurationError, validation_message
from council.paths import inside
from models.fields import Email, Line

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The project folder (holds templates/, data/, state/ and outputs/)."""
TEMPLATES_DIR = PROJECT_ROOT / "templates"
"""DOCX, email and dashboard templates: code-adjacent files that secretaries edit in Word."""

LOCAL_SMTP_HOST = "127.0.0.1"
LOCAL_SMTP_PORT = 8025


class Settings(BaseSettings):
    """All settings of the service; each field maps to ``COUNCIL_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="COUNCIL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default=PROJECT_ROOT, description="Project folder; relative paths start here")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite file state/council.db"
    )
    outputs_dir: Path = Field(default=Path("outputs"), description="Generated documents and mail")
    data_dir: Path = Field(default=Path("data"), description="Proposal and roster content files")
    state_folder: Path = Field(
        default=Path("state"),
        alias="COUNCIL_STATE_DIR",
        description="SQLite file, Prefect server state (PREFECT_HOME) and service logs",
    )
    inbox_folder: Path | None = Field(
        default=None,
        alias="COUNCIL_INBOX_DIR",
        description="Drop folder of the registries' replies (.eml, .msg), read by `council replies`. "
        "Default: saapuneet/ in the state folder",
    )
    proposals_inbox_folder: Path | None = Field(
        default=None,
        alias="COUNCIL_PROPOSALS_INBOX_DIR",
        description="Where the coordinator saves new proposals (.docx on the authoring template, or "
        ".yaml); the new-proposal form lists the files here. Default: uudet-esitykset/ in the state folder",
    )
    proposal_id: str = Field(default="jarjestoyhteistyomalli-forssan-seutu")
    roster_file: Path = Field(default=Path("data/rosters/forssan-seutu.yaml"))

    smtp_host: str | None = Field(
        default=None, description="SMTP server; empty = the local catcher on 127.0.0.1"
    )
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: str = Field(default="none", description="none | starttls | ssl")
    smtp_timeout: float = 30.0
    sender: Email = Field(default="hyvinvointivaliokunta@forssanseutu.example")
    sender_name: Line = Field(default="Forssan seudun hyvinvointivaliokunta")
    local_smtp_port: int = Field(default=LOCAL_SMTP_PORT, ge=1, le=65535)

    imap_host: str | None = Field(default=None, description="The committee's mailbox for `council replies`")
    imap_port: int | None = Field(default=None, ge=1, le=65535, description="Default 993 (ssl) or 143 (starttls)")
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = Field(default="INBOX", min_length=1)
    imap_tls: str = Field(default="ssl", description="ssl | starttls (never plain text)")
    imap_ca_file: Path | None = Field(default=None, description="CA certificate(s) to trust besides the system's")
    imap_timeout: float = Field(default=30.0, gt=0)
    imap_auth: str = Field(default="password", description="password | xoauth2 (an OAuth2 bearer token)")
    imap_token: SecretStr | None = Field(default=None, description="The OAuth2 access token for xoauth2")
    imap_token_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the token (instead of COUNCIL_IMAP_TOKEN)"
    )

    prefect_port: int = Field(default=4200, ge=1, le=65535, description="Port of the local Prefect server (make run)")
    attach_pdf: bool | None = Field(
        default=None,
        description="Attach PDF/A-2b copies (LibreOffice) beside the DOCX; empty = yes where LibreOffice "
        "is installed (DOCX only and a warning where it is not); false = never; true = always (an error "
        "without LibreOffice)",
    )
    coordinator_email: Email | None = Field(
        default=None, description="Who is told when a run fails (not for bad input); empty = the sender"
    )
    dashboard_url: str | None = Field(
        default=None, description="Where the committee reads the dashboard; run summaries link to it"
    )
    batch_size: int = Field(default=50, ge=1, le=1000, description="Bodies per Prefect task")
    delivery_process: bool | None = Field(
        default=None,
        description="send-proposal delivers in a process of its own beside the rendering; "
        "empty = when the send has at least three batches",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for another writer's lock"
    )

    @field_validator("attach_pdf", "delivery_process", mode="before")
    @classmethod
    def _empty_is_default(cls, value: object) -> object:
        """An empty COUNCIL_ATTACH_PDF= or COUNCIL_DELIVERY_PROCESS= means the default (PDF where
        LibreOffice is installed; a delivery process from three batches on)."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smtp_tls")
    @classmethod
    def _tls_mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"none", "starttls", "ssl"}:
            raise ValueError("sallitut arvot ovat none, starttls ja ssl")
        return value

    @field_validator("imap_tls")
    @classmethod
    def _imap_tls_mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"starttls", "ssl"}:
            raise ValueError("sallitut arvot ovat ssl ja starttls (salaamatonta yhteyttä ei käytetä)")
        return value

    @field_validator("imap_auth")
    @classmethod
    def _imap_auth_mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"password", "xoauth2"}:
            raise ValueError("sallitut arvot ovat password ja xoauth2")
        return value

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the project folder."""
        return value if value.is_absolute() else (self.home / value)

    @cached_property
    def outputs(self) -> Path:
        return self.path(self.outputs_dir)

    @property
    def mail_dir(self) -> Path:
        """outputs/mail: every message the local SMTP server received, as .eml."""
        return self.outputs / "mail"

    @property
    def dashboard_dir(self) -> Path:
        """outputs/dashboard: dashboard.html and dashboard.json."""
        return inside(self.outputs, "dashboard")

    @property
    def dry_run_dir(self) -> Path:
        """outputs/dry-run: documents and .eml of a dry run (nothing stored or sent)."""
        return inside(self.outputs, "dry-run")

    @property
    def preview_dir(self) -> Path:
        """outputs/preview: council docs-preview's docx/, pdf/ and png/."""
        return inside(self.outputs, "preview")

    @property
    def archive_dir(self) -> Path:
        """outputs/arkisto: the proposals' archive packages for the registry (`council proposal archive`)."""
        return inside(self.outputs, "arkisto")

    def proposal_dir(self, proposal_id: str) -> Path:
        """outputs/<proposal>: the proposal's status reports and digests, its bodies' folders."""
        return inside(self.outputs, proposal_id)

    def body_dir(self, proposal_id: str, body_id: str) -> Path:
        """outputs/<proposal>/<body>: the documents generated for one body."""
        return inside(self.outputs, proposal_id, body_id)

    @property
    def inbox_dir(self) -> Path:
        """state/saapuneet: replies saved by the coordinator (or the local SMTP server) as .eml."""
        if self.inbox_folder is None:
            return self.state_dir / "saapuneet"
        return self.path(self.inbox_folder)

    @property
    def proposals_inbox_dir(self) -> Path:
        """state/uudet-esitykset: new proposals waiting to be imported (the new-proposal form's list)."""
        if self.proposals_inbox_folder is None:
            return self.state_dir / "uudet-esitykset"
        return self.path(self.proposals_inbox_folder)

    @cached_property
    def state_dir(self) -> Path:
        return self.path(self.state_folder)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.state_dir / 'council.db'}"

    @property
    def uses_local_smtp(self) -> bool:
        return not self.smtp_host

    @property
    def effective_smtp_host(self) -> str:
        return self.smtp_host or LOCAL_SMTP_HOST

    @property
    def effective_imap_port(self) -> int:
        return self.imap_port or (993 if self.imap_tls == "ssl" else 143)

    @property
    def effective_smtp_port(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        if self.uses_local_smtp:
            return self.local_smtp_port
        return {"ssl": 465, "starttls": 587}.get(self.smtp_tls, 25)


#: The proposal a command or a flow run acts on, once it is chosen (``--proposal``, the form's
#: proposal field, or the follow-up's turn for each active proposal). Every ``get_settings()`` below
#: that point, tasks included (Prefect copies the context into them), reads that proposal.
_current_proposal: ContextVar[str | None] = ContextVar("council_proposal", default=None)


@contextmanager
def using_proposal(proposal_id: str) -> Iterator[None]:
    """Within the block, ``get_settings().proposal_id`` is ``proposal_id``."""
    token = _current_proposal.set(proposal_id)
    try:
        yield
    finally:
        _current_proposal.reset(token)


def proposal_named_in_environment() -> bool:
    """True when COUNCIL_PROPOSAL_ID is set: the one proposal this installation acts on by default."""
    return bool(os.environ.get("COUNCIL_PROPOSAL_ID", "").strip())


def get_settings(**overrides: object) -> Settings:
    """Read settings now (tests change the environment between calls, so no global cache).

    A setting that does not validate raises :class:`ConfigurationError` naming ``COUNCIL_<NAME>``.
    """
    if (chosen := _current_proposal.get()) is not None:
        overrides.setdefault("proposal_id", chosen)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            info = Settings.model_fields.get(field)
            name = (info.alias if info and info.alias else f"COUNCIL_{field.upper()}") if field else "asetus"
            lines.append(f"{name}: {validation_message(error)} (arvo: {error.get('input')!r})")
        raise ConfigurationError("Virheellinen asetus:\n  " + "\n  ".join(lines)) from None
