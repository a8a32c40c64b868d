"""Compile-once DOCX rendering: docxtpl's output without docxtpl's per-document cost.

``DocxTemplate.render`` re-reads the package, re-runs its XML pre-processing (``patch_xml``) and
recompiles the Jinja template of every part on every call; compiling is most of its time.
:class:`CompiledDocxTemplate` does all of that once per template file and keeps, per render, only
what depends on the context:

* the main document body, every header and footer docxtpl renders (the main document's header and
  footer relationships), footnotes and the six string core properties docxtpl renders are
  pre-processed with docxtpl's own ``patch_xml`` (``{%p %}``, ``{%tr %}``, ``{%tc %}``, ``{%r %}``,
  ``colspan``, ``cellbg``, ``vm``, ``hm``, tag cleaning) and compiled ONCE in the given environment;
* every other zip member is kept as the template stores it (its bytes, and its compressed bytes),
  and copied without being compressed again;
* ``render_bytes`` renders the compiled parts, post-processes them exactly as docxtpl does
  (``resolve_listing`` for ``\\n``/``\\t``/``\\a``/``\\f``, ``fix_tables``, docPr ids, python-docx's
  serialisation) and writes a new zip with the same member order and per-member compression.

For the project's templates the rendered parts are byte for byte docxtpl's. Differences: the other
members are the template's bytes, where python-docx would re-serialise the XML ones and write
``[Content_Types].xml`` anew (same content); core properties are only rewritten when a property
uses a variable (docxtpl always rewrites them, adding empty elements); docxtpl re-renders the
footnotes part once per section (rendering its own output again), here it is rendered once. Like
docxtpl, core properties render in the same autoescaping environment, so ``&`` in a value is stored
as ``&amp;`` in e.g. the title property. Not supported: ``InlineImage``, ``Subdoc``, ``RichText``,
``replace_media``/``replace_pic`` (they need a live ``DocxTemplate``); the project's contexts are
plain data.

Use :func:`compiled` to get the process-wide instance of a template file: it is compiled on first
use and again when the file's modification time changes. Instances are immutable after
construction, so concurrent ``render_bytes`` calls from several threads are safe.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.coreprops import CoreProperties
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import nsmap as docx_nsmap
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from jinja2 import Environment, Template
from jinja2.exceptions import TemplateError

from council.paths import write_atomic

__all__ = ["CompiledDocxTemplate", "clear_cache", "compiled"]

#: The string core properties docxtpl's ``render_properties`` renders, in its order.
CORE_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")

_P_START = re.compile(r"<w:p([ >])")
_P_START_MARKED = re.compile(r"\n<w:p([ >])")
# docxtpl's resolve_listing only changes a <w:t> whose text (up to its first </w:t>) holds \t, \n,
# \a or \f; this finds such a <w:t> wherever resolve_listing could, so when it finds none the
# three nested regex passes of resolve_listing can be skipped.
_LISTING_NEEDED = re.compile(r"<w:t(?: [^>]*)?>(?:(?!</w:t>)[^\t\n\x07\x0c])*[\t\n\x07\x0c]", re.DOTALL)


def _docxtpl_helper() -> DocxTemplate:
    """A DocxTemplate used only for its stateless methods (patch_xml, resolve_listing, fix_tables)."""
    return DocxTemplate(os.devnull)


_HELPER = _docxtpl_helper()


def _with_paragraph_marks(xml: str) -> str:
    """docxtpl's render_xml_part puts each paragraph on its own line before compiling."""
    return _P_START.sub(r"\n<w:p\1", xml)


def _post_process(xml: str) -> str:
    """What docxtpl's render_xml_part does to the rendered text of a part."""
    xml = _P_START_MARKED.sub(r"<w:p\1", xml)
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    if _LISTING_NEEDED.search(xml):
        xml = _HELPER.resolve_listing(xml)
    return xml


def _render_part(template: Template, source: str, context: dict[str, Any]) -> str:
    try:
        return template.render(context)
    except TemplateError as exc:
        # Same hint docxtpl attaches: the text of the lines around the error.
        lineno = getattr(exc, "lineno", None)
        if lineno is not None:
            start = max(lineno - 4, 0)
            exc.docx_context = [re.sub(r"<[^>]+>", "", x) for x in source.splitlines()[start : start + 7]]  # type: ignore[attr-defined]
        raise


