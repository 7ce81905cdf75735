"""The plan as text for people and as JSON for scripts (see docs/migrate_safe.md for the shape)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.migrations.executor import MigrationExecutor

from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe import exitcodes
from django_deploykit.migrate_safe.expansion import expanding_migration
from django_deploykit.migrate_safe.options import Options
from django_deploykit.migrate_safe.phases import ADDITIVE, DESTRUCTIVE, REFUSED, UNKNOWN
from django_deploykit.migrate_safe.planning import PhasePlan, Step, applied_state
from django_deploykit.migrate_safe.progress import ProgressWriter
from django_deploykit.migrate_safe.reviews import MigrationDetails, review_file
from django_deploykit.migrate_safe.verdicts import MigrationVerdict

JSON_FORMAT_VERSION = 1

Styler = Callable[[str], str]


def sql_by_migration(
    executor: MigrationExecutor, steps: list[Step], *, expand: bool = False
) -> dict[str, list[str]]:
    """The SQL each step would run, as ``sqlmigrate`` collects it, keyed by 'app.name'; with
    ``expand`` (the additive phase), as the expanding copies of the migrations run it."""
    statements: dict[str, list[str]] = {}
    if not steps:
        return statements
    # The steps apply to what the database has: the applied state, not the first step's ancestors
    # (an applied migration of another app is not one of them).
    state = applied_state(executor)
    for migration, backwards in steps:
        label = f"{migration.app_label}.{migration.name}"
        try:
            with executor.connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
                if backwards:
                    # Each undo starts from the state its own migration was applied to.
                    before = executor.loader.project_state(
                        (migration.app_label, migration.name), at_end=False
                    )
                    migration.unapply(before, editor, collect_sql=True)
                else:
                    if expand:
                        migration, _ = expanding_migration(migration, state, executor.connection)
                    state = migration.apply(state, editor, collect_sql=True)
        except Exception as exc:
            # Some operations introspect live constraint names and fail on a database in another
            # state (as sqlmigrate does); the plan is still worth printing.
            statements[label] = [f"-- The SQL could not be collected: {' '.join(str(exc).split())}"]
            break
        statements[label] = list(editor.collected_sql)
    return statements


def show_plan(
    executor: MigrationExecutor,
    plan: PhasePlan,
    options: Options,
    document: dict[str, Any],
    output: ProgressWriter,
) -> ExitCode:
    """--plan and --check: the plan as lines or as the JSON document; with --check, its answer."""
    report = plan_report(executor, plan, database=options.database, phase=options.phase, sql=options.sql)
    if output.json_output:
        document.update(report.as_dict())
    elif output.verbosity >= 1:
        style = output.style
        for line in report.as_text(
            heading=style.MIGRATE_HEADING, warning=style.WARNING, show_locks=output.verbosity >= 2
        ):
            output.stdout.write(line)
    return exitcodes.for_check(plan, options.phase) if options.check else ExitCode.OK


def plan_report(
    executor: MigrationExecutor, plan: PhasePlan, *, database: str, phase: str | None, sql: bool = False
) -> PlanReport:
    """--plan and --check: ``plan`` with, for --sql, the SQL of every step as ``phase`` would run it."""
    # A first install has no old code whose INSERTs the additive phase's kept defaults would serve.
    expand = phase == ADDITIVE and not plan.first_install
    statements = sql_by_migration(executor, plan.steps, expand=expand) if sql else None
    return PlanReport(plan, database, executor.connection.vendor, phase, statements)


@dataclass
class PlanReport:
    """A plan as --plan and --check show it: lines for people, a JSON document for scripts."""

    plan: PhasePlan
    database: str
    vendor: str
    phase: str | None
    # The statements of each migration, by 'app.name' (see sql_by_migration); None without --sql.
    sql: dict[str, list[str]] | None = None

    def as_dict(self) -> dict[str, Any]:
        plan, sql = self.plan, self.sql
        data: dict[str, Any] = {
            "format_version": JSON_FORMAT_VERSION,
            "database": self.database,
            "vendor": self.vendor,
            "phase": self.phase,
        }
        data.update(plan.as_dict())
        data["selected"] = [v.label for v in plan.select(self.phase or "all")]
        if sql is not None:
            for migration in data["migrations"]:
                migration["sql"] = sql.get(f"{migration['app_label']}.{migration['name']}", [])
        return data

    def as_text(self, *, heading: Styler = str, warning: Styler = str, show_locks: bool = False) -> list[str]:
        plan, database, vendor, phase, sql = self.plan, self.database, self.vendor, self.phase, self.sql
        if not plan.migrations:
            lines = [heading(f"Plan for database '{database}' ({vendor}):"), "  No migrations to apply."]
            if plan.contractions:
                lines.append(
                    "Destructive phase (after the swap) removes the DB defaults an additive phase kept for "
                    "the old code: " + "; ".join(c.describe() for c in plan.contractions)
                )
            return lines
        lines = [heading(f"Plan ({plan.direction}) for database '{database}' ({vendor}):")]
        for v in plan.migrations:
            lines.append(f"  {v.label}  [{v.phase}, {v.source}] {v.reason}")
            for h in v.hazards:
                lines.append(warning(f"      hazard {h.kind}: {h.reason}"))
            for op in v.operations:
                lines.append(f"    {op.index}. {op.description}: {op.phase}. {op.reason}")
                if show_locks and op.lock:
                    lines.append(f"       lock: {op.lock}")
                for h in op.hazards:
                    lines.append(warning(f"       hazard {h.kind}: {h.reason}"))
                if op.fix and op.phase in (REFUSED, UNKNOWN) and v.source == "rules":
                    lines.append(warning(f"       fix: {op.fix}"))
            if v.details is not None:
                lines += _details_lines(v.details, warning)
            if sql is not None:
                for statement in sql.get(v.label, []):
                    lines.append(f"      {statement}")
            if v.label in plan.held_back:
                lines.append(warning(f"      {plan.held_back[v.label]}"))
        lines.append(_summary("Additive phase (before the swap)", plan.additive, phase == ADDITIVE))
        lines.append(_summary("Destructive phase (after the swap)", plan.destructive, phase == DESTRUCTIVE))
        if plan.contractions:
            lines.append(
                "  then removes the DB defaults an additive phase kept for the old code: "
                + "; ".join(c.describe() for c in plan.contractions)
            )
        if plan.blocked:
            lines.append(
                warning(
                    "Runs in no phase until split or marked (see the reasons above): "
                    + ", ".join(v.label for v in plan.blocked)
                )
            )
        if plan.irreversible:
            lines.append(warning("Cannot be unapplied: " + "; ".join(plan.irreversible)))
        return lines


def _indented(title: str, text: str, indent: str) -> list[str]:
    body = text.splitlines()
    return [f"{indent}{title} {body[0]}"] + [f"{indent}  {line}" for line in body[1:]] if body else []


def _details_lines(details: MigrationDetails, warning: Styler) -> list[str]:
    """Where an undecided migration is and what it runs, so it can be decided from the plan."""
    lines = [f"      code: {details.location} (class Migration)"]
    lines += _indented("docstring:", details.docstring, "      ")
    for code in details.code:
        if code.kind.startswith("RunSQL"):
            lines += _indented(f"operation {code.operation} {code.kind}:", code.name, "      ")
            continue
        lines.append(f"      operation {code.operation} {code.kind}: {code.name} at {code.location}")
        lines += _indented("docstring:", code.docstring, "        ")
    lines.append(
        warning(
            f"      decide it: 'migrate_safe --review' lists it in {review_file().name} for a phase and "
            "a reason (or mark it with deploy_phase)."
        )
    )
    return lines


def _summary(title: str, verdicts: list[MigrationVerdict], selected: bool) -> str:
    mark = " <- selected" if selected else ""
    names = ", ".join(v.label for v in verdicts) if verdicts else "nothing"
    return f"{title}: {names}{mark}"
