"""Checks of the templates that secretaries edit: Jinja syntax, tags split across Word runs and the
variables each template uses against its context model, in every language (no CLI, no printing).

:func:`check_templates` reads a templates folder (the committed ``templates/`` or a copy) and returns
one :class:`TemplateProblem` per thing to fix, each with a Finnish message that names the file, the
place (DOCX: paragraph, 1-based in document order, counted separately in a header or footer; email:
line) and the tag. DOCX text is read the way docxtpl reads it: only ``<w:t>`` text, ``{%p %}``,
``{%tr %}``, ``{%tc %}`` and ``{%r %}`` stand for plain Jinja tags, curly quotes inside a tag are
straight ones.
"""

from __future__ import annotations

import re
import types
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from docxtpl import DocxTemplate
from jinja2 import TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from pydantic import BaseModel

from council.content.i18n import WORDING_FILE, localized, wording
from council.errors import ContentError
from council.rendering.environment import (
    DUTY_TEMPLATE,
    PROPOSAL_TEMPLATE,
    STATUS_REPORT_TEMPLATE,
    docx_environment,
    text_environment,
)
from models.contexts import (
    CombinedDigestMailContext,
    CombinedReminderMailContext,
    ConfirmationMailContext,
    DigestMailContext,
    DutyDescriptionContext,
    DutyMailContext,
    FailedRunMailContext,
    ProposalContext,
    ProposalMailContext,
    ReminderMailContext,
    StatusReportContext,
)

__all__ = ["CONTRACTS", "TemplateContract", "TemplateProblem", "check_templates"]


@dataclass(frozen=True)
class TemplateContract:
    """Templates that share one context model: their Finnish file names (DOCX in the templates folder,
    text ones in its ``email/``), the kind and the languages each exists in (``esitys.sv.docx``…)."""

    names: tuple[str, ...]
    kind: Literal["docx", "text"]
    model: type[BaseModel]
    languages: tuple[str, ...] = ("fi", "sv")

    def files(self, lang: str) -> tuple[str, ...]:
        """The file names in ``lang``, relative to the templates folder."""
        prefix = "" if self.kind == "docx" else "email/"
        return tuple(prefix + localized(name, lang) for name in self.names)


#: The DOCX templates and their context models. The email templates' models are defined in the
#: services (above this layer), so their rows are passed in by the caller; see tests/test_templates.py.
CONTRACTS: tuple[TemplateContract, ...] = (
    TemplateContract((PROPOSAL_TEMPLATE,), "docx", ProposalContext),
    TemplateContract((DUTY_TEMPLATE,), "docx", DutyDescriptionContext),
    TemplateContract((STATUS_REPORT_TEMPLATE,), "docx", StatusReportContext, ("fi",)),
    TemplateContract(("esitys_subject.txt", "esitys.txt", "esitys.html"), "text", ProposalMailContext),
    TemplateContract(
        ("muistutus_subject.txt", "muistutus.txt", "muistutus.html"), "text", ReminderMailContext
    ),
    TemplateContract(
        ("muistutus_koottu_subject.txt", "muistutus_koottu.txt", "muistutus_koottu.html"),
        "text",
        CombinedReminderMailContext,
    ),
    TemplateContract(("kiitos_subject.txt", "kiitos.txt", "kiitos.html"), "text", ConfirmationMailContext),
    TemplateContract(
        ("toimenkuva_subject.txt", "toimenkuva.txt", "toimenkuva.html"), "text", DutyMailContext
    ),
    TemplateContract(
        ("viikkokooste_subject.txt", "viikkokooste.txt", "viikkokooste.html"),
        "text",
        DigestMailContext,
        ("fi",),
    ),
    TemplateContract(
        ("viikkokooste_koottu_subject.txt", "viikkokooste_koottu.txt", "viikkokooste_koottu.html"),
        "text",
        CombinedDigestMailContext,
        ("fi",),
    ),
    TemplateContract(
        ("ajo_epaonnistui_subject.txt", "ajo_epaonnistui.txt", "ajo_epaonnistui.html"),
        "text",
        FailedRunMailContext,
        ("fi",),
    ),
)


