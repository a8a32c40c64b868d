"""Read the committee's mailbox over IMAP into the replies' drop folder, read-only.

TLS always (implicit TLS on 993, or STARTTLS), login with a password from the environment
(``COUNCIL_IMAP_PASSWORD``) or, with ``COUNCIL_IMAP_AUTH=xoauth2``, by SASL XOAUTH2 with an OAuth2
bearer token from the environment (``COUNCIL_IMAP_TOKEN``) or a Prefect Secret block
(``COUNCIL_IMAP_TOKEN_BLOCK``, loaded only then). The mailbox is opened read-only (EXAMINE) and
every message fetched with ``BODY.PEEK[]``: nothing is marked read, moved or deleted. Each message is written once as
``imap-<uidvalidity>-<uid>.eml`` (atomically); a file that is already there is not fetched again, so
the folder itself remembers what was read.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Callable
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


def _xoauth2(user: str, token: str) -> Callable[[bytes], bytes]:
    """The SASL XOAUTH2 exchange as Google and Microsoft document it: the initial response
    ``user=<user>^Aauth=Bearer <token>^A^A``; when the server refuses the token it sends a JSON
    error as a challenge, which the client answers with an empty line (the server then says NO)."""
    initial = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    asked = 0

    def answer(_challenge: bytes) -> bytes:
        nonlocal asked
        asked += 1
        return initial if asked == 1 else b""

    return answer


def _token(settings: Settings, where: str) -> str:
    """The bearer token from COUNCIL_IMAP_TOKEN or the Prefect Secret block COUNCIL_IMAP_TOKEN_BLOCK."""
    if settings.imap_token is not None and settings.imap_token_block:
        raise ConfigurationError("COUNCIL_IMAP_TOKEN ja COUNCIL_IMAP_TOKEN_BLOCK: aseta vain toinen")
    if settings.imap_token is not None:
        return settings.imap_token.get_secret_value()
    if not settings.imap_token_block:
        raise ConfigurationError(
            "COUNCIL_IMAP_AUTH=xoauth2 tarvitsee tunnuksen: COUNCIL_IMAP_TOKEN tai COUNCIL_IMAP_TOKEN_BLOCK"
        )
    import httpx
    from prefect.blocks.system import Secret
    from prefect.exceptions import PrefectException

    name = settings.imap_token_block
    try:
        value = Secret.load(name).get()
    except (PrefectException, ValueError, RuntimeError, OSError, httpx.HTTPError) as exc:
        raise MailboxError(
            f"{where}: OAuth2-tunnusta ei voitu lukea Prefectin Secret-lohkosta {name!r} "
            f"(COUNCIL_IMAP_TOKEN_BLOCK): {exc}"
        ) from exc
    if not isinstance(value, str) or not value.strip():
        raise MailboxError(f"{where}: Prefectin Secret-lohkossa {name!r} ei ole OAuth2-tunnusta (tekstiä)")
    return value.strip()


def _authenticate(client: imaplib.IMAP4, settings: Settings, token: str | None, where: str) -> None:
    """Log in with the password, or with the token by XOAUTH2 when there is one."""
    user = settings.imap_user or ""
    if token is None:
        assert settings.imap_password is not None
        _login(client, user, settings.imap_password.get_secret_value())
        return
    if "AUTH=XOAUTH2" not in client.capabilities:
        raise MailboxError(f"{where}: palvelin ei tue XOAUTH2-kirjautumista; tarkista COUNCIL_IMAP_AUTH")
    client.authenticate("XOAUTH2", _xoauth2(user, token))


def fetch_to_folder(settings: Settings, folder: Path) -> Fetched:
    """Fetch every message of the configured mailbox not yet in ``folder``; see the module docstring."""
    if not settings.imap_host:
        raise ConfigurationError("COUNCIL_IMAP_HOST: postilaatikon palvelinta ei ole asetettu")
    where = f"{settings.imap_host}:{settings.effective_imap_port}"
    oauth = settings.imap_auth == "xoauth2"
    if not settings.imap_user or (not oauth and settings.imap_password is None):
        raise ConfigurationError(
            "COUNCIL_IMAP_USER ja COUNCIL_IMAP_PASSWORD tarvitaan postilaatikon lukemiseen"
            if not oauth
            else "COUNCIL_IMAP_USER tarvitaan postilaatikon lukemiseen"
        )
    token = _token(settings, where) if oauth else None
    if not oauth:
        rejected = "kirjautuminen hylättiin; tarkista COUNCIL_IMAP_USER ja COUNCIL_IMAP_PASSWORD"
    else:
        renew = f"Secret-lohkoon {settings.imap_token_block!r}" if settings.imap_token_block else "COUNCIL_IMAP_TOKEN"
        rejected = f"OAuth2-tunnus hylättiin (vanhentunut tai väärä); uusi tunnus {renew} ja tarkista COUNCIL_IMAP_USER"
    folder.mkdir(parents=True, exist_ok=True)
    new: list[Path] = []
    already = 0
    try:
        with _connect(settings) as client:
            _authenticate(client, settings, token, where)
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
            raise MailboxError(f"{where}: {rejected}") from exc
        raise MailboxError(f"{where}: IMAP-virhe: {detail}") from exc
    except ssl.SSLError as exc:
        raise MailboxError(
            f"{where}: TLS-yhteys ei onnistu ({exc.reason or exc}); tarkista COUNCIL_IMAP_TLS ja "
            "palvelimen varmenne (COUNCIL_IMAP_CA_FILE)"
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise MailboxError(f"{where}: palvelimeen ei saada yhteyttä ({exc})") from exc
    return Fetched(new=new, already=already)
