"""documents: per-document time of the zip-copy floor, naive docxtpl and the compiled renderer."""

from __future__ import annotations

import io
import statistics
import zipfile
from datetime import date

from docxtpl import DocxTemplate

from benchmarks.common import Ratio, Section, interleaved
from council.config import PROJECT_ROOT
from council.content.loading import load_proposal, load_roster
from council.rendering.contexts import proposal_context
from council.rendering.docx_fast import CompiledDocxTemplate
from council.rendering.environment import PROPOSAL_TEMPLATE, TEMPLATES_DIR, docx_environment

DAY = date(2021, 2, 15)


def run(*, documents: int = 60, repeats: int = 5) -> Section:
    section = Section("documents", f"{PROPOSAL_TEMPLATE}, {documents} documents per round, {repeats} rounds")
    path = TEMPLATES_DIR / PROPOSAL_TEMPLATE
    proposal = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
    roster = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml")
    contexts = [
        proposal_context(proposal, roster.bodies[i % len(roster.bodies)], on=DAY) for i in range(documents)
    ]
    dumped = [c.model_dump() for c in contexts]

    def floor() -> None:
        # The least any renderer must do: read every member of the template, write a new zip.
        for _ in range(documents):
            with zipfile.ZipFile(path) as zin:
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w") as zout:
                    for info in zin.infolist():
                        zout.writestr(info, zin.read(info))

    def naive() -> None:
        # What council.rendering.render_docx does today: load, render (compiles), save.
        for context in contexts:
            tpl = DocxTemplate(path)
            tpl.render(context.model_dump(), jinja_env=docx_environment(), autoescape=True)
            tpl.save(io.BytesIO())

    compile_times = interleaved({"compile": lambda: CompiledDocxTemplate(path, docx_environment())}, 3)
    template = CompiledDocxTemplate(path, docx_environment())

    def compiled() -> None:
        for context in contexts:
            template.render_bytes(context.model_dump())

    def render_only() -> None:
        for context in dumped:
            template.render_parts(context)

    naive()  # warm-up: imports, first-use caches
    compiled()
    cpu: dict[str, list[float]] = {}
    times = interleaved(
        {"floor": floor, "naive": naive, "compiled": compiled, "render": render_only}, repeats, cpu
    )
    per_doc = {name: statistics.median(values) / documents * 1000 for name, values in times.items()}
    cpu_doc = {name: statistics.median(values) / documents * 1000 for name, values in cpu.items()}

    section.measure("floor_ms", "floor: copy the template's zip parts", per_doc["floor"], "ms/doc")
    section.measure("naive_ms", "naive: docxtpl load + render + save", per_doc["naive"], "ms/doc")
    section.measure(
        "compiled_ms", "compiled: CompiledDocxTemplate.render_bytes", per_doc["compiled"], "ms/doc"
    )
    section.measure(
        "render_only_ms", "  of which Jinja render + XML post-processing", per_doc["render"], "ms/doc"
    )
    section.measure(
        "compile_ms",
        "compile once (per template and process)",
        statistics.median(compile_times["compile"]) * 1000,
        "ms",
    )
    section.ratios += [
        Ratio(
            "compiled/floor",
            per_doc["compiled"] / per_doc["floor"],
            "<= 2.0",
            "cost over copying the zip",
            cpu_doc["compiled"] / cpu_doc["floor"],
        ),
        Ratio(
            "naive/compiled",
            per_doc["naive"] / per_doc["compiled"],
            ">= 4.0",
            "speed-up over docxtpl",
            cpu_doc["naive"] / cpu_doc["compiled"],
        ),
    ]
    section.measurements["naive_over_floor"] = {
        "label": "naive/floor (for reference)",
        "value": per_doc["naive"] / per_doc["floor"],
        "unit": "x",
    }
    section.notes.append(
        "the floor recompresses every member; the compiled renderer copies the unchanged members in "
        "their stored compressed form and compresses only document.xml and header1.xml, so it can be "
        "faster than the floor"
    )
    return section