@dataclass(frozen=True)
class TemplateProblem:
    """One thing to fix in a template. ``template`` is relative to the templates folder
    (``esitys.docx``, ``email/esitys.txt``); ``part`` names a DOCX header or footer (None: the main
    text); ``paragraph`` (DOCX) or ``line`` (email) is 1-based; ``tag`` is the Jinja tag as typed."""

    template: str
    message: str
    paragraph: int | None = None
    line: int | None = None
    part: str | None = None
    tag: str | None = None

    def __str__(self) -> str:
        where = [self.template]
        if self.part:
            where.append(self.part)
        if self.paragraph is not None:
            where.append(f"kappale {self.paragraph}")
        if self.line is not None:
            where.append(f"rivi {self.line}")
        return f"{', '.join(where)}: {self.message}"


def check_templates(folder: Path, contracts: Sequence[TemplateContract] = CONTRACTS) -> list[TemplateProblem]:
    """Every problem in the DOCX templates of ``folder``, the email templates of ``folder/email`` and
    the fixed phrases of ``folder/wording.yaml``.

    Each template is checked for Jinja syntax and (DOCX) tags split across runs or paragraphs; each
    template named in ``contracts`` (in each of its languages) also for variables its context model
    lacks, nested ones included (``body.nmae``, ``pt.titel`` inside ``{% for pt in points %}``).
    """
    models = {f: c.model for c in contracts for lang in c.languages for f in c.files(lang)}
    problems: list[TemplateProblem] = []
    for name in sorted(models):
        if not (folder / name).is_file():
            problems.append(TemplateProblem(name, f"mallipohja puuttuu (odotettu polku {folder / name})."))
    for path in sorted(folder.glob("*.docx")):
        if not path.name.startswith("~$"):  # Word's lock file of an open document
            problems += _check_docx(path, path.name, models.get(path.name))
    for path in sorted((folder / "email").glob("*")):
        if path.is_file() and not path.name.startswith("."):
            name = f"email/{path.name}"
            problems += _check_text(path, name, models.get(name))
    return problems + check_wording(folder / WORDING_FILE.name)


def check_wording(path: Path) -> list[TemplateProblem]:
    """The fixed phrases (``wording.yaml``): both languages complete, only known placeholders."""
    try:
        wording(path)
    except ContentError as exc:
        return [TemplateProblem(path.name, f"{p.field}: {p.message}", line=p.row) for p in exc.problems]
    return []


# --- DOCX ------------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_P, _T, _R, _RPR = (f"{{{_W}}}{t}" for t in ("p", "t", "r", "rPr"))
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_DOCXTPL_PREFIX = re.compile(r"(\{[{%#])(?:tr|tc|p|r) ")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_PART_LABELS = {"header": "ylätunniste", "footer": "alatunniste", "footnotes": "alaviitteet"}


@dataclass(frozen=True)
class _Part:
    """The text of one XML part as Jinja sees it: one paragraph per line."""

    label: str | None
    paragraphs: list[str]  # the text as typed (only <w:t>), one entry per <w:p>
    owners: list[int]  # for each character of "\n".join(paragraphs): its <w:t>'s index, -1 between
    formats: list[bytes]  # for each <w:t>: its run's formatting (canonical <w:rPr>)

    @property
    def source(self) -> str:
        """The Jinja source docxtpl compiles, line N being paragraph N."""
        return "\n".join(_jinja_text(p) for p in self.paragraphs)


def _jinja_text(text: str) -> str:
    text = _TAG.sub(lambda m: m.group(0).translate(_QUOTES), text)
    text = _DOCXTPL_PREFIX.sub(r"\1 ", text)
    text = re.sub(r"\{%\s*(?:colspan|cellbg)\s+(.*?)%\}", r"{{ \1 }}", text)
    return re.sub(r"\{%\s*[vh]m\s*%\}", "", text)


