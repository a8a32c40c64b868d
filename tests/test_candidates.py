"""Decision intake from replies (issue 16): minutes extracts read into candidate decisions, which
the coordinator confirms (recorded exactly as a typed decision) or rejects; never recorded silently.

The extracts in tests/fixtures/minutes/ are typed the way registries write them (see the README
there); one is also laid out as a DOCX and turned into PDF by LibreOffice, as registries send them.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings
from council.intake.minutes import read_item
from council.store.engine import make_engine
from models.enums import CandidateState, EventKind, Outcome
from models.tables import Candidate, Decision, Event, Message

runner = CliRunner()
MINUTES = Path(__file__).parent / "fixtures" / "minutes"
H, HA, HM, T, P, PO = (
    Outcome.hyvaksytty,
    Outcome.hyvaksytty_aanestys,
    Outcome.hyvaksytty_muutettuna,
    Outcome.merkitty_tiedoksi,
    Outcome.palautettu,
    Outcome.poydalle,
)


def _found(text: str) -> dict[int, Outcome]:
    return {f.point: f.outcome for f in read_item(text, points=4, duties_point=1).found}


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        # "Ehdotus hyväksyttiin" approves the officer's proposal: its points, when it names ours.
        ("Päätösehdotus: Kh hyväksyy esityksen.\nPäätös: Ehdotus hyväksyttiin.", {1: H, 2: H, 3: H, 4: H}),
        ("Päätösehdotus: Kh hyväksyy kohdat 1 ja 2.\nPäätös: Hyväksyttiin.", {1: H, 2: H}),
        (
            "Päätösehdotus: Kh hyväksyy esityksen.\nPäätös: Ehdotus hyväksyttiin äänestyksen jälkeen.",
            {p: HA for p in (1, 2, 3, 4)},
        ),
        (
            "Päätös: Kunnanhallitus hyväksyi kohdat 1-3 ja palautti kohdan 4 valmisteluun.",
            {1: H, 2: H, 3: H, 4: P},
        ),
        (
            "Päätös: Kohdat 1 ja 2 hyväksyttiin. Kohta 3 ja kohta 4 jätettiin pöydälle.",
            {1: H, 2: H, 3: PO, 4: PO},
        ),
        (
            "Päätös: Esityksen 1. kohta hyväksyttiin. Muilta osin esitys merkittiin tiedoksi.",
            {1: H, 2: T, 3: T, 4: T},
        ),
        ("Päätös: Kunnanhallitus hyväksyi esityksen muutettuna.", {1: HM, 2: HM, 3: HM, 4: HM}),
        (
            "Päätös: Äänestyksen jälkeen kunnanhallitus hyväksyi esityksen äänin 6–3.",
            {p: HA for p in (1, 2, 3, 4)},
        ),
        ("Päätös: Kunnanhallitus hylkäsi esityksen kohdan 2.", {2: Outcome.hylatty}),
        ("Päätös: Kunnanhallitus ei hyväksynyt kohtaa 3.", {3: Outcome.hylatty}),
        (
            "Beslut: Kommunstyrelsen godkände punkterna 1–3 och återremitterade punkt 4.",
            {1: H, 2: H, 3: H, 4: P},
        ),
        ("Beslut: Ärendet bordlades.", {1: PO, 2: PO, 3: PO, 4: PO}),
        # Precision: what cannot be read safely yields nothing.
        ("Päätös: Kunnanhallitus hyväksyi esityksen ja palautti kohdan 4 valmisteluun.", {}),
        ("Päätös: Kunnanhallitus hyväksyi kohdan 7.", {}),
        ("Päätös: Kohta 2 hyväksyttiin. Kohta 2 palautettiin valmisteluun.", {}),
        ("Päätös: Kohdat 1-2 hyväksyttiin. Kunnanhallitus käsitteli myös kohtaa 9 ja hylkäsi sen.", {}),
        ("Päätös: Päätös lähetetään tiedoksi hyvinvointivaliokunnalle.", {}),
        ("Päätös: Ehdotus hyväksyttiin.", {}),  # the proposal it approves is not in the text
        ("Päätösehdotus: Kh päättää nimetä yhdyshenkilön.\nPäätös: Ehdotus hyväksyttiin yksimielisesti.", {}),
        ("Päätösehdotus: Kh hyväksyy esityksen.\nPäätös: Ehdotus hyväksyttiin. Kohta 2 palautettiin.", {}),
        ("Päätösehdotus: Kunnanhallitus hyväksyy esityksen.", {}),
        # Negations are rejections, not approvals.
        (
            "Päätös: Kunnanhallitus päätti jättää esityksen hyväksymättä.",
            {p: Outcome.hylatty for p in (1, 2, 3, 4)},
        ),
        (
            "Päätös: Kunnanhallitus päätti, ettei esitystä hyväksytä.",
            {p: Outcome.hylatty for p in (1, 2, 3, 4)},
        ),
        ("Beslut: Framställningen godkändes inte.", {p: Outcome.hylatty for p in (1, 2, 3, 4)}),
        ("Päätös: Kunnanhallitus hyväksyi kohdan 2 sillä muutoksella, että työaika on 8 h/kk.", {2: HM}),
        (
            "Päätös: Kunnanhallitus hyväksyi esityksen yksimielisesti ilman äänestystä.",
            {p: H for p in (1, 2, 3, 4)},
        ),
        (
            "Päätösehdotus: Kh hyväksyy esityksen kohdat 1–3 ja hylkää kohdan 4.\n"
            "Päätös: Hyväksyttiin esityksen mukaisesti.",
            {1: H, 2: H, 3: H, 4: Outcome.hylatty},
        ),
        # Exceptions, proposals to another body, futures and conditions, other documents' points:
        # nothing.
        ("Päätös: Kunnanhallitus hyväksyi esityksen lukuun ottamatta kohtaa 4.", {}),
        ("Päätös: Kunnanhallitus hyväksyi esityksen muilta kuin kohdan 4 osalta.", {}),
        ("Beslut: Nämnden godkände framställningen med undantag av punkt 4.", {}),
        ("Päätös: Kunnanhallitus päätti esittää kunnanhallitukselle, että esitys hyväksytään.", {}),
        ("Päätös: Kunnanhallitus päätti lähettää esityksen kunnanhallitukselle hyväksyttäväksi.", {}),
        ("Päätös: Kohta 4 hyväksytään myöhemmin talousarvion yhteydessä.", {}),
        ("Päätös: Kohta 4 käsitellään uudelleen, kun talousarvio on hyväksytty.", {}),
        ("Päätös: Kohdat 1-3 hyväksyttiin. Kohta 4 palautettiin liitteen kohdan 3 mukaisesti.", {}),
        ("Päätös: Kh palautti kohdan 4 valmisteluun hallintosäännön 30 §:n kohdan 2 perusteella.", {}),
        # A second review's classes. Negations in other words, exceptions written together:
        ("Päätös: Kunnanhallitus ei voi hyväksyä esitystä.", {p: Outcome.hylatty for p in (1, 2, 3, 4)}),
        ("Beslut: Kommunstyrelsen godkände ej framställningen.", {p: Outcome.hylatty for p in (1, 2, 3, 4)}),
        (
            "Päätös\nKunnanhallitus jätti esityksen hyväksy-\nmättä.",
            {p: Outcome.hylatty for p in (1, 2, 3, 4)},
        ),
        ("Päätös: Kunnanhallitus hyväksyi esityksen kohtaa 4 lukuunottamatta.", {}),
        ("Beslut: Kommunstyrelsen godkände framställningen utom punkt 4.", {}),
        ("Päätös\nKunnanhallitus päätti esit-\ntää valtuustolle, että esitys hyväksy-\ntään.", {}),
        # a counter-proposal adopted, a motion that failed, a qualified approval
        ("Päätösehdotus: Kh hyväksyy esityksen.\nPäätös: Kunnanhallitus hyväksyi Virtasen ehdotuksen.", {}),
        (
            "Päätösehdotus: Kh hyväksyy esityksen.\nPäätös: Kunnanhallitus hyväksyi vastaehdotuksen äänin 5-4.",
            {},
        ),
        ("Päätös: Kh hyväksyi kohdat 1-3. Kohdan 4 hylkäämistä ehdotettiin, mutta se raukesi.", {}),
        ("Päätös: Kunnanhallitus hyväksyi esityksen periaatteessa.", {}),
        ("Päätös: Kunnanhallitus hyväksyi esityksen edellyttäen, että rahoitus järjestyy.", {}),
        # the officer's proposal rejected or changed: not our proposal's outcome
        ("Päätösehdotus: Kh merkitsee esityksen tiedoksi.\nPäätös: Ehdotus hylättiin.", {}),
        ("Päätösehdotus: Kh hylkää esityksen.\nPäätös: Ehdotus hyväksyttiin muutettuna.", {}),
        ("Päätösehdotus: Kh palauttaa esityksen.\nPäätös: Kh hyväksyi esittelijän muutetun ehdotuksen.", {}),
        # points it cannot read
        ("Päätös: Kunnanhallitus hyväksyi esityksen kohdat I–III.", {}),
        ("Päätös: Kunnanhallitus hyväksyi esityksen kaksi ensimmäistä kohtaa.", {}),
        (
            "Päätös: Kunnanhallitus hyväksyi kohdat 1.–3. Muilta osin esitys palautettiin.",
            {1: H, 2: H, 3: H, 4: P},
        ),
        ("Päätös: Kh hyväksyi kohdat 1—3. Muilta osin esitys merkittiin tiedoksi.", {1: H, 2: H, 3: H, 4: T}),
        ("Päätös: Kunnanhallitus hyväksyi kohdat 1–3 ja 4 äänestyksen jälkeen.", {}),
        # another body's or an earlier meeting's decision
        ("Päätös: Kunnanvaltuusto hyväksyi esityksen.", {}),
        ("Päätös: Kunnanhallitus totesi, että valtuusto on jo hyväksynyt esityksen.", {}),
        ("Päätös: Kunnanhallitus hyväksyi kohdan 1. Kohta 2 hylättiin edellisessä kokouksessa.", {}),
        ("Päätös: Kunnanhallitus hyväksyi kohdan 1 (kohta 2 hyväksytty 3.3.2021 § 12).", {}),
        ("Beslut: Fullmäktige har godkänt framställningen.", {}),
        # the decision part ends at "Käsittely"
        (
            "Päätös: Kunnanhallitus hyväksyi kohdat 1-3.\n\nKäsittely: Virtanen ehdotti kohdan 4 palauttamista.",
            {1: H, 2: H, 3: H},
        ),
        # votes
        ("Päätös: Kunnanhallitus hyväksyi esityksen äänestyksettä.", {p: H for p in (1, 2, 3, 4)}),
        ("Päätös: Kunnanhallitus hyväksyi esityksen 6 äänellä 3 vastaan.", {p: HA for p in (1, 2, 3, 4)}),
    ],
)
def test_decisions_as_minutes_write_them(decision: str, expected: dict[int, Outcome]) -> None:
    text = f"Kunnanhallitus 12.4.2021 § 45\n\nJärjestöyhteistyö\n\n{decision}\n\nMuutoksenhaku\n"
    assert _found(text) == expected


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("jokioinen-kh-45.txt", {1: H, 2: H, 3: H, 4: T}),
        ("humppila-kh-112.txt", {1: H, 2: H, 3: P, 4: PO}),
        ("tammela-kh-9-epaselva.txt", {}),
        ("ypaja-esityslista-60.txt", {}),
        ("fshky-yh-7-sv.txt", {1: HA, 2: HA, 3: HA, 4: HA}),
    ],
)
def test_each_recorded_extract(fixture: str, expected: dict[int, Outcome]) -> None:
    assert _found((MINUTES / fixture).read_text()) == expected


@pytest.mark.parametrize(
    ("header", "day", "section"),
    [
        ("Kunnanhallitus   Pöytäkirja 12.04.2021/Pykälä 45", "2021-04-12", 45),
        ("Kunnanhallitus 3.6.2021 § 112", "2021-06-03", 112),
        ("Kunnanhallitus 3.6.2021 112 §", "2021-06-03", 112),
        ("Kommunstyrelsen   Sammanträde 21.4.2021   § 7", "2021-04-21", 7),
        ("Kokouspäivämäärä 5.5.2021\n§ 12 Järjestöyhteistyö", "2021-05-05", 12),
    ],
)
def test_meeting_date_and_section_from_the_header(header: str, day: str, section: int) -> None:
    reading = read_item(f"{header}\n\nPäätös: Esitys hyväksyttiin.\n", points=4, duties_point=1)
    assert (str(reading.meeting_date), reading.section) == (day, section)


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("Järjestöyhdyshenkilöksi nimettiin vapaa-aikasihteeri Pekka Korhonen.", "Pekka Korhonen"),
        ("Järjestöyhdyshenkilöksi nimettiin Anna Hansen.", "Anna Hansen"),  # nominative: as written
        ("Kh päätti nimetä järjestöyhdyshenkilöksi koordinaattori Maija Mäkisen.", "Maija Mäkinen"),
        ("Kh päätti nimetä yhdyshenkilöksi Maija Mäkelän.", None),  # object form, nominative unknown
        ("Järjestöyhdyshenkilöksi nimettiin Maija Mäkinen Forssan Setlementistä.", None),
        ("Yhdyshenkilöksi nimettiin Maija Mäkisen sijaan Pekka Virtanen.", None),
        ("Järjestöjen yhdyshenkilöksi ehdottama Pekka Virtanen ei ole kunnan palveluksessa.", None),
        ("Till kontaktperson utsågs Anna Berg.", "Anna Berg"),
    ],
)
def test_the_liaison_only_where_the_minutes_name_one(sentence: str, name: str | None) -> None:
    text = f"Kunnanhallitus 12.4.2021 § 45\nPäätös: Kunnanhallitus hyväksyi esityksen. {sentence}\n"
    found = read_item(text, points=4, duties_point=1).found
    assert found and found[0].liaison_name == name


def test_which_items_concern_our_proposal() -> None:
    from council.intake.minutes import concerns

    title = "Esitys järjestöjen ja julkisen sektorin yhteistyömallista Forssan seudun hyvinvoinnin ja terveyden edistämistyön vahvistamiseksi"
    short, numbers = (
        "Järjestöjen ja julkisen sektorin yhteistyömalli",
        ("FSHKY/245/00.04.01/2026", "45/00.04.01/2026"),
    )

    def about(text: str) -> bool:
        return concerns(text, title=title, short_title=short, numbers=numbers)

    assert about("Valiokunnan esitys (Dnro FSHKY/245/00.04.01/2026)")
    assert about("Kunnan asianumero 45/00.04.01/2026.")
    assert about("Järjestöjen ja julkisen\nsektorin yhteistyömallista")  # inflected, over a line break
    # Neighbouring subjects and longer numbers are not ours.
    assert not about("Dnro 145/00.04.01/2026: järjestöavustukset")
    assert not about(
        "Alueellinen hyvinvointikertomus: hyvinvoinnin ja terveyden edistämisen yhteistyössä järjestöjen "
        "kanssa vahvistetaan Forssan seudun yhteistyötä"
    )


def test_an_item_handled_twice_is_read_from_its_last_handling() -> None:
    text = (
        "Kunnanvaltuusto, Pöytäkirja 15.06.2026/Pykälä 34\nEsitys\n\nKunnanhallitus 01.06.2026 § 120\n"
        "Päätösehdotus\nKunnanhallitus hyväksyy esityksen kohdat 1–4.\nPäätös\nEhdotus hyväksyttiin.\n\n"
        "Kunnanvaltuusto 15.06.2026 § 34\nPäätösehdotus\nValtuusto hyväksyy esityksen.\nPäätös\n"
        "Valtuusto palautti asian uudelleen valmisteltavaksi.\n"
    )
    reading = read_item(text, points=4, duties_point=1)
    assert (str(reading.meeting_date), reading.section, reading.deciding_body) == (
        "2026-06-15",
        34,
        "Kunnanvaltuusto",
    )
    assert {f.point: f.outcome for f in reading.found} == {p: P for p in (1, 2, 3, 4)}
    # A second handling with no header of its own: nothing.
    muddled = "Kh 1.6.2026 § 120\nPäätös: Asia pantiin pöydälle.\nPäätösehdotus: Kh hyväksyy esityksen.\nPäätös: Hyväksyttiin.\n"
    assert read_item(muddled, points=4, duties_point=1).found == []


def test_an_acknowledgement_is_no_agenda_and_the_meeting_date_is_the_sections() -> None:
    ack = (
        "Asia on kirjattu saapuneeksi 3.3.2026 (Dnro JOK/45/2026), ja se tuodaan kunnanhallituksen "
        "esityslistalle keväällä.\nKunnanhallituksen esityslista julkaistaan kunnan verkkosivuilla.\n"
    )
    assert not read_item(ack, points=4, duties_point=1).agenda
    checked = "Pöytäkirja tarkastettu ja nähtävänä 19.05.2026\nLautakunta 12.05.2026 § 45\nPäätös: Lautakunta hyväksyi esityksen."
    assert str(read_item(checked, points=4, duties_point=1).meeting_date) == "2026-05-12"
    named = "Kasvatus- ja opetuslautakunta 12.05.2026 § 45\nPäätös: Lautakunta hyväksyi esityksen."
    assert read_item(named, points=4, duties_point=1).deciding_body == "Kasvatus- ja opetuslautakunta"


def test_the_liaison_named_in_the_proposal_or_the_decision() -> None:
    jokioinen = read_item((MINUTES / "jokioinen-kh-45.txt").read_text(), points=4, duties_point=1)
    assert {f.point: f.liaison_name for f in jokioinen.found} == {
        1: "Maija Mäkinen",
        2: None,
        3: None,
        4: None,
    }
    humppila = read_item((MINUTES / "humppila-kh-112.txt").read_text(), points=4, duties_point=1)
    assert humppila.found[0].liaison_name == "Pekka Korhonen"
    # A proposal without a duty description: nobody is the liaison of any point.
    none = read_item((MINUTES / "humppila-kh-112.txt").read_text(), points=4, duties_point=None)
    assert all(f.liaison_name is None for f in none.found)


def _reply(
    folder: Path, name: str, *, sender: str, in_reply_to: str, text: str, attachment: Path | None
) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "hyvinvointivaliokunta@forssanseutu.example"
    message["Subject"] = "Pöytäkirjanote"
    message["Message-ID"] = f"<{name}@kirjaamo.example>"
    message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content(text)
    if attachment is not None:
        subtype = (
            "pdf"
            if attachment.suffix == ".pdf"
            else "vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        message.add_attachment(
            attachment.read_bytes(), maintype="application", subtype=subtype, filename=attachment.name
        )
    (folder / f"{name}.eml").write_bytes(message.as_bytes())


def _extract_pdf(text: Path, folder: Path) -> Path:
    """The typed extract laid out as a registry's DOCX, then made PDF by LibreOffice."""
    import subprocess

    document = docx.Document()
    for line in text.read_text().splitlines():
        document.add_paragraph(line)
    source = folder / f"{text.stem}.docx"
    document.save(source)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return folder / f"{text.stem}.pdf"


