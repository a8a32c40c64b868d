"""One archive package of a proposal for the registry (issue 13): a ZIP that holds everything.

``arkisto-<proposal>-<yyyy-mm-dd>.zip``, entries in this fixed order::

    LUEMINUT.txt                 what the package is and what each folder holds (Finnish)
    asiakirjat/…                 every file under outputs/<proposal>/, sub-folders kept
    viestit/<day>-<body>-<kind>-<round>.eml
                                 every sent message, the stored ``wire`` bytes unchanged
    paatokset.csv, .xlsx         the decisions, as ``council export-decisions`` writes them
    tapahtumat.csv, .jsonl       the proposal's event log in order (Helsinki time)
    manifest.json                every other entry with its size and SHA-256, and the proposal

The package is streamed into a temporary file beside its final name and renamed only when it is
complete (:func:`council.paths.atomic_file`), so a crash never leaves half a package under the final
name. A message sent before the outbox kept its bytes (``wire`` empty, before migration 0004) has no
.eml: nothing is rebuilt that was not sent; the manifest lists it under ``viestit_ilman_tallennetta``.

Whether a proposal may be archived yet (closed) is the caller's decision, not this module's.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, defer

from council.config import Settings
from council.errors import UnknownProposalError
from council.paths import atomic_file, inside, safe_filename
from council.rendering.events import describe
from council.rules.formatting import HELSINKI, fi_date, today_helsinki
from council.services.bulk import export_decisions, safe_cell
from council.store.engine import checked_engine_for
from council.store.tracking import now
from models.enums import EVENT_LABEL_FI, MessageState
from models.tables import NO_DUTIES_POINT, Event, Message, Proposal

MANIFEST = "manifest.json"
README = "LUEMINUT.txt"
DOCUMENTS = "asiakirjat"
MESSAGES = "viestit"
#: The manifest's format; a reader checks it before trusting the keys.
FORMAT = "valtuustoesityksen-arkistopaketti/1"
EVENT_COLUMNS = ["aika", "tapahtuma", "selite", "tekija", "vastaanottaja", "kohta", "tiedot"]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


class _Sink(io.RawIOBase):
    """Passes bytes on to a zip entry and counts and hashes them on the way."""

    def __init__(self, target: BinaryIO):
        self._target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self._target.write(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)
        return len(chunk)


@dataclass
class _Package:
    """Adds entries to an open ZIP, all with the same timestamp, and remembers their checksums."""

    zf: zipfile.ZipFile
    stamp: datetime
    entries: list[ManifestEntry] = field(default_factory=list)

    @contextmanager
    def entry(self, name: str, size_hint: int = 0) -> Iterator[_Sink]:
        info = zipfile.ZipInfo(name, date_time=self.stamp.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info.file_size = size_hint  # lets zipfile choose ZIP64 for a very large file
        with self.zf.open(info, "w") as raw:
            sink = _Sink(raw)
            yield sink
        self.entries.append(ManifestEntry(name, sink.size, sink.sha256.hexdigest()))

    def add_file(self, name: str, path: Path) -> None:
        with path.open("rb") as source, self.entry(name, path.stat().st_size) as sink:
            while chunk := source.read(_CHUNK):
                sink.write(chunk)

    def add_bytes(self, name: str, data: bytes) -> None:
        with self.entry(name, len(data)) as sink:
            sink.write(data)

    @contextmanager
    def text(self, name: str, *, encoding: str = "utf-8") -> Iterator[io.TextIOWrapper]:
        with self.entry(name) as sink, io.TextIOWrapper(sink, encoding=encoding, newline="") as text:
            yield text


def archive_name(proposal_id: str, day: date) -> str:
    return f"arkisto-{proposal_id}-{day.isoformat()}.zip"


def write_archive(
    settings: Settings, proposal_id: str, dest_dir: Path | None = None, *, on: date | None = None
) -> Path:
    """Write the proposal's archive package into ``dest_dir`` (default outputs/arkisto) and return its
    path; the day ``on`` (default today in Helsinki) names the file. An unknown proposal raises
    :class:`UnknownProposalError`; a package of the same name is replaced only once the new one is
    complete."""
    day = on or today_helsinki()
    with Session(checked_engine_for(settings)) as session:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None:
            raise UnknownProposalError(proposal_id, "Tietokannassa ei ole esitystä tällä tunnisteella.")
        folder = (dest_dir or settings.archive_dir).resolve()
        target = inside(folder, archive_name(proposal_id, day))
        documents = _documents(settings.proposal_dir(proposal_id), skip=folder)
        messages = _sent_messages(session, proposal_id)
        stamp = now().astimezone(HELSINKI).replace(microsecond=0)
        with tempfile.TemporaryDirectory(prefix="council-archive-") as scratch:
            csv_path, xlsx_path = Path(scratch, "paatokset.csv"), Path(scratch, "paatokset.xlsx")
            decisions = export_decisions(session=session, proposal_id=proposal_id, path=csv_path)
            export_decisions(session=session, proposal_id=proposal_id, path=xlsx_path)
            counts = {
                "asiakirjoja": len(documents),
                "viesteja": sum(1 for _, _, wire_of in messages if wire_of is not None),
                "paatoksia": decisions,
                "tapahtumia": 0,
            }
            with atomic_file(target, durable=True) as handle, zipfile.ZipFile(handle, "w") as zf:
                package = _Package(zf, stamp)
                package.add_bytes(README, _readme(proposal, stamp, counts).encode("utf-8"))
                for relative, path in documents:
                    package.add_file(f"{DOCUMENTS}/{relative}", path)
                missing = []
                for name, row, wire_of in messages:
                    if wire_of is not None:
                        wire = session.scalar(select(Message.wire).where(Message.id == wire_of))
                        package.add_bytes(f"{MESSAGES}/{name}", bytes(wire or b""))
                    else:
                        missing.append(_message_summary(row))
                package.add_file("paatokset.csv", csv_path)
                package.add_file("paatokset.xlsx", xlsx_path)
                counts["tapahtumia"] = _write_events(package, session, proposal_id)
                manifest = {
                    "muoto": FORMAT,
                    "esitys": {
                        "tunniste": proposal.id,
                        "otsikko": proposal.title,
                        "diaarinumero": proposal.diary_number,
                        "luotu": _helsinki(proposal.created_at),
                    },
                    "paketti_luotu": stamp.isoformat(),
                    "sisalto": counts,
                    "viestit_ilman_tallennetta": missing,
                    "tiedostot": [
                        {"polku": e.path, "koko": e.size, "sha256": e.sha256} for e in package.entries
                    ],
                }
                text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
                package.add_bytes(MANIFEST, text.encode("utf-8"))
    return target


def _helsinki(moment: datetime | None) -> str | None:
    return moment.astimezone(HELSINKI).isoformat(timespec="seconds") if moment else None


def _documents(folder: Path, *, skip: Path) -> list[tuple[str, Path]]:
    """Every regular file under ``folder`` as (relative POSIX path, path), sorted by that path.

    Left out: symbolic links (a package holds what the service wrote, nothing it points at), the
    temporary files of writes in progress (``.<name>-….tmp``) and anything under ``skip`` (the
    package's own folder, when it lies inside the documents folder)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        if skip in path.resolve().parents:
            continue
        found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)


