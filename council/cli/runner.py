"""The main job (`make run` / `council run`) on the embedded default.

Starts, as child processes that all stop on Ctrl-C: a Prefect server on 127.0.0.1:4200 (state under
state/prefect, analytics off), the local SMTP server and, once the work pool and the deployments of
prefect.yaml are registered (in this process, with Prefect's own deploy code), a process worker on the `council` work pool; runs `send-proposal` once and waits for it;
prints where the UI, the documents and the mails are; then waits for Ctrl-C. The time of each
start-up step goes to state/logs/startup.log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import httpx
from rich.console import Console

from council.cli.prefect_server import (
    SERVER,
    bin_path,
    head_started,
    needed_ports,
    port_open,
    prefect_env,
    server_args,
    spawn,
    take_head_start,
)
from council.config import PROJECT_ROOT, Settings, get_settings
from council.errors import CouncilError
from council.services.forms import PER_PROPOSAL, refresh_forms
from council.store.engine import prepare_database_folder, upgrade

console = Console()
POOL = "council"


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
        time.sleep(0.1)
    raise CouncilError(f"{url} ei vastannut {timeout:.0f} sekunnissa.")


class Children:
    """Child processes, each in its own process group, all stopped together."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        return self.adopt(name, spawn(self.log_dir, name, args, env))

    def adopt(self, name: str, proc: subprocess.Popen) -> subprocess.Popen:
        """A child started before (the Prefect server's head start), stopped with the others."""
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


class StartupLog:
    """When each start-up step ended, in seconds since the `council run` process started, written to
    state/logs/startup.log (appended, one block per start): where a slow start spends its time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.origin = time.monotonic() - _process_age()
        self.lines = [f"--- council run {time.strftime('%Y-%m-%d %H:%M:%S')}"]
        self.step("komentorivi ladattu")

    def step(self, what: str, *, at: float | None = None) -> None:
        """``what`` ended now, or at the monotonic time ``at``."""
        self.lines.append(f"{(time.monotonic() if at is None else at) - self.origin:7.2f} s  {what}")

    def write(self) -> None:
        """Append the steps so far to the log, once (at the ready line, or when the start stops)."""
        if self.lines:
            with suppress(OSError), self.path.open("a", encoding="utf-8") as log:
                log.write("\n".join(self.lines) + "\n")
            self.lines = []


def _process_age() -> float:
    """Seconds since this process started (Linux /proc), 0 where that cannot be read."""
    try:
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise CouncilError(f"{what} epäonnistui:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


class Registration:
    """The work pool and the deployments of prefect.yaml, registered in this process through Prefect's
    own code — what `prefect work-pool create council --type process --overwrite` and
    `prefect --no-prompt deploy --all` do, without two more Python processes that import Prefect.

    Made while the server starts: it points this process's Prefect settings at the server (the same
    environment the CLI processes had) and imports Prefect's deploy machinery and the flows, so that
    only the API calls are left once the server answers."""

    def __init__(self, env: dict[str, str]) -> None:
        if "prefect" in sys.modules:  # its settings are read once, on import
            raise CouncilError("Prefect on jo tuotu tähän prosessiin: sen asetuksia ei voi enää vaihtaa.")
        os.environ.update(env)
        import importlib

        import yaml
        from prefect.cli.deploy import _config, _core  # noqa: F401 - imported now, used once the server answers
        from prefect.workers.process import ProcessWorker  # noqa: F401

        # The flows' modules (and so the service they import) are imported now; Prefect then loads
        # each entrypoint from its file, which only runs that module's own lines.
        self.prefect_file = PROJECT_ROOT / "prefect.yaml"
        deployments = yaml.safe_load(self.prefect_file.read_text(encoding="utf-8"))["deployments"]
        for entrypoint in sorted({d["entrypoint"] for d in deployments}):
            module = entrypoint.split(":", 1)[0].removesuffix(".py").replace("/", ".")
            importlib.import_module(module)

    def register(self) -> None:
        """The work pool, then every deployment, over one API client (Prefect's code otherwise opens
        a client, with its TLS context, for nearly every call)."""
        import asyncio
        import contextlib

        from prefect.context import AsyncClientContext

        async def register() -> None:
            async with AsyncClientContext.get_or_create():
                await self._create_pool()
                await self._deploy_all()

        # Entrypoints and pull steps are relative to the project folder, as for the CLI.
        with contextlib.chdir(PROJECT_ROOT):
            asyncio.run(register())

    async def _create_pool(self) -> None:
        """`prefect work-pool create council --type process --overwrite`: the process worker's default
        base job template, not paused; an existing pool is updated."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import WorkPoolCreate
        from prefect.workers.utilities import get_default_base_job_template_for_infrastructure_type

        try:
            template = await get_default_base_job_template_for_infrastructure_type("process")
            async with get_client() as client:
                pool = WorkPoolCreate(name=POOL, type="process", base_job_template=template, is_paused=False)
                await client.create_work_pool(work_pool=pool, overwrite=True)
        except Exception as exc:  # noqa: BLE001 - any failure stops the start with its reason
            raise CouncilError(f"Työjonon luonti epäonnistui: {exc}") from exc

    async def _deploy_all(self) -> None:
        """`prefect --no-prompt deploy --all` from the project folder: the same functions of Prefect's
        CLI (prefect/cli/deploy), not interactive, their console output discarded."""
        import io

        from prefect.cli.deploy._config import _load_deploy_configs_and_actions, _pick_deploy_configs
        from prefect.cli.deploy._core import _run_multi_deploy
        from prefect.settings import get_current_settings

        quiet = Console(file=io.StringIO(), width=200)

        def no() -> bool:
            return False

        try:
            configs, actions = _load_deploy_configs_and_actions(prefect_file=self.prefect_file, console=quiet)
            configs = _pick_deploy_configs(configs, [], True, console=quiet, is_interactive=no)
            default_pool = get_current_settings().deployments.default_work_pool_name
            for config in configs:  # as `deploy` does for several deployments
                pool = config.setdefault("work_pool", {})
                if pool.get("name") is None and default_pool is not None:
                    pool["name"] = default_pool
            await _run_multi_deploy(
                deploy_configs=configs,
                actions=actions,
                deploy_all=True,
                prefect_file=self.prefect_file,
                console=quiet,
                is_interactive=no,
            )
        except Exception as exc:  # noqa: BLE001 - any failure stops the start with its reason
            raise CouncilError(f"Deploymenttien rekisteröinti epäonnistui: {exc}") from exc


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


