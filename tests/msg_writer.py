"""Outlook .msg files for the tests, written the way Outlook structures them: no library writes
them, so this is a small writer of OLE2 compound files ([MS-CFB], version 3: 512-byte sectors,
64-byte mini sectors for streams under 4096 bytes) and of the .msg layout ([MS-OXMSG]) on top.

``outlook_msg(...)`` gives the bytes of one message: property streams ``__substg1.0_<id><type>``
in the root storage, the fixed-size properties in ``__properties_version1.0`` (32-byte header on
the message, 8 bytes on recipients and attachments, then 16-byte entries), an empty named-property
storage ``__nameid_version1.0``, one ``__recip_version1.0_#00000000`` and one
``__attach_version1.0_#XXXXXXXX`` storage per attachment.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

SECTOR, MINI_SECTOR, CUTOFF = 512, 64, 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5
BLACK = 1

PT_LONG, PT_SYSTIME, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0003, 0x0040, 0x001E, 0x001F, 0x0102


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Node] = field(default_factory=dict)
    sid: int = 0
    start: int = ENDOFCHAIN
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM


def _key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4: shorter names first, then code point by code point in upper case."""
    return (len(name), name.upper())


def _chain(fat: list[int], first: int, count: int) -> None:
    for offset in range(count):
        fat[first + offset] = first + offset + 1 if offset < count - 1 else ENDOFCHAIN


def _sectors(data: bytes, size: int) -> int:
    return (len(data) + size - 1) // size


def compound_file(streams: dict[str, bytes]) -> bytes:
    """An OLE2 compound file holding ``streams`` ("storage/substorage/stream" paths → bytes)."""
    root = _Node("Root Entry", ROOT)
    for path, data in streams.items():
        *storages, name = path.split("/")
        node = root
        for part in storages:
            node = node.children.setdefault(part, _Node(part, STORAGE))
        node.children[name] = _Node(name, STREAM, data)
    nodes: list[_Node] = []

    def number(node: _Node) -> None:
        node.sid = len(nodes)
        nodes.append(node)
        for child in sorted(node.children.values(), key=lambda n: _key(n.name)):
            number(child)

    number(root)
    small = [n for n in nodes if n.kind == STREAM and 0 < len(n.data) < CUTOFF]
    large = [n for n in nodes if n.kind == STREAM and len(n.data) >= CUTOFF]

    mini_stream, mini_fat = b"", []
    for node in small:
        node.start = len(mini_fat)
        count = _sectors(node.data, MINI_SECTOR)
        mini_fat += [0] * count
        _chain(mini_fat, node.start, count)
        mini_stream += node.data.ljust(count * MINI_SECTOR, b"\0")
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat) if mini_fat else b""

    directory_count = (len(nodes) + 3) // 4
    regions = [directory_count, _sectors(mini_fat_bytes, SECTOR), _sectors(mini_stream, SECTOR)]
    regions += [_sectors(n.data, SECTOR) for n in large]
    used = sum(regions)
    fat_count = 1
    while fat_count * (SECTOR // 4) < used + fat_count:
        fat_count += 1
    assert fat_count <= 109, "the writer keeps every FAT sector in the header's DIFAT"
    fat = [FREESECT] * (fat_count * SECTOR // 4)
    fat[:fat_count] = [FATSECT] * fat_count
    starts, next_free = [], fat_count
    for count in regions:
        starts.append(next_free if count else ENDOFCHAIN)
        if count:
            _chain(fat, next_free, count)
        next_free += count
    directory_start, mini_fat_start, mini_stream_start = starts[:3]
    for node, start in zip(large, starts[3:], strict=True):
        node.start = start
    root.start, root.data = mini_stream_start, mini_stream

    def tree(children: list[_Node]) -> int:
        """A balanced binary tree of siblings, all black (a valid red-black tree)."""
        if not children:
            return NOSTREAM
        middle = len(children) // 2
        node = children[middle]
        node.left, node.right = tree(children[:middle]), tree(children[middle + 1 :])
        return node.sid

    for node in nodes:
        node.child = tree(sorted(node.children.values(), key=lambda n: _key(n.name)))

    entries = b""
    for node in nodes:
        name = node.name.encode("utf-16-le")
        assert len(name) <= 62, node.name
        size = len(node.data) if node.kind != STORAGE else 0
        start = node.start if node.kind != STORAGE and size else (ENDOFCHAIN if node.kind != STORAGE else 0)
        entries += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name + b"\0\0",
            len(name) + 2,
            node.kind,
            BLACK,
            node.left,
            node.right,
            node.child,
            b"\0" * 16,
            0,
            0,
            0,
            start,
            size,
        )
    empty = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0)
    entries += empty * (directory_count * 4 - len(nodes))

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x003E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        fat_count,
        directory_start,
        0,
        CUTOFF,
        mini_fat_start,
        regions[1],
        ENDOFCHAIN,
        0,
    )
    header += struct.pack("<109I", *(list(range(fat_count)) + [FREESECT] * (109 - fat_count)))
    body = struct.pack(f"<{len(fat)}I", *fat) + entries + mini_fat_bytes
    body = body.ljust((fat_count + directory_count + regions[1]) * SECTOR, b"\0")
    body += mini_stream.ljust(regions[2] * SECTOR, b"\0")
    for node in large:
        body += node.data.ljust(_sectors(node.data, SECTOR) * SECTOR, b"\0")
    return header + body


