"""Registries' replies read from the drop folder: matched to the body by our Message-IDs or the
sender's domain, the body's own case number stored once, every reply read once."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.delivery.smtpd import LocalSmtpServer
from council.services.replies import Reply, case_number
from council.store.engine import make_engine
from models.tables import Message, Recipient

runner = CliRunner()


def _reply(folder: Path, name: str, *, sender: str, subject: str, text: str, in_reply_to: str = "") -> Path:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{name}@kirjaamo.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(text)
    path = folder / f"{name}.eml"
    path.write_bytes(message.as_bytes())
    return path


def _case_numbers(settings: Settings) -> dict[str, str | None]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return dict(session.execute(select(Recipient.body_id, Recipient.case_number)).all())


def test_replies_store_each_bodys_case_number_once(
    settings: Settings, smtp_server: LocalSmtpServer, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    with Session(make_engine(settings.effective_database_url)) as session:
        ours = session.scalar(select(Message.message_id).where(Message.body_id == "jokioinen"))
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    # 1. an acknowledgement answering our message (a different sender address than the roster's)
    _reply(
        folder,
        "a1",
        sender="Jokioisten kunnan kirjaamo <asiakirjat@jokioinen.example>",
        subject="Vastaanottokuittaus",
        text="Asia on kirjattu.\nAsianumero: JOK/45/00.01.02/2026\n",
        in_reply_to=ours,
    )
    # 2. no references: the sender's domain names one body; the number is in the subject
    _reply(
        folder,
        "a2",
        sender="kirjaamo@tammela.example",
        subject="RE: Esitys (Dnro TAM 123/2026)",
        text="Kiitos.",
    )
    # 3. nobody we wrote to
    _reply(folder, "a3", sender="info@muualla.example", subject="Uutiskirje", text="Dnro 1/2026")
    # 4. matched, but no number
    _reply(folder, "a4", sender="kirjaamo@ypaja.example", subject="Vs: esitys", text="Kiitos viestistä.")

    result = runner.invoke(app, ["replies", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Jokioisten kunta: asianumero JOK/45/00.01.02/2026" in result.output
    assert "Tammelan kunta: asianumero TAM 123/2026" in result.output
    assert "Tunnistamaton: a3.eml" in result.output and "asianumeroa ei löytynyt" in result.output
    stored = _case_numbers(settings)
    assert stored["jokioinen"] == "JOK/45/00.01.02/2026" and stored["tammela"] == "TAM 123/2026"
    assert "muualla" not in str(stored)

    again = runner.invoke(app, ["replies", str(folder)])
    assert "Luettu 0 uutta vastausta (4 luettu jo aiemmin)" in again.output, again.output
    # a later reply with another number does not overwrite the stored one silently
    _reply(
        folder,
        "a5",
        sender="kirjaamo@jokioinen.example",
        subject="Dnro JOK/99/2026",
        text="",
        in_reply_to=ours,
    )
    third = runner.invoke(app, ["replies", str(folder)])
    assert "eri asianumero JOK/99/2026" in third.output
    assert _case_numbers(settings)["jokioinen"] == "JOK/45/00.01.02/2026"
    history = runner.invoke(app, ["history", "jokioinen"]).output
    assert "vastaus luettu" in history


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Dnro JOK/45/2026", "JOK/45/2026"),
        ("D:no 12/2026", "12/2026"),
        ("asianumero 123/00.04.01/2026", "123/00.04.01/2026"),
        ("Diaarinumero: FSHKY/2026/17.", "FSHKY/2026/17"),
        ("Ärendets diarienummer: 2026-17 (Ypäjä)", "2026-17"),
        ("Asiatunnus KS 2026/44", "KS 2026/44"),
        ("Kiitos viestistä, asia käsitellään myöhemmin.", None),
        ("Diaarinumero annetaan myöhemmin.", None),
    ],
)
def test_case_numbers_as_registries_write_them(text: str, number: str | None) -> None:
    reply = Reply(path=Path("x.eml"), message_id="<x>", sender="", subject="", text=text, refers_to=())
    assert case_number(reply) == number


def test_a_missing_folder_is_a_message(settings: Settings, tmp_path: Path) -> None:
    result = runner.invoke(app, ["replies", str(tmp_path / "ei-ole")])
    assert result.exit_code == 2 and "kansiota ei ole" in result.output


def test_the_local_smtp_server_drops_mail_to_the_committee_into_the_inbox(tmp_path: Path) -> None:
    """Locally a reply can be tried end to end: mail to the committee's address lands in the drop folder."""
    import smtplib

    from tests.conftest import free_port

    inbox = tmp_path / "saapuneet"
    server = LocalSmtpServer(
        tmp_path / "mail", port=free_port(), inbox=inbox, inbox_address="Valiokunta@forssanseutu.example"
    )
    with server, smtplib.SMTP(server.host, server.port) as client:
        client.sendmail(
            "kirjaamo@jokioinen.example", ["valiokunta@forssanseutu.example"], b"Subject: Dnro 1/2026\r\n\r\nx\r\n"
        )
        client.sendmail("a@b.example", ["kirjaamo@tammela.example"], b"Subject: muu\r\n\r\nx\r\n")
    assert len(server.messages()) == 2
    [dropped] = list(inbox.glob("*.eml"))
    assert b"Dnro 1/2026" in dropped.read_bytes()


def test_the_committees_own_diary_number_quoted_back_is_not_the_bodys() -> None:
    """A reply's subject quotes ours ("Re: … (Dnro FSHKY/245/…)"): the body's number is the next one."""
    ours = frozenset({"FSHKY/245/00.04.01/2026"})
    reply = Reply(
        path=Path("x.eml"),
        message_id="<x>",
        sender="",
        subject="Re: Muistutus: Järjestöyhteistyön malli (Dnro FSHKY/245/00.04.01/2026)",
        text="Asia on kirjattu. Asianumero TAM/77/2026",
        refers_to=(),
    )
    assert case_number(reply, ours) == "TAM/77/2026"
    assert case_number(reply) == "FSHKY/245/00.04.01/2026"  # without knowing ours, the first one
    only_ours = Reply(path=Path("y.eml"), message_id="<y>", sender="", subject=reply.subject, text="Kiitos.", refers_to=())
    assert case_number(only_ours, ours) is None