def _sent_messages(session: Session, proposal_id: str) -> list[tuple[str, Message, int | None]]:
    """Every sent message as (file name, row without its bytes, the id of the row whose stored
    bytes went out, or None when none are stored), sorted by file name (the sending day first).

    A reminder round carried by a combined reminder (several proposals in one email) is the
    combined email as sent: its bytes are the carrier's, named after this proposal's round."""
    carrier = aliased(Message)
    has_wire = Message.wire.is_not(None) & (func.length(Message.wire) > 0)
    carrier_has_wire = carrier.wire.is_not(None) & (func.length(carrier.wire) > 0)
    own = session.execute(
        select(Message, has_wire, Message.sent_at)
        .options(defer(Message.wire))
        .where(Message.proposal_id == proposal_id, Message.state == MessageState.sent.value)
    ).all()
    carried = session.execute(
        select(Message, carrier_has_wire, carrier.sent_at, carrier.id)
        .options(defer(Message.wire))
        .join(carrier, carrier.id == Message.carried_by)
        .where(
            Message.proposal_id == proposal_id,
            Message.state == MessageState.carried.value,
            carrier.state == MessageState.sent.value,
            # the carrier proposal's own archive holds the combined email already
            carrier.proposal_id != proposal_id,
        )
    ).all()
    found = []
    for row, stored, sent_at, *source in [*own, *carried]:
        when = sent_at or row.created_at
        day = when.astimezone(HELSINKI).date().isoformat()
        name = safe_filename(f"{day}-{row.body_id or 'valiokunta'}-{row.kind}-{row.round}", ".eml")
        found.append((name, row, (source[0] if source else row.id) if stored else None))
    return sorted(found, key=lambda item: (item[0], item[1].id))