def _filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


class _Properties:
    """One object's properties: variable-size ones as streams, every one as an entry."""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.streams, self.entries = prefix, {}, b""

    def text(self, prop: int, value: str | None, *, unicode: bool = True) -> None:
        if value is None:
            return
        kind = PT_UNICODE if unicode else PT_STRING8
        data = value.encode("utf-16-le") if unicode else value.encode("cp1252")
        self.streams[f"{self.prefix}__substg1.0_{prop:04X}{kind:04X}"] = data
        self.entries += struct.pack("<IIII", prop << 16 | kind, 6, len(data) + (2 if unicode else 1), 0)

    def binary(self, prop: int, data: bytes) -> None:
        self.streams[f"{self.prefix}__substg1.0_{prop:04X}{PT_BINARY:04X}"] = data
        self.entries += struct.pack("<IIII", prop << 16 | PT_BINARY, 6, len(data), 0)

    def fixed(self, prop: int, kind: int, value: int) -> None:
        self.entries += struct.pack("<IIQ", prop << 16 | kind, 6, value)


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    mime: str = "application/octet-stream"


def outlook_msg(
    *,
    subject: str,
    body: str | None,
    sender: str,
    sender_name: str = "",
    to: str = "hyvinvointivaliokunta@forssanseutu.example",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    transport_headers: str | None = None,
    html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    submitted: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    unicode: bool = True,
) -> bytes:
    """The bytes of one Outlook message saved as .msg (see the module docstring)."""
    message = _Properties("")
    message.text(0x001A, "IPM.Note", unicode=unicode)  # PidTagMessageClass
    message.text(0x0037, subject, unicode=unicode)  # PidTagSubject
    message.text(0x1000, body, unicode=unicode)  # PidTagBody
    if html is not None:
        message.binary(0x1013, html.encode())  # PidTagBodyHtml
    message.text(0x0C1A, sender_name or sender, unicode=unicode)  # PidTagSenderName
    message.text(0x0C1F, sender, unicode=unicode)  # PidTagSenderEmailAddress
    message.text(0x5D01, sender, unicode=unicode)  # PidTagSenderSmtpAddress
    message.text(0x0E04, to, unicode=unicode)  # PidTagDisplayTo
    message.text(0x1035, message_id, unicode=unicode)  # PidTagInternetMessageId
    message.text(0x1042, in_reply_to, unicode=unicode)  # PidTagInReplyToId
    message.text(0x1039, references, unicode=unicode)  # PidTagInternetReferences
    message.text(0x007D, transport_headers, unicode=unicode)  # PidTagTransportMessageHeaders
    message.fixed(0x0039, PT_SYSTIME, _filetime(submitted))  # PidTagClientSubmitTime
    message.fixed(0x0E06, PT_SYSTIME, _filetime(submitted))  # PidTagMessageDeliveryTime
    message.fixed(0x3FDE, PT_LONG, 65001 if unicode else 1252)  # PidTagInternetCodepage
    streams = dict(message.streams)
    count = len(attachments)
    streams["__properties_version1.0"] = struct.pack("<8xIIII8x", 1, count, 1, count) + message.entries
    for number in (2, 3, 4):  # the GUID, entry and string streams of the named-property mapping
        streams[f"__nameid_version1.0/__substg1.0_000{number}0102"] = b""
    recipient = _Properties("__recip_version1.0_#00000000/")
    recipient.text(0x3001, to)  # PidTagDisplayName
    recipient.text(0x39FE, to)  # PidTagSmtpAddress
    recipient.fixed(0x0C15, PT_LONG, 1)  # PidTagRecipientType: To
    streams |= recipient.streams
    streams["__recip_version1.0_#00000000/__properties_version1.0"] = b"\0" * 8 + recipient.entries
    for index, attachment in enumerate(attachments):
        prefix = f"__attach_version1.0_#{index:08X}/"
        part = _Properties(prefix)
        part.binary(0x3701, attachment.data)  # PidTagAttachDataBinary
        part.text(0x3707, attachment.name)  # PidTagAttachLongFilename
        part.text(0x3704, attachment.name[:12])  # PidTagAttachFilename (8.3)
        part.text(0x370E, attachment.mime)  # PidTagAttachMimeTag
        part.fixed(0x3705, PT_LONG, 1)  # PidTagAttachMethod: afByValue
        part.fixed(0x0E21, PT_LONG, index)  # PidTagAttachNumber
        streams |= part.streams
        streams[prefix + "__properties_version1.0"] = b"\0" * 8 + part.entries
    return compound_file(streams)
