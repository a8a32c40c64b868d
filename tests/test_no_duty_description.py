"""A proposal without an NGO-liaison duty description (järjestöyhdyshenkilön toimenkuva), such as the
committee's proposal on sharing sports facilities: it imports from YAML or from the authoring template
with its Toimenkuva part deleted, is sent with the proposal alone, is recorded and closes without any
liaison, and a liaison given for it is refused in Finnish naming the field (CLI, store, bulk, form)."""

from __future__ import annotations

import email.policy
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import Result
from docx import Document
from sqlalchemy.orm import Session

from council.cli.commands import app
from council.config import PROJECT_ROOT, get_settings
from council.content.authoring import read_authoring_docx
from council.content.loading import load_proposal, load_roster
from council.errors import InvalidDecisionError
from council.store.engine import make_engine
from models.decisions import DecisionIn, LiaisonIn
from models.enums import Language, MessageKind, Outcome
from models.schemas import ProposalIn
from models.tables import NO_DUTIES_POINT, Decision, Message, Proposal
from tests import test_proposals
from tests.helpers import docx_text, read_eml
from tests.test_proposals import SEED, cli, runner

#: The project's content copied to the test's folder (test_proposals' fixture, used here too).
data = test_proposals.data

NO_DUTY = "liikuntapaikat-2027"
RECIPIENTS = ["humppila", "jokioinen", "tammela"]
LIAISON = {
    "--liaison-name": "Maija Meikäläinen",
    "--liaison-title": "hyvinvointikoordinaattori",
    "--liaison-email": "maija@example.fi",
    "--liaison-work-time": "8 h/kk",
}
#: Words that would mention a duty description or a liaison, in both languages.
DUTY_WORDS = ("toimenkuva", "yhdyshenkilö", "arbetsbeskrivning", "organisationskontaktperson")


def sports_content(*, null: bool = False) -> dict:
    """The committee's proposal on sharing sports facilities: three points, none of them naming a
    liaison, no duty description (the key left out, or given as null)."""
    content = {
        "id": NO_DUTY,
        "title": "Esitys liikuntapaikkojen yhteiskäytöstä Forssan seudulla",
        "short_title": "Liikuntapaikkojen yhteiskäyttö",
        "sender": "Forssan seudun hyvinvointivaliokunta",
        "sender_allative": "Forssan seudun hyvinvointivaliokunnalle",
        "sender_unit": "Forssan seudun hyvinvointikuntayhtymä",
        "recipients_text": "Forssan seudun kunnat",
        "preparer": "Liikuntasihteeri Matti Virtanen",
        "diary_number": "FSHKY/301/00.04.01/2026",
        "sections": [
            {
                "heading": "Asian tausta",
                "paragraphs": [
                    "Seudun liikuntapaikat ovat iltaisin täynnä, mutta päivisin monet salit ovat tyhjillään.",
                    "Yhteinen varausjärjestelmä ja yhtenäiset maksut helpottaisivat seurojen toimintaa.",
                ],
            },
            {"heading": "Perustelut", "level": 2, "paragraphs": ["Yhteiskäyttö lisää liikkumista."]},
        ],
        "proposal_lead": "Forssan seudun hyvinvointivaliokunta esittää, että jokaisessa kunnassa päätetään:",
        "points": [
            {
                "number": 1,
                "title": "Kunnan liikuntapaikat liitetään seudulliseen varausjärjestelmään.",
                "short_title": "Varausjärjestelmä",
                "resolution": "liikuntapaikat liitetään seudulliseen varausjärjestelmään",
            },
            {
                "number": 2,
                "title": "Seudun seuroille sovitaan yhtenäiset vuokrat.",
                "short_title": "Yhtenäiset vuokrat",
                "resolution": "[vastaanottajan] liikuntapaikkojen vuokrat yhtenäistetään seudun kanssa",
                "examples": ["päivävuorot puoleen hintaan"],
            },
            {
                "number": 3,
                "title": "Koulujen salit avataan iltaisin seurojen käyttöön.",
                "short_title": "Koulujen salit",
                "resolution": "koulujen salit avataan iltaisin seurojen käyttöön",
            },
        ],
    }
    if null:
        content["duty_description"] = None
    return content