def _parts(path: Path) -> Iterator[_Part]:
    """The main text, then each header, footer and the footnotes, as docxtpl renders them."""
    with zipfile.ZipFile(path) as package:
        names = [n for n in package.namelist() if re.fullmatch(r"word/(header|footer)\d*\.xml", n)]
        names.sort(key=lambda n: (n[5:11], int(re.sub(r"\D", "", n) or 0)))
        if "word/footnotes.xml" in package.namelist():
            names.append("word/footnotes.xml")
        same_kind = {k: sum(n.startswith(f"word/{k}") for n in names) for k in _PART_LABELS}
        document = package.read("word/document.xml")
        pages = _page_kinds(document, package.read("word/_rels/document.xml.rels"))
        yield _read_part(document, None)
        for name in names:
            kind = re.sub(r"\d*\.xml$", "", name[5:])
            label = _PART_LABELS[kind]
            if name[5:] in pages:  # the first page's own header, or the even pages'
                label = f"{pages[name[5:]]} {label}"
            elif same_kind[kind] > 1 and not pages:
                label += f" ({name[5:]})"
            yield _read_part(package.read(name), label)


_PAGE_LABELS = {"first": "ensimmäisen sivun", "even": "parillisten sivujen"}


def _page_kinds(document: bytes, rels: bytes) -> dict[str, str]:
    """Header/footer file -> which pages it is for ('ensimmäisen sivun'), for those not on every page."""
    targets = {
        rel.get("Id"): rel.get("Target")
        for rel in etree.fromstring(rels)
        if rel.get("Type", "").endswith(("/header", "/footer"))
    }
    kinds: dict[str, str] = {}
    for ref in etree.fromstring(document).iter(f"{{{_W}}}headerReference", f"{{{_W}}}footerReference"):
        kind = ref.get(f"{{{_W}}}type")
        target = targets.get(
            ref.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
        )
        if target and kind in _PAGE_LABELS:
            kinds[target] = _PAGE_LABELS[kind]
    return kinds


def _read_part(xml: bytes, label: str | None) -> _Part:
    root = etree.fromstring(xml)
    paragraphs: list[str] = []
    owners: list[int] = []
    formats: list[bytes] = []
    for paragraph in root.iter(_P):
        if paragraphs:
            owners.append(-1)
        text = []
        for t in paragraph.iter(_T):
            if _nearest(t, _P) is not paragraph:  # a text box's paragraph inside this one
                continue
            value = (t.text or "").replace("\n", " ")
            run = _nearest(t, _R)
            rpr = run.find(_RPR) if run is not None else None
            owners += [len(formats)] * len(value)
            formats.append(b"" if rpr is None else etree.tostring(rpr, method="c14n"))
            text.append(value)
        paragraphs.append("".join(text))
    return _Part(label, paragraphs, owners, formats)


def _nearest(element: Any, tag: str) -> Any:
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent


def _check_docx(path: Path, name: str, model: type[BaseModel] | None) -> list[TemplateProblem]:
    try:
        parts = list(_parts(path))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        return [TemplateProblem(name, f"tiedosto ei ole luettava DOCX-tiedosto ({exc}).")]
    env = docx_environment()
    problems: list[TemplateProblem] = []
    trees: list[tuple[_Part, nodes.Template]] = []
    for part in parts:
        problems += _split_tags(name, part)
        try:
            trees.append((part, env.parse(part.source)))
        except TemplateSyntaxError as exc:
            problems.append(_syntax_problem(name, exc, part.paragraphs, part=part.label, docx=True))
    if len(trees) < len(parts):  # a syntax error: the variables cannot be read
        return problems
    try:
        # What docxtpl itself compiles: the authority on whether the template works at all.
        used = set(DocxTemplate(path).get_undeclared_template_variables(env))
    except TemplateError as exc:
        problems.append(TemplateProblem(name, f"docxtpl ei pysty kääntämään mallipohjaa: {exc}"))
        return problems
    if model is not None:
        problems += _variable_problems(
            name, model, used, [(p.label, p.paragraphs, tree) for p, tree in trees], docx=True
        )
    return problems


