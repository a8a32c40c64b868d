"""Composing and delivering email.

Composition uses the standard library's ``EmailMessage`` (strict RFC 5322 output, our own
Message-ID). Attachment names are written for every client (:func:`_name_attachment`): the Finnish
name in RFC 2231 ``filename*`` for current clients, and a plain ASCII fallback (ä→a, ö→o, å→a) in
``filename`` and in the Content-Type's ``name`` for tools that decode no encoding at all (``munpack``
reads only a plain ``name``/``filename``). Delivery goes through
yagmail's SMTP client, with its pitfalls handled here:

* yagmail opens a new connection per ``send()``: we log in once per batch and send every message
  of the batch over that one session (``yag.smtp``);
* yagmail returns ``False`` after its own retries instead of raising: we call the SMTP session
  directly and map every smtplib error to :class:`MailDeliveryError` (transient or permanent);
* yagmail falls back to keyring or an interactive prompt without a password: a configured user
  without ``COUNCIL_SMTP_PASSWORD`` is a :class:`ConfigurationError`, and no user means no login;
* yagmail derives the Message-ID from From+To+Subject: we set a ``make_msgid()`` id ourselves,
  stored in the outbox before the first attempt;
* yagmail appends "@gmail.com" to a login name without "@": we pass the name as a dict;
* a refused login is a configuration problem: the batch stops at once and the messages stay queued.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import yagmail

from council.config import Settings
from council.errors import ConfigurationError, MailDeliveryError, RecipientsRefusedError
from council.paths import ascii_filename, safe_filename
from models.clock import HELSINKI, now
from models.fields import bare_address

#: Content type of each kind of attachment: the documents and their JHS 143 description.
ATTACHMENT_TYPES = {
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
    ".xml": ("application", "xml"),
}


@dataclass(frozen=True)
class OutgoingMail:
    """Everything needed to build one message; built from an outbox row."""

    message_id: str
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    body_text: str
    body_html: str
    attachments: list[Path]
    cc: tuple[str, ...] = ()
    language: str = "fi"


@dataclass
class RenderedMail:
    """A rendered email for one body, before it is queued: text, html, attachments on disk."""

    body_id: str | None
    recipients: list[str]
    subject: str
    body_text: str
    body_html: str
    attachments: list[Path]
    cc: list[str] = field(default_factory=list)
    language: str = "fi"

    def outgoing(self, settings: Settings) -> OutgoingMail:
        """This mail from the configured sender, with a new Message-ID."""
        return OutgoingMail(
            message_id=make_msgid(domain=settings.sender.rsplit("@", 1)[-1]),
            sender=settings.sender,
            sender_name=settings.sender_name,
            recipients=self.recipients,
            subject=self.subject,
            body_text=self.body_text,
            body_html=self.body_html,
            attachments=self.attachments,
            cc=tuple(self.cc),
            language=self.language,
        )


#: SMTP's CRLF policy; header values we set raw (the attachment names, folded by us) are kept as
#: written instead of being refolded into RFC 2231 continuations that simple tools cannot read.
WIRE_POLICY = policy.SMTP.clone(refold_source="none")


def wire_bytes(msg: EmailMessage) -> bytes:
    """The message exactly as it goes over SMTP (CRLF line ends)."""
    return msg.as_bytes(policy=WIRE_POLICY)


def _name_attachment(part: EmailMessage, name: str, content_type: str) -> None:
    """Name an attachment so every client keeps it: ``filename*`` (RFC 2231, UTF-8) first, which
    current clients and Python's parser prefer, then the ASCII ``filename`` and Content-Type ``name``
    that ``munpack`` and other simple tools use. Written raw, one parameter per folded line."""
    plain = ascii_filename(name)
    del part["Content-Type"]
    del part["Content-Disposition"]
    part.set_raw("Content-Type", f'{content_type};\n name="{plain}"')
    disposition = "attachment;\n "
    if plain != name:
        disposition += f"filename*=utf-8''{quote(name, safe='')};\n "
    part.set_raw("Content-Disposition", disposition + f'filename="{plain}"')


def envelope_recipients(msg: EmailMessage) -> list[str]:
    """Every address in To and Cc (the SMTP envelope)."""
    return [
        addr
        for _, addr in getaddresses([str(v) for v in (msg.get_all("To") or []) + (msg.get_all("Cc") or [])])
    ]


def check_recipients(recipients: list[str]) -> None:
    """Refuse (for good) a message whose envelope holds an address today's rules refuse: a row queued
    by an older version, or by a hand edit, never goes to a hidden or undeliverable address."""
    for address in recipients:
        try:
            if address != address.strip():
                raise ValueError("osoitteen alussa tai lopussa on välilyönti tai muu näkymätön merkki")
            bare_address(address)
        except ValueError as exc:
            raise MailDeliveryError(
                f"vastaanottajan osoite {address!r} ei kelpaa: {exc}", permanent=True
            ) from None


def compose(mail: OutgoingMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((mail.sender_name, mail.sender))
    msg["To"] = ", ".join(mail.recipients)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    # Encoded by us: Python's own folding can split "Liikuntapaikkojen yhteiskäyttö" into two encoded
    # words with the space between them as folding white space, which every decoder drops (RFC 2047
    # §6.2), so the reader saw "Liikuntapaikkojenyhteiskäyttö". Header keeps each space inside a word.
    msg.set_raw("Subject", Header(mail.subject, "utf-8", maxlinelen=76, header_name="Subject").encode(linesep="\n"))
    msg["Date"] = format_datetime(now().astimezone(HELSINKI))  # the sender's local time, +0200/+0300
    msg["Message-ID"] = mail.message_id
    msg.set_content(mail.body_text)
    msg.add_alternative(mail.body_html, subtype="html")
    for path in mail.attachments:
        if not path.is_file():
            raise MailDeliveryError(f"Liitetiedosto puuttuu: {path}")
        maintype, subtype = ATTACHMENT_TYPES.get(path.suffix.lower(), ("application", "octet-stream"))
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype)
        _name_attachment(msg.get_payload()[-1], path.name, f"{maintype}/{subtype}")
    # Last: set_content/add_attachment move Content-* headers into the sub-parts.
    msg["Content-Language"] = mail.language
    return msg


class MailSession(Protocol):
    def send(self, msg: EmailMessage) -> None: ...

    def send_wire(self, recipients: list[str], wire: bytes) -> None: ...


class Mailer(Protocol):
    """Something that opens one delivery session for a batch of messages."""

    def session(self) -> Iterator[MailSession]: ...


def _classify(exc: Exception, *, sending: bool = False) -> MailDeliveryError:
    """Map smtplib/socket errors to ours: 4xx and lost connections are transient, 5xx permanent.

    A server's error answer means it did not take the message; a connection lost or timed out
    while ``sending`` may have been after the server accepted it (``maybe_delivered``).
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Every recipient refused, so nobody got it: a 4xx for all of them (greylisting, a full
        # mailbox) is worth another try later; any 5xx makes it permanent.
        return RecipientsRefusedError(
            {
                addr: f"{code} {resp.decode(errors='replace')}"
                for addr, (code, resp) in exc.recipients.items()
            },
            permanent=any(code >= 500 for code, _ in exc.recipients.values()),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return MailDeliveryError(f"SMTP {exc.smtp_code}: {text}", permanent=500 <= exc.smtp_code < 600)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MailDeliveryError(f"SMTP-yhteys katkesi: {exc}", maybe_delivered=sending)
    if isinstance(exc, (OSError, socket.timeout)):
        return MailDeliveryError(f"SMTP-palvelimeen ei saada yhteyttä: {exc}", maybe_delivered=sending)
    return MailDeliveryError(f"SMTP-virhe: {exc}", maybe_delivered=sending)


class _YagmailSession:
    def __init__(self, yag: yagmail.SMTP, envelope_from: str):
        self._yag = yag
        self._from = envelope_from
        self._connected = False
        self._login_refused: MailDeliveryError | None = None

    def _connect(self) -> None:
        if self._login_refused:
            raise self._login_refused
        try:
            self._yag.login()
        except smtplib.SMTPAuthenticationError as exc:
            # A configuration problem, not the message's: keep it queued, fail the rest of the batch fast.
            self._login_refused = MailDeliveryError(
                f"SMTP-kirjautuminen hylättiin ({exc.smtp_code}): tarkista COUNCIL_SMTP_USER ja COUNCIL_SMTP_PASSWORD"
            )
            raise self._login_refused from exc
        except UnicodeEncodeError as exc:
            # smtplib sends AUTH in ASCII: a password with ä/ö cannot be used with this server.
            self._login_refused = MailDeliveryError(
                "SMTP-kirjautuminen ei onnistu: tunnuksessa tai salasanassa on muita kuin ASCII-merkkejä "
                "(esim. ä, ö), joita SMTP-kirjautuminen ei tue; vaihda salasana (COUNCIL_SMTP_PASSWORD)"
            )
            raise self._login_refused from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
        self._connected = True

    def send(self, msg: EmailMessage) -> None:
        self.send_wire(envelope_recipients(msg), wire_bytes(msg))

    def send_wire(self, recipients: list[str], wire: bytes) -> None:
        """Send prepared bytes (CRLF line ends: smtplib sends bytes as they are)."""
        check_recipients(recipients)
        if not self._connected:
            self._connect()
        try:
            refused = self._yag.smtp.sendmail(self._from, recipients, wire)
        except UnicodeEncodeError as exc:
            # smtplib writes the envelope in ASCII; the server holds a half-begun transaction: reset
            # it so the next message in this session starts clean.
            try:
                self._yag.smtp.rset()
            except (smtplib.SMTPException, OSError):
                self._connected = False
            raise MailDeliveryError(
                f"vastaanottajan osoitetta ei voi lähettää SMTP-palvelimelle (muita kuin ASCII-merkkejä): {exc.object!r}",
                permanent=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # smtplib closes the socket itself on a 421 answer: reconnect for the next message then.
            if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)) or self._yag.smtp.sock is None:
                self._connected = False
            raise _classify(exc, sending=True) from exc
        if refused:  # the others got it: sending it again would duplicate it to them
            raise RecipientsRefusedError(
                {addr: f"{code} {resp.decode(errors='replace')}" for addr, (code, resp) in refused.items()},
                maybe_delivered=True,
            )

    def close(self) -> None:
        if self._connected:
            self._yag.close()


class SmtpMailer:
    """Delivery through yagmail to the configured SMTP server (or the local catcher)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        user = settings.smtp_user
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        if user and not password:
            raise ConfigurationError(
                "COUNCIL_SMTP_USER on asetettu mutta COUNCIL_SMTP_PASSWORD puuttuu "
                "(salasanaa ei kysytä eikä haeta avainrenkaasta)."
            )
        self._user = user
        self._password = password

    @contextmanager
    def session(self) -> Iterator[MailSession]:
        s = self.settings
        user = self._user or s.sender
        yag = yagmail.SMTP(
            # A dict keeps the login name as given: yagmail appends "@gmail.com" to a plain string
            # without "@" (e.g. a Windows-style account name).
            user={user: user},
            password=self._password,
            host=s.effective_smtp_host,
            port=s.effective_smtp_port,
            smtp_ssl=s.smtp_tls == "ssl",
            smtp_starttls=s.smtp_tls == "starttls",
            smtp_skip_login=not self._user,
            soft_email_validation=False,
            timeout=s.smtp_timeout,
        )
        yag.set_logging(None)
        session = _YagmailSession(yag, s.sender)
        try:
            yield session
        finally:
            session.close()


class FileMailer:
    """Dry run: writes each message as an .eml file under ``folder`` instead of sending it."""

    def __init__(self, folder: Path):
        self.folder = folder

    @contextmanager
    def session(self) -> Iterator[MailSession]:
        folder = self.folder

        class _Files:
            def send(self, msg: EmailMessage) -> None:
                self.send_wire(envelope_recipients(msg), wire_bytes(msg))

            def send_wire(self, recipients: list[str], wire: bytes) -> None:
                check_recipients(recipients)
                folder.mkdir(parents=True, exist_ok=True)
                msg = message_from_bytes(wire, policy=policy.default)
                name = safe_filename(str(msg["Message-ID"]).strip("<>").split("@")[0], ".eml")
                (folder / name).write_bytes(wire)

        yield _Files()