def _ours(settings: Settings, body_id: str) -> str:
    with Session(make_engine(settings.effective_database_url)) as session:
        return session.scalar(select(Message.message_id).where(Message.body_id == body_id))


def _candidates(settings: Settings) -> list[Candidate]:
    with Session(make_engine(settings.effective_database_url)) as session:
        return list(session.scalars(select(Candidate).order_by(Candidate.id)))


def _pending_on_dashboard(settings: Settings) -> dict[str, int]:
    from council.dashboard.build import build_dashboard

    with Session(make_engine(settings.effective_database_url)) as session:
        dashboard = build_dashboard(session=session, proposal_id=settings.proposal_id)
    return {b.body_id: b.pending_candidates for b in dashboard.bodies if b.pending_candidates}


def test_minutes_extracts_become_candidates_and_a_confirmed_one_is_a_recorded_decision(
    settings: Settings, tmp_path: Path, libreoffice: str
) -> None:
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    pdf = _extract_pdf(MINUTES / "jokioinen-kh-45.txt", tmp_path)
    _reply(
        folder,
        "jok",
        sender="kirjaamo@jokioinen.example",
        in_reply_to=_ours(settings, "jokioinen"),
        text="Liitteenä pöytäkirjanote.",
        attachment=pdf,
    )
    _reply(
        folder,
        "hum",
        sender="kirjaamo@humppila.example",
        in_reply_to=_ours(settings, "humppila"),
        text=(MINUTES / "humppila-kh-112.txt").read_text(),
        attachment=None,
    )
    _reply(
        folder,
        "tam",
        sender="kirjaamo@tammela.example",
        in_reply_to=_ours(settings, "tammela"),
        text=(MINUTES / "tammela-kh-9-epaselva.txt").read_text(),
        attachment=None,
    )
    read = runner.invoke(app, ["replies", str(folder)])
    assert read.exit_code == 0, read.output
    assert "Löydös vahvistettavaksi" in read.output and "lausetta ei tulkittu" in read.output

    found = {(c.body_id, c.point): c for c in _candidates(settings)}
    assert {k: Outcome(c.outcome) for k, c in found.items()} == {
        ("jokioinen", 1): H,
        ("jokioinen", 2): H,
        ("jokioinen", 3): H,
        ("jokioinen", 4): T,
        ("humppila", 1): H,
        ("humppila", 2): H,
        ("humppila", 3): P,
        ("humppila", 4): PO,
    }  # nothing for Tammela: its extract has a sentence that cannot be read safely
    first = found[("jokioinen", 1)]
    assert (str(first.meeting_date), first.section, first.deciding_body) == (
        "2021-04-12",
        45,
        "Jokioisten kunnanhallitus",
    )
    assert first.liaison_name == "Maija Mäkinen" and "hyväksyä esityksen kohdat 1–3" in first.evidence
    assert first.source == "jok.eml: jokioinen-kh-45.pdf"

    # Nothing is recorded before the coordinator confirms.
    with Session(make_engine(settings.effective_database_url)) as session:
        assert (
            session.scalar(
                select(Decision.outcome).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
            )
            is None
        )
    assert _pending_on_dashboard(settings) == {"jokioinen": 4, "humppila": 4}
    listing = runner.invoke(app, ["candidates"])
    assert f"#{first.id} Jokioisten kunta, kohta 1: hyväksytty ehdotuksen mukaisesti" in listing.output

    # Reading the folder again finds nothing new.
    assert "Löydös" not in runner.invoke(app, ["replies", str(folder)]).output
    assert len(_candidates(settings)) == 8

    confirmed = runner.invoke(
        app,
        [
            "confirm",
            str(first.id),
            "--liaison-name",
            "Maija Mäkinen",
            "--liaison-title",
            "hyvinvointikoordinaattori",
            "--liaison-email",
            "maija.makinen@jokioinen.example",
            "--liaison-work-time",
            "8 h/kk",
        ],
    )
    assert confirmed.exit_code == 0, confirmed.output
    rejected = runner.invoke(app, ["reject", str(found[("humppila", 3)].id), "--syy", "väärä pykälä"])
    assert rejected.exit_code == 0, rejected.output
    with Session(make_engine(settings.effective_database_url)) as session:
        cell = session.scalars(
            select(Decision).where(Decision.body_id == "jokioinen", Decision.point_number == 1)
        ).one()
        assert (cell.outcome, cell.section, cell.status) == (H.value, 45, "decided")
        assert cell.liaison["name"] == "Maija Mäkinen" and "jok.eml" in (cell.note or "")
        assert (
            session.scalar(
                select(Decision.outcome).where(Decision.body_id == "humppila", Decision.point_number == 3)
            )
            is None
        )
        kinds = [
            e.kind
            for e in session.scalars(select(Event).where(Event.body_id == "jokioinen").order_by(Event.id))
        ]
        assert EventKind.candidate_confirmed.value in kinds and EventKind.status_changed.value in kinds
        # The duty description follows as for a typed decision.
        duty = session.scalar(
            select(Message).where(Message.body_id == "jokioinen", Message.kind == "duty_description")
        )
        assert duty is not None
        states = dict(session.execute(select(Candidate.id, Candidate.state)).all())
    assert states[first.id] == CandidateState.confirmed.value
    assert states[found[("humppila", 3)].id] == CandidateState.rejected.value
    assert _pending_on_dashboard(settings) == {"jokioinen": 3, "humppila": 3}
    from council.services.committee import write_dashboard_files

    html = " ".join(write_dashboard_files(settings)[0].read_text(encoding="utf-8").split())
    assert "3 löydöstä vahvistettavana" in html
    assert (
        '<span class="big">6</span> vastauksista tai julkaisuista löydettyä päätöstä odottaa vahvistusta'
        in html
    )
    assert "julkaisulähde ei vastaa" not in html
    again = runner.invoke(app, ["confirm", str(first.id)])
    assert again.exit_code != 0 and "on jo vahvistettu" in again.output
    unknown = runner.invoke(app, ["confirm", "9999"])
    assert unknown.exit_code != 0 and "Löydöstä #9999 ei ole" in unknown.output