def _message_summary(row: Message) -> dict[str, object]:
    return {
        "message_id": row.message_id,
        "vastaanottaja": row.body_id,
        "laji": row.kind,
        "kierros": row.round,
        "aihe": row.subject,
        "lahetetty": _helsinki(row.sent_at),
        "syy": "viestin lähetettyjä tavuja ei tallennettu (lähetetty ennen tallennusta); viestiä ei koottu uudelleen",
    }


def _events(session: Session, proposal_id: str) -> Iterator[Event]:
    return iter(
        session.scalars(
            select(Event)
            .where(Event.proposal_id == proposal_id)
            .order_by(Event.occurred_at, Event.id)
            .execution_options(yield_per=1000)
        )
    )


def _write_events(package: _Package, session: Session, proposal_id: str) -> int:
    """tapahtumat.csv (for people, as the decision export: UTF-8 with BOM, ';') and tapahtumat.jsonl
    (every field as stored, one event a line); returns the number of events."""
    count = 0
    with package.text("tapahtumat.csv", encoding="utf-8-sig") as text:
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow(EVENT_COLUMNS)
        for event in _events(session, proposal_id):
            data = event.data or {}
            writer.writerow(
                [
                    _helsinki(event.occurred_at),
                    EVENT_LABEL_FI.get(event.kind, event.kind),
                    safe_cell(describe(event.kind, data)),
                    safe_cell(event.actor),
                    event.body_id or "",
                    event.point_number or "",
                    safe_cell(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)),
                ]
            )
            count += 1
    with package.text("tapahtumat.jsonl") as text:
        for event in _events(session, proposal_id):
            record = {
                "id": event.id,
                "aika": _helsinki(event.occurred_at),
                "laji": event.kind,
                "tekija": event.actor,
                "vastaanottaja": event.body_id,
                "kohta": event.point_number,
                "tiedot": event.data or {},
            }
            text.write(json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n")
    return count


def _readme(proposal: Proposal, stamp: datetime, counts: dict[str, int]) -> str:
    dnro = f"Dnro {proposal.diary_number}" if proposal.diary_number else "ei diaarinumeroa"
    duty = "" if proposal.duties_point == NO_DUTIES_POINT else " toimenkuvamalli,"
    return f"""ARKISTOPAKETTI – {proposal.title}
({dnro}, tunniste {proposal.id})

Paketti on koottu {fi_date(stamp.date())} klo {stamp:%H.%M} (Suomen aikaa) valtuustoesitysten
seurantapalvelusta kirjaamon arkistoa varten. Se sisältää kaiken, mitä palvelu on tästä esityksestä
tuottanut, lähettänyt ja kirjannut.

Sisältö:

  asiakirjat/        Kaikki esitystä varten tuotetut asiakirjat ({counts["asiakirjoja"]} tiedostoa),
                     vastaanottajittain omissa kansioissaan (esitys,{duty} muistutukset,
                     kuvailutiedot, tilanneraportit).
  viestit/           Jokainen lähetetty sähköpostiviesti ({counts["viesteja"]} kpl) .eml-tiedostona
                     täsmälleen sellaisena kuin se lähetettiin, liitteineen. Nimi: lähetyspäivä,
                     vastaanottaja, viestin laji ja kierros. Tiedoston voi avata sähköpostiohjelmalla.
  paatokset.csv      Vastaanottajien päätökset ({counts["paatoksia"]} kpl) taulukkona (UTF-8, puolipiste
  paatokset.xlsx     erottimena) ja Excel-tiedostona; sarakkeet kuten päätösten tuonnissa.
  tapahtumat.csv     Esityksen tapahtumaloki aikajärjestyksessä (Suomen aikaa): mitä tapahtui, kuka
  tapahtumat.jsonl   teki ja mitä tietoja tapahtumaan liittyi. JSONL-tiedostossa sama koneluettavana.
  manifest.json      Luettelo paketin kaikista muista tiedostoista: polku, koko tavuina ja
                     SHA-256-tarkistussumma, sekä esityksen tunniste, otsikko, diaarinumero ja
                     luontiaika.

Paketin eheyden voi tarkistaa laskemalla tiedostojen SHA-256-summat (esimerkiksi ohjelmalla
sha256sum) ja vertaamalla niitä manifestiin.
"""


def read_manifest(path: Path) -> dict:
    """The manifest of the package at ``path`` (for the CLI's summary)."""
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(MANIFEST).decode("utf-8"))


