"""Content files: the shipped proposal and roster load; invalid files are refused with file, row, field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from council.config import PROJECT_ROOT
from council.content.loading import load_proposal, load_roster, select_bodies
from council.errors import ContentError, UnknownBodyError

ROSTER = PROJECT_ROOT / "data" / "rosters" / "forssan-seutu.yaml"
PROPOSAL = PROJECT_ROOT / "data" / "proposals" / "jarjestoyhteistyomalli-forssan-seutu.yaml"

GOOD_BODY = """\
  - id: jokioinen
    name: "Jokioisten kunta"
    name_genitive: "Jokioisten kunnan"
    name_inessive: "Jokioisten kunnassa"
    kind: kunta
    deciding_body: "Jokioisten kunnanhallitus"
    registry_email: "kirjaamo@jokioinen.example"
"""


def test_shipped_proposal_has_four_points_and_the_seed_text() -> None:
    """The seed proposal loads with its four points, examples and sections."""
    proposal = load_proposal(PROPOSAL)
    assert [p.short_title for p in proposal.points] == [
        "Järjestöyhdyshenkilö",
        "Säännölliset yhteistyömuodot",
        "Kehittämisyhteistyön kohdat",
        "Järjestötietous",
    ]
    assert proposal.sender == "Forssan seudun hyvinvointivaliokunta"
    assert "Niina Salo-Lehtinen" in proposal.preparer
    assert any("Forssan seudun järjestösillan" in e for e in proposal.points[0].examples)
    assert [s.heading for s in proposal.sections if s.level == 1] == [
        "Esityksen sisältö",
        "Asian tausta",
        "Perustelut",
        "Johtopäätökset",
    ]
    prose = " ".join(p for s in proposal.sections for p in s.paragraphs)
    assert "http" not in prose
    assert "710 (PRH 7.12.2020) yhdistystä" in prose


def test_shipped_roster_has_the_six_bodies_with_case_forms() -> None:
    """The Forssa region roster holds the five municipalities and the joint authority."""
    roster = load_roster(ROSTER)
    names = {b.id: (b.name, b.name_genitive, b.name_inessive, b.deciding_body) for b in roster.bodies}
    assert names["jokioinen"] == (
        "Jokioisten kunta",
        "Jokioisten kunnan",
        "Jokioisten kunnassa",
        "Jokioisten kunnanhallitus",
    )
    assert names["forssa"][3] == "Forssan kaupunginhallitus"
    assert names["fshky"][3] == "Forssan seudun hyvinvointikuntayhtymän yhtymähallitus"
    assert len(roster.bodies) == 6
    assert all(str(b.registry_email).endswith(".example") for b in roster.bodies)


def _roster(tmp_path: Path, bodies: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text('name: "Testi"\nbodies:\n' + bodies, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "field", "row"),
    [
        (("kirjaamo@jokioinen.example", "ei-osoite"), "bodies[2].registry_email", 16),
        (("kind: kunta", "kind: kylä"), "bodies[2].kind", 14),
        (("id: jokioinen", 'id: "../etc"'), "bodies[2].id", 10),
        (('name: "Jokioisten kunta"', 'name: ""'), "bodies[2].name", 11),
        (('name: "Jokioisten kunta"', 'name: "Jokioisten\\u0000kunta"'), "bodies[2].name", 11),
        (('name: "Jokioisten kunta"', 'name: "Jokioisten\\r\\nBcc: x@y.example"'), "bodies[2].name", 11),
    ],
    ids=["bad-email", "bad-kind", "path-in-id", "empty-name", "nul-in-name", "crlf-in-name"],
)
def test_bad_roster_names_file_row_and_field(
    tmp_path: Path, change: tuple[str, str], field: str, row: int
) -> None:
    """A roster with one bad value is refused, naming the file, the line and the field."""
    other = GOOD_BODY.replace("jokioinen", "tammela").replace("Jokioisten", "Tammelan")
    bad = GOOD_BODY.replace(*change)
    path = _roster(tmp_path, other + bad)
    with pytest.raises(ContentError) as caught:
        load_roster(path)
    problem = caught.value.problems[0]
    assert problem.file == str(path)
    assert problem.field == field
    assert problem.row == row
    assert str(path) in str(caught.value) and f"rivi {row}" in str(caught.value)


def test_duplicate_body_ids_are_refused(tmp_path: Path) -> None:
    """Two bodies with one id would share documents and messages: refused."""
    path = _roster(tmp_path, GOOD_BODY + GOOD_BODY)
    with pytest.raises(ContentError, match="jokioinen"):
        load_roster(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "tyhjä"),
        ("name: [unclosed", "(YAML)"),
        ("name: !!python/object/apply:os.system ['true']\nbodies: []", "(YAML)"),
        ("a: &a [x, x]\nb: &b [*a, *a]\nname: *b\nbodies: []", "(YAML)"),
    ],
    ids=["empty", "truncated", "python-tag", "alias-bomb"],
)
def test_unsafe_or_broken_yaml_is_refused(tmp_path: Path, text: str, message: str) -> None:
    """Empty, truncated, Python-tagged and aliased YAML never reaches the model."""
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_roster(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_non_utf8_roster_is_refused(tmp_path: Path) -> None:
    """A Latin-1 file is refused with the byte position, not decoded wrongly."""
    path = tmp_path / "roster.yaml"
    path.write_bytes('name: "Ypäjä"\n'.encode("latin-1"))
    with pytest.raises(ContentError, match="UTF-8"):
        load_roster(path)


def test_proposal_points_must_be_numbered_in_order(tmp_path: Path) -> None:
    """Point numbers 1..n in order; a gap is refused."""
    text = PROPOSAL.read_text(encoding="utf-8").replace("  - number: 2", "  - number: 5", 1)
    path = tmp_path / "jarjestoyhteistyomalli-forssan-seutu.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match="kohtien numeroiden"):
        load_proposal(path)


def test_select_bodies_refuses_unknown_id() -> None:
    """An unknown body id names itself and the known ones."""
    roster = load_roster(ROSTER)
    assert [b.id for b in select_bodies(roster, ["ypaja", "forssa"])] == ["forssa", "ypaja"]
    with pytest.raises(UnknownBodyError, match="helsinki"):
        select_bodies(roster, ["helsinki"])


def test_the_duties_point_must_have_examples(tmp_path: Path) -> None:
    """The duty description lists its duties from that point's examples: a point without any would
    print an empty list under "Tehtävät" for every body, so the file is refused, naming the field."""
    import yaml

    source = PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml"
    content = yaml.safe_load(source.read_text("utf-8"))
    content["points"][0]["examples"] = []
    path = tmp_path / "jarjestoyhteistyomalli-forssan-seutu.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(ContentError) as caught:
        load_proposal(path)
    [problem] = caught.value.problems
    assert problem.field == "duty_description.duties_point" and "kohdan 1 esimerkeistä" in problem.message


def test_a_roster_edited_between_reads_is_read_as_it_is_now(tmp_path: Path) -> None:
    """Parsed files are kept per content: each edit is read again (same size and mtime included), a
    broken edit is refused even after a good read, and going back to the good text reads it again."""
    tammela = GOOD_BODY.replace("jokioinen", "tammela").replace("Jokioisten", "Tammelan")
    path = _roster(tmp_path, GOOD_BODY)
    assert [b.id for b in load_roster(path).bodies] == ["jokioinen"]
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("jokioinen", "jokioine2"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same modification time
    assert [b.id for b in load_roster(path).bodies] == ["jokioine2"]
    _roster(tmp_path, GOOD_BODY + tammela.replace('kind: kunta', 'kind: kylä'))
    with pytest.raises(ContentError):
        load_roster(path)
    _roster(tmp_path, GOOD_BODY)
    assert [b.id for b in load_roster(path).bodies] == ["jokioinen"]
