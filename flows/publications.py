"""read-publications: the bodies' agendas and minutes, once a day: the items that concern our
proposals become candidates for the coordinator (confirm-candidates)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from council.config import get_settings
from council.services.publications import PublicationsReport, read_publications
from flows.common import ON_FAILURE, actor, push_choices, report_done


@task(name="read-publications")
def read_publications_task() -> PublicationsReport:
    # Not retried in place: the HTTP client retries each page, and tomorrow's run is the next try.
    return read_publications(get_settings(), actor=actor())


@flow(
    name="read-publications",
    description="Lukee toimielinten esityslistat ja pöytäkirjat ja ehdottaa löydetyt päätökset vahvistettaviksi.",
    **ON_FAILURE,
)
def read_publications_flow() -> dict:
    report = read_publications_task()
    logger = get_run_logger()
    for line in report.lines:
        logger.info(line)
    for name, why in report.failed.items():
        logger.warning("%s: julkaisua ei voitu lukea: %s", name, why)
    report_done("\n".join(["## Toimielinten julkaisut", "", *[f"- {line}" for line in report.lines]]))
    if report.candidates:
        push_choices(get_settings())  # the confirm-candidates form lists the new findings
    return {"candidates": report.candidates, "failed": report.failed, "lines": report.lines}