def verify_archive(path: Path) -> list[str]:
    """Re-read the package at ``path``: every file the manifest lists is there with its size and
    SHA-256, and nothing else is. Returns the problems found in Finnish (empty: the package is whole)."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: ei ole luettava ZIP-paketti ({exc})"]
    with zf:
        names = zf.namelist()
        problems = [f"{name}: sama nimi on paketissa useasti" for name in sorted(_duplicates(names))]
        try:
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
            listed = {str(item["polku"]): item for item in manifest["tiedostot"]}
        except KeyError:
            return [*problems, f"{MANIFEST} puuttuu paketista tai siitä puuttuu tiedostoluettelo"]
        except (ValueError, TypeError, zipfile.BadZipFile) as exc:
            return [*problems, f"{MANIFEST} ei ole luettavissa ({exc})"]
        if manifest.get("muoto") != FORMAT:
            problems.append(f"{MANIFEST}: tuntematon muoto {manifest.get('muoto')!r} (odotettiin {FORMAT!r})")
        present = set(names)
        for name, item in listed.items():
            if name not in present:
                problems.append(f"{name}: tiedosto puuttuu paketista")
                continue
            try:
                size, digest = _measure(zf, name)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                problems.append(f"{name}: tiedostoa ei voi lukea ({exc})")
                continue
            if size != item.get("koko"):
                problems.append(
                    f"{name}: koko ei täsmää (manifestissa {item.get('koko')}, paketissa {size} tavua)"
                )
            if digest != item.get("sha256"):
                problems.append(f"{name}: SHA-256-tarkistussumma ei täsmää manifestiin")
        for name in sorted(present - set(listed) - {MANIFEST}):
            problems.append(f"{name}: tiedosto ei ole manifestissa")
    return problems


def _duplicates(names: list[str]) -> set[str]:
    return {name for name, count in Counter(names).items() if count > 1}


def _measure(zf: zipfile.ZipFile, name: str) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    with zf.open(name) as entry:
        while chunk := entry.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()
