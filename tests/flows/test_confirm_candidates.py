"""confirm-candidates under Prefect's test harness: read-replies finds candidates in a minutes
extract, the form lists them with their evidence, a confirmed one is recorded with its liaison and
the duty description follows, a rejected one is not recorded, and a bad choice is refused in Finnish."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from prefect.states import State
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from council.services.forms import form_choices, with_choices
from council.store.engine import make_engine
from flows.candidates import CandidatesIn, confirm_candidates
from flows.replies import read_replies_flow
from models.tables import Decision, Message

pytestmark = pytest.mark.prefect
MINUTES = Path(__file__).parents[1] / "fixtures" / "minutes"


def _drop_extract(settings: Settings, body_id: str, fixture: str) -> None:
    with Session(make_engine(settings.effective_database_url)) as session:
        ours = session.scalar(select(Message.message_id).where(Message.body_id == body_id))
    reply = EmailMessage()
    reply["From"] = f"kirjaamo@{body_id}.example"
    reply["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    reply["Subject"] = "Pöytäkirjanote"
    reply["Message-ID"] = f"<ote-{body_id}@kirjaamo.example>"
    reply["In-Reply-To"] = ours
    reply.set_content((MINUTES / fixture).read_text())
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    (settings.inbox_dir / f"ote-{body_id}.eml").write_bytes(reply.as_bytes())


def test_candidates_are_confirmed_and_rejected_in_the_form(
    prefect_harness: None, settings: Settings, smtp_server: LocalSmtpServer
) -> None:
    assert CliRunner().invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    _drop_extract(settings, "jokioinen", "jokioinen-kh-45.txt")
    _drop_extract(settings, "humppila", "humppila-kh-112.txt")
    assert read_replies_flow()["candidates"] == 8

    labels = form_choices(settings)["candidates"]
    assert len(labels) == 8 and all(label.startswith("#") and "”" in label for label in labels)
    schema = with_choices(CandidatesIn.model_json_schema(), {"candidates": labels})
    assert schema["properties"]["vahvista"]["items"]["enum"] == labels  # the form offers exactly these
    jok_1 = next(label for label in labels if "Jokioisten kunta, kohta 1:" in label)
    jok_4 = next(label for label in labels if "Jokioisten kunta, kohta 4:" in label)
    hum_3 = next(label for label in labels if "Humppilan kunta, kohta 3:" in label)
    assert "Maija Mäkinen" in jok_1 and "Ehdotus hyväksyttiin" in jok_1

    # A liaison with no duties-point candidate confirmed: refused, nothing stored.
    refused = confirm_candidates(
        CandidatesIn(
            vahvista=[jok_4],
            yhdyshenkilo={
                "nimi": "Maija Mäkinen",
                "nimike": "koordinaattori",
                "sahkoposti": "maija@jokioinen.example",
                "tyoaika": "8 h/kk",
            },
        ),
        return_state=True,
    )
    assert isinstance(refused, State) and refused.is_failed() and "yhdyshenkilö" in refused.message.lower()
    # The same candidate in both lists: refused.
    both = confirm_candidates(CandidatesIn(vahvista=[jok_4], hylkaa=[jok_4]), return_state=True)
    assert both.is_failed() and "sekä vahvistettavissa että hylättävissä" in both.message

    done = confirm_candidates(
        CandidatesIn(
            vahvista=[jok_1, jok_4],
            hylkaa=[hum_3],
            syy="pykälä ei koske esitystä",
            yhdyshenkilo={
                "nimi": "Maija Mäkinen",
                "nimike": "hyvinvointikoordinaattori",
                "sahkoposti": "maija.makinen@jokioinen.example",
                "tyoaika": "8 h/kk",
            },
        )
    )
    assert len(done["done"]) == 3 and done["refused"] == []
    with Session(make_engine(settings.effective_database_url)) as session:
        cells = {
            (c.body_id, c.point_number): c
            for c in session.scalars(select(Decision).where(Decision.body_id.in_(["jokioinen", "humppila"])))
        }
        duty = session.scalar(
            select(Message.state).where(Message.body_id == "jokioinen", Message.kind == "duty_description")
        )
    assert cells[("jokioinen", 1)].liaison["email"] == "maija.makinen@jokioinen.example"
    assert cells[("jokioinen", 4)].outcome == "merkitty tiedoksi"
    assert cells[("humppila", 3)].outcome is None  # rejected: nothing recorded
    assert duty == "sent"
    left = form_choices(settings)["candidates"]
    assert len(left) == 5 and jok_1 not in left and hum_3 not in left
