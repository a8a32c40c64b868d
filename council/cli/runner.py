"""The main job (`make run` / `council run`) on the embedded default.

Starts, as child processes that all stop on Ctrl-C: the local SMTP server, a Prefect server on
127.0.0.1:4200 (state under state/prefect, analytics off), a process worker on the `council` work
pool; registers the deployments of prefect.yaml; runs `send-proposal` once and waits for it; prints
where the UI, the documents and the mails are; then waits for Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
from rich.console import Console

from council.config import PROJECT_ROOT, Settings, get_settings
from council.errors import CouncilError
from council.services.forms import PER_PROPOSAL, refresh_forms
from council.store.engine import prepare_database_folder, upgrade

console = Console()
POOL = "council"


def prefect_env(settings: Settings) -> dict[str, str]:
    """Environment for the Prefect server, worker and CLI: local, quiet, no telemetry."""
    port = settings.prefect_port
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(settings.state_dir / "prefect"),
            "PREFECT_API_URL": api,
            "PREFECT_UI_API_URL": api,
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
            "PREFECT_CLI_PROMPT": "false",
            "COUNCIL_HOME": str(settings.home),
        }
    )
    return env


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise CouncilError(f"Prosessi päättyi ennen kuin {url} vastasi (koodi {proc.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost only
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise CouncilError(f"{url} ei vastannut {timeout:.0f} sekunnissa.")


class Children:
    """Child processes, each in its own process group, all stopped together."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def restart(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start ``name`` again in the dead one's place (so ``stop`` keeps the start order)."""
        index = next(i for i, (n, _) in enumerate(self.procs) if n == name)
        proc = self.start(name, args, env)
        self.procs[index] = self.procs.pop()
        return proc

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                console.print(f"Pysäytetään {name}")
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise CouncilError(f"{what} epäonnistui:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def run_deployment_and_wait(
    env: dict[str, str], name: str, timeout: float = 600, parameters: dict | None = None
) -> str:
    """Start a deployment run through the API and wait for a final state; returns its state name."""
    code = (
        "import sys\n"
        "from prefect.deployments import run_deployment\n"
        f"run = run_deployment({name!r}, parameters={parameters or {}!r}, timeout={timeout})\n"
        "print(run.state.name if run.state else 'UNKNOWN')\n"
        "print(run.id)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout + 60,
    )
    if result.returncode != 0:
        raise CouncilError(f"Ajon {name} käynnistys epäonnistui:\n{result.stderr[-2000:]}")
    state, run_id = result.stdout.strip().splitlines()[-2:]
    return f"{state} ({run_id})"


def _default_send(settings: Settings) -> dict | None:
    """The main job's send-proposal parameters: always the configured proposal, named by the label
    its form's dropdown offers (another active proposal, say a draft imported for review, must not be
    mailed by a restart); None when the configured proposal is closed: then nothing is sent."""
    from sqlalchemy.orm import Session

    from council.store.engine import checked_engine_for
    from council.store.proposals import list_proposals

    with Session(checked_engine_for(settings)) as session:
        mine = next((p for p in list_proposals(session=session) if p.id == settings.proposal_id), None)
    if mine is None:
        return {}  # not stored yet: the run stores it (the only proposal there is)
    if not mine.active:
        return None
    # The form's tab shape (council/services/forms.py): what the server's schema asks for when several
    # proposals are active, and read back into ``esitys`` by the flow either way.
    return {"lahetys": {PER_PROPOSAL: {"esitys": mine.label}}}


class FormKeeper:
    """Keeps the forms' dropdowns current while `council run` runs: a new proposal (from the CLI or a
    flow), a closed one, a file saved into the new-proposals folder or a changed roster reach the
    forms within seconds, without a restart or a re-deploy."""

    EVERY = 10.0  # seconds between looks; a look reads the roster, the folder and one query

    def __init__(self, settings: Settings, api_url: str) -> None:
        from council.services.forms import form_choices

        self.settings, self.api_url = settings, api_url
        self.last_look = time.monotonic()
        try:
            self.pushed: dict | None = form_choices(settings)
        except CouncilError:
            self.pushed = None
        self.complained = ""

    def keep_current(self) -> None:
        from council.services.forms import form_choices

        if time.monotonic() - self.last_look < self.EVERY:
            return
        self.last_look = time.monotonic()
        try:
            choices = form_choices(self.settings)
            if choices != self.pushed:
                refresh_forms(self.settings, self.api_url, choices)
                self.pushed, self.complained = choices, ""
        except (CouncilError, httpx.HTTPError) as exc:
            if str(exc) != self.complained:  # once per problem, not every ten seconds
                self.complained = str(exc)
                console.print(f"[yellow]Lomakkeiden valintalistoja ei päivitetty:[/] {exc}", highlight=False)


