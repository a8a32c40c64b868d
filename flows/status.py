"""Shared task: publish the decision matrix as a keyed Prefect artifact."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact
from sqlalchemy.orm import Session

from council.config import get_settings
from council.db import make_engine
from council.tracking import matrix_markdown, status_matrix


@task(name="publish-status")
def publish_status() -> str:
    settings = get_settings()
    with Session(make_engine(settings.effective_database_url)) as session:
        markdown = matrix_markdown(status_matrix(session=session, proposal_id=settings.proposal_id))
    create_markdown_artifact(
        key=f"tilanne-{settings.proposal_id}",
        markdown=markdown,
        description="Päätösten tilanne: vastaanottajat × kohdat",
    )
    return markdown
