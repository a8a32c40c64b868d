"""PDF/A copies of generated documents through LibreOffice headless.

LibreOffice is optional: without it the service still renders DOCX; asking for PDF then fails with a
message naming the package to install and the setting that turns PDF copies off.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from council.config import Settings
from council.errors import ConfigurationError, CouncilError

#: LibreOffice's PDF export filter with PDF/A-2b (SelectPdfVersion 2).
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdfa(documents: list[Path], folder: Path | None = None, *, timeout: float = 300) -> list[Path]:
    """PDF/A-2b copies of ``documents`` through LibreOffice headless (written beside them by default).

    Raises :class:`ConfigurationError` with install instructions when LibreOffice is missing.
    """
    binary = soffice()
    if binary is None:
        raise ConfigurationError(
            "PDF/A-kopiot vaativat LibreOfficen: asenna paketti libreoffice-writer-nogui "
            "(Debian/Ubuntu) tai aseta COUNCIL_ATTACH_PDF=false."
        )
    out = []
    by_folder: dict[Path, list[Path]] = {}
    for doc in documents:
        by_folder.setdefault(folder or doc.parent, []).append(doc)
    for target, docs in by_folder.items():
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="council-lo-") as profile:
            result = subprocess.run(
                [
                    binary,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    PDFA_FILTER,
                    "--outdir",
                    str(target),
                    *map(str, docs),
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        for doc in docs:
            pdf = target / (doc.stem + ".pdf")
            if result.returncode != 0 or not pdf.is_file():
                raise CouncilError(
                    f"LibreOffice ei tuottanut PDF-tiedostoa {pdf.name}: {result.stderr[-500:]}"
                )
            out.append(pdf)
    return out


def with_pdf_copies(settings: Settings, documents: list[Path]) -> list[Path]:
    """``documents`` plus their PDF/A copies when ``COUNCIL_ATTACH_PDF`` is on."""
    if not settings.attach_pdf or not documents:
        return documents
    return [*documents, *to_pdfa(documents)]