def main_job(*, send: bool = True, wait: bool = True) -> int:
    settings = get_settings()
    env = prefect_env(settings)
    PREFECT_PORT = settings.prefect_port  # noqa: N806
    smtp_port = settings.effective_smtp_port
    for port, what in ((PREFECT_PORT, "Prefect-palvelin"), (smtp_port, "SMTP-palvelin")):
        if what == "SMTP-palvelin" and not settings.uses_local_smtp:
            continue
        if _port_open(port):
            raise CouncilError(
                f"Portti {port} ({what}) on jo käytössä: onko toinen `make run` käynnissä? "
                "Pysäytä se tai vaihda portti (COUNCIL_PREFECT_PORT / COUNCIL_LOCAL_SMTP_PORT)."
            )
    # Ctrl-C must stop everything even when started from a shell that ignores SIGINT (`make run &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    children = Children(settings.state_dir / "logs")
    stopping = {"flag": False}

    def _stop(*_: object) -> None:
        stopping["flag"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        with console.status("Alustetaan tietokanta"):
            prepare_database_folder(settings)
            upgrade(settings.effective_database_url)
            settings.proposals_inbox_dir.mkdir(parents=True, exist_ok=True)  # new-proposal lists it
        if settings.uses_local_smtp:
            children.start("smtp-server", [_bin("council"), "smtp-server"], env)
            console.print(f"SMTP-palvelin: 127.0.0.1:{smtp_port} → {settings.mail_dir}")
        with console.status("Käynnistetään Prefect-palvelin (ensimmäinen käynnistys voi kestää minuutin)"):
            server_args = [
                _bin("prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(PREFECT_PORT),
            ]
            server = children.start("prefect-server", server_args, env)
            _wait_http(f"http://127.0.0.1:{PREFECT_PORT}/api/health", 180, server)
        console.print(f"Prefect UI: http://127.0.0.1:{PREFECT_PORT}")
        with console.status("Rekisteröidään työjono ja deploymentit"):
            _run(
                [_bin("prefect"), "work-pool", "create", POOL, "--type", "process", "--overwrite"],
                env,
                "Työjonon luonti",
            )
            _run([_bin("prefect"), "--no-prompt", "deploy", "--all"], env, "Deploymenttien rekisteröinti")
            try:
                refresh_forms(settings, env["PREFECT_API_URL"])
            except (CouncilError, httpx.HTTPError) as exc:
                # The forms then offer free text; every run still checks its values against the content.
                console.print(f"[yellow]Lomakkeiden valintalistoja ei päivitetty:[/] {exc}", highlight=False)
        children.start("prefect-worker", [_bin("prefect"), "worker", "start", "--pool", POOL], env)
        console.print(f"Prefect-työntekijä käynnissä (työjono {POOL}); lokit: {children.log_dir}")
        parameters = _default_send(settings) if send else None
        if send and parameters is None:
            console.print(
                f"Esitys {settings.proposal_id} on päättynyt: sitä ei lähetetä. "
                "Valitse toinen esitys (COUNCIL_PROPOSAL_ID) tai lähetä send-proposal-lomakkeella."
            )
        elif send:
            with console.status("Ajetaan send-proposal (asiakirjat, sähköpostit)"):
                state = run_deployment_and_wait(env, "send-proposal/send-proposal", parameters=parameters)
            console.print(f"send-proposal: {state}")
        mails = sorted((settings.mail_dir).glob("*.eml"))
        docs = sorted(settings.proposal_dir(settings.proposal_id).rglob("*.docx"))
        console.print(f"Asiakirjat: {settings.proposal_dir(settings.proposal_id)} ({len(docs)} DOCX)")
        console.print(f"Sähköpostit: {settings.mail_dir} ({len(mails)} .eml)")
        console.print(f"Tilanne: {_bin('council')} status")
        if wait:
            console.print("[bold]Palvelut käynnissä. Pysäytä painamalla Ctrl-C.[/]")
            restarts: list[float] = []
            forms = FormKeeper(settings, env["PREFECT_API_URL"])
            while True:
                forms.keep_current()
                for name, proc in list(children.procs):
                    if proc.poll() is None:
                        continue
                    restarts = [t for t in restarts if time.monotonic() - t < 600]
                    if name == "prefect-server" and len(restarts) < 3:
                        # Flow runs keep going while the server is away (their client retries);
                        # bring the server back on the same port and state instead of stopping all.
                        restarts.append(time.monotonic())
                        console.print(
                            f"[yellow]Prefect-palvelin pysähtyi (koodi {proc.returncode}); "
                            "käynnistetään uudelleen[/]"
                        )
                        server = children.restart(name, server_args, env)
                        _wait_http(f"http://127.0.0.1:{PREFECT_PORT}/api/health", 180, server)
                        console.print("Prefect-palvelin käynnissä taas.")
                        continue
                    raise CouncilError(
                        f"{name} pysähtyi (koodi {proc.returncode}); katso {children.log_dir / (name + '.log')}"
                    )
                time.sleep(1)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        children.stop()
