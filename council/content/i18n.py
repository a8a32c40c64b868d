"""Language of a body's documents and emails: Finnish (fi) or Swedish (sv).

Templates come in both languages with the same variables and one context model
(``esitys.docx`` / ``esitys.sv.docx``, ``email/esitys.txt`` / ``email/esitys.sv.txt``); the phrases
that the code composes live here. Dates are 15.2.2021 in both languages.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from models.enums import Language, Outcome
from models.schemas import ProposalIn

_translations: dict[tuple[Path, float], ProposalIn] = {}

TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "proposal_type": "ESITYS",
        "duty_type": "TOIMENKUVA",
        "reminder_note": (
            "Tämä on muistutusversio: siinä ovat mukana vain kohdat, joista päätöstä ei ole vielä kirjattu."
        ),
        "resolution_intro": "{deciding_body} päättää, että {name_inessive}",
        "resolution_outro": "Päätöksestä pyydetään ilmoittamaan {sender_allative} pöytäkirjanotteella.",
        "duty_title": "{name_genitive} {title_lower}",
        "duties_lead": "Järjestöyhdyshenkilön tehtäviin kuuluu erityisesti:",
        "agenda": "esityslistalla {date}",
        "file_proposal": "Esitys {name}",
        "file_reminder": "Esitys {name} muistutus {round}",
        "file_duty": "Järjestöyhdyshenkilön toimenkuva {name}",
        "file_duty_filled": "Järjestöyhdyshenkilön toimenkuva {name} täytetty",
    },
    "sv": {
        "proposal_type": "FÖRSLAG",
        "duty_type": "ARBETSBESKRIVNING",
        "reminder_note": (
            "Detta är en påminnelseversion: den innehåller endast de punkter om vilka inget beslut "
            "ännu har registrerats."
        ),
        "resolution_intro": "{deciding_body} beslutar att {name_inessive}",
        "resolution_outro": "Beslutet ombeds meddelas {sender_allative} med ett protokollsutdrag.",
        "duty_title": "{title} – {name}",
        "duties_lead": "Till organisationskontaktpersonens uppgifter hör särskilt:",
        "agenda": "på föredragningslistan {date}",
        "file_proposal": "Förslag {name}",
        "file_reminder": "Förslag {name} påminnelse {round}",
        "file_duty": "Arbetsbeskrivning organisationskontaktperson {name}",
        "file_duty_filled": "Arbetsbeskrivning organisationskontaktperson {name} ifylld",
    },
}

OUTCOME_SV: dict[Outcome, str] = {
    Outcome.hyvaksytty: "godkänt enligt förslaget",
    Outcome.hyvaksytty_aanestys: "godkänt efter omröstning",
    Outcome.hyvaksytty_muutettu_ehdotus: "godkänt enligt föredragandens ändrade förslag",
    Outcome.hyvaksytty_muutettuna: "godkänt med ändringar",
    Outcome.hylatty: "förkastat",
    Outcome.merkitty_tiedoksi: "antecknat för kännedom",
    Outcome.palautettu: "återremitterat för beredning",
    Outcome.poistettu: "struket från föredragningslistan",
    Outcome.poydalle: "bordlagt",
    Outcome.vaali: "(val)",
}


def text(lang: str, key: str, **values: str) -> str:
    return TEXTS.get(lang, TEXTS["fi"])[key].format(**values)


def outcome_label(outcome: str, lang: str) -> str:
    """The stored (Finnish) outcome in the body's language."""
    if lang == Language.sv.value:
        try:
            return OUTCOME_SV[Outcome(outcome)]
        except ValueError:
            return outcome
    return outcome


def localized(template_name: str, lang: str) -> str:
    """'esitys.docx' → 'esitys.sv.docx' for Swedish; Finnish is the unsuffixed original."""
    if lang in (None, "", Language.fi.value):
        return template_name
    path = PurePath(template_name)
    return str(path.with_name(f"{path.stem}.{lang}{path.suffix}"))


def translated(proposal: ProposalIn, lang: str) -> ProposalIn:
    """The proposal's content in ``lang`` (``data/proposals/<id>.<lang>.yaml``), when that file exists.

    Without a translation the Finnish content is used inside the ``lang`` templates.
    """
    if lang in (None, "", Language.fi.value):
        return proposal
    from council.config import get_settings
    from council.content.loading import load_yaml_model
    from council.errors import ContentError, Problem

    settings = get_settings()
    path = settings.path(settings.data_dir) / "proposals" / f"{proposal.id}.{lang}.yaml"
    if not path.is_file():
        return proposal
    key = (path, path.stat().st_mtime)
    if key not in _translations:
        loaded = load_yaml_model(path, ProposalIn)
        if loaded.id != proposal.id or len(loaded.points) != len(proposal.points):
            raise ContentError(
                str(path),
                [
                    Problem(
                        str(path), None, "id", "käännöksen tunnisteen ja kohtien on vastattava alkuperäistä"
                    )
                ],
            )
        _translations[key] = loaded
    return _translations[key]