def _split_tags(name: str, part: _Part) -> list[TemplateProblem]:
    """Tags whose text lies in more than one run (Word keeps only the first run's formatting, and
    docxtpl cannot join a tag split inside ``{{``/``%}``) or continues into the next paragraph."""
    text = "\n".join(part.paragraphs)
    problems = []
    for match in _TAG.finditer(text):
        owners = set(part.owners[match.start() : match.end()])
        if len(owners) <= 1:
            continue
        paragraph = text.count("\n", 0, match.start()) + 1
        tag = " ".join(match.group(0).split("\n"))
        if -1 in owners:
            message = (
                f"tagi '{tag}' jatkuu seuraavaan kappaleeseen; kirjoita koko tagi yhdellä kertaa "
                "samaan kappaleeseen."
            )
        else:
            message = (
                f"tagi '{tag}' on jaettu usean muotoilujakson (run) kesken; kirjoita se uudelleen "
                "yhdellä kertaa Wordissa."
            )
            if len({part.formats[o] for o in owners}) > 1:
                message += " Sen osilla on eri muotoilu: muotoile koko tagi kerralla tai ei lainkaan."
        problems.append(TemplateProblem(name, message, paragraph=paragraph, part=part.label, tag=tag))
    return problems


# --- email -----------------------------------------------------------------------------------------


def _check_text(path: Path, name: str, model: type[BaseModel] | None) -> list[TemplateProblem]:
    env: SandboxedEnvironment = text_environment()
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [
            TemplateProblem(
                name, f"tiedosto ei ole UTF-8-tekstiä (tavu {exc.start}); tallenna se UTF-8-muodossa."
            )
        ]
    lines = source.splitlines()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [_syntax_problem(name, exc, lines, part=None, docx=False)]
    if model is None:
        return []
    return _variable_problems(name, model, meta.find_undeclared_variables(tree), [(None, lines, tree)])


# --- shared ----------------------------------------------------------------------------------------


def _tags_in(line: str) -> list[str]:
    return _TAG.findall(line)


def _syntax_problem(
    name: str, exc: TemplateSyntaxError, lines: list[str], *, part: str | None, docx: bool
) -> TemplateProblem:
    number = exc.lineno if 1 <= exc.lineno <= len(lines) else None
    tags = _tags_in(lines[number - 1]) if number else []
    token = re.search(r"'([^']+)'", exc.message or "")
    tag = next((t for t in tags if token and token.group(1) in t), tags[-1] if tags else None)
    what = f"tagin '{tag}' Jinja-syntaksi on virheellinen" if tag else "Jinja-syntaksi on virheellinen"
    if "end of template" in (exc.message or ""):
        what = "jokin lohko ({% if %}, {% for %}) jää sulkematta ennen tiedoston loppua"
        tag = None
    where = {"paragraph": number} if docx else {"line": number}
    return TemplateProblem(
        name, f"Jinja-syntaksivirhe: {what} (Jinja: {exc.message}).", part=part, tag=tag, **where
    )


_Located = tuple[str | None, list[str], nodes.Template]  # part label, lines, parsed tree


