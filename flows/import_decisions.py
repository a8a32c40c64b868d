"""import-decisions: record many decisions from a CSV or XLSX file, all rows or none."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import State
from pydantic import Field
from sqlalchemy.orm import Session

from council.config import get_settings
from council.errors import INPUT_ERRORS
from council.rendering.run_reports import import_summary
from council.services.bulk import import_decisions as import_file
from council.store.engine import engine_for
from flows.common import (
    ON_FAILURE,
    ProposalTitle,
    actor,
    for_chosen_proposal,
    form_title,
    refuse,
    report_done,
)
from flows.record_decision import follow_on_messages
from flows.status import publish_status
from models.results import Refusal


@task(name="import-file")
def import_file_task(path: str) -> int | Refusal:
    """All rows or none: a file with any bad row is returned as a Refusal listing every problem."""
    settings = get_settings()
    try:
        with Session(engine_for(settings)) as session, session.begin():
            return import_file(
                session=session, proposal_id=settings.proposal_id, path=Path(path), actor=actor()
            )
    except INPUT_ERRORS as exc:
        return exc.refusal()
    except OSError as exc:
        return Refusal(
            what_happened=f"Tiedostoa {path} ei voi lukea: {exc.strerror or exc}.",
            what_to_do="Tarkista polku: tiedoston on oltava työntekijän koneella, esim. /srv/council/tuonti/paatokset.xlsx.",
        )


@flow(
    name="import-decisions",
    description="Tuo päätökset CSV- tai XLSX-tiedostosta. Jos yksikin rivi on virheellinen, mitään ei tallenneta.",
    **ON_FAILURE,
)
@for_chosen_proposal
def import_decisions(
    tiedosto: Annotated[
        str,
        Field(
            min_length=1,
            max_length=1000,
            pattern=r"^.*\.([cC][sS][vV]|[xX][lL][sS][xX])\s*$",
        ),
        form_title(
            "Tiedosto",
            "Polku CSV- tai XLSX-tiedostoon työntekijän koneella, esim. /srv/tuonti/paatokset.xlsx",
        ),
    ],
    esitys: Annotated[ProposalTitle, form_title("Esitys", "Minkä esityksen päätökset tiedostossa ovat. Tyhjä = ainoa seurannassa oleva esitys")] = "",  # type: ignore[valid-type]
) -> int | State:
    count = import_file_task(tiedosto.strip())
    if isinstance(count, Refusal):
        return refuse(count)
    get_run_logger().info("Tuotu %d päätöstä tiedostosta %s", count, tiedosto)
    follow_on = follow_on_messages()
    publish_status()
    report_done(import_summary(tiedosto, count, sent=follow_on.sent, settings=get_settings()))
    return count
