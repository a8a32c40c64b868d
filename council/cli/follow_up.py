"""council follow-up: one reminder round (due reminders, thank-yous, retries of queued mail)."""

from __future__ import annotations

from typing import Annotated

import typer

from council.cli.app import app, console, err
from council.cli.common import TodayOpt, parse_day
from council.config import get_settings, using_proposal
from council.store.engine import checked_engine_for


@app.command("follow-up")
def follow_up_cmd(
    ctx: typer.Context,
    today: TodayOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Näytä kuka saisi mitä, älä lähetä")] = False,
) -> None:
    """Muistutusajo jokaiselle seurannassa olevalle esitykselle (tai --proposal-valinnan esitykselle):
    erääntyneet muistutukset, kiitokset ja jonossa olevien viestien uusinta."""
    from council.content.loading import load_roster
    from council.delivery.mail import FileMailer, SmtpMailer
    from council.rules.formatting import fi_date
    from council.services.follow_up import (
        FollowUpReport,
        deliver_pending,
        follow_up_day,
        remind_combined,
        run_follow_up,
    )

    settings = get_settings()
    checked_engine_for(settings)
    day = parse_day(today)
    mailer = FileMailer(settings.dry_run_dir / "mail") if dry_run else SmtpMailer(settings)
    actor = "cli:follow-up"

    def one(proposal_id: str, claimed: frozenset[str]) -> FollowUpReport:
        with using_proposal(proposal_id):
            return run_follow_up(
                get_settings(), today=day, mailer=mailer, actor=actor, dry_run=dry_run, claimed=claimed
            )

    chosen = (ctx.obj or {}).get("proposal")
    result = follow_up_day(
        settings,
        today=day,
        actor=actor,
        run_one=one,
        combine=lambda shared: remind_combined(settings, shared, mailer, today=day, actor=actor),
        proposal_ids=[chosen] if chosen else None,
        dry_run=dry_run,
        deliver_leftovers=lambda proposal_id: deliver_pending(
            settings.model_copy(update={"proposal_id": proposal_id}), mailer, actor=actor
        ),
    )
    verb = "saisi" if dry_run else "saa"
    names = {b.id: b.name for b in load_roster(settings.path(settings.roster_file)).bodies}
    several = len(result.reports) > 1
    for proposal_id, report in result.reports.items():
        if several:
            console.print(f"[bold]Esitys {proposal_id}[/]", highlight=False)
        for r in report.due:
            cc = f", kopio: {', '.join(r.cc)}" if r.cc else ""
            console.print(
                f"{names.get(r.body_id, r.body_id)} {verb} muistutuksen {r.round} (erääntyi {fi_date(r.due_on)}), "
                f"avoimet kohdat: {', '.join(map(str, r.open_points))}{cc}",
                highlight=False,
                markup=False,
            )
    for body_id, proposal_ids in result.combined.items():
        console.print(
            f"{names.get(body_id, body_id)} {verb} yhden muistutusviestin, jossa ovat esitykset "
            f"{', '.join(proposal_ids)}.",
            highlight=False,
            markup=False,
        )
    total = result.total()
    if not total.due:
        console.print(f"{fi_date(day)}: ei erääntyneitä muistutuksia.")
    if not dry_run:
        console.print(f"Lähetetty {len(total.delivered)} viestiä, kiitoksia {total.confirmations}.")
        for proposal_id in result.closed:
            console.print(f"Esitys {proposal_id} päättyi: kaikki kohdat on päätetty.", highlight=False)
        failed = total.failed
        for label, why in failed.items():
            err.print(f"[red]Epäonnistui[/] {label}: {why}", highlight=False)
        if any(f.permanent for f in failed.values()):
            raise typer.Exit(1)
