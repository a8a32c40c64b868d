"""import-decisions: record many decisions from a CSV or XLSX file, all rows or none."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from pydantic import Field
from sqlalchemy.orm import Session

from council.config import get_settings
from council.services.bulk import import_decisions as import_file
from council.store.engine import engine_for
from flows.common import actor
from flows.record_decision import follow_on_messages
from flows.status import publish_status


@task(name="import-file")
def import_file_task(path: str) -> int:
    settings = get_settings()
    with Session(engine_for(settings)) as session, session.begin():
        return import_file(session=session, proposal_id=settings.proposal_id, path=Path(path), actor=actor())


@flow(
    name="import-decisions",
    description="Tuo päätökset CSV- tai XLSX-tiedostosta. Jos yksikin rivi on virheellinen, mitään ei tallenneta.",
)
def import_decisions(
    tiedosto: str = Field(  # noqa: B008
        title="Tiedosto", description="Polku CSV- tai XLSX-tiedostoon työntekijän koneella"
    ),
) -> int:
    count = import_file_task(tiedosto)
    get_run_logger().info("Tuotu %d päätöstä tiedostosta %s", count, tiedosto)
    follow_on_messages()
    publish_status()
    return count
