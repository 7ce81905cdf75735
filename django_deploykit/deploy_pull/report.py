"""What deploy_pull says in text once it has finished: the plan of a dry run, or where the slot now is.
(The stages report themselves as they run; the warnings were said as they happened.)"""

from __future__ import annotations

from django_deploykit.deploy_pull.pull import PullOutcome
from django_deploykit.text import Say


def outcome_lines(outcome: PullOutcome) -> list[Say]:
    if outcome.result != "dry-run":
        return [
            Say(
                f"{outcome.slot} is at {outcome.to_revision} (tag {outcome.tag}); logs in {outcome.log_dir}. "
                f"Next: manage.py swap_live.",
                "success",
            )
        ]
    plan = outcome.plan
    lines = [
        Say(f"Dry run for {outcome.slot}: nothing changed.", "heading"),
        Say(f"Commits ({len(plan['commits'])}):"),
    ]
    lines += [Say(f"  {commit}") for commit in plan["commits"]]
    requirements = plan["requirements"]
    if isinstance(requirements, list):
        lines.append(Say("Requirement changes:"))
        lines += [Say(f"  {line}") for line in requirements]
    else:
        lines.append(Say(f"Requirements: {requirements}"))
    lines.append(Say(f"New migration files: {', '.join(plan['new_migration_files']) or 'none'}"))
    pending = plan["pending_migrations"]
    lines.append(Say("Pending migrations of the target commit, by phase:" + ("" if pending else " none")))
    lines += [
        Say(f"  {phase}: {names if isinstance(names, str) else ', '.join(names)}")
        for phase, names in pending.items()
    ]
    return lines
