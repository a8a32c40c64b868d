"""Typer's and Click's own words in Finnish: help chrome, usage line and error messages.

Typer 0.29 bundles its own copy of Click (``typer._click``) whose strings are mostly plain English
literals, not gettext calls, so a gettext catalogue cannot reach them. :func:`install` therefore
sets Typer's panel and hint strings, puts Finnish prefixes and help texts where Click builds them,
drops the type column (``<str>``, ``<list[int]>``; each option's help says what it takes) and
translates the error messages Click formats, by pattern. It runs once, when the CLI is imported;
``tests/test_cli_finnish.py`` checks every command's help and the usage errors for English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import typer.core
import typer.rich_utils as rich_utils
from typer import _click

USAGE = "Käyttö: "
HELP_OPTION = "Näytä tämä ohje ja lopeta."
OPTIONS_METAVAR = "[VALINNAT]"
SUBCOMMAND_METAVAR = "KOMENTO [ARGUMENTIT]..."

#: Click's error messages (as formatted by ``format_message``) and their Finnish forms.
MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"^Missing option '([^']+)'\.", r"Pakollinen valinta \1 puuttuu."),
        (r"^Missing argument '([^']+)'\.", r"Pakollinen argumentti \1 puuttuu."),
        (r"^Missing parameter: (\S+)", r"Pakollinen arvo \1 puuttuu"),
        (r"^Invalid value for '([^']+)': ", r"Virheellinen arvo (\1): "),
        (r"^Invalid value: ", "Virheellinen arvo: "),
        (r"^No such option: (\S+)", r"Tuntematon valinta \1"),
        (r"\(Possible options: ([^)]+)\)", r"(tarkoititko: \1)"),
        (r"\bDid you mean ([^?]+)\?", r"Tarkoititko \1?"),
        (r"^No such command '([^']+)'\.", r"Tuntematon komento '\1'."),
        (r"^Got unexpected extra argument(?:\(s\)|s)? \(([^)]*)\)", r"Ylimääräisiä argumentteja: \1"),
        (r"^Option '([^']+)' requires an argument\.", r"Valinta \1 tarvitsee arvon."),
        (r"^Option '([^']+)' requires (\d+) arguments\.", r"Valinta \1 tarvitsee \2 arvoa."),
        (r"'([^']*)' is not a valid integer( range)?\.", r"'\1' ei ole kokonaisluku."),
        (r"'([^']*)' is not a valid float( range)?\.", r"'\1' ei ole luku."),
        (r"'([^']*)' is not a valid boolean\.", r"'\1' ei ole kyllä/ei-arvo."),
        (r"'([^']*)' is not one of (.+)\.", r"'\1' ei ole mikään näistä: \2."),
        (r"'([^']*)' is not a valid choice\.", r"'\1' ei ole sallittu vaihtoehto."),
        (r"(\S+) is not in the range (.+)\.", r"\1 ei ole välillä \2."),
        # Typer 0.29 converts values with pydantic: its messages for the types the CLI takes
        (r"Input should be a valid integer.*", "anna kokonaisluku, esim. 59."),
        (r"Input should be a valid number.*", "anna luku."),
        (r"Input should be a valid boolean.*", "anna kyllä tai ei."),
        (r"Input should be greater than or equal to (\S+)", r"anna vähintään \1."),
        (r"Input should be less than or equal to (\S+)", r"anna enintään \1."),
        (r"^(File|Directory|Path) '([^']*)' does not exist\.", r"Polkua '\2' ei ole olemassa."),
        (r"^(File|Directory|Path) '([^']*)' is a directory\.", r"'\2' on kansio."),
        (r"^(File|Directory|Path) '([^']*)' is a file\.", r"'\2' on tiedosto."),
    ]
]

#: Typer's own panel titles and hints (module constants of typer.rich_utils).
RICH_STRINGS = {
    "ARGUMENTS_PANEL_TITLE": "Argumentit",
    "OPTIONS_PANEL_TITLE": "Valinnat",
    "COMMANDS_PANEL_TITLE": "Komennot",
    "ERRORS_PANEL_TITLE": "Virhe",
    "ABORTED_TEXT": "Keskeytetty.",
    "RICH_HELP": "Ohje: [blue]'{command_path} {help_option}'[/]",
    "DEFAULT_STRING": "[oletus: {}]",
    "ENVVAR_STRING": "[ympäristömuuttuja: {}]",
    "REQUIRED_LONG_STRING": "[pakollinen]",
    "DEPRECATED_STRING": "(vanhentunut) ",
}


def finnish(message: str) -> str:
    """One of Click's messages in Finnish (unchanged when no pattern knows it)."""
    for pattern, replacement in MESSAGES:
        message = pattern.sub(replacement, message)
    return message


def _finnish_errors(
    original: Callable[[_click.ClickException], None],
) -> Callable[[_click.ClickException], None]:
    def rich_format_error(error: _click.ClickException) -> None:
        english = error.format_message
        error.format_message = lambda: finnish(english())  # type: ignore[method-assign]
        original(error)

    return rich_format_error


def _finnish_help_option(
    original: Callable[[_click.Command, _click.Context], typer.core.TyperOption | None],
) -> Callable[[_click.Command, _click.Context], typer.core.TyperOption | None]:
    def get_help_option(self: _click.Command, ctx: _click.Context) -> typer.core.TyperOption | None:
        option = original(self, ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    return get_help_option


def _no_type_column(
    self: typer.core.TyperOption | typer.core.TyperArgument, ctx: _click.Context
) -> str | None:
    """An option's explicit metavar (a Finnish word chosen for it), never ``<str>``; nothing for an
    argument, whose name column already shows its metavar."""
    return None if isinstance(self, typer.core.TyperArgument) else self.metavar


def _usage_prefix(original: Callable[..., None]) -> Callable[..., None]:
    def write_usage(self: _click.HelpFormatter, prog: str, args: str = "", prefix: str | None = None) -> None:
        original(self, prog, args, USAGE if prefix is None else prefix)

    return write_usage


_installed = False


def install() -> None:
    """Make Typer and Click speak Finnish in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    for name, text in RICH_STRINGS.items():
        setattr(rich_utils, name, text)
    rich_utils.rich_format_error = _finnish_errors(rich_utils.rich_format_error)
    _click.core.Command.get_help_option = _finnish_help_option(_click.core.Command.get_help_option)  # type: ignore[method-assign]
    typer.core.TyperOption.display_type_rich = _no_type_column  # type: ignore[method-assign]
    typer.core.TyperArgument.display_type_rich = _no_type_column  # type: ignore[method-assign]
    _click.formatting.HelpFormatter.write_usage = _usage_prefix(_click.formatting.HelpFormatter.write_usage)  # type: ignore[method-assign]
    # the usage line's style: rich_utils highlights the prefix by a pattern of its own
    rich_utils.highlighter.highlights = [
        pattern.replace("Usage: ", USAGE) for pattern in rich_utils.highlighter.highlights
    ]
