"""email: messages per second through the project's mailer vs one raw smtplib session."""

from __future__ import annotations

import smtplib
import statistics
import tempfile
from datetime import date
from pathlib import Path

from benchmarks.common import Ratio, Section, interleaved, smtp_server_process
from council.config import PROJECT_ROOT, Settings
from council.content.loading import load_proposal, load_roster
from council.delivery.mail import SmtpMailer, compose, envelope_recipients, wire_bytes
from council.services.send import render_first_send

DAY = date(2021, 2, 15)


def run(*, messages: int = 200, repeats: int = 3) -> Section:
    section = Section("email", f"{messages} messages per round (two DOCX and their JHS 143 XML each), {repeats} rounds")
    proposal = load_proposal(PROJECT_ROOT / "data/proposals/jarjestoyhteistyomalli-forssan-seutu.yaml")
    roster = load_roster(PROJECT_ROOT / "data/rosters/forssan-seutu.yaml")
    with tempfile.TemporaryDirectory(prefix="council-bench-mail-") as tmp:
        root = Path(tmp)
        rendered = [
            render_first_send(proposal, body, root / "docs" / body.id, on=DAY) for body in roster.bodies
        ]
        with smtp_server_process(root / "mail") as port:
            settings = Settings(  # type: ignore[call-arg]
                smtp_host=None,
                smtp_port=None,
                smtp_user=None,
                smtp_password=None,
                smtp_tls="none",
                local_smtp_port=port,
                outputs_dir=root,
            )
            outgoing = [rendered[i % len(rendered)].outgoing(settings) for i in range(messages)]
            composed = [compose(m) for m in outgoing]
            wire = [(wire_bytes(msg), envelope_recipients(msg)) for msg in composed]
            size = statistics.mean(len(w) for w, _ in wire)

            def mailer() -> None:
                # What deliver_messages does: the bytes composed when the message was queued (stored
                # in the outbox row), sent over the batch's one yagmail session.
                with SmtpMailer(settings).session() as session:
                    for data, recipients in wire:
                        session.send_wire(recipients, data)

            def mailer_prepared() -> None:
                # For reference: composing at delivery time, as the service did before migration 0004.
                with SmtpMailer(settings).session() as session:
                    for mail in outgoing:
                        session.send(compose(mail))

            def raw() -> None:
                with smtplib.SMTP(settings.effective_smtp_host, port, timeout=30) as smtp:
                    for data, recipients in wire:
                        smtp.sendmail(settings.sender, recipients, data)

            def compose_only() -> None:
                for mail in outgoing:
                    wire_bytes(compose(mail))

            raw()  # warm-up (connection set-up paths, server start)
            times = interleaved(
                {"raw": raw, "mailer": mailer, "mailer_prepared": mailer_prepared, "compose": compose_only},
                repeats,
            )
            received = len(list((root / "mail").glob("*.eml")))
        rate = {name: messages / statistics.median(values) for name, values in times.items()}
    expected = messages * (1 + 3 * repeats)
    section.measure("message_kb", "message size on the wire", size / 1024, "KiB")
    section.measure("raw_per_s", "raw: prepared bytes over one smtplib session", rate["raw"], "msg/s")
    section.measure(
        "mailer_per_s",
        "mailer: queued bytes over one SmtpMailer session (the service)",
        rate["mailer"],
        "msg/s",
    )
    section.measure(
        "mailer_prepared_per_s",
        "  mailer composing each message at send time (before 0004)",
        rate["mailer_prepared"],
        "msg/s",
    )
    section.measure(
        "compose_per_s", "  compose + serialise only (done once, when queued)", rate["compose"], "msg/s"
    )
    section.measure("received", "messages the server stored (all rounds)", received, f"of {expected}")
    section.ratios.append(
        Ratio("mailer/raw (msg/s)", rate["mailer"] / rate["raw"], ">= 0.8", "throughput kept")
    )
    section.measurements["prepared_over_raw"] = {
        "label": "mailer composing at send time/raw (for reference)",
        "value": rate["mailer_prepared"] / rate["raw"],
        "unit": "x",
    }
    if received != expected:
        section.notes.append(f"the server stored {received} messages, expected {expected}")
    return section