def test_an_agenda_candidate_keeps_reminders_quiet_once_confirmed(settings: Settings, tmp_path: Path) -> None:
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    _reply(
        folder,
        "ypa",
        sender="kirjaamo@ypaja.example",
        in_reply_to=_ours(settings, "ypaja"),
        text=(MINUTES / "ypaja-esityslista-60.txt").read_text(),
        attachment=None,
    )
    assert runner.invoke(app, ["replies", str(folder)]).exit_code == 0
    (agenda,) = _candidates(settings)
    assert (agenda.kind, agenda.point, str(agenda.meeting_date)) == ("agenda", None, "2021-04-26")
    assert runner.invoke(app, ["confirm", str(agenda.id)]).exit_code == 0
    with Session(make_engine(settings.effective_database_url)) as session:
        cells = session.scalars(select(Decision).where(Decision.body_id == "ypaja")).all()
    assert {(c.status, str(c.meeting_date)) for c in cells} == {("on_agenda", "2021-04-26")}


WHOLE_MINUTES = """TAMMELAN KUNTA   PÖYTÄKIRJA
Kunnanhallitus   Kokous 20.4.2021

Kh § 8 Liikuntapaikkojen vuorojen jakoperusteet
Päätösehdotus: Kunnanhallitus hyväksyy esityksen jakoperusteista.
Päätös: Ehdotus hyväksyttiin.

§ 9 Järjestöjen ja julkisen sektorin yhteistyömalli (Dnro FSHKY/245/00.04.01/2026)
Päätösehdotus: Kunnanhallitus hyväksyy esityksen.
Päätös: Asia jätettiin pöydälle.

§ 10 Kunnan talousarvion toteutuminen
Päätös: Kunnanhallitus merkitsi toteutuman tiedoksi.
"""


