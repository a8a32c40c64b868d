"""PDF/A copies of generated documents through LibreOffice headless.

Registries ask for PDF: by default (``COUNCIL_ATTACH_PDF`` unset) every DOCX gets a PDF/A-2b copy
where LibreOffice is installed, and where it is not the messages carry DOCX only and a Finnish
warning says so once per process (:data:`NO_LIBREOFFICE_WARNING`). ``COUNCIL_ATTACH_PDF=true``
makes PDF copies a must (a missing LibreOffice is then an error naming the package), ``false`` turns
them off.

The PDF is PDF/A-2b (archivable; fonts embedded), tagged (structure for screen readers: headings,
lists, tables, reading order) and keeps the headings as bookmarks; its title and language come from
the DOCX's core properties and default language, and viewers show the title rather than the file name.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from council.config import Settings
from council.errors import ConfigurationError, CouncilError
from council.paths import write_atomic

log = logging.getLogger(__name__)

#: writer_pdf_Export options, in the JSON form ``soffice --convert-to`` takes (LibreOffice 7.4+):
#: PDF/A-2b, tagged, headings as bookmarks, the document title shown in the viewer's title bar.
PDF_EXPORT_OPTIONS = {
    "SelectPdfVersion": {"type": "long", "value": "2"},
    "UseTaggedPDF": {"type": "boolean", "value": "true"},
    "ExportBookmarks": {"type": "boolean", "value": "true"},
    "DisplayPDFDocumentTitle": {"type": "boolean", "value": "true"},
}
PDFA_FILTER = "pdf:writer_pdf_Export:" + json.dumps(PDF_EXPORT_OPTIONS, separators=(",", ":"))

NO_LIBREOFFICE_WARNING = (
    "LibreOffice puuttuu: viestien liitteet lähetetään vain DOCX-muodossa ilman PDF/A-kopioita, "
    "vaikka kirjaamot pyytävät PDF-muotoa. Asenna paketti libreoffice-writer-nogui (Debian/Ubuntu), "
    "tai aseta COUNCIL_ATTACH_PDF=false, jos PDF-kopioita ei haluta."
)
_warned = False


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdfa(documents: list[Path], folder: Path | None = None, *, timeout: float | None = None) -> list[Path]:
    """PDF/A-2b copies of ``documents`` through LibreOffice headless (written beside them by default,
    or into ``folder``), in the order given.

    One LibreOffice run converts them all (each run costs seconds to start): they are converted into
    a fresh folder and moved into place, so a PDF left by an earlier run never passes for a new one.
    Raises :class:`ConfigurationError` with install instructions when LibreOffice is missing.
    """
    binary = soffice()
    if binary is None:
        raise ConfigurationError(
            "PDF/A-kopiot vaativat LibreOfficen: asenna paketti libreoffice-writer-nogui "
            "(Debian/Ubuntu) tai aseta COUNCIL_ATTACH_PDF=false."
        )
    # LibreOffice writes <stem>.pdf into one folder: documents with the same name go in later runs.
    runs: list[list[Path]] = []
    for doc in documents:
        run = next((r for r in runs if all(d.stem != doc.stem for d in r)), None)
        if run is None:
            runs.append(run := [])
        run.append(doc)
    made: dict[Path, Path] = {}
    for docs in runs:
        with tempfile.TemporaryDirectory(prefix="council-lo-") as work:
            converted = Path(work) / "pdf"
            result = subprocess.run(
                [
                    binary,
                    f"-env:UserInstallation=file://{Path(work) / 'profile'}",
                    "--headless",
                    "--convert-to",
                    PDFA_FILTER,
                    "--outdir",
                    str(converted),
                    *map(str, docs),
                ],
                capture_output=True,
                text=True,
                timeout=timeout or 120 + 10 * len(docs),
            )
            for doc in docs:
                pdf = converted / (doc.stem + ".pdf")
                if result.returncode != 0 or not pdf.is_file():
                    raise CouncilError(
                        f"LibreOffice ei tuottanut PDF-tiedostoa {pdf.name}: {result.stderr[-500:]}"
                    )
                made[doc] = write_atomic((folder or doc.parent) / pdf.name, pdf.read_bytes())
    return [made[doc] for doc in documents]


def pdf_warning(settings: Settings) -> str | None:
    """The warning to show when PDF copies are wanted by default but LibreOffice is missing."""
    if settings.attach_pdf is None and soffice() is None:
        return NO_LIBREOFFICE_WARNING
    return None


def with_pdf_copies(settings: Settings, documents: list[Path]) -> list[Path]:
    """``documents`` plus their PDF/A copies: by default where LibreOffice is installed (DOCX only
    and a logged warning where it is not), always with ``COUNCIL_ATTACH_PDF=true``, never with false."""
    global _warned
    if settings.attach_pdf is False or not documents:
        return documents
    warning = pdf_warning(settings)
    if warning:
        if not _warned:
            log.warning(warning)
            _warned = True
        return documents
    return [*documents, *to_pdfa(documents)]


def batch_pdf_copies(settings: Settings, documents: list[Path]) -> Callable[[list[Path]], list[Path]]:
    """PDF/A copies of all ``documents`` in one LibreOffice run (as :func:`with_pdf_copies` decides);
    returns what gives any of them with their copies, for one message at a time."""
    copies = set(with_pdf_copies(settings, documents)) - set(documents) if documents else set()
    return lambda paths: [*paths, *(p.with_suffix(".pdf") for p in paths if p.with_suffix(".pdf") in copies)]
