"""What swap_live says in text: the status of a deploy root, the outcome of a swap, rollback, reload or
repair. The command styles and writes these lines; with --format json it writes the documents instead."""

from __future__ import annotations

from typing import Any

from django_deploykit.deploy_root.links import LinkState
from django_deploykit.swap_live.service import SwapOutcome
from django_deploykit.text import Say


def status_lines(data: dict[str, Any]) -> list[Say]:
    lines = [Say(f"Deploy root: {data['deploy_root']}")]
    roles = {data["live"]: "live", data["stage"]: "stage"}
    for slot, about in data["slots"].items():
        lines.append(Say(f"  {slot:<10} {roles.get(slot, '?'):<6} revision {about['revision'] or 'unknown'}"))
    if not data["links_ok"]:
        problem = data["links_problem"]
        # What --repair refuses says itself what to do by hand first.
        hint = "" if "by hand" in problem else " 'manage.py swap_live --repair' fixes them."
        lines.append(Say(f"Links: {problem}{hint}", "error"))
    last = data["last_swap"]
    if last is None:
        lines.append(Say("Last swap: none"))
    else:
        lines.append(
            Say(
                f"Last swap: {last['kind']} {last['result']} at {last['started_at']} by {last['user']}, "
                f"{last['from_slot'] or '-'} -> {last['to_slot'] or '-'} ({last['duration']:.1f} s; "
                f"deploy_log {last['id']})"
            )
        )
    lines.append(Say(f"Deploy lock: {'held by ' + data['lock_holder'] if data['lock_holder'] else 'free'}"))
    if data["interrupted_swap"] and not data["links_ok"] and "swap journal" in data["links_problem"]:
        lines.append(Say("Interrupted swap: a journal --repair will not follow (above).", "warning"))
    elif data["interrupted_swap"]:
        lines.append(Say("Interrupted swap: yes; 'manage.py swap_live --repair' finishes it.", "warning"))
    else:
        lines.append(Say("Interrupted swap: no"))
    return lines


def repair_lines(state: LinkState, what: str) -> list[Say]:
    # 'what' names the links itself whenever it changed them.
    if what == "nothing to repair":
        return [Say(f"Nothing to repair: live -> {state.live}, stage -> {state.stage}.")]
    return [Say(f"Repaired: {what}.", "success")]


def outcome_lines(outcome: SwapOutcome) -> list[Say]:
    lines = [Say(message) for message in outcome.messages]
    if outcome.result != "ok":
        return lines
    verification = "verified by the live server" if outcome.verified else outcome.verification
    live, stage = outcome.after["live"], outcome.after["stage"]
    if outcome.action == "reload":
        lines.append(Say(f"Reloaded: live -> {live}, stage -> {stage}; {verification}.", "success"))
    else:
        revision = outcome.revisions.get(live)
        lines.append(
            Say(f"{live} is live (revision {revision}), {stage} is the stage; {verification}.", "success")
        )
    return lines
