"""Templates as the source: the bootstrap script never overwrites an edited template, and
check_templates finds what a Word or LibreOffice edit can break (syntax, split tags, variables)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from council.config import PROJECT_ROOT
from council.rendering.check import TemplateProblem, check_templates
from council.rendering.environment import TEMPLATES_DIR

BOOTSTRAP = PROJECT_ROOT / "templates" / "src" / "build_templates.py"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped templates (DOCX and email) to edit."""
    target = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, target, ignore=shutil.ignore_patterns("src", "*.j2", "*.md"))
    return target


def bootstrap(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the bootstrap script as `make docs-templates` does, on ``folder``."""
    return subprocess.run(
        [sys.executable, str(BOOTSTRAP), "--folder", str(folder), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def paragraph_number(path: Path, contains: str) -> int:
    """1-based number, in document order, of the first body paragraph whose text contains ``contains``."""
    body = Document(str(path)).element.body
    for number, p in enumerate(body.iter(qn("w:p")), start=1):
        if contains in "".join(t.text or "" for t in p.iter(qn("w:t"))):
            return number
    raise AssertionError(contains)


def edit_like_word(path: Path, *, split_tag: bool = True) -> None:
    """What a secretary does in Word: change a wording, make a run bold and (``split_tag``) format half
    of the tag ``{{ body.registry_email }}``, which splits it into two runs."""
    doc = Document(str(path))
    by_text = {p.text: p for p in doc.paragraphs}
    by_text["Päätösehdotus"].runs[0].text = "Ehdotus päätökseksi"
    by_text["{{ reminder_note }}"].runs[0].bold = True
    if split_tag:
        paragraph = by_text["{{ body.registry_email }}"]
        paragraph.runs[0].text = "{{ body."
        paragraph.add_run("registry_email }}").italic = True
    doc.save(str(path))


def assert_edits_kept(path: Path) -> None:
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert "Ehdotus päätökseksi" in texts and "Päätösehdotus" not in texts
    note = next(p for p in doc.paragraphs if p.text == "{{ reminder_note }}")
    assert any(run.bold for run in note.runs)


def test_shipped_templates_have_no_problems() -> None:
    """Every committed DOCX and email template, Finnish and Swedish, passes the check."""
    assert check_templates(TEMPLATES_DIR) == []


def test_bootstrap_keeps_unchanged_templates_as_they_are(folder: Path) -> None:
    """On the shipped templates the script reports each one up to date and writes nothing."""
    before = {p.name: p.read_bytes() for p in folder.glob("*.docx")}
    result = bootstrap(folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ajan tasalla") == 5
    assert {p.name: p.read_bytes() for p in folder.glob("*.docx")} == before


def test_bootstrap_compares_xml_not_zip_bytes(folder: Path) -> None:
    """A template re-zipped with other timestamps, member order and compression is still up to date."""
    path = folder / "toimenkuva.docx"
    with zipfile.ZipFile(path) as old:
        members = [(info.filename, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as new:
        for name, data in reversed(members):
            new.writestr(zipfile.ZipInfo(name, date_time=(2030, 1, 2, 3, 4, 6)), data)
    result = bootstrap(folder)
    assert f"{path}: ajan tasalla" in result.stdout


def test_bootstrap_writes_a_missing_template(folder: Path) -> None:
    """A deleted template is written again, and the new file passes the check."""
    (folder / "tilannekatsaus.docx").unlink()
    result = bootstrap(folder)
    assert result.returncode == 0, result.stderr
    assert f"{folder / 'tilannekatsaus.docx'}: luotu" in result.stdout
    assert check_templates(folder) == []


def test_edited_template_survives_bootstrap_and_check_names_the_split_tag(folder: Path) -> None:
    """Word edits (wording, bold run, half-formatted tag) survive the script, which says so in Finnish
    naming the file; the check reports the split tag by name and paragraph, and nothing else."""
    path = folder / "esitys.docx"
    edit_like_word(path)
    edited = path.read_bytes()

    result = bootstrap(folder)

    assert result.returncode == 0, result.stderr
    assert f"{path}: ei korvattu" in result.stdout and "word/document.xml" in result.stdout
    assert path.read_bytes() == edited
    assert_edits_kept(path)
    problems = check_templates(folder)
    assert problems == [
        TemplateProblem(
            "esitys.docx",
            "tagi '{{ body.registry_email }}' on jaettu usean muotoilujakson (run) kesken; kirjoita se "
            "uudelleen yhdellä kertaa Wordissa. Sen osilla on eri muotoilu: muotoile koko tagi kerralla "
            "tai ei lainkaan.",
            paragraph=paragraph_number(path, "registry_email"),
            tag="{{ body.registry_email }}",
        )
    ]
    assert str(problems[0]).startswith(
        f"esitys.docx, kappale {paragraph_number(path, 'registry_email')}: tagi '{{{{ body.registry_email }}}}'"
    )


def test_force_overwrites_an_edited_template(folder: Path) -> None:
    """With --force the script rebuilds the edited template, dropping the Word edits."""
    path = folder / "esitys.docx"
    edit_like_word(path)
    result = bootstrap(folder, "--force")
    assert result.returncode == 0, result.stderr
    assert f"{path}: korvattu" in result.stdout
    assert "Päätösehdotus" in [p.text for p in Document(str(path)).paragraphs]
    assert check_templates(folder) == []


def test_split_delimiter_is_reported(folder: Path) -> None:
    """A tag whose `{{` itself is split between two runs of the same formatting is reported too."""
    path = folder / "toimenkuva.docx"
    doc = Document(str(path))
    paragraph = next(p for p in doc.paragraphs if p.text == "{{ duties_lead }}")
    paragraph.runs[0].text = "{"
    paragraph.add_run("{ duties_lead }}")
    doc.save(str(path))
    problems = check_templates(folder)
    assert [(p.template, p.tag, p.paragraph) for p in problems] == [
        ("toimenkuva.docx", "{{ duties_lead }}", paragraph_number(path, "duties_lead"))
    ]
    assert "eri muotoilu" not in problems[0].message


def _replace_in_docx(path: Path, old: str, new: str) -> None:
    doc = Document(str(path))
    paragraph = next(p for p in doc.paragraphs if old in p.text)
    assert len(paragraph.runs) == 1
    paragraph.runs[0].text = paragraph.runs[0].text.replace(old, new, 1)
    doc.save(str(path))


@pytest.mark.parametrize("name", ["esitys.docx", "esitys.sv.docx"], ids=["fi", "sv"])
def test_docx_syntax_error_is_reported_with_paragraph_and_tag(folder: Path, name: str) -> None:
    """A misspelt `{%p endif %}` is a syntax error naming the file, its paragraph and the tag."""
    path = folder / name
    _replace_in_docx(path, "{%p endif %}", "{%p endfi %}")
    problems = check_templates(folder)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.template, problem.tag) == (name, "{%p endfi %}")
    assert problem.paragraph == paragraph_number(path, "{%p endfi %}")
    assert str(problem).startswith(f"{name}, kappale {problem.paragraph}: Jinja-syntaksivirhe")


@pytest.mark.parametrize(
    ("old", "new", "variable", "model"),
    [
        ("{{ preparer }}", "{{ preparer_name }}", "preparer_name", "ProposalContext"),
        ("{{ body.name }}", "{{ body.nmae }}", "body.nmae", "BodyContext"),
        ("{{ pt.title }}", "{{ pt.titel }}", "pt.titel", "PointContext"),
    ],
    ids=["top-level", "nested", "loop-variable"],
)
@pytest.mark.parametrize("name", ["esitys.docx", "esitys.sv.docx"], ids=["fi", "sv"])
def test_docx_unknown_variable_is_reported(
    folder: Path, name: str, old: str, new: str, variable: str, model: str
) -> None:
    """A variable the context model lacks (top-level, attribute, loop variable's attribute) is reported
    with the file, the paragraph, the tag and the model."""
    path = folder / name
    _replace_in_docx(path, old, new)
    problems = check_templates(folder)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.template, problem.paragraph) == (name, paragraph_number(path, new))
    assert problem.tag is not None and new.strip("{} ") in problem.tag
    assert f"muuttuja '{variable}' puuttuu mallista" in problem.message and model in problem.message


def test_unknown_variable_in_header_names_the_header(folder: Path) -> None:
    """A variable in the page header is reported as being in the header (ylätunniste)."""
    path = folder / "tilannekatsaus.docx"
    doc = Document(str(path))
    cell = doc.sections[0].header.tables[0].cell(1, 0)
    cell.paragraphs[0].runs[0].text = "{{ sender_unitt }}"
    doc.save(str(path))
    problems = check_templates(folder)
    assert [(p.template, p.part, p.tag) for p in problems] == [
        ("tilannekatsaus.docx", "ylätunniste", "{{ sender_unitt }}")
    ]
    assert str(problems[0]).startswith("tilannekatsaus.docx, ylätunniste, kappale ")


def test_email_syntax_error_and_unknown_variable_are_reported(folder: Path) -> None:
    """In the email templates a syntax error and an unknown variable are each reported with the line."""
    text = folder / "email" / "esitys.sv.txt"
    text.write_text(text.read_text(encoding="utf-8") + "{% if sender %}\n", encoding="utf-8")
    html = folder / "email" / "kiitos.html"
    source = html.read_text(encoding="utf-8")
    line = source[: source.index("{{ preparer }}")].count("\n") + 1
    html.write_text(source.replace("{{ preparer }}", "{{ preparer_name }}"), encoding="utf-8")
    problems = check_templates(folder)
    assert [(p.template, p.message.split(":")[0]) for p in problems] == [
        ("email/esitys.sv.txt", "Jinja-syntaksivirhe"),
        ("email/kiitos.html", "tagi '{{ preparer_name }}'"),
    ]
    assert problems[1].line == line
    assert "muuttuja 'preparer_name' puuttuu mallista ConfirmationMailContext" in problems[1].message


def test_missing_template_of_a_contract_is_reported(folder: Path) -> None:
    """A template the table names but the folder lacks is a problem naming the file."""
    (folder / "toimenkuva.sv.docx").unlink()
    problems = check_templates(folder)
    assert [p.template for p in problems] == ["toimenkuva.sv.docx"]
    assert "puuttuu" in problems[0].message


@pytest.mark.libreoffice
def test_libreoffice_round_trip_keeps_the_template_valid(folder: Path, libreoffice: str) -> None:
    """Edits saved through LibreOffice (soffice --convert-to docx) survive the script; with whole tags
    the check passes, with a half-formatted tag it reports that tag by name."""
    clean, split = folder / "clean" / "esitys.docx", folder / "split" / "esitys.docx"
    for path, split_tag in ((clean, False), (split, True)):
        path.parent.mkdir()
        shutil.copy(folder / "esitys.docx", path)
        edit_like_word(path, split_tag=split_tag)
    out = folder / "lo"
    for path in (clean, split):
        with tempfile.TemporaryDirectory(prefix="council-lo-") as profile:
            subprocess.run(
                [
                    libreoffice,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    "docx",
                    "--outdir",
                    str(out / path.parent.name),
                    str(path),
                ],
                check=True,
                capture_output=True,
                timeout=180,
            )
    for variant in ("clean", "split"):
        shutil.copy(out / variant / "esitys.docx", folder / "esitys.docx")
        saved = (folder / "esitys.docx").read_bytes()
        result = bootstrap(folder)
        assert f"{folder / 'esitys.docx'}: ei korvattu" in result.stdout
        assert (folder / "esitys.docx").read_bytes() == saved
        assert_edits_kept(folder / "esitys.docx")
        problems = check_templates(folder)
        if variant == "clean":
            assert problems == []
        else:
            assert [(p.template, p.tag) for p in problems] == [("esitys.docx", "{{ body.registry_email }}")]
            assert problems[0].paragraph == paragraph_number(folder / "esitys.docx", "registry_email")


def test_cli_check_passes_the_shipped_templates_and_names_a_split_tag(folder: Path) -> None:
    """`council templates check` exits 0 on the shipped templates; on an edited copy with a split tag it
    exits 1 and prints the file, the paragraph and the tag in Finnish."""
    from typer.testing import CliRunner

    from council.cli.commands import app

    runner = CliRunner()
    ok = runner.invoke(app, ["templates", "check"])
    assert ok.exit_code == 0, ok.output
    assert "Mallipohjat kunnossa" in ok.output
    edit_like_word(folder / "esitys.docx")
    number = paragraph_number(folder / "esitys.docx", "registry_email }}")
    bad = runner.invoke(app, ["templates", "check", "--folder", str(folder)])
    assert bad.exit_code == 1
    assert f"esitys.docx, kappale {number}: tagi '{{{{ body.registry_email }}}}'" in bad.output
    assert "Mallipohjissa 1 korjattavaa kohtaa" in bad.output


def test_wording_file_reports_an_unknown_placeholder_and_a_missing_phrase(folder: Path) -> None:
    """wording.yaml edited with a placeholder the code does not supply and a phrase deleted: both are
    reported with the file and the key, in Finnish."""
    shutil.copy(TEMPLATES_DIR / "wording.yaml", folder / "wording.yaml")
    path = folder / "wording.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        'file_reminder: "Esitys {name} muistutus {round}"', 'file_reminder: "Esitys {nimi} {round}"'
    )
    text = text.replace('  duties_lead: "Till organisationskontaktpersonens uppgifter hör särskilt:"\n', "")
    path.write_text(text, encoding="utf-8")
    messages = [str(p) for p in check_templates(folder)]
    assert len(messages) == 1, messages
    assert messages[0].startswith("wording.yaml")
    assert "fi.file_reminder: tuntematon paikkamerkki {nimi} (sallitut: name, round)" in messages[0]
    assert "sv: puuttuu duties_lead" in messages[0]


def test_shipped_wording_fills_documents_and_outcomes() -> None:
    """The phrases come from templates/wording.yaml: a Swedish file name and a Swedish outcome."""
    from council.content.i18n import outcome_label, text

    assert text("sv", "file_reminder", name="Ypäjä", round=2) == "Förslag Ypäjä påminnelse 2"
    assert text("fi", "agenda", date="9.12.2026") == "esityslistalla 9.12.2026"
    assert outcome_label("pantu pöydälle", "sv") == "bordlagt"
    assert outcome_label("pantu pöydälle", "fi") == "pantu pöydälle"
