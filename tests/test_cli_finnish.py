"""The command line speaks Finnish from top to bottom: Typer's and Click's own words, no type
notation, no internal identifiers (council/cli/finnish.py)."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from council.cli.commands import app
from council.config import Settings

runner = CliRunner()

#: Typer's and Click's English chrome; none may reach a coordinator.
ENGLISH = [
    "Usage",
    "Options",
    "Commands",
    "Arguments",
    "Show this message",
    "[default",
    "[required]",
    "Error",
    "Try '",
    "Missing",
    "Invalid value",
    "No such",
    "[OPTIONS]",
    "COMMAND",
    "install-completion",
]
#: Type notation Typer prints by default in its type column.
TYPE_NOTATION = re.compile(
    r"<(str|int|bool|float|path|text|integer|list\[[^\]]*\])>|\blist\[|\b(str|int|bool|Path)\b"
)
#: Internal names that must not leak into what a person reads.
INTERNAL = ["not_sent", "on_agenda", "meeting_date", "status=", "deciding_body", "{body}", "{point}"]


def _command_paths(command=None, path=()):  # noqa: ANN001, ANN202
    """Every command and group of the app, as argument lists: [], ['record'], ['templates', 'check'] …"""
    command = command or typer.main.get_command(app)
    yield list(path)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


COMMANDS = list(_command_paths())


def _check(text: str) -> None:
    for word in ENGLISH + INTERNAL:
        assert word not in text, (word, text)
    assert not TYPE_NOTATION.search(text), (TYPE_NOTATION.search(text), text)


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) or "council" for p in COMMANDS])
def test_every_help_is_finnish_without_type_notation(path: list[str]) -> None:
    """`council [COMMAND] --help`: Finnish chrome (Käyttö, Valinnat), no English and no <str>."""
    result = runner.invoke(app, [*path, "--help"], prog_name="council")
    assert result.exit_code == 0, result.output
    assert "Käyttö: council" in result.output and "Näytä tämä ohje ja lopeta." in result.output
    _check(result.output)


def test_the_app_has_every_command_group() -> None:
    """The help test above sees the whole app (a new command is checked without listing it)."""
    assert {"record", "history", "follow-up", "templates"} <= {p[0] for p in COMMANDS if p}
    assert ["templates", "check"] in COMMANDS


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nosuch"], "Tuntematon komento 'nosuch'."),
        (["record", "jokioinen", "1", "hylätty", "--section", "5"], "Pakollinen valinta --date puuttuu."),
        (["record", "jokioinen"], "Pakollinen argumentti KOHTA puuttuu."),
        (
            ["record", "jokioinen", "x", "hylätty", "--date", "1.1.2021", "--section", "5"],
            "anna kokonaisluku",
        ),
        (["status", "--jsn"], "Tuntematon valinta --jsn (tarkoititko: --json)"),
        (["status", "extra"], "Ylimääräisiä argumentteja: extra"),
        (["dashboard", "--port"], "Valinta --port tarvitsee arvon."),
    ],
    ids=[
        "no-such-command",
        "missing-option",
        "missing-argument",
        "not-an-integer",
        "typo",
        "extra",
        "no-value",
    ],
)
def test_usage_errors_are_finnish(settings: Settings, args: list[str], said: str) -> None:
    """Click's usage errors come out in Finnish, with the Finnish usage line and hint."""
    result = runner.invoke(app, args, prog_name="council")
    assert result.exit_code == 2
    assert said in result.output, result.output
    assert "Virhe" in result.output
    _check(result.output)