def test_in_minutes_of_a_whole_meeting_only_our_item_is_read(settings: Settings, tmp_path: Path) -> None:
    """A PDF of the whole meeting: the items before and after ours have decisions of their own;
    only § 9 (ours) yields candidates, with its own section."""
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    minutes = tmp_path / "kh-20-4-2021.txt"
    minutes.write_text(WHOLE_MINUTES, encoding="utf-8")
    _reply(
        folder,
        "tam",
        sender="kirjaamo@tammela.example",
        in_reply_to=_ours(settings, "tammela"),
        text="Liitteenä kokouksen pöytäkirja.",
        attachment=None,
    )
    message = (folder / "tam.eml").read_bytes()
    import email
    import email.policy

    parsed = email.message_from_bytes(message, policy=email.policy.default)
    parsed.add_attachment(minutes.read_bytes(), maintype="text", subtype="plain", filename=minutes.name)
    (folder / "tam.eml").write_bytes(parsed.as_bytes())
    assert runner.invoke(app, ["replies", str(folder)]).exit_code == 0
    found = {(c.point, Outcome(c.outcome), c.section) for c in _candidates(settings)}
    assert found == {(p, PO, 9) for p in (1, 2, 3, 4)}


def test_an_agenda_never_overwrites_a_decision_of_that_meeting(settings: Settings, tmp_path: Path) -> None:
    """Confirming a decision settles the pending agenda of that meeting; an agenda confirmed after
    a decision of that meeting was typed in is refused (it would put the decided point back)."""
    assert runner.invoke(app, ["send", "--today", "1.3.2021"]).exit_code == 0
    folder = tmp_path / "saapuneet"
    folder.mkdir()
    agenda_text = (MINUTES / "ypaja-esityslista-60.txt").read_text()
    minutes_text = (
        agenda_text.replace("Esityslista", "Pöytäkirja") + "\nPäätös: Kohta 2 jätettiin pöydälle.\n"
    )
    for name, text in (("ypa-1", agenda_text), ("ypa-2", minutes_text)):
        _reply(
            folder,
            name,
            sender="kirjaamo@ypaja.example",
            in_reply_to=_ours(settings, "ypaja"),
            text=text,
            attachment=None,
        )
    assert runner.invoke(app, ["replies", str(folder)]).exit_code == 0
    by_kind = {(c.kind, c.point): c for c in _candidates(settings)}
    assert set(by_kind) == {("agenda", None), ("decision", 2)}
    assert runner.invoke(app, ["confirm", str(by_kind[("decision", 2)].id)]).exit_code == 0
    states = {c.id: c.state for c in _candidates(settings)}
    assert states[by_kind[("agenda", None)].id] == "rejected"

    # Tammela: the agenda of 26.4. pending, then point 1 of that meeting typed in by hand.
    _reply(
        folder,
        "tam",
        sender="kirjaamo@tammela.example",
        in_reply_to=_ours(settings, "tammela"),
        text=agenda_text.replace("Ypäjän", "Tammelan"),
        attachment=None,
    )
    assert runner.invoke(app, ["replies", str(folder)]).exit_code == 0
    (agenda,) = [c for c in _candidates(settings) if c.body_id == "tammela"]
    typed = runner.invoke(
        app, ["record", "tammela", "1", "hylätty", "--date", "26.4.2021", "--section", "60"]
    )
    assert typed.exit_code == 0, typed.output
    refused = runner.invoke(app, ["confirm", str(agenda.id)])
    assert refused.exit_code != 0 and "esityslistamerkintä pyyhkisi päätöksen" in refused.output
    with Session(make_engine(settings.effective_database_url)) as session:
        cell = session.scalars(
            select(Decision).where(Decision.body_id == "tammela", Decision.point_number == 1)
        ).one()
    assert (cell.outcome, cell.section) == ("hylätty", 60)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # two headers before the decision (the committee's § quoted, another body's handling): none
        ("Valiokunnan esitys 3.3.2026 § 7\nKunnanhallitus 12.5.2026 § 45", (None, None)),
        ("Hyvinvointilautakunta 3.3.2026 § 12\nKunnanhallitus 12.05.2026 § 45", (None, None)),
        ("Esityslista 5.5.2026, Pöytäkirja 12.5.2026\n§ 45", (None, None)),
        # the meeting's date, not the day the minutes were checked, sent or received
        ("Pöytäkirja tarkastettu 19.5.2026\nKunnanhallitus § 45\nKokous 12.5.2026", ("2026-05-12", 45)),
        ("Kokouskutsu lähetetty 5.5.2026\nKunnanhallitus § 45\nKokous 12.5.2026", ("2026-05-12", 45)),
        ("KUNNANHALLITUS   12.05.2026   § 45", ("2026-05-12", 45)),
    ],
)
def test_the_header_or_nothing(head: str, expected: tuple[str | None, int | None]) -> None:
    reading = read_item(f"{head}\n\nPäätös: Kunnanhallitus hyväksyi esityksen.\n", points=4, duties_point=1)
    assert (str(reading.meeting_date) if reading.meeting_date else None, reading.section) == expected
    if expected[0] is None:
        assert not reading.complete  # no date: the service makes no candidate of it


