"""The swap: lock, gate, exchange, reload, verify, record — and its reverse."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from django_deploykit.conf import conf
from django_deploykit.deploy_root import history, links, slot_settings
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.lock import DeployLockBusy, deploy_lock, read_holder
from django_deploykit.deploy_root.revision import read_revision
from django_deploykit.deploy_root.run import Run, RunFailed
from django_deploykit.deploy_root.slot_commands import SlotProject, production_env, run_manage
from django_deploykit.exit_codes import ExitCode
from django_deploykit.redact import redact_url
from django_deploykit.servers.endpoints import revision_endpoint
from django_deploykit.servers.reload import ReloadError, build_reloader
from django_deploykit.servers.verify import Verification, wait_for_revision
from django_deploykit.swap_live import gate
from django_deploykit.text import tail

Report = Callable[[str], None]


class SwapError(RunFailed):
    """The swap did not happen (or was undone); ``exit_code`` says which."""


@dataclass
class SwapOptions:
    project_subdir: Path
    production_variable: str = "PRODUCTION"
    dry_run: bool = False
    reload: bool = True
    timeout: float = 30.0
    gate: bool = True
    reverse_migrations: bool = False
    # The id to record the run under, chosen by the console that started it (None: a new one).
    run_id: str | None = None


@dataclass(frozen=True)
class Servers:
    """How to reload and check the servers, as the code being put live describes them.

    The settings of the code a swap puts live govern its reload and verification (the same
    rule as deploy_pull's, see slot_settings): a release that changes its reload adapter is
    reloaded the new way by the swap that brings it.
    """

    reload: dict[str, Any]
    live_url: str | None
    stage_url: str | None
    stage_health_url: str | None
    verify_consecutive: int
    force_journal: bool
    source: str

    @classmethod
    def of_slot(cls, project: SlotProject, options: SwapOptions) -> Servers:
        try:
            reported = slot_settings.read(project, production_env(options.production_variable), 120.0)
        except slot_settings.SlotSettingsError as exc:
            raise SwapError(f"{exc}; nothing was changed.") from exc
        return cls(
            reload=reported.get("RELOAD") or {},
            live_url=reported.get("LIVE_URL"),
            stage_url=reported.get("STAGE_URL"),
            stage_health_url=reported.get("STAGE_HEALTH_URL"),
            verify_consecutive=int(reported.get("VERIFY_CONSECUTIVE") or conf.VERIFY_CONSECUTIVE),
            force_journal=bool(reported.get("FORCE_JOURNAL")),
            source=f"the settings of {project.slot}'s code",
        )


@dataclass
class SwapOutcome:
    action: Literal["swap", "rollback", "reload"]
    result: str = "pending"
    method: str | None = None
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    revisions: dict[str, str | None] = field(default_factory=dict)
    gate: list[dict[str, Any]] = field(default_factory=list)
    reloads: list[str] = field(default_factory=list)
    verification: str = ""
    verified: bool = False
    repaired: str = ""
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(root: DeployRoot) -> dict[str, Any]:
    """What ``swap_live --status`` shows."""
    data: dict[str, Any] = {"deploy_root": str(root.path), "slots": {}}
    try:
        state = links.read_links(root)
        data["live"], data["stage"] = state.live, state.stage
        data["links_ok"] = True
    except links.LinkError as exc:
        data["live"] = data["stage"] = None
        data["links_ok"] = False
        data["links_problem"] = str(exc)
    for slot in root.slot_names:
        data["slots"][slot] = {"revision": read_revision(root.path / slot)}
    last = history.last(root)
    data["last_swap"] = asdict(last) if last else None
    holder = read_holder(root)
    data["lock_holder"] = holder.describe() if holder else None
    try:
        data["interrupted_swap"] = links.pending_journal(root) is not None
    except links.LinkError as exc:
        data["interrupted_swap"] = True
        data["links_ok"] = False
        data["links_problem"] = str(exc)
    return data


def swap(root: DeployRoot, options: SwapOptions, report: Report) -> SwapOutcome:
    with _locked(root, SwapOutcome("swap"), "swap_live", report, options.run_id) as (outcome, state, run):
        stage = SlotProject(root, state.stage, options.project_subdir)
        gated = options.gate
        incoming = _run_gate(stage, options, outcome, report) if gated else Servers.of_slot(stage, options)
        if options.dry_run:
            outcome.result = "dry-run"
            outcome.messages.append(
                f"Would make {state.stage} (revision {outcome.revisions[state.stage]}) live and "
                f"{state.live} the stage; nothing changed."
            )
            return outcome
        outgoing = Servers.of_slot(SlotProject(root, state.live, options.project_subdir), options)
        _exchange_reload_verify(root, state, options, outcome, report, run, incoming, outgoing)
        return outcome


def rollback(root: DeployRoot, options: SwapOptions, report: Report) -> SwapOutcome:
    """Swap back to the slot that was live before the last swap, if it still holds that code."""
    with _locked(root, SwapOutcome("rollback"), "swap_live --rollback", report, options.run_id) as (
        outcome,
        state,
        run,
    ):
        last = history.last(root)
        if last is None or last.from_slot is None:
            raise SwapError("There is no earlier swap in the deploy history to roll back.")
        if last.from_slot != state.stage:
            raise SwapError(
                f"The last swap made {last.to_slot} live from {last.from_slot}, but {state.stage} is the stage "
                "slot now; roll back by hand after checking the history (manage.py swap_live --status)."
            )
        if outcome.revisions[state.stage] != last.from_revision:
            raise SwapError(
                f"The slot {state.stage} no longer holds the revision that was live ({last.from_revision}); "
                f"it holds {outcome.revisions[state.stage]}. Deploy that revision to it instead."
            )
        newer = SlotProject(root, state.live, options.project_subdir)
        older = SlotProject(root, state.stage, options.project_subdir)
        report(f"migrations: what {newer.slot} applied that the code of {older.slot} does not know")
        previous = _slot_json(older, ["swap_live_migrations", "known"], options)
        to_leaves = json.dumps(previous["leaves"])
        plan = _slot_json(newer, ["swap_live_migrations", "plan", "--to", to_leaves], options)
        newer_migrations = [m["label"] for m in plan["migrations"]]
        destructive = [m for m in plan["migrations"] if m["forward_phase"] == "destructive"]
        if destructive:
            listing = "\n".join(f"  - {m['label']}: {m['reason']}" for m in destructive)
            raise SwapError(
                f"Refusing to roll back to {older.slot}: the live code applied destructive migrations that the "
                f"code of {older.slot} does not know, so it may need what they removed; nothing was changed.\n{listing}",
                outcome=outcome,
            )
        if options.reverse_migrations and plan["irreversible"]:
            raise SwapError(
                "Refusing to roll back with --reverse-migrations: "
                + "; ".join(plan["irreversible"])
                + " cannot be unapplied. Roll back without --reverse-migrations (these migrations are additive, "
                "so the previous code runs with them); nothing was changed.",
                outcome=outcome,
            )
        if options.dry_run:
            outcome.result = "dry-run"
            outcome.messages.append(f"Would make {state.stage} live again; nothing changed.")
            if newer_migrations:
                verb = "unapply" if options.reverse_migrations else "leave applied"
                outcome.messages.append(f"Would {verb}: {', '.join(newer_migrations)}.")
            return outcome
        incoming, outgoing = Servers.of_slot(older, options), Servers.of_slot(newer, options)
        _exchange_reload_verify(root, state, options, outcome, report, run, incoming, outgoing)
        if not newer_migrations:
            return outcome
        if not options.reverse_migrations:
            outcome.messages.append(
                f"The newer code's additive migrations stay applied ({', '.join(newer_migrations)}); the code of "
                f"{older.slot} runs with them. 'swap_live --rollback --reverse-migrations' would unapply them."
            )
            return outcome
        # The newer code is the stage slot now; it holds the migrations to unapply.
        report(f"migrations: unapplying {', '.join(newer_migrations)} with the code of {newer.slot}")
        unapplied = _slot_json(newer, ["swap_live_migrations", "reverse", "--to", to_leaves], options)[
            "unapplied"
        ]
        outcome.messages.append(
            f"Unapplied with the code of {newer.slot}: {', '.join(unapplied) or 'nothing'}."
        )
        return outcome


def reload_servers(root: DeployRoot, options: SwapOptions, report: Report) -> SwapOutcome:
    """Reload both servers onto the slots the links name, with the live code's adapters, and verify them.

    Nothing is exchanged: this brings servers that disagree with the links back in line.
    """
    with _locked(root, SwapOutcome("reload"), "swap_live --reload-servers", report) as (
        outcome,
        state,
        run,
    ):
        servers = Servers.of_slot(SlotProject(root, state.live, options.project_subdir), options)
        outcome.after = {"live": state.live, "stage": state.stage}
        problem = _reload(root, servers, "live", outcome, report)
        stage_problem = _reload(root, servers, "stage", outcome, report)
        if servers.live_url:
            failure = _verify(
                root, servers, state.live, outcome.revisions.get(state.live), options, outcome, report
            )
            # A live server that reports the live slot is right, whatever its reload said.
            problem = (problem or failure) if failure else ""
        elif not problem:
            outcome.verification = f"not verified: DEPLOYKIT_LIVE_URL is not set in {servers.source}"
        warning = _check_stage(root, servers, state.stage, outcome, options, stage_problem)
        if warning:
            outcome.messages.append(warning)
        recorded: dict[str, Any] = {
            "from_slot": state.live,
            "to_slot": state.live,
            "from_revision": outcome.revisions.get(state.live),
            "to_revision": outcome.revisions.get(state.live),
            "details": {"verification": outcome.verification},
        }
        if problem:
            outcome.result = "uncertain"
            message = (
                f"The servers were reloaded onto the links ({_links_now(state, outcome)}), but "
                f"{_clause(problem)}. " + _what_servers_serve(root, servers, state, outcome)
            )
            run.finish("failed", message=message, **recorded)
            raise SwapError(message, ExitCode.UNCERTAIN, outcome)
        run.finish("ok", **recorded)
        outcome.result = "ok"
        return outcome


@contextmanager
def _locked(
    root: DeployRoot, outcome: SwapOutcome, command: str, report: Report, run_id: str | None = None
) -> Iterator[tuple[SwapOutcome, links.LinkState, Run]]:
    """Hold the deploy lock with consistent links; lock and link problems become ``SwapError``. The run's
    clock starts before the lock: a record's duration includes the wait for it."""
    run = Run(root, outcome.action, run_id)
    try:
        with deploy_lock(root, command=command):
            _repair_if_needed(root, outcome, report)
            state = links.read_links(root)
            outcome.before = {"live": state.live, "stage": state.stage}
            outcome.revisions = {slot: read_revision(root.path / slot) for slot in root.slot_names}
            yield outcome, state, run
    except DeployLockBusy as exc:
        raise SwapError(str(exc), ExitCode.LOCK_BUSY) from exc
    except links.LinkError as exc:
        raise SwapError(str(exc)) from exc


def repair(root: DeployRoot) -> tuple[links.LinkState, str]:
    """Repair the links under the deploy lock; return them and what was done (the caller says it)."""
    try:
        with deploy_lock(root, command="swap_live --repair"):
            run = Run(root, "repair")
            state, what = links.repair(root)
            if what != "nothing to repair":
                run.finish("ok", to_slot=state.live, message=what)
            return state, what
    except DeployLockBusy as exc:
        raise SwapError(str(exc), ExitCode.LOCK_BUSY) from exc
    except links.LinkError as exc:
        raise SwapError(str(exc)) from exc


def _slot_json(project: SlotProject, args: list[str], options: SwapOptions) -> dict[str, Any]:
    env = production_env(options.production_variable)
    result = run_manage(project, args, env=env, timeout=max(options.timeout, 300))
    if result.exit_code != 0:
        raise SwapError(
            f"'manage.py {' '.join(args[:2])}' failed in {project.slot} (exit {result.exit_code}): "
            + tail(result.error_output, limit=2000, full="the output of: " + project.command_line(args, env))
        )
    try:
        data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise SwapError(
            f"'manage.py {' '.join(args[:2])}' in {project.slot} did not answer in JSON."
        ) from exc
    return data


def _repair_if_needed(root: DeployRoot, outcome: SwapOutcome, report: Report) -> None:
    problem = links.needs_repair(root)
    if problem and links.pending_journal(root) is not None:
        _, outcome.repaired = links.repair(root)
        report(f"repaired an interrupted swap first: {outcome.repaired}")


def _run_gate(stage: SlotProject, options: SwapOptions, outcome: SwapOutcome, report: Report) -> Servers:
    """The gate; it also reads how the stage slot's code reloads and checks the servers."""
    timeout = max(options.timeout, 60.0)
    report(f"gate 1/3: manage.py check --deploy in {stage.slot}")
    checks = [gate.check_deploy(stage, options.production_variable, timeout)]
    report(f"gate 2/3: unapplied additive migrations of {stage.slot}")
    checks.append(gate.additive_migrations(stage, options.production_variable, timeout))
    servers: Servers | None = None
    try:
        servers = Servers.of_slot(stage, options)
    except SwapError as exc:
        checks.append(gate.GateCheck("settings", False, str(exc)))
    if servers is not None and servers.stage_health_url:
        report(f"gate 3/3: health URL of {stage.slot}")
        checks.append(gate.health_probe(servers.stage_health_url, min(options.timeout, 10.0)))
    elif servers is not None:
        report("gate 3/3: no DEPLOYKIT_STAGE_HEALTH_URL configured, HTTP probe skipped")
    outcome.gate = [asdict(check) for check in checks]
    failed = [check for check in checks if not check.passed]
    if failed or servers is None:
        outcome.result = "refused"
        listing = "\n".join(f"  - {check.name}: {check.detail}" for check in failed)
        raise SwapError(
            f"The stage slot {stage.slot} did not pass the gate; nothing was swapped.\n{listing}",
            outcome=outcome,
        )
    return servers


def _exchange_reload_verify(
    root: DeployRoot,
    state: links.LinkState,
    options: SwapOptions,
    outcome: SwapOutcome,
    report: Report,
    run: Run,
    incoming: Servers,
    outgoing: Servers,
) -> None:
    """Exchange, then reload and verify as the incoming code says; swapping back, as the outgoing code says.

    The stage server is not public: a stage server that does not reload or answer is reported with
    what to do, and does not undo the swap. After a swap back the live server is verified again
    whatever the reloads said; if it does not report the slot the ``live`` link names, the error
    says what each server serves and what to run.
    """
    new_live, new_stage = state.stage, state.live
    report(f"exchange: live -> {new_live}, stage -> {new_stage}")
    outcome.method = links.exchange(root, force_journal=incoming.force_journal)
    outcome.after = {"live": new_live, "stage": new_stage}
    recorded: dict[str, Any] = {
        "from_slot": state.live,
        "to_slot": new_live,
        "from_revision": outcome.revisions.get(state.live),
        "to_revision": outcome.revisions.get(new_live),
    }
    problem = stage_problem = ""
    if options.reload:
        problem = _reload(root, incoming, "live", outcome, report)
        if not problem:
            stage_problem = _reload(root, incoming, "stage", outcome, report)
            problem = _verify(
                root, incoming, new_live, outcome.revisions.get(new_live), options, outcome, report
            )
    else:
        outcome.verification = "not reloaded (--no-reload), so not verified"
    if not problem:
        if options.reload:
            warning = _check_stage(root, incoming, new_stage, outcome, options, stage_problem)
            if warning:
                outcome.messages.append(
                    f"{warning} The {outcome.action} itself is done: {new_live} is live; "
                    f"'manage.py swap_live --rollback' undoes the {outcome.action}."
                )
        outcome.result = "ok"
        run.finish("ok", details={"method": outcome.method, "verification": outcome.verification}, **recorded)
        return
    # Why is said once, by the error below.
    report(f"swapping back: {state.live} live again")
    links.exchange(root, force_journal=outgoing.force_journal)
    outcome.after = {"live": state.live, "stage": state.stage}
    back_problem = stage_warning = ""
    if options.reload:
        back_problem = _reload(root, outgoing, "live", outcome, report)
        back_stage_problem = _reload(root, outgoing, "stage", outcome, report)
        if outgoing.live_url:
            # The live server is asked whatever the reload said: what it serves is what counts.
            back = _wait_for_slot(
                outgoing.live_url, outgoing, root, state.live, outcome.revisions.get(state.live), options
            )
            outcome.verification, outcome.verified = back.describe(), back.verified
            back_problem = "" if back.verified else (back_problem or f"the live server {back.describe()}")
        stage_warning = _check_stage(root, outgoing, state.stage, outcome, options, back_stage_problem)
    outcome.result = "swapped-back" if not back_problem else "uncertain"
    if back_problem:
        message = (
            f"The new slot {new_live} did not go live ({_clause(problem)}). The links were swapped back: "
            f"{_links_now(state, outcome)}; but after swapping back {_clause(back_problem)}. "
            + _what_servers_serve(root, outgoing, state, outcome)
        )
        run.finish("failed", message=message, **recorded)
        raise SwapError(message, ExitCode.UNCERTAIN, outcome)
    run.finish("swapped-back", message=problem + (f"; {stage_warning}" if stage_warning else ""), **recorded)
    raise SwapError(
        f"The new slot {new_live} did not go live: {_clause(problem)}. Swapped back: {state.live} is live again."
        + (f"\n{stage_warning}" if stage_warning else ""),
        ExitCode.SWAPPED_BACK,
        outcome,
    )


def _clause(text: str) -> str:
    """A sentence of another message, to be continued: without its full stop."""
    return text.rstrip(". ")


def _links_now(state: links.LinkState, outcome: SwapOutcome) -> str:
    return (
        f"live -> {state.live} (revision {outcome.revisions.get(state.live)}), "
        f"stage -> {state.stage} (revision {outcome.revisions.get(state.stage)})"
    )


def _serving(link: str, url: str, root: DeployRoot) -> tuple[str, bool | None]:
    """What the server of ``link`` reports right now, and whether it answered at all."""
    try:
        seen = revision_endpoint(url, timeout=5.0, token=conf.REVISION_TOKEN)
    except (OSError, ValueError) as exc:
        return f"the {link} server ({redact_url(url)}) does not answer ({exc})", False
    prefix = str(seen.get("sys_prefix") or "")
    slot = seen.get("slot")
    venv = (
        ""
        if slot and prefix.startswith(str((root.path / str(slot)).resolve()))
        else f" with the virtualenv {prefix}"
    )
    return (
        f"the {link} server ({redact_url(url)}) serves slot {slot} at revision {seen.get('revision')}{venv}",
        True,
    )


def _what_servers_serve(
    root: DeployRoot, servers: Servers, state: links.LinkState, outcome: SwapOutcome
) -> str:
    """Each server's state as its revision endpoint reports it now, and the command that repairs it."""
    if not servers.live_url:
        return (
            f"What the live server serves is unknown (DEPLOYKIT_LIVE_URL is not set in {servers.source}). "
            f"Check it; 'manage.py swap_live --reload-servers' reloads both servers onto the slots the links name."
        )
    said, answered = _serving("live", servers.live_url, root)
    sentences = [f"Now {said}."]
    if servers.stage_url:
        sentences.append(f"And {_serving('stage', servers.stage_url, root)[0]}.")
    if answered:
        sentences.append(
            f"'manage.py swap_live --reload-servers' reloads both servers onto the slots the links name "
            f"(live {state.live}) and verifies them."
        )
    else:
        sentences.append(
            f"Start the live server again: through the live link it serves {state.live}. Then "
            f"'manage.py swap_live --reload-servers' verifies both servers ('manage.py swap_live --status' shows the links)."
        )
    return " ".join(sentences)


def _check_stage(
    root: DeployRoot,
    servers: Servers,
    slot: str,
    outcome: SwapOutcome,
    options: SwapOptions,
    reload_problem: str,
) -> str:
    """A warning about the stage server with what to do, or "" when it is fine or cannot be asked."""
    if reload_problem:
        said, answered = _serving("stage", servers.stage_url, root) if servers.stage_url else ("", None)
        return (
            f"Warning: the stage server was not reloaded ({_clause(reload_problem)})"
            + (f"; {said}" if said else "")
            + f". {_stage_advice(slot, answered)}"
        )
    if not servers.stage_url:
        return ""
    revision = outcome.revisions.get(slot)
    result = _wait_for_slot(servers.stage_url, servers, root, slot, revision, options)
    if result.verified:
        return ""
    said, answered = _serving("stage", servers.stage_url, root)
    if answered:
        said = f"the stage server did not report {slot} at {revision} within {options.timeout:g} s: {said}"
    return f"Warning: {said}. {_stage_advice(slot, answered)}"


def _stage_advice(slot: str, answered: bool | None) -> str:
    if answered is False:
        return f"Start the stage server again (through the stage link it serves {slot})."
    if answered:
        return f"'manage.py swap_live --reload-servers' reloads it onto {slot}."
    return (
        f"Start the stage server again if it is down (through the stage link it serves {slot}), "
        "or run 'manage.py swap_live --reload-servers'."
    )


def _reload(root: DeployRoot, servers: Servers, link: str, outcome: SwapOutcome, report: Report) -> str:
    """Reload the server of ``link``; return why it failed, or "" (also when it has no adapter: warned)."""
    config = servers.reload.get(link)
    if not config:
        warning = (
            f"Warning: {link} was not reloaded: {servers.source} have no DEPLOYKIT_RELOAD adapter for {link}."
        )
        report(warning)
        if warning not in outcome.messages:
            outcome.messages.append(warning)
        return ""
    try:
        reloader = build_reloader(config, root.path)
        report(f"reload {link}: {reloader.describe()}")
        reloader.reload()
        outcome.reloads.append(f"{link}: {reloader.describe()}")
    except ReloadError as exc:
        return f"the {link} reload failed: {exc}"
    return ""


def _verify(
    root: DeployRoot,
    servers: Servers,
    slot: str,
    revision: str | None,
    options: SwapOptions,
    outcome: SwapOutcome,
    report: Report,
) -> str:
    # What verification found is said once: by the last line of the output, or by the error.
    if not servers.live_url:
        outcome.verification = f"not verified: DEPLOYKIT_LIVE_URL is not set in {servers.source}"
        return ""
    report(f"verify: waiting up to {options.timeout:g} s for the live server to report {slot} at {revision}")
    result = _wait_for_slot(servers.live_url, servers, root, slot, revision, options)
    outcome.verification = result.describe()
    outcome.verified = result.verified
    return "" if result.verified else f"the live server {outcome.verification}"


def _wait_for_slot(
    url: str, servers: Servers, root: DeployRoot, slot: str, revision: str | None, options: SwapOptions
) -> Verification:
    return wait_for_revision(
        url,
        revision=revision,
        slot=slot,
        slot_dir=str((root.path / slot).resolve()),
        timeout=options.timeout,
        consecutive=servers.verify_consecutive,
        token=conf.REVISION_TOKEN,
    )
