"""Outlook .msg files as ``email.message.EmailMessage``, so a reply saved from Outlook reads the
same as one saved as .eml (issue 16).

A .msg is an OLE2 compound file ([MS-CFB]) laid out as [MS-OXMSG] says: each variable-size
property of the message is a stream ``__substg1.0_<id><type>`` in the root storage (type 001F
UTF-16LE, 001E 8-bit in the message's code page, 0102 binary), the fixed-size ones are 16-byte
entries in ``__properties_version1.0`` (after a 32-byte header), and each attachment is a storage
``__attach_version1.0_#XXXXXXXX`` laid out the same way (an 8-byte header). When Outlook kept the
original RFC 822 headers (PidTagTransportMessageHeaders) they are used as they are; otherwise the
headers are built from the properties. The body (plain text, HTML as an alternative) and every
attachment by value (name, MIME type, bytes) follow.
"""

from __future__ import annotations

import mimetypes
import struct
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import HeaderParser
from email.policy import default
from email.utils import format_datetime, formataddr
from pathlib import Path

import olefile

from council.errors import CouncilError

SUBJECT, BODY, HTML, HEADERS = 0x0037, 0x1000, 0x1013, 0x007D
SENDER_NAME, SENDER_SMTP, SENDER_ADDRESS, REPRESENTING_ADDRESS = 0x0C1A, 0x5D01, 0x0C1F, 0x0065
DISPLAY_TO, DISPLAY_CC = 0x0E04, 0x0E03
MESSAGE_ID, IN_REPLY_TO, REFERENCES = 0x1035, 0x1042, 0x1039
SUBMIT_TIME, DELIVERY_TIME = 0x0039, 0x0E06
INTERNET_CODEPAGE, MESSAGE_CODEPAGE = 0x3FDE, 0x3FFD
ATTACH_DATA, ATTACH_LONG_NAME, ATTACH_NAME, ATTACH_MIME, DISPLAY_NAME = 0x3701, 0x3707, 0x3704, 0x370E, 0x3001
PT_LONG, PT_SYSTIME = 0x0003, 0x0040
#: Headers taken from the original RFC 822 ones; the MIME structure is rebuilt from the properties.
_KEPT = ("From", "Sender", "Reply-To", "To", "Cc", "Date", "Subject", "Message-ID", "In-Reply-To", "References")


class UnreadableMessageError(CouncilError):
    """A saved reply (.eml or .msg) that cannot be read; the message names the file."""

    advice = "Tallenna viesti uudelleen (Outlookissa Tallenna nimellä → .msg tai .eml) tai poista tiedosto kansiosta."


class _Object:
    """The properties of one .msg object (the message or an attachment) in ``storage``."""

    def __init__(self, ole: olefile.OleFileIO, storage: str, header: int) -> None:
        self.ole, self.storage = ole, storage
        self.fixed: dict[int, tuple[int, bytes]] = {}
        raw = self._stream("__properties_version1.0") or b""
        for offset in range(header, len(raw) - 15, 16):
            tag, _flags, value = struct.unpack_from("<II8s", raw, offset)
            self.fixed[tag >> 16] = (tag & 0xFFFF, value)

    def _stream(self, name: str) -> bytes | None:
        path = f"{self.storage}{name}"
        return self.ole.openstream(path).read() if self.ole.exists(path) else None

    def long(self, prop: int) -> int | None:
        kind, value = self.fixed.get(prop, (0, b""))
        return struct.unpack_from("<i", value)[0] if kind == PT_LONG else None

    def time(self, prop: int) -> datetime | None:
        kind, value = self.fixed.get(prop, (0, b""))
        if kind != PT_SYSTIME:
            return None
        ticks = struct.unpack_from("<Q", value)[0]
        return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10) if ticks else None

    def binary(self, prop: int) -> bytes | None:
        return self._stream(f"__substg1.0_{prop:04X}0102")

    def text(self, prop: int, codepage: str = "cp1252") -> str | None:
        unicode = self._stream(f"__substg1.0_{prop:04X}001F")
        if unicode is not None:
            return unicode.decode("utf-16-le", errors="replace").rstrip("\0")
        eight_bit = self._stream(f"__substg1.0_{prop:04X}001E")
        if eight_bit is not None:
            return eight_bit.decode(codepage, errors="replace").rstrip("\0")
        return None


