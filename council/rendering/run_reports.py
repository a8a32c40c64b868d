"""What a completed run did, in Finnish, for the coordinator: the markdown artifact of each run.

Each summary says what was recorded or sent, to whom, and what comes next, and ends with where the
dashboard is (its address when ``COUNCIL_DASHBOARD_URL`` is set, else its file).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from council.config import Settings
from council.rules.formatting import fi_date
from models.decisions import DecisionOut
from models.enums import STATUS_LABEL_FI, DecisionStatus


def dashboard_line(settings: Settings) -> str:
    """Where the committee's dashboard is, as the last line of every summary."""
    if settings.dashboard_url:
        return f"Tilannesivu: [{settings.dashboard_url}]({settings.dashboard_url})"
    return f"Tilannesivu päivitettiin: `{settings.dashboard_dir / 'dashboard.html'}`"


def decision_line(decision: DecisionOut, body_name: str) -> str:
    """One stored decision: 'Jokioisten kunta, kohta 1: hyväksytty … (15.3.2021 § 59), versio 1'."""
    when = fi_date(decision.meeting_date) if decision.meeting_date else "päivä puuttuu"
    return (
        f"{body_name}, kohta {decision.point_number}: {decision.outcome} ({when} § {decision.section}), "
        f"versio {decision.version}"
    )


def _list(items: Iterable[str]) -> list[str]:
    return [f"- {item}" for item in items]


def recorded_summary(
    body_name: str, stored: list[DecisionOut], *, sent: list[str], failed: list[str], settings: Settings
) -> str:
    """The summary of record-decision: the decisions, what was mailed because of them, what next."""
    lines = [f"## Kirjattu: {body_name}", "", *_list(decision_line(d, body_name) for d in stored), ""]
    if sent:
        lines += ["Lähetettiin:", *_list(sent), ""]
    if failed:
        lines += ["Jäi lähettämättä (seuranta-ajo yrittää uudelleen):", *_list(failed), ""]
    still_open = [d for d in stored if d.status not in (DecisionStatus.decided, DecisionStatus.final)]
    if still_open:
        points = ", ".join(str(d.point_number) for d in still_open)
        lines.append(
            f"**Seuraavaksi:** kohdat {points} jäivät avoimiksi "
            f"({STATUS_LABEL_FI[DecisionStatus(still_open[0].status)]}); muistutukset jatkuvat."
        )
    else:
        lines.append(
            "**Seuraavaksi:** ei toimia; päätös tulee lainvoimaiseksi 14 päivän oikaisuvaatimusajan jälkeen."
        )
    return "\n".join([*lines, "", dashboard_line(settings)])


def agenda_summary(body_name: str, count: int, meeting: date, *, settings: Settings) -> str:
    """The summary of mark-agenda."""
    return "\n".join(
        [
            f"## Esityslistalla: {body_name}",
            "",
            f"{count} kohtaa merkittiin kokouksen {fi_date(meeting)} esityslistalle.",
            "",
            f"**Seuraavaksi:** muistutuksia ei lähetetä ennen {fi_date(meeting)} seuraavaa päivää; "
            "kirjaa päätökset record-decision-lomakkeella, kun pöytäkirja on julkaistu.",
            "",
            dashboard_line(settings),
        ]
    )


def import_summary(path: str, count: int, *, sent: list[str], settings: Settings) -> str:
    """The summary of import-decisions."""
    lines = [f"## Tuotu {count} päätöstä", "", f"Tiedosto: `{path}`", ""]
    if sent:
        lines += ["Lähetettiin:", *_list(sent), ""]
    lines += [
        "**Seuraavaksi:** tarkista tilanne tilannesivulta; avoimiksi jääneistä kohdista muistutetaan.",
        "",
    ]
    return "\n".join([*lines, dashboard_line(settings)])


def send_summary(
    sent: list[str],
    failed: dict[str, str],
    skipped: list[str],
    *,
    dry_run_files: int | None,
    settings: Settings,
) -> str:
    """The summary of send-proposal (``sent``: official names or message labels)."""
    if dry_run_files is not None:
        return "\n".join(
            [
                "## Kuivaharjoitus: mitään ei lähetetty",
                "",
                f"{dry_run_files} asiakirjaa ja viestiä kansiossa `{settings.outputs / 'dry-run'}`.",
                "",
                "**Seuraavaksi:** tarkista asiakirjat ja aja lähetys ilman kuivaharjoitusta.",
            ]
        )
    lines = [f"## Esitys lähetetty {len(sent)} vastaanottajalle", ""]
    lines += _list(sent) if sent else ["Ei uusia lähetyksiä (kaikki oli jo lähetetty)."]
    lines.append("")
    if skipped:
        lines += ["Jo aiemmin lähetetty:", *_list(skipped), ""]
    if failed:
        lines += ["Jäi lähettämättä:", *_list(f"{k}: {v}" for k, v in failed.items()), ""]
    lines += ["**Seuraavaksi:** seuranta muistuttaa vastaanottajia, joiden päätös puuttuu.", ""]
    return "\n".join([*lines, dashboard_line(settings)])


def follow_up_summary(
    day: date,
    reminded: list[str],
    *,
    thanks: int,
    sent: int,
    failed: dict[str, str],
    dry_run: bool,
    settings: Settings,
) -> str:
    """The summary of follow-up (``reminded``: official names with their round and open points)."""
    title = f"## Seuranta {fi_date(day)}" + (" (kuivaharjoitus: mitään ei lähetetty)" if dry_run else "")
    lines = [title, ""]
    if reminded:
        lines += ["Muistutus:" if not dry_run else "Muistutus lähtisi:", *_list(reminded), ""]
    else:
        lines += ["Kenellekään ei ollut muistutusta tänään.", ""]
    if not dry_run:
        lines += [f"Kiitoksia ja toimenkuvia: {thanks}. Viestejä lähetetty: {sent}.", ""]
    if failed:
        lines += ["Jäi lähettämättä:", *_list(f"{k}: {v}" for k, v in failed.items()), ""]
    lines += ["**Seuraavaksi:** seuranta ajetaan taas huomenna klo 8.30.", ""]
    return "\n".join([*lines, dashboard_line(settings)])


def committee_summary(message: str, *, settings: Settings) -> str:
    """The summary of committee-digest and dashboard runs."""
    return "\n".join(["## Valiokunnan tilanne", "", message, "", dashboard_line(settings)])