def main_job(*, send: bool = True, wait: bool = True, workers: int = 1) -> int:
    settings = get_settings()
    env = prefect_env(settings)
    PREFECT_PORT = settings.prefect_port  # noqa: N806
    smtp_port = settings.effective_smtp_port
    for port, what in needed_ports(settings):
        if what == "Prefect-palvelin" and head_started(settings):  # by the `council` command, port free then
            continue
        if port_open(port):
            raise CouncilError(
                f"Portti {port} ({what}) on jo käytössä: onko toinen `make run` käynnissä? "
                "Pysäytä se tai vaihda portti (COUNCIL_PREFECT_PORT / COUNCIL_LOCAL_SMTP_PORT)."
            )
    # Ctrl-C must stop everything even when started from a shell that ignores SIGINT (`make run &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    children = Children(settings.state_dir / "logs")
    steps = StartupLog(children.log_dir / "startup.log")
    stopping = {"flag": False}

    def _stop(*_: object) -> None:
        stopping["flag"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        if (head_start := take_head_start(settings)) is not None:  # stopped by `finally` below
            children.adopt(SERVER, head_start[0])
        # The Prefect server is the long pole (≈ 20–40 s on 2 cores): start it first and do everything
        # that does not need it meanwhile — the SMTP server, the database, importing what registering
        # the work pool and the deployments needs.
        args = server_args(PREFECT_PORT)
        if head_start is None:
            server = children.start(SERVER, args, env)
            steps.step("Prefect-palvelin käynnistetty")
        else:
            server = head_start[0]
            steps.step("Prefect-palvelin käynnistetty (ennen komentoriviä)", at=head_start[1])
        if settings.uses_local_smtp:
            # `council smtp-server` without importing the whole command line (a second less of CPU
            # beside the starting Prefect server).
            children.start("smtp-server", [sys.executable, "-m", "council.delivery.smtpd"], env)
            console.print(f"SMTP-palvelin: 127.0.0.1:{smtp_port} → {settings.mail_dir}")
        with console.status("Alustetaan tietokanta"):
            prepare_database_folder(settings)
            upgrade(settings.effective_database_url)
            settings.proposals_inbox_dir.mkdir(parents=True, exist_ok=True)  # new-proposal lists it
        steps.step("SMTP-palvelin käynnistetty, tietokanta ajan tasalla")
        with console.status("Käynnistetään Prefect-palvelin (ensimmäinen käynnistys voi kestää minuutin)"):
            registration = Registration(env)
            steps.step("Prefect ja vuot tuotu rekisteröintiä varten")
            _wait_http(f"http://127.0.0.1:{PREFECT_PORT}/api/health", 180, server)
        steps.step("Prefect-palvelin vastaa (/api/health)")
        console.print(f"Prefect UI: http://127.0.0.1:{PREFECT_PORT}")
        with console.status("Rekisteröidään työjono ja deploymentit"):
            registration.register()
            steps.step("työjono ja deploymentit rekisteröity")
            try:
                refresh_forms(settings, env["PREFECT_API_URL"])
            except (CouncilError, httpx.HTTPError) as exc:
                # The forms then offer free text; every run still checks its values against the content.
                console.print(f"[yellow]Lomakkeiden valintalistoja ei päivitetty:[/] {exc}", highlight=False)
        steps.step("lomakkeiden valintalistat päivitetty")
        for n in range(1, workers + 1):
            name = "prefect-worker" if n == 1 else f"prefect-worker-{n}"
            # Prefect's process worker whose runs fork from a process that has the flows imported
            # (council/worker): a run starts in a fraction of a second instead of several seconds.
            children.start(
                name, [sys.executable, "-m", "council.worker", "--pool", POOL, "--name", f"council-{n}"], env
            )
        console.print(
            f"Prefect-työntekijöitä käynnissä: {workers} (työjono {POOL}); lokit: {children.log_dir}"
        )
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
        console.print(f"Tilanne: {bin_path('council')} status")
        if wait:
            steps.step("valmis (Palvelut käynnissä)")
            steps.write()
            console.print("[bold]Palvelut käynnissä. Pysäytä painamalla Ctrl-C.[/]")
            restarts: list[float] = []
            forms = FormKeeper(settings, env["PREFECT_API_URL"])
            while True:
                forms.keep_current()
                for name, proc in list(children.procs):
                    if proc.poll() is None:
                        continue
                    restarts = [t for t in restarts if time.monotonic() - t < 600]
                    if name == SERVER and len(restarts) < 3:
                        # Flow runs keep going while the server is away (their client retries);
                        # bring the server back on the same port and state instead of stopping all.
                        restarts.append(time.monotonic())
                        console.print(
                            f"[yellow]Prefect-palvelin pysähtyi (koodi {proc.returncode}); "
                            "käynnistetään uudelleen[/]"
                        )
                        server = children.restart(name, args, env)
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
        steps.write()
        children.stop()
