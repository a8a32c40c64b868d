"""The subject a municipality's mail client shows is the subject we wrote, word spaces included,
however long it is and wherever its non-ASCII letters fall (a header folded over several lines)."""

from __future__ import annotations

from email import message_from_bytes, policy

from hypothesis import given, settings
from hypothesis import strategies as st

from council.delivery.mail import OutgoingMail, compose, wire_bytes

WORDS = st.sampled_from(
    ["Esitys", "käsiteltäväksi:", "Liikuntapaikkojen", "yhteiskäyttö", "–", "Forssan", "kaupunginhallitus",
     "(Dnro", "FSHKY/301/00.04.01/2026)", "Ypäjän", "Förslag", "behandling", "å", "ä", "ö", "€", "a"]
)  # fmt: skip


def _round_trip(subject: str) -> str:
    mail = OutgoingMail(
        message_id="<x@example.fi>",
        sender="valiokunta@example.fi",
        sender_name="Forssan seudun hyvinvointivaliokunta",
        recipients=["kirjaamo@example.fi"],
        subject=subject,
        body_text="x",
        body_html="<p>x</p>",
        attachments=[],
    )
    wire = wire_bytes(compose(mail))
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))
    return str(message_from_bytes(wire, policy=policy.default)["Subject"])


def test_the_subject_that_lost_its_space() -> None:
    """Seen in a sent .eml: Python's folding put the space between two encoded words."""
    subject = "Esitys käsiteltäväksi: Liikuntapaikkojen yhteiskäyttö – Forssan kaupunginhallitus (Dnro FSHKY/301/00.04.01/2026)"
    assert _round_trip(subject) == subject


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=40))
def test_any_subject_reads_back_as_written(words: list[str]) -> None:
    subject = " ".join(words)
    assert _round_trip(subject) == subject