@pytest.mark.parametrize(
    ("line", "body"),
    [
        ("Vapaa-aikalautakunta 12.5.2026 § 45", "Vapaa-aikalautakunta"),
        ("Hyvinvointi- ja vapaa-aikalautakunta 12.5.2026 § 45", "Hyvinvointi- ja vapaa-aikalautakunta"),
        (
            "Perusturvan yhteistoiminta-alueen lautakunta 12.5.2026 § 45",
            "Perusturvan yhteistoiminta-alueen lautakunta",
        ),
        ("Tammelan kunnan kunnanhallitus 12.5.2026 § 45", "Tammelan kunnan kunnanhallitus"),
        ("Asia: Kunnanvaltuusto on pyytänyt selvitystä.\nKunnanhallitus 12.5.2026 § 45", "Kunnanhallitus"),
    ],
)
def test_the_deciding_body_from_the_header_line(line: str, body: str) -> None:
    assert (
        read_item(f"{line}\nPäätös: Esitys merkittiin tiedoksi.", points=4, duties_point=1).deciding_body
        == body
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Kh päätti nimetä järjestöyhdyshenkilöksi Anna Hansen.",  # a nominative -sen name after "nimetä"
        "Järjestöyhdyshenkilöksi nimettiin Forssan Setlementti ry:n toiminnanjohtaja Anna Korhonen.",
        "Kh päätti nimetä järjestöyhdyshenkilöksi koordinaattori Maija Mäkisen ja Pekka Virtasen.",
        "Kh päätti nimetä järjestöyhdyshenkilöksi Liisa Heikkisen sijaiseksi Pekka Virtasen.",
        "Järjestöyhdyshenkilöksi nimettiin aiemmin Maija Mäkinen, nyt Pekka Virtanen.",
        "Nuorisovaltuuston yhdyshenkilöksi nimettiin Pekka Virtanen.",
    ],
)
def test_no_liaison_where_the_name_is_not_certain(sentence: str) -> None:
    text = f"Kunnanhallitus 12.4.2021 § 45\nPäätös: Kunnanhallitus hyväksyi esityksen. {sentence}\n"
    found = read_item(text, points=4, duties_point=1).found
    assert found and found[0].liaison_name is None