def no_duty_content() -> dict:
    """The seed's text as another proposal of the committee without a duty description (what the
    seed's DOCX on the authoring template reads as once its Toimenkuva part is deleted)."""
    content = yaml.safe_load((PROJECT_ROOT / "data" / "proposals" / f"{SEED}.yaml").read_text("utf-8"))
    content.update(
        id=NO_DUTY,
        title="Esitys liikuntapaikkojen yhteiskäytöstä Forssan seudulla",
        short_title="Liikuntapaikkojen yhteiskäyttö",
        diary_number="FSHKY/301/00.04.01/2026",
    )
    del content["duty_description"]
    return content


def no_duty_file(tmp_path: Path, *, null: bool = False) -> Path:
    path = tmp_path / "liikunta.yaml"
    path.write_text(yaml.safe_dump(sports_content(null=null), allow_unicode=True, sort_keys=False), "utf-8")
    return path


def import_no_duty(tmp_path: Path, *, null: bool = False) -> None:
    cli("init")
    cli("proposal", "import", str(no_duty_file(tmp_path, null=null)), *[f"-r{b}" for b in RECIPIENTS])


def without_duty_part(source: Path, target: Path) -> Path:
    """``source`` written on the authoring template with its whole Toimenkuva part deleted (heading,
    instructions, table and sub-headings with their text), as a coordinator would in Word."""
    document = Document(str(source))
    body = document.element.body
    removing = False
    for element in list(body.iterchildren()):
        if element.tag.endswith("}p"):
            paragraph = next(p for p in document.paragraphs if p._p is element)
            if paragraph.style.name == "Heading 1":
                removing = paragraph.text.strip() == "Toimenkuva"
        if removing:
            body.remove(element)
    document.save(str(target))
    return target


def _record(proposal_id: str, body_id: str, point: int, *extra: str) -> Result:
    """`council record` of one point, decided on 16.2.2026."""
    return runner.invoke(
        app,
        ["-p", proposal_id, "record", body_id, str(point), "hyväksytty ehdotuksen mukaisesti",
         "--date", "16.02.2026", "--section", str(10 + point), *extra],
    )  # fmt: skip


# --- the content ---------------------------------------------------------------------------------


@pytest.mark.parametrize("examples", [[], ["esimerkki"]], ids=["no-examples", "examples"])
@pytest.mark.parametrize("points", [1, 3, 12], ids=lambda n: f"{n}-points")
def test_any_proposal_validates_without_a_duty_description(points: int, examples: list[str]) -> None:
    """Without a duty description the duties-point checks do not run: any number of points, with or
    without examples, is a proposal whose duties point is None."""
    content = sports_content()
    content["points"] = [
        dict(content["points"][0], number=n, short_title=f"Kohta {n}", examples=examples)
        for n in range(1, points + 1)
    ]
    proposal = ProposalIn.model_validate(content)
    assert proposal.duty_description is None and proposal.duties_point is None


def test_the_seed_keeps_its_duty_description_and_its_checks() -> None:
    """The seed still has one, and a duties point beyond the points is still refused."""
    seed = load_proposal(PROJECT_ROOT / "data" / "proposals" / f"{SEED}.yaml")
    assert seed.duties_point == 1
    content = seed.model_dump(mode="json")
    content["duty_description"]["duties_point"] = 9
    with pytest.raises(ValueError, match="vain 4 kohtaa"):
        ProposalIn.model_validate(content)


@pytest.mark.parametrize("null", [False, True], ids=["key-left-out", "key-null"])
def test_import_stores_it_and_its_yaml_copy_round_trips(data: Path, tmp_path: Path, null: bool) -> None:
    """`council proposal import FILE -r BODY` stores it with no liaison point, and the YAML copy it
    writes under data/ (dump_proposal_yaml) loads back equal, duty description None."""
    from council.store.proposals import proposal_content

    import_no_duty(tmp_path, null=null)
    stored = proposal_content(get_settings(), NO_DUTY)
    assert stored.duty_description is None
    copy = data / "proposals" / f"{NO_DUTY}.yaml"
    assert load_proposal(copy) == stored == ProposalIn.model_validate(sports_content())
    assert yaml.safe_load(copy.read_text("utf-8"))["duty_description"] is None
    with Session(make_engine(get_settings().effective_database_url)) as session:
        assert session.get(Proposal, NO_DUTY).duties_point == NO_DUTIES_POINT
        assert session.get(Proposal, SEED).duties_point == 1


