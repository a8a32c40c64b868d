"""council follow-up: one reminder round (due reminders, thank-yous, retries of queued mail)."""

from __future__ import annotations

from typing import Annotated

import typer

from council.cli.app import app, console, err
from council.cli.common import TodayOpt, parse_day
from council.config import get_settings
from council.store.engine import checked_engine_for


@app.command("follow-up")
def follow_up_cmd(
    today: TodayOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Näytä kuka saisi mitä, älä lähetä")] = False,
) -> None:
    """Muistutusajo: erääntyneet muistutukset, kiitokset ja jonossa olevien viestien uusinta."""
    from council.delivery.mail import FileMailer, SmtpMailer
    from council.services.follow_up import run_follow_up

    settings = get_settings()
    checked_engine_for(settings)
    day = parse_day(today)
    mailer = FileMailer(settings.dry_run_dir / "mail") if dry_run else SmtpMailer(settings)
    report = run_follow_up(settings, today=day, mailer=mailer, actor="cli:follow-up", dry_run=dry_run)
    from council.content.loading import load_roster
    from council.rules.formatting import fi_date

    verb = "saisi" if dry_run else "saa"
    names = {b.id: b.name for b in load_roster(settings.path(settings.roster_file)).bodies}
    for r in report.due:
        cc = f", kopio: {', '.join(r.cc)}" if r.cc else ""
        console.print(
            f"{names.get(r.body_id, r.body_id)} {verb} muistutuksen {r.round} (erääntyi {fi_date(r.due_on)}), "
            f"avoimet kohdat: {', '.join(map(str, r.open_points))}{cc}",
            highlight=False,
        )
    if not report.due:
        console.print(f"{fi_date(day)}: ei erääntyneitä muistutuksia.")
    if not dry_run:
        console.print(f"Lähetetty {len(report.delivered)} viestiä, kiitoksia {report.confirmations}.")
        for label, why in report.failed.items():
            err.print(f"[red]Epäonnistui[/] {label}: {why}", highlight=False)
        if any(f.permanent for f in report.failed.values()):
            raise typer.Exit(1)
