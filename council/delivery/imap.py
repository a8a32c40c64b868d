"""Read the committee's mailbox over IMAP into the replies' drop folder, read-only.

TLS always (implicit TLS on 993, or STARTTLS), login with a password from the environment
(``COUNCIL_IMAP_PASSWORD``), the mailbox opened read-only (EXAMINE) and every message fetched with
``BODY.PEEK[]``: nothing is marked read, moved or deleted. Each message is written once as
``imap-<uidvalidity>-<uid>.eml`` (atomically); a file that is already there is not fetched again, so
the folder itself remembers what was read.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from dataclasses import dataclass
from pathlib import Path

from council.config import Settings
from council.errors import ConfigurationError, CouncilError
from council.paths import write_atomic


class MailboxError(CouncilError):
    """The mailbox could not be read; the message names the server and what to check."""


@dataclass(frozen=True)
class Fetched:
    new: list[Path]
    already: int


def _context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(settings.imap_ca_file) if settings.imap_ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _connect(settings: Settings) -> imaplib.IMAP4:
    host, port = settings.imap_host or "", settings.effective_imap_port
    if settings.imap_tls == "ssl":
        return imaplib.IMAP4_SSL(host, port, ssl_context=_context(settings), timeout=settings.imap_timeout)
    client = imaplib.IMAP4(host, port, timeout=settings.imap_timeout)
    client.starttls(ssl_context=_context(settings))
    return client


def _login(client: imaplib.IMAP4, user: str, password: str) -> None:
    """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8, RFC 4616) when the user name or the
    password holds ä/ö, which LOGIN (and imaplib's ASCII encoding of it) cannot carry."""
    if user.isascii() and password.isascii():
        client.login(user, password)
        return
    token = b"\0" + user.encode() + b"\0" + password.encode()
    client.authenticate("PLAIN", lambda _challenge: token)


def fetch_to_folder(settings: Settings, folder: Path) -> Fetched:
    """Fetch every message of the configured mailbox not yet in ``folder``; see the module docstring."""
    if not settings.imap_host:
        raise ConfigurationError("COUNCIL_IMAP_HOST: postilaatikon palvelinta ei ole asetettu")
    if not settings.imap_user or settings.imap_password is None:
        raise ConfigurationError(
            "COUNCIL_IMAP_USER ja COUNCIL_IMAP_PASSWORD tarvitaan postilaatikon lukemiseen"
        )
    where = f"{settings.imap_host}:{settings.effective_imap_port}"
    folder.mkdir(parents=True, exist_ok=True)
    new: list[Path] = []
    already = 0
    try:
        with _connect(settings) as client:
            _login(client, settings.imap_user, settings.imap_password.get_secret_value())
            status, _ = client.select(settings.imap_mailbox, readonly=True)
            if status != "OK":
                raise MailboxError(
                    f"{where}: kansiota {settings.imap_mailbox} ei voi avata (COUNCIL_IMAP_MAILBOX)"
                )
            validity = (client.response("UIDVALIDITY")[1] or [b"0"])[0]
            validity_text = validity.decode() if isinstance(validity, bytes) else str(validity)
            _, found = client.uid("SEARCH", None, "ALL")
            for uid in (found[0] or b"").split():
                path = folder / f"imap-{validity_text}-{uid.decode()}.eml"
                if path.exists():
                    already += 1
                    continue
                _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                content = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
                if content is None:
                    continue
                write_atomic(path, content)
                new.append(path)
    except imaplib.IMAP4.error as exc:
        detail = str(exc)
        if re.search(r"authenticat|login|credentials", detail, re.IGNORECASE):
            raise MailboxError(
                f"{where}: kirjautuminen hylättiin; tarkista COUNCIL_IMAP_USER ja COUNCIL_IMAP_PASSWORD"
            ) from exc
        raise MailboxError(f"{where}: IMAP-virhe: {detail}") from exc
    except ssl.SSLError as exc:
        raise MailboxError(
            f"{where}: TLS-yhteys ei onnistu ({exc.reason or exc}); tarkista COUNCIL_IMAP_TLS ja "
            "palvelimen varmenne (COUNCIL_IMAP_CA_FILE)"
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise MailboxError(f"{where}: palvelimeen ei saada yhteyttä ({exc})") from exc
    return Fetched(new=new, already=already)