def test_the_authoring_template_says_the_duty_part_may_be_deleted() -> None:
    """The template's own instructions (Ohje: paragraphs) tell the coordinator so, in Finnish."""
    texts = [p.text for p in Document(str(PROJECT_ROOT / "templates" / "esityspohja.docx")).paragraphs]
    instructions = " ".join(t for t in texts if t.startswith("Ohje:"))
    assert "Toimenkuva-osan voi kuitenkin poistaa kokonaan" in instructions
    assert "poista koko Toimenkuva-osa" in instructions


def test_a_docx_without_the_duty_part_imports_equal_to_the_yaml(data: Path, tmp_path: Path) -> None:
    """The seed written on the authoring template, retitled and with its Toimenkuva part deleted,
    reads as the same proposal as the YAML without a duty description, and imports as one."""
    from council.store.proposals import proposal_content
    from tests.test_proposals import second_proposal_docx

    docx = without_duty_part(second_proposal_docx(tmp_path), tmp_path / "ilman-toimenkuvaa.docx")
    assert "Toimenkuva" not in docx_text(docx)
    expected = ProposalIn.model_validate(no_duty_content())
    assert read_authoring_docx(docx) == expected
    cli("init")
    cli("proposal", "import", str(docx), "-r", "tammela")
    assert proposal_content(get_settings(), NO_DUTY) == expected
    assert load_proposal(data / "proposals" / f"{NO_DUTY}.yaml") == expected


def test_a_duty_table_without_its_heading_is_still_an_error(tmp_path: Path) -> None:
    """Deleting only the Toimenkuva heading (its table left behind) is reported, not read as none."""
    from council.errors import ContentError

    source = PROJECT_ROOT / "tests" / "fixtures" / "esitys-jarjestoyhteistyomalli.docx"
    document = Document(str(source))
    heading = next(p for p in document.paragraphs if p.style.name == "Heading 1" and p.text == "Toimenkuva")
    heading._p.getparent().remove(heading._p)
    path = tmp_path / "otsikoton.docx"
    document.save(str(path))
    with pytest.raises(ContentError, match="Toimenkuva-osan otsikko puuttuu"):
        read_authoring_docx(path)


# --- sending -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", [Language.fi, Language.sv], ids=["fi", "sv"])
def test_every_body_gets_the_proposal_alone(data: Path, tmp_path: Path, lang: Language) -> None:
    """For every body of the roster, in Finnish and in Swedish: the first send attaches the proposal
    DOCX and its description only, and neither the email (text and HTML) nor the document mentions a
    duty description or a liaison."""
    from council.services.send import render_first_send

    proposal = ProposalIn.model_validate(sports_content())
    for body in load_roster(data / "rosters" / "forssan-seutu.yaml").bodies:
        body = body.model_copy(update={"language": lang})
        mail = render_first_send(proposal, body, tmp_path / lang.value / body.id, on=date(2026, 3, 2))
        assert [p.suffix for p in mail.attachments] == [".docx", ".xml"], mail.attachments
        texts = [mail.subject, mail.body_text, mail.body_html, docx_text(mail.attachments[0]),
                 mail.attachments[1].read_text("utf-8")]  # fmt: skip
        for text in texts:
            assert not any(word in text.casefold() for word in DUTY_WORDS), text
        assert "Liite 2:" in mail.body_text or "Bilaga 2:" in mail.body_text  # the description
        assert "Liite 3:" not in mail.body_text and "Bilaga 3:" not in mail.body_text