def _variable_problems(
    name: str, model: type[BaseModel], used: set[str], trees: list[_Located], *, docx: bool = False
) -> list[TemplateProblem]:
    """Variables ``model`` lacks: top-level ones (``used`` minus the model's fields) and attributes of
    the model's nested models, each at every paragraph/line it occurs in."""
    unknown_top = used - set(model.model_fields)
    problems: list[TemplateProblem] = []
    found: set[str] = set()
    seen: set[tuple[str | None, int, str]] = set()
    for label, lines, tree in trees:
        for path, lineno, owner in _missing(tree, model, unknown_top):
            if (label, lineno, path) in seen:
                continue
            seen.add((label, lineno, path))
            found.add(path.split(".")[0])
            text = lines[lineno - 1] if 1 <= lineno <= len(lines) else ""
            last = path.rsplit(".", 1)[-1]
            tag = next((t for t in _tags_in(text) if re.search(rf"\b{re.escape(last)}\b", t)), None)
            lacks = f"mallista {model.__name__}"
            if owner is not model:
                fields = ", ".join(owner.model_fields)
                lacks += f" ({owner.__name__}; käytettävissä: {fields})"
            message = f"muuttuja '{path}' puuttuu {lacks}."
            if tag:
                message = f"tagi '{tag}': {message}"
            where = {"paragraph": lineno} if docx else {"line": lineno}
            problems.append(TemplateProblem(name, message, part=label, tag=tag, **where))
    for variable in sorted(unknown_top - found):
        problems.append(TemplateProblem(name, f"muuttuja '{variable}' puuttuu mallista {model.__name__}."))
    return problems


def _missing(
    tree: nodes.Template, model: type[BaseModel], unknown_top: set[str]
) -> Iterator[tuple[str, int, type[BaseModel]]]:
    """(dotted variable, line, the model lacking it) for every unknown variable in ``tree``."""
    top: dict[str, Any] = {n: f.annotation for n, f in model.model_fields.items()}

    def type_of(node: nodes.Node, scope: dict[str, Any]) -> Any:
        if isinstance(node, nodes.Name):
            return _unwrap(scope.get(node.name, top.get(node.name)))
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            attr = node.attr if isinstance(node, nodes.Getattr) else _const_str(node.arg)
            owner = type_of(node.node, scope)
            if attr is not None and _is_model(owner) and attr in owner.model_fields:
                return _unwrap(owner.model_fields[attr].annotation)
        return None

    def dotted(node: nodes.Node) -> str | None:
        if isinstance(node, nodes.Name):
            return node.name
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            attr = node.attr if isinstance(node, nodes.Getattr) else _const_str(node.arg)
            base = dotted(node.node)
            return f"{base}.{attr}" if base and attr else None
        return None

    def walk(node: nodes.Node, scope: dict[str, Any]) -> Iterator[tuple[str, int, type[BaseModel]]]:
        if isinstance(node, nodes.For):
            yield from walk(node.iter, scope)
            inner = dict(scope, loop=None)
            element = _element(type_of(node.iter, scope))
            if isinstance(node.target, nodes.Name):
                inner[node.target.name] = element
            for target in node.target.find_all(nodes.Name):  # for key, value in …: not typed
                inner[target.name] = None
            for child in (node.target, *node.body, *([node.test] if node.test else [])):
                yield from walk(child, inner)
            for child in node.else_:
                yield from walk(child, scope)
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            for target in (node.target, *node.target.find_all(nodes.Name)):
                if isinstance(target, nodes.Name):
                    scope[target.name] = None
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name not in scope and node.name in unknown_top:
                yield node.name, node.lineno, model
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            attr = node.attr if isinstance(node, nodes.Getattr) else _const_str(node.arg)
            owner = type_of(node.node, scope)
            if attr is not None and _is_model(owner) and attr not in owner.model_fields:
                yield dotted(node) or attr, node.lineno, owner
                return
        for child in node.iter_child_nodes():
            yield from walk(child, scope)

    yield from walk(tree, {})


def _const_str(node: nodes.Node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; anything else as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else None
    return annotation


def _element(annotation: Any) -> Any:
    """The element type of ``list[X]`` (None when unknown)."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) in (list, tuple, set, frozenset, Sequence) and get_args(annotation):
        return _unwrap(get_args(annotation)[0])
    return None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