def _fix_docpr_ids(tree: Any) -> None:
    """docxtpl numbers every wp:docPr of the body from 1001 on each render."""
    for index, elt in enumerate(tree.xpath("//wp:docPr", namespaces=docx_nsmap), start=1001):
        elt.attrib["id"] = str(index)


@dataclass(frozen=True)
class _Member:
    """One zip member of the template: its entry, its bytes and its compressed form as stored."""

    info: zipfile.ZipInfo
    data: bytes
    flag_bits: int  # 0x800 (UTF-8 name) and the deflate option bits; never a data descriptor
    name: bytes
    dostime: int
    dosdate: int
    local: bytes  # local file header + compressed data, ready to copy (the offset is not in it)

    @classmethod
    def from_template(cls, info: zipfile.ZipInfo, data: bytes, raw: bytes) -> _Member:
        name, flags = _encode_name(info.filename)
        dostime, dosdate = _dos_time(info.date_time)
        member = cls(info, data, flags | (info.flag_bits & 0x06), name, dostime, dosdate, b"")
        # The compressed bytes exactly as the template stores them (after its local header).
        name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
        start = info.header_offset + 30 + name_len + extra_len
        stored = raw[start : start + info.compress_size]
        return dataclasses.replace(
            member, local=member.local_header(info.CRC, len(stored), len(data)) + stored
        )

    def local_header(self, crc: int, compress_size: int, file_size: int) -> bytes:
        return (
            struct.pack(
                _LOCAL_HEADER,
                b"PK\x03\x04",
                _ZIP_VERSION,
                0,
                self.flag_bits,
                self.info.compress_type,
                self.dostime,
                self.dosdate,
                crc,
                compress_size,
                file_size,
                len(self.name),
                0,
            )
            + self.name
        )

    def central_entry(self, crc: int, compress_size: int, file_size: int, offset: int) -> bytes:
        return (
            struct.pack(
                _CENTRAL_ENTRY,
                b"PK\x01\x02",
                _ZIP_VERSION,
                self.info.create_system,
                _ZIP_VERSION,
                0,
                self.flag_bits,
                self.info.compress_type,
                self.dostime,
                self.dosdate,
                crc,
                compress_size,
                file_size,
                len(self.name),
                0,
                0,
                0,
                0,
                self.info.external_attr,
                offset,
            )
            + self.name
        )


# Zip structures (APPNOTE 4.3.7, 4.3.12, 4.3.16), as the standard library's zipfile writes them.
_LOCAL_HEADER = "<4s2B4HL2L2H"
_CENTRAL_ENTRY = "<4s4B4HL2L5H2L"
_END_RECORD = "<4s4H2LH"
_ZIP_VERSION = 20
_ZIP32_LIMIT = 0x7FFFFFFF


def _encode_name(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), 0x800


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _compress(data: bytes, compress_type: int) -> bytes:
    if compress_type == zipfile.ZIP_STORED:
        return data
    # zipfile's own deflate settings: default level, raw stream (wbits -15)
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


@dataclass(frozen=True)
class _CompiledPart:
    member: str
    kind: str  # "document" | "header" | "footnotes"
    source: str
    template: Template
    encoding: str = "utf-8"