def test_it_is_sent_by_smtp_to_its_recipients_only(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    """`council send` delivers one email to each of its recipients: the proposal DOCX and the JHS 143
    description attached, no toimenkuva anywhere in the message."""
    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    emls = sorted((tmp_path / "outputs" / "mail").glob("*.eml"))
    assert len(emls) == len(RECIPIENTS)
    for eml in emls:
        message = read_eml(eml)
        names = [part.get_filename() for part in message.iter_attachments()]
        assert len(names) == 2 and names[0].startswith("Esitys") and names[0].endswith(".docx"), names
        assert names[1].startswith("Kuvailutiedot") and names[1].endswith(".xml"), names
        for part in message.walk():
            if part.get_content_maintype() == "multipart":
                continue
            payload = part.get_payload(decode=True) or b""
            if (
                part.get_content_type()
                == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ):
                target = tmp_path / "liite.docx"
                target.write_bytes(payload)
                payload = docx_text(target).encode()
            assert not any(w in payload.decode("utf-8").casefold() for w in DUTY_WORDS), part.get_filename()
        assert "toimenkuva" not in message.as_string(policy=email.policy.default.clone(utf8=True)).casefold()
    with Session(make_engine(get_settings().effective_database_url)) as session:
        sent = set(session.scalars(sa.select(Message.body_id).where(Message.proposal_id == NO_DUTY)))
    assert sent == set(RECIPIENTS)


# --- decisions -----------------------------------------------------------------------------------


def test_recorded_without_liaisons_it_closes_by_itself(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    """Every point of every recipient is recorded without liaison fields; no duty description is
    queued, each thank-you names no liaison and attaches nothing, and once the decisions are final
    the next `council follow-up` closes the proposal."""
    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    for body_id in RECIPIENTS:
        for point in range(1, 4):
            result = _record(NO_DUTY, body_id, point)
            assert result.exit_code == 0, result.output
    assert "päättyi" not in cli("follow-up", "--today", "2.3.2026")  # still open for rectification
    assert f"Esitys {NO_DUTY} päättyi" in cli("follow-up", "--today", "16.3.2026")
    with Session(make_engine(get_settings().effective_database_url)) as session:
        assert session.get(Proposal, NO_DUTY).state == "closed"
        kinds = list(session.scalars(sa.select(Message.kind).where(Message.proposal_id == NO_DUTY)))
        thanks = session.scalars(
            sa.select(Message).where(
                Message.proposal_id == NO_DUTY, Message.kind == MessageKind.confirmation.value
            )
        ).all()
        liaisons = session.scalars(sa.select(Decision.liaison).where(Decision.proposal_id == NO_DUTY)).all()
    assert MessageKind.duty_description.value not in kinds
    assert len(thanks) == len(RECIPIENTS) and set(liaisons) == {None}
    for message in thanks:
        assert message.attachments == [] and not any(w in message.body_text.casefold() for w in DUTY_WORDS)


def test_views_have_no_liaisons_part(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    """The dashboard (HTML and JSON), the status report, the preview documents and the closed
    proposal's archive work and show no (empty) liaisons part or duty description."""
    import json
    import zipfile

    from council.config import using_proposal
    from council.services.preview import render_all

    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    for point in range(1, 4):
        assert _record(NO_DUTY, "tammela", point).exit_code == 0
    cli("-p", NO_DUTY, "dashboard", "--out", str(tmp_path / "sivu.html"))
    page = (tmp_path / "sivu.html").read_text("utf-8")
    board = json.loads((tmp_path / "sivu.json").read_text("utf-8"))
    assert "Tammelan kunta" in page and "yhdyshenkilö" not in page.casefold()
    assert (board["has_duty_description"], board["duties_point"], board["liaisons"]) == (False, 0, [])
    cli("-p", NO_DUTY, "report", "--out", str(tmp_path / "katsaus"))
    report = docx_text(next((tmp_path / "katsaus").glob("*.docx")))
    assert "Päätökset vastaanottajittain" in report and "yhdyshenkilö" not in report.casefold()
    with using_proposal(NO_DUTY):
        previews = render_all(get_settings(), today=date(2026, 3, 2))
    assert previews and not any("toimenkuva" in p.name.casefold() for p in previews)
    assert not any(w in docx_text(p).casefold() for p in previews for w in DUTY_WORDS)
    # the seed's dashboard keeps its liaisons part
    cli("-p", SEED, "dashboard", "--out", str(tmp_path / "seed.html"))
    assert "Nimetyt järjestöyhdyshenkilöt" in (tmp_path / "seed.html").read_text("utf-8")
    cli("proposal", "close", NO_DUTY, "--reason", "testi")
    cli("proposal", "archive", NO_DUTY, "--out", str(tmp_path / "arkisto"))
    with zipfile.ZipFile(next((tmp_path / "arkisto").glob("*.zip"))) as package:
        readme = package.read("LUEMINUT.txt").decode("utf-8")
        names = package.namelist()
    assert "(esitys, muistutukset," in readme and "toimenkuva" not in readme
    assert not any("toimenkuva" in name.casefold() for name in names)


@pytest.mark.parametrize("point", [1, 2, 3], ids=lambda p: f"point-{p}")
@pytest.mark.parametrize(
    "options",
    [[name] for name in LIAISON] + [list(LIAISON)],
    ids=[name.removeprefix("--") for name in LIAISON] + ["all-four"],
)
def test_the_cli_refuses_liaison_fields(
    data: Path,
    tmp_path: Path,
    smtp_server,  # noqa: ANN001
    options: list[str],
    point: int,
) -> None:
    """Any liaison option, alone or all four, on any point of such a proposal is refused in Finnish,
    naming the field and the option, and nothing is stored."""
    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    extra = [part for name in options for part in (name, LIAISON[name])]
    result = _record(NO_DUTY, "tammela", point, *extra)
    assert result.exit_code == 2, result.output
    assert "Järjestöyhdyshenkilö" in result.output and options[0] in result.output
    assert "ei ole järjestöyhdyshenkilön toimenkuvaa" in result.output and "Traceback" not in result.output
    with Session(make_engine(get_settings().effective_database_url)) as session:
        outcomes = session.scalars(sa.select(Decision.outcome).where(Decision.proposal_id == NO_DUTY)).all()
    assert set(outcomes) == {None}
    # the seed, which has a duty description, still takes the liaison on its point 1
    cli("-p", SEED, "sent-outside", "tammela", "--date", "2.2.2026")
    assert _record(SEED, "tammela", 1, *[p for kv in LIAISON.items() for p in kv]).exit_code == 0


def test_the_store_and_the_bulk_import_refuse_a_liaison(data: Path, tmp_path: Path, smtp_server) -> None:  # noqa: ANN001
    """The store's own check (a DecisionIn built without the proposal's context) and an import file
    with the liaison columns refuse it, naming the field / column."""
    from council.services.bulk import parse_rows
    from council.store.decisions import duties_point, record_decision

    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    liaison = LiaisonIn(name="Maija", title="koordinaattori", email="maija@example.fi", work_time="8 h/kk")
    decision = DecisionIn(
        body_id="tammela", point=1, outcome=Outcome.hyvaksytty, meeting_date=date(2026, 2, 16), section=3, liaison=liaison
    )  # fmt: skip
    engine = make_engine(get_settings().effective_database_url)
    with Session(engine) as session, session.begin():
        assert duties_point(session=session, proposal_id=NO_DUTY) is None
        with pytest.raises(
            InvalidDecisionError, match="Järjestöyhdyshenkilö.*ei ole järjestöyhdyshenkilön toimenkuvaa"
        ):
            record_decision(session=session, proposal_id=NO_DUTY, decision=decision)
    row = {"vastaanottaja": "tammela", "kohta": "1", "paatos": "hyväksytty ehdotuksen mukaisesti",
           "kokouspaiva": "16.2.2026", "pykala": "3", "yhdyshenkilo_nimi": "Maija", "yhdyshenkilo_nimike": "k",
           "yhdyshenkilo_sahkoposti": "maija@example.fi", "yhdyshenkilo_tyoaika": "8 h/kk"}  # fmt: skip
    decisions, problems = parse_rows(
        "paatokset.csv",
        [(2, row)],
        bodies={"tammela": "tammela"},
        points={1, 2, 3},
        actor="t",
        duties_point=None,
    )
    assert decisions == [] and problems, problems
    assert any("toimenkuvaa" in p.message and p.field == "yhdyshenkilo_nimi" for p in problems), problems


def test_stored_on_sqlite_and_postgresql_as_no_liaison_point(database_url: str) -> None:
    """On both databases the proposal is stored with duties point 0 (NOT NULL kept, no migration),
    read back as None, and the store refuses a liaison on any of its points."""
    from council.store.decisions import duties_point, record_decision
    from council.store.engine import upgrade
    from council.store.tracking import sync_content

    upgrade(database_url)
    engine = make_engine(database_url)
    roster = load_roster(PROJECT_ROOT / "data" / "rosters" / "forssan-seutu.yaml")
    seed = load_proposal(PROJECT_ROOT / "data" / "proposals" / f"{SEED}.yaml")
    with Session(engine) as session, session.begin():
        sync_content(
            session=session, proposal=ProposalIn.model_validate(sports_content()), roster=roster, actor="t"
        )
        sync_content(session=session, proposal=seed, roster=roster, actor="t")
    liaison = LiaisonIn(name="Maija", title="koordinaattori", email="maija@example.fi", work_time="8 h/kk")
    with Session(engine) as session:
        stored = dict(session.execute(sa.select(Proposal.id, Proposal.duties_point)).all())
        assert stored == {NO_DUTY: NO_DUTIES_POINT, SEED: 1}
        assert duties_point(session=session, proposal_id=NO_DUTY) is None
        assert duties_point(session=session, proposal_id=SEED) == 1
        for point in (1, 2, 3):
            # as a caller would build it that wrongly believes the liaison belongs on this point
            decision = DecisionIn.for_proposal(
                point,
                body_id="forssa",
                point=point,
                outcome=Outcome.hyvaksytty,
                meeting_date=date(2026, 2, 16),
                section=3,
                liaison=liaison,
            )
            with pytest.raises(InvalidDecisionError, match="kenttä 'Järjestöyhdyshenkilö'"):
                record_decision(session=session, proposal_id=NO_DUTY, decision=decision)
            session.rollback()
    engine.dispose()


# --- the record-decision flow --------------------------------------------------------------------


def _form(**values: object):  # noqa: ANN202
    """The record-decision form for Tammela's meeting on every point of the proposal."""
    from flows.record_decision import PointDecisionIn, RecordDecisionIn

    labels = ["1 – Varausjärjestelmä", "2 – Yhtenäiset vuokrat", "3 – Koulujen salit"]
    rows = [
        PointDecisionIn(kohta=label, paatos=Outcome.hyvaksytty, pykala=20 + n)
        for n, label in enumerate(labels)
    ]
    return RecordDecisionIn(
        esitys=NO_DUTY, vastaanottaja="Tammelan kunta", kokouspaiva="16.2.2026", kohdat=rows, **values
    )


@pytest.mark.prefect
@pytest.mark.parametrize(
    "liaison",
    [{"nimi": "Maija Meikäläinen"}, {"nimike": "koordinaattori"}, {"sahkoposti": "maija@example.fi"},
     {"tyoaika": "8 h/kk"}, {"nimi": "Maija Meikäläinen", "nimike": "koordinaattori",
                            "sahkoposti": "maija@example.fi", "tyoaika": "8 h/kk"}],
    ids=["nimi", "nimike", "sahkoposti", "tyoaika", "all-four"],
)  # fmt: skip
def test_the_flow_refuses_liaison_fields(
    prefect_harness: None, data: Path, tmp_path: Path, liaison: dict
) -> None:
    """Any liaison field filled on the form of such a proposal ends the run Failed in Finnish,
    naming the field, and stores nothing."""
    from flows.record_decision import LiaisonForm, record_decision

    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    state = record_decision(kirjaus=_form(yhdyshenkilo=LiaisonForm(**liaison)), return_state=True)
    assert state.is_failed()
    assert "Järjestöyhdyshenkilö: esityksessä ei ole järjestöyhdyshenkilön toimenkuvaa" in state.message
    assert "Traceback" not in state.message
    with Session(make_engine(get_settings().effective_database_url)) as session:
        outcomes = session.scalars(sa.select(Decision.outcome).where(Decision.proposal_id == NO_DUTY)).all()
    assert set(outcomes) == {None}


@pytest.mark.prefect
def test_the_flow_records_every_point_without_a_liaison(
    prefect_harness: None, data: Path, tmp_path: Path
) -> None:
    """With the liaison left empty the run records all three points and queues no duty description."""
    from flows.record_decision import record_decision

    import_no_duty(tmp_path)
    cli("-p", NO_DUTY, "send", "--today", "2.2.2026")
    stored = record_decision(kirjaus=_form())
    assert [(d["point_number"], d["liaison"]) for d in stored] == [(1, None), (2, None), (3, None)]
    with Session(make_engine(get_settings().effective_database_url)) as session:
        kinds = set(session.scalars(sa.select(Message.kind).where(Message.proposal_id == NO_DUTY)))
    assert MessageKind.duty_description.value not in kinds and MessageKind.confirmation.value in kinds