def test_a_double_barrelled_liaison() -> None:
    text = "Kunnanhallitus 12.4.2021 § 45\nPäätös: Kh hyväksyi esityksen. Järjestöyhdyshenkilöksi nimettiin Anna Korhonen-Virtanen.\n"
    assert read_item(text, points=4, duties_point=1).found[0].liaison_name == "Anna Korhonen-Virtanen"


def test_a_published_item_must_name_the_sender_to_match_by_title() -> None:
    from council.intake.minutes import concerns

    title = "Esitys järjestöjen ja julkisen sektorin yhteistyömallista Forssan seudun hyvinvoinnin ja terveyden edistämistyön vahvistamiseksi"
    kwargs = {"title": title, "short_title": "Järjestöjen ja julkisen sektorin yhteistyömalli", "numbers": ()}
    sender = "Forssan seudun hyvinvointivaliokunta"
    assert concerns(
        "Järjestöjen ja julkisen sektorin yhteistyömalli Forssan seudulla", sender=sender, **kwargs
    )
    assert not concerns("Pirkanmaan järjestöjen ja julkisen sektorin yhteistyömalli", sender=sender, **kwargs)
    assert concerns(
        "Pirkanmaan järjestöjen ja julkisen sektorin yhteistyömalli", **kwargs
    )  # a reply: no sender check


def test_a_law_quoted_in_the_text_is_no_item_of_its_own() -> None:
    from council.intake.minutes import items_of

    text = (
        "Kunnanhallitus 12.5.2026 § 45\nJärjestöjen ja julkisen sektorin yhteistyömalli\n"
        "Päätösehdotus: Kh hyväksyy esityksen.\nKuntalain 39 § mukaan kunnanhallitus johtaa kunnan toimintaa.\n"
        "Päätös: Ehdotus hyväksyttiin.\n"
    )
    assert items_of(text) == [text]
    assert {f.point for f in read_item(text, points=4, duties_point=1).found} == {1, 2, 3, 4}


@pytest.mark.parametrize("label", ["Käsittely ja päätös", "Päätös (Kh)", "Päätös 12.5.2026", "Päätös/Beslut"])
def test_decision_labels_registries_use(label: str) -> None:
    text = f"Kunnanhallitus 12.5.2026 § 45\nPäätösehdotus: Kh hyväksyy esityksen.\n{label}\nEhdotus hyväksyttiin.\n"
    reading = read_item(text, points=4, duties_point=1)
    assert reading.decided and not reading.agenda and {f.point for f in reading.found} == {1, 2, 3, 4}