class CompiledDocxTemplate:
    """A DOCX template pre-processed and compiled once; render it many times.

    ``CompiledDocxTemplate(path, jinja_env)`` compiles with ``jinja_env`` (autoescape forced on, as
    ``DocxTemplate.render(..., autoescape=True)`` does, through an overlay so the given environment
    is not changed). Template syntax errors are raised here; undefined variables (with
    ``StrictUndefined``) are raised by :meth:`render_bytes` as ``jinja2.UndefinedError``.
    """

    def __init__(self, path: Path | str, jinja_env: Environment | None = None, *, autoescape: bool = True):
        self.path = Path(path)
        env = jinja_env if jinja_env is not None else Environment()
        if autoescape and env.autoescape is not True:
            env = env.overlay(autoescape=True)
        self.jinja_env = env
        raw = self.path.read_bytes()
        self._parts, self._core = self._compile(raw, env)
        # A template without core properties gets python-docx's default part when docxtpl renders
        # it; take the package as python-docx saves it, so the member list matches.
        if self._core is None:
            raw = self._python_docx_package(raw)
            self._parts, self._core = self._compile(raw, env)
        self._members, self._copy_compressed = self._read_members(raw)
        names = {m.info.filename for m in self._members}
        missing = [p.member for p in self._parts if p.member not in names]
        if missing:
            raise ValueError(f"{self.path}: osia ei löydy paketista: {missing}")
        self._document_xml = self._member_bytes(next(p.member for p in self._parts if p.kind == "document"))

    # -- compile time -------------------------------------------------------------------------

    @staticmethod
    def _python_docx_package(raw: bytes) -> bytes:
        doc = Document(io.BytesIO(raw))
        _ = doc.core_properties  # creates the default part, as docxtpl's render_properties does
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()

    @staticmethod
    def _read_members(raw: bytes) -> tuple[tuple[_Member, ...], bool]:
        """Every member (zf.read checks each CRC), and whether the fast writer can copy them all."""
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            copyable = len(infos) < 0xFFFF and all(
                i.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
                and not i.flag_bits & 0x01  # encrypted
                and i.compress_size < _ZIP32_LIMIT
                and i.file_size < _ZIP32_LIMIT
                and i.header_offset < _ZIP32_LIMIT
                for i in infos
            )
            members = []
            for info in infos:
                data = zf.read(info)
                if copyable:
                    members.append(_Member.from_template(info, data, raw))
                else:
                    members.append(_Member(info, data, 0, b"", 0, 0, b""))
            return tuple(members), copyable

    def _member_bytes(self, name: str) -> bytes:
        return next(m.data for m in self._members if m.info.filename == name)

    @staticmethod
    def _compile(
        raw: bytes, env: Environment
    ) -> tuple[tuple[_CompiledPart, ...], tuple[str, bytes, tuple[tuple[str, str, Template], ...]] | None]:
        tpl = DocxTemplate(io.BytesIO(raw))
        tpl.init_docx()
        docx = tpl.docx
        parts: list[_CompiledPart] = []

        def compile_part(member: str, kind: str, xml: str, encoding: str = "utf-8") -> None:
            source = _with_paragraph_marks(tpl.patch_xml(xml))
            parts.append(_CompiledPart(member, kind, source, env.from_string(source), encoding))

        # Body: DocxTemplate.build_xml
        compile_part(docx.part.partname.membername, "document", tpl.get_xml())
        # Headers, then footers: DocxTemplate.build_headers_footers_xml (once per part)
        seen: set[str] = set()
        for uri in (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI):
            for _rel, part in tpl.get_headers_footers(uri):
                member = part.partname.membername
                if member in seen:
                    continue
                seen.add(member)
                xml = tpl.get_part_xml(part)
                compile_part(member, "header", xml, tpl.get_headers_footers_encoding(xml))
        # Footnotes: DocxTemplate.render_footnotes (patch_xml over the raw blob, declaration included)
        if len(docx.sections):
            for part in docx.part.package.parts:
                if part.content_type == CT.WML_FOOTNOTES:
                    blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
                    compile_part(part.partname.membername, "footnotes", blob)
        # Core properties: DocxTemplate.render_properties (without creating a part that is missing)
        core = None
        for rel in docx.part.package.rels.values():
            if rel.reltype == RT.CORE_PROPERTIES and not rel.is_external:
                part = rel.target_part
                props = part.core_properties
                compiled_props = tuple(
                    (name, getattr(props, name), env.from_string(getattr(props, name)))
                    for name in CORE_PROPERTIES
                )
                core = (part.partname.membername, part.blob, compiled_props)
                break
        return tuple(parts), core

    # -- render time --------------------------------------------------------------------------

    def _render_document(self, context: dict[str, Any], part: _CompiledPart) -> bytes:
        xml = _post_process(_render_part(part.template, part.source, context))
        body = _HELPER.fix_tables(xml)  # parses with recover=True, as docxtpl does
        _fix_docpr_ids(body)
        root = parse_xml(self._document_xml)
        root.replace(root.find(qn("w:body")), body)
        return serialize_part_xml(root)

    @staticmethod
    def _render_header(context: dict[str, Any], part: _CompiledPart) -> bytes:
        xml = _post_process(_render_part(part.template, part.source, context))
        return serialize_part_xml(parse_xml(xml.encode(part.encoding)))

    @staticmethod
    def _render_footnotes(context: dict[str, Any], part: _CompiledPart) -> bytes:
        return _post_process(_render_part(part.template, part.source, context)).encode("utf-8")

    def _render_core(self, context: dict[str, Any]) -> tuple[str, bytes] | None:
        if self._core is None:
            return None
        member, blob, props = self._core
        rendered = [(name, template.render(context), initial) for name, initial, template in props]
        if all(value == initial for _, value, initial in rendered):
            return None  # unchanged: keep the template's bytes
        element = parse_xml(blob)
        props = CoreProperties(element)
        for name, value, _ in rendered:
            setattr(props, name, value)
        return member, serialize_part_xml(element)

    def render_parts(self, context: dict[str, Any]) -> dict[str, bytes]:
        """The rendered bytes of every part that depends on the context, by member name."""
        out: dict[str, bytes] = {}
        for part in self._parts:
            if part.kind == "document":
                out[part.member] = self._render_document(context, part)
            elif part.kind == "header":
                out[part.member] = self._render_header(context, part)
            else:
                out[part.member] = self._render_footnotes(context, part)
        core = self._render_core(context)
        if core is not None:
            out[core[0]] = core[1]
        return out

    def render_bytes(self, context: dict[str, Any]) -> bytes:
        """The rendered DOCX as bytes: rendered parts replaced, every other member copied.

        Same member order, names, timestamps, attributes and compression method per member as
        the template. Unchanged members are copied in their stored, already compressed form; only
        the rendered parts are compressed again.
        """
        rendered = self.render_parts(context)
        if not self._copy_compressed:
            return self._write_with_zipfile(rendered)
        chunks: list[bytes] = []
        central: list[bytes] = []
        offset = 0
        for member in self._members:
            info = member.info
            data = rendered.get(info.filename)
            if data is None:
                local = member.local
                crc, compress_size, file_size = info.CRC, info.compress_size, info.file_size
            else:
                packed = _compress(data, info.compress_type)
                crc, compress_size, file_size = zlib.crc32(data), len(packed), len(data)
                local = member.local_header(crc, compress_size, file_size) + packed
            chunks.append(local)
            central.append(member.central_entry(crc, compress_size, file_size, offset))
            offset += len(local)
        directory = b"".join(central)
        if offset + len(directory) >= _ZIP32_LIMIT:
            return self._write_with_zipfile(rendered)
        end = struct.pack(
            _END_RECORD, b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0
        )
        return b"".join(chunks) + directory + end

    def _write_with_zipfile(self, rendered: dict[str, bytes]) -> bytes:
        """The general path (other compression methods, very large members): zipfile writes it all."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", allowZip64=True) as zf:
            for member in self._members:
                src = member.info
                info = zipfile.ZipInfo(src.filename, date_time=src.date_time)
                info.compress_type = src.compress_type
                info.external_attr = src.external_attr
                info.create_system = src.create_system
                zf.writestr(info, rendered.get(src.filename, member.data))
        return buf.getvalue()

    def render_to(self, context: dict[str, Any], target: Path) -> Path:
        """Render into ``target`` atomically (a temporary file in the same folder, then os.replace)."""
        return write_atomic(Path(target), self.render_bytes(context))

    @property
    def member_names(self) -> list[str]:
        """The zip members of the output, in order."""
        return [m.info.filename for m in self._members]

    @property
    def rendered_members(self) -> list[str]:
        """The members rendered on every call (the core properties only when they use variables)."""
        return [p.member for p in self._parts]

    def __repr__(self) -> str:
        return f"CompiledDocxTemplate({str(self.path)!r}, parts={self.rendered_members})"


_cache: dict[Path, tuple[int, CompiledDocxTemplate]] = {}
_cache_lock = threading.Lock()


def compiled(path: Path) -> CompiledDocxTemplate:
    """The process-wide compiled template of ``path`` (``council.rendering.docx_environment()``).

    Compiled on first use; compiled again when the file's modification time changes, so a template
    edited on disk is picked up by a long-running worker.
    """
    key = Path(path).resolve()
    mtime = os.stat(key).st_mtime_ns  # before reading: a change during the read is seen next time
    entry = _cache.get(key)
    if entry is not None and entry[0] == mtime:
        return entry[1]
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None and entry[0] == mtime:
            return entry[1]
        from council.rendering.environment import docx_environment

        template = CompiledDocxTemplate(key, docx_environment())
        _cache[key] = (mtime, template)
        return template


def clear_cache() -> None:
    """Forget every compiled template (tests)."""
    with _cache_lock:
        _cache.clear()