def _codepage(message: _Object) -> str:
    """The code page of the 8-bit strings (PidTagInternetCodepage, else PidTagMessageCodepage)."""
    for prop in (INTERNET_CODEPAGE, MESSAGE_CODEPAGE):
        number = message.long(prop)
        if number:
            name = "utf-8" if number == 65001 else f"cp{number}"
            try:
                "".encode(name)
            except LookupError:
                continue
            return name
    return "cp1252"


def _headers(message: _Object, codepage: str) -> dict[str, str]:
    """The original RFC 822 headers when Outlook kept them, else headers built from the properties."""
    original = message.text(HEADERS, codepage)
    if original and original.strip():
        parsed = HeaderParser(policy=default).parsestr(original.lstrip())
        kept = {name: str(parsed[name]) for name in _KEPT if parsed[name] is not None}
        if kept.get("From"):
            return kept
    address = next(
        (
            value
            for value in (message.text(p, codepage) for p in (SENDER_SMTP, SENDER_ADDRESS, REPRESENTING_ADDRESS))
            if value and "@" in value
        ),
        "",
    )
    moment = message.time(SUBMIT_TIME) or message.time(DELIVERY_TIME)
    built = {
        "From": formataddr((message.text(SENDER_NAME, codepage) or "", address)) if address else None,
        "To": message.text(DISPLAY_TO, codepage),
        "Cc": message.text(DISPLAY_CC, codepage),
        "Date": format_datetime(moment) if moment else None,
        "Subject": message.text(SUBJECT, codepage),
        "Message-ID": message.text(MESSAGE_ID, codepage),
        "In-Reply-To": message.text(IN_REPLY_TO, codepage),
        "References": message.text(REFERENCES, codepage),
    }
    return {name: " ".join(value.split()) for name, value in built.items() if value and value.strip()}


def _html(message: _Object, codepage: str) -> str | None:
    raw = message.binary(HTML)
    if raw is None:
        return message.text(HTML, codepage)
    for encoding in ("utf-8", codepage):
        try:
            return raw.decode(encoding).rstrip("\0")
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _attachments(ole: olefile.OleFileIO, codepage: str) -> list[tuple[str, str, bytes]]:
    """(file name, MIME type, bytes) of each attachment by value, in their storages' order."""
    storages = sorted(
        {entry[0] for entry in ole.listdir(streams=True, storages=True) if entry[0].startswith("__attach_version1.0_#")}
    )
    found = []
    for number, storage in enumerate(storages, start=1):
        part = _Object(ole, storage + "/", header=8)
        data = part.binary(ATTACH_DATA)
        if data is None:  # an embedded message or an OLE object: nothing to read as a file
            continue
        name = next(
            (n for n in (part.text(p, codepage) for p in (ATTACH_LONG_NAME, ATTACH_NAME, DISPLAY_NAME)) if n),
            f"liite-{number}",
        )
        mime = part.text(ATTACH_MIME, codepage) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        found.append((name, mime if "/" in mime else "application/octet-stream", data))
    return found


def _convert(ole: olefile.OleFileIO) -> EmailMessage:
    message = _Object(ole, "", header=32)
    codepage = _codepage(message)
    result = EmailMessage()
    text, html = message.text(BODY, codepage), _html(message, codepage)
    if text is not None or html is None:
        result.set_content((text or "").replace("\r\n", "\n"))
        if html:
            result.add_alternative(html, subtype="html")
    else:
        result.set_content(html, subtype="html")
    for name, mime, data in _attachments(ole, codepage):
        maintype, subtype = mime.split("/", 1)
        result.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    for name, value in _headers(message, codepage).items():
        result[name] = value
    return result


def read_msg(path: Path) -> EmailMessage:
    """The Outlook message in ``path`` as an email message; see the module docstring. A file that is
    not a readable .msg raises :class:`UnreadableMessageError` naming it."""
    try:
        if not olefile.isOleFile(str(path)):
            raise UnreadableMessageError(f"{path.name}: ei ole Outlookin .msg-tiedosto (tiedosto on vaurioitunut tai muuta muotoa)")
        # Strict: a truncated file (a stream shorter than its directory entry says) is an error,
        # not a reply read from half of its bytes.
        with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
            if not ole.exists("__properties_version1.0"):
                raise UnreadableMessageError(f"{path.name}: OLE-tiedosto, mutta ei Outlookin viesti (.msg)")
            return _convert(ole)
    except (OSError, ValueError, struct.error, IndexError, EOFError) as exc:
        raise UnreadableMessageError(f"{path.name}: .msg-tiedostoa ei voi lukea, se on vaurioitunut tai katkennut ({exc})") from exc
