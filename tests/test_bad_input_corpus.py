"""Bad input to every command: a clear sentence, a non-zero exit, no traceback, and nothing changed.

Each case runs ``manage.py <command> ...`` as a real process in the live slot of one real deploy
root, with argv given as bytes (so a value that is not UTF-8 reaches the command as it would from a
shell), stdin not a terminal, and a bare environment. Before and after each case the test digests
the deploy root's folder (with the source repository beside it: every file's path, mode, link
target and content hash) and the site's SQLite database (its schema and every table's rows).

``PYTHONDONTWRITEBYTECODE`` keeps Python's own byte-code cache out of the digest; nothing else is
left out. A case that changed something fails, and the tree is put back from a pristine copy so
the next case starts from the same state.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from django_deploykit.deploy_root import lock
from tests import slot_packages
from tests.deployment import BARE_ENVIRONMENT, Site, build_site

# A heavy fault or corpus test: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.faults

Listing = dict[str, tuple[int, str]]

# The defects of issue 11 that other branches fix (maintenance, swap_live --repair); these cases
# pass once those branches are merged.


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str | bytes, ...]
    # A part of the sentence the command must print on stderr.
    message: str
    arrange: Callable[[Path], None] | None = None
    # Why the case is known to fail on this branch (it stays in the table, marked).
    known_defect: str | None = None


def case(
    id: str,
    *args: str | bytes,
    message: str,
    arrange: Callable[[Path], None] | None = None,
    known_defect: str | None = None,
) -> Case:
    return Case(id, args, message, arrange, known_defect)


TIME_ERROR = "is not a time; use HH:MM"
# The one duration grammar of every duration and timeout option (django_deploykit.durations).
DURATION_ERROR = "is not a duration; write it like 500ms, 90s, 2min or 1h30m"
NOT_UTF8 = "is not valid UTF-8; write it in UTF-8"
INVALID_CHOICE = "invalid choice"
OUT_OF_RANGE = "date value out of range"


def stage_is_a_folder(base: Path) -> None:
    root = base / "site"
    (root / "stage").unlink()
    (root / "stage").mkdir()
    (root / "stage" / "left-by-hand.txt").write_text("someone copied a slot here\n")
    (root / ".swap-journal.json").write_text(json.dumps({"live": "green", "stage": "blue"}))


def journal_names_one_slot_twice(base: Path) -> None:
    (base / "site" / ".swap-journal.json").write_text(json.dumps({"live": "blue", "stage": "blue"}))


MAINTENANCE = [
    case(
        "action-unknown", "maintenance", "onn", message="Unknown action 'onn'; use one of: on, off, status."
    ),
    case("action-empty", "maintenance", "", message="Unknown action ''"),
    case("action-not-utf8", "maintenance", b"o\xffn", message=NOT_UTF8),
    case("at-hour", "maintenance", "on", "--at", "25:00", message="the hour must be between 00 and 23"),
    case("at-minute", "maintenance", "on", "--at", "12:60", message="the minutes must be between 00 and 59"),
    case("at-word", "maintenance", "on", "--at", "tomorrow", message=TIME_ERROR),
    case("at-empty", "maintenance", "on", "--at", "", message=TIME_ERROR),
    case("at-not-utf8", "maintenance", "on", "--at", b"12:\xff0", message=NOT_UTF8),
    case(
        "at-year-1-with-offset",
        "maintenance",
        "on",
        "--at",
        "0001-01-01T00:30+01:00",
        message="--at",
    ),
    case(
        "at-year-9999-plus-for",
        "maintenance",
        "on",
        "--at",
        "9999-12-31T23:59",
        "--for",
        "2d",
        message="--",
    ),
    case("for-negative", "maintenance", "on", "--for", "-5m", message="--for -5m is negative"),
    case("for-zero", "maintenance", "on", "--for", "0m", message="--for 0m is zero"),
    case("for-no-unit", "maintenance", "on", "--for", "30", message="--for 30 has no unit"),
    case("for-empty", "maintenance", "on", "--for", "", message=DURATION_ERROR),
    case("for-too-long", "maintenance", "on", "--for", "367d", message="the longest is 366 days"),
    case(
        "for-huge-days",
        "maintenance",
        "on",
        "--for",
        "99999999999d",
        message="--for",
    ),
    case(
        "for-40-digits",
        "maintenance",
        "on",
        "--for",
        "1234567890123456789012345678901234567890m",
        message="--for",
    ),
    case("for-and-until", "maintenance", "on", "--for", "1h", "--until", "23:00", message="not both"),
    case(
        "until-past",
        "maintenance",
        "on",
        "--until",
        "2000-01-01T00:00",
        message="give a time within a year of now",
    ),
    case("until-word", "maintenance", "on", "--until", "later", message=TIME_ERROR),
    case("warn-negative", "maintenance", "on", "--warn", "-1m", message="--warn -1m is negative"),
    case("warn-word", "maintenance", "on", "--warn", "soon", message=DURATION_ERROR),
    case("message-not-utf8", "maintenance", "on", "--message", b"caf\xe9", message=NOT_UTF8),
    case("retry-after-negative", "maintenance", "on", "--retry-after", "-1", message="neither 'auto' nor"),
    case("retry-after-word", "maintenance", "on", "--retry-after", "soon", message="neither 'auto' nor"),
    case("retry-after-empty", "maintenance", "on", "--retry-after", "", message="neither 'auto' nor"),
    case(
        "retry-after-superscript",
        "maintenance",
        "on",
        "--retry-after",
        "²",
        message="--retry-after",
    ),
    case(
        "allow-ip-octet",
        "maintenance",
        "on",
        "--allow-ip",
        "10.0.0.300",
        message="is not an IP address or CIDR",
    ),
    case(
        "allow-ip-prefix",
        "maintenance",
        "on",
        "--allow-ip",
        "10.0.0.1/33",
        message="is not an IP address or CIDR",
    ),
    case("allow-ip-empty", "maintenance", "on", "--allow-ip", "", message="is not an IP address or CIDR"),
    case(
        "allow-ip-name",
        "maintenance",
        "on",
        "--allow-ip",
        "localhost",
        message="is not an IP address or CIDR",
    ),
    case(
        "allow-ip-everyone-v4",
        "maintenance",
        "on",
        "--allow-ip",
        "0.0.0.0/0",
        message="--allow-ip",
    ),
    case(
        "allow-ip-everyone-v6",
        "maintenance",
        "on",
        "--allow-ip",
        "::/0",
        message="--allow-ip",
    ),
    case(
        "scope-unknown",
        "maintenance",
        "on",
        "--scope",
        "cluster",
        message="is not a scope; use host or shared",
    ),
    case(
        "scope-shared-without-redis",
        "maintenance",
        "on",
        "--scope",
        "shared",
        message="needs a Redis cache alias",
    ),
    case(
        "format-unknown",
        "maintenance",
        "status",
        "--format",
        "yaml",
        message=INVALID_CHOICE,
    ),
    case(
        "off-with-on-option",
        "maintenance",
        "off",
        "--warn",
        "30m",
        message="--warn goes only with 'maintenance on'",
    ),
    case(
        "off-with-for",
        "maintenance",
        "off",
        "--for",
        "30m",
        message="--for goes only with 'maintenance on'",
    ),
    case(
        "retry-after-huge",
        "maintenance",
        "on",
        "--retry-after",
        "9" * 30,
        message="--retry-after",
    ),
    case("status-with-scope", "maintenance", "status", "--scope", "host", message="leave out --scope"),
    case("verbosity-unknown", "maintenance", "status", "--verbosity", "7", message=INVALID_CHOICE),
]

MIGRATE_SAFE = [
    case(
        "phase-typo",
        "migrate_safe",
        "--phase",
        "additve",
        message="Unknown phase 'additve'; use --phase=additive",
    ),
    case("phase-empty", "migrate_safe", "--phase", "", message="Unknown phase ''"),
    case("phase-case", "migrate_safe", "--phase", "ALL", message="Unknown phase 'ALL'"),
    case("phase-not-utf8", "migrate_safe", "--phase", b"all\xff", message=NOT_UTF8),
    case("phase-missing", "migrate_safe", message="Choose a phase"),
    case(
        "database-unknown",
        "migrate_safe",
        "--phase=all",
        "--database",
        "other",
        message="There is no database alias 'other' in DATABASES",
    ),
    case("database-empty", "migrate_safe", "--phase=all", "--database", "", message="no database alias ''"),
    case("app-unknown", "migrate_safe", "nope", "--phase=all", message="No installed app with label 'nope'"),
    case("app-empty", "migrate_safe", "", "--phase=all", message="No installed app with label ''"),
    case(
        "migration-unknown",
        "migrate_safe",
        "notes",
        "9999_nope",
        "--phase=all",
        message="App 'notes' has no migration named '9999_nope'",
    ),
    case(
        "migration-ambiguous", "migrate_safe", "notes", "00", "--phase=all", message="give more of its name"
    ),
    case("migration-not-utf8", "migrate_safe", "notes", b"00\xff", "--phase=all", message=NOT_UTF8),
    case(
        "lock-timeout-negative",
        "migrate_safe",
        "--phase=all",
        "--lock-timeout",
        "-5s",
        message="--lock-timeout -5s is negative",
    ),
    case("lock-timeout-unit", "migrate_safe", "--phase=all", "--lock-timeout", "5x", message=DURATION_ERROR),
    case("lock-timeout-empty", "migrate_safe", "--phase=all", "--lock-timeout", "", message=DURATION_ERROR),
    case("lock-timeout-nan", "migrate_safe", "--phase=all", "--lock-timeout", "nan", message=DURATION_ERROR),
    case(
        "lock-timeout-infinite",
        "migrate_safe",
        "--phase=all",
        "--lock-timeout",
        "1e309",
        message=DURATION_ERROR,
    ),
    case(
        "lock-timeout-huge",
        "migrate_safe",
        "--phase=all",
        "--lock-timeout",
        "99999999999999999999999999h",
        message="--lock-timeout",
    ),
    case(
        "statement-timeout-negative",
        "migrate_safe",
        "--phase=all",
        "--statement-timeout=-1",
        message="--statement-timeout -1 is negative",
    ),
    case(
        "statement-timeout-words",
        "migrate_safe",
        "--phase=all",
        "--statement-timeout",
        "10 fortnights",
        message=DURATION_ERROR,
    ),
    case(
        "statement-timeout-empty",
        "migrate_safe",
        "--phase=all",
        "--statement-timeout",
        "",
        message=DURATION_ERROR,
    ),
    case(
        "retries-negative",
        "migrate_safe",
        "--phase=all",
        "--retries",
        "-1",
        message="is not a whole number of 0",
    ),
    case("retries-word", "migrate_safe", "--phase=all", "--retries", "x", message="invalid int value"),
    case(
        "retries-huge",
        "migrate_safe",
        "--phase=all",
        "--retries",
        "99999999999999999999999999999",
        message="--retries",
    ),
    case("sql-without-plan", "migrate_safe", "--sql", message="--sql shows the SQL of a plan; add --plan."),
    case(
        "resume-and-undo", "migrate_safe", "--resume", "--undo", message="Use --resume or --undo, not both."
    ),
    case("plan-and-check", "migrate_safe", "--plan", "--check", message="use one at a time"),
    case("format-unknown", "migrate_safe", "--plan", "--format", "yaml", message=INVALID_CHOICE),
    case("resume-nothing", "migrate_safe", "--resume", message="The journal shows no half-applied migration"),
]

SWAP_LIVE = [
    case(
        "timeout-zero",
        "swap_live",
        "--timeout",
        "0",
        message="--timeout 0 is zero; give a positive duration",
    ),
    case(
        "timeout-negative",
        "swap_live",
        "--timeout",
        "-1",
        message="--timeout -1 is negative",
    ),
    case("timeout-word", "swap_live", "--timeout", "soon", message=DURATION_ERROR),
    case("timeout-nan", "swap_live", "--dry-run", "--timeout", "nan", message=DURATION_ERROR),
    case("timeout-infinite", "swap_live", "--dry-run", "--timeout", "inf", message=DURATION_ERROR),
    case("timeout-huge", "swap_live", "--dry-run", "--timeout", "1e300", message=DURATION_ERROR),
    case("status-and-rollback", "swap_live", "--status", "--rollback", message="not allowed with argument"),
    case("reverse-migrations-alone", "swap_live", "--reverse-migrations", message="goes with --rollback"),
    case("format-unknown", "swap_live", "--status", "--format", "yaml", message=INVALID_CHOICE),
    case("extra-argument", "swap_live", "green", message="unrecognized arguments: green"),
    case(
        "repair-stage-is-a-folder",
        "swap_live",
        "--repair",
        message="stage",
        arrange=stage_is_a_folder,
    ),
    case(
        "repair-journal-one-slot-twice",
        "swap_live",
        "--repair",
        message="blue",
        arrange=journal_names_one_slot_twice,
    ),
]

REF_ERROR = "--ref must name a branch, tag or commit"
DEPLOY_PULL = [
    case("ref-empty", "deploy_pull", "--ref", "", message=REF_ERROR),
    case("ref-blank", "deploy_pull", "--ref", "  ", message=REF_ERROR),
    case("ref-option", "deploy_pull", "--ref=--upload-pack=touch pwned", message=REF_ERROR),
    case("ref-dash", "deploy_pull", "--ref=-x", message=REF_ERROR),
    case("ref-newline", "deploy_pull", "--ref", "ma\nin", message=REF_ERROR),
    case("ref-space", "deploy_pull", "--ref", "main v1", message=REF_ERROR),
    case("ref-range", "deploy_pull", "--ref", "v1..main", message=REF_ERROR),
    case("ref-not-utf8", "deploy_pull", "--ref", b"caf\xe9", message=NOT_UTF8),
    case("wait-lock-negative", "deploy_pull", "--wait-lock", "-1", message="--wait-lock -1 is negative"),
    case("wait-lock-word", "deploy_pull", "--wait-lock", "soon", message=DURATION_ERROR),
    case("wait-lock-nan", "deploy_pull", "--wait-lock", "nan", message=DURATION_ERROR),
    case("wait-lock-infinite", "deploy_pull", "--wait-lock", "1e309", message=DURATION_ERROR),
    case(
        "wait-lock-too-long",
        "deploy_pull",
        "--wait-lock",
        "2d",
        message="--wait-lock 2d is too long; the longest is 1 day",
    ),
    case("format-unknown", "deploy_pull", "--format", "yaml", message=INVALID_CHOICE),
]

DEPLOY = [
    case("ref-empty", "deploy", "--yes", "--ref", "", message=REF_ERROR),
    case("ref-dash", "deploy", "--yes", "--ref=-x", message=REF_ERROR),
    case("ref-newline", "deploy", "--yes", "--ref", "main\n", message=REF_ERROR),
    case("wait-lock-negative", "deploy", "--yes", "--wait-lock", "-1", message="--wait-lock -1 is negative"),
    case("wait-lock-nan", "deploy", "--yes", "--wait-lock", "nan", message=DURATION_ERROR),
    case("swap-timeout-zero", "deploy", "--yes", "--swap-timeout", "0", message="--swap-timeout 0 is zero"),
    case("swap-timeout-nan", "deploy", "--yes", "--swap-timeout", "nan", message=DURATION_ERROR),
    case("swap-timeout-infinite", "deploy", "--yes", "--swap-timeout", "inf", message=DURATION_ERROR),
    case(
        "at-without-maintenance",
        "deploy",
        "--yes",
        "--at",
        "12:00",
        message="only makes sense with --maintenance",
    ),
    case("for-negative", "deploy", "--yes", "--maintenance", "--for", "-5m", message="--for -5m is negative"),
    case("for-word", "deploy", "--yes", "--maintenance", "--for", "a while", message=DURATION_ERROR),
    case("at-hour", "deploy", "--yes", "--maintenance", "--at", "25:00", message="the hour must be between"),
    case("warn-empty", "deploy", "--yes", "--maintenance", "--warn", "", message=DURATION_ERROR),
    case("message-not-utf8", "deploy", "--yes", "--maintenance", "--message", b"\xe9t\xe9", message=NOT_UTF8),
    case(
        "at-year-1",
        "deploy",
        "--yes",
        "--maintenance",
        "--at",
        "0001-01-01T00:30+01:00",
        message="give a time within a year of now. Nothing was deployed.",
    ),
    case(
        "at-year-9999-plus-for",
        "deploy",
        "--yes",
        "--maintenance",
        "--at",
        "9999-12-31T23:59",
        "--for",
        "2d",
        message="give a time within a year of now. Nothing was deployed.",
    ),
    case(
        "window-in-the-past",
        "deploy",
        "--yes",
        "--maintenance",
        "--at",
        # Three hours ago: within the year the schedule accepts, so the deploy's own check answers.
        (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M+00:00"),
        "--for",
        "1h",
        message="ends before now",
    ),
    case(
        "resume-from-unknown",
        "deploy",
        "--yes",
        "--resume-from",
        "nope",
        message="must be one of the pipeline",
    ),
    case("resume-from-empty", "deploy", "--yes", "--resume-from", "", message="must be one of the pipeline"),
    case("no-yes-without-terminal", "deploy", message="pass --yes to run it without a prompt"),
    case("format-unknown", "deploy", "--yes", "--format", "yaml", message=INVALID_CHOICE),
]

DEPLOY_LOG = [
    case("id-unknown", "deploy_log", "nope", message="No record 'nope' in the deploy history"),
    case("id-path", "deploy_log", "../../etc/passwd", message="No record '../../etc/passwd'"),
    case("id-not-utf8", "deploy_log", b"\xff", message=NOT_UTF8),
    case("last-zero", "deploy_log", "--last", "0", message="--last must be a positive number of records."),
    case(
        "last-negative", "deploy_log", "--last", "-1", message="--last must be a positive number of records."
    ),
    case("last-word", "deploy_log", "--last", "all", message="invalid int value"),
    case("format-unknown", "deploy_log", "--format", "yaml", message=INVALID_CHOICE),
]

DEPLOY_CHECK = [
    case("slot-name", "deploy_check", "--slot", "blue", message=INVALID_CHOICE),
    case("slot-empty", "deploy_check", "--slot", "", message=INVALID_CHOICE),
    case("format-unknown", "deploy_check", "--format", "yaml", message=INVALID_CHOICE),
]

# The corpus's project sets no DEPLOYKIT_SERVERS: every file would lack the user it runs as.
SERVER_CONFIG = [
    case("no-settings", "server_config", message="DEPLOYKIT_SERVERS has no 'user'"),
    case("no-settings-check", "server_config", "--check", message="DEPLOYKIT_SERVERS has no 'user'"),
    case("kind-unknown", "server_config", "--kind", "caddy", message=INVALID_CHOICE),
    case("kind-empty", "server_config", "--kind", "", message=INVALID_CHOICE),
    case("check-and-print", "server_config", "--check", "--print", "x", message="not allowed with argument"),
    case("print-not-utf8", "server_config", "--print", b"\xff", message=NOT_UTF8),
    case("format-unknown", "server_config", "--format", "yaml", message=INVALID_CHOICE),
]

CACHE_TABLE = "corpus_cache"
CLEAR_CACHE = [
    case("prefix-empty", "clear_cache", "--prefix", "", message="its KEY_PREFIX is empty"),
    case("prefix-glob", "clear_cache", "--prefix", "mysite_*", message="glob character(s) *"),
    case("prefix-separator", "clear_cache", "--prefix", "mysite_blue:1", message="contains ':'"),
    case(
        "prefix-newline",
        "clear_cache",
        "--prefix",
        "mysite\nblue",
        message="white space or a control character",
    ),
    case(
        "prefix-space", "clear_cache", "--prefix", "mysite blue", message="white space or a control character"
    ),
    case(
        "prefix-base-of-slots",
        "clear_cache",
        "--prefix",
        "mysite",
        message="beginning of another slot's prefix",
    ),
    case("flush-without-yes", "clear_cache", "--flush", message="Pass --yes to confirm"),
    case("aliases-and-all", "clear_cache", "default", "--all-aliases", message="not both"),
    case("alias-unknown", "clear_cache", "nope", message="Unknown cache alias(es): 'nope'"),
    case("alias-empty", "clear_cache", "", message="Unknown cache alias(es): ''"),
    case("alias-not-utf8", "clear_cache", b"caf\xe9", message=NOT_UTF8),
    case("slot-unknown", "clear_cache", "--slot", "purple", message="is not one of this deployment's slots"),
    case("slot-empty", "clear_cache", "--slot", "", message="is not one of this deployment's slots"),
    case("slot-path", "clear_cache", "--slot", "../green", message="is not one of this deployment's slots"),
    case(
        "prefix-and-slot",
        "clear_cache",
        "--prefix",
        "x",
        "--slot",
        "green",
        message="not allowed with argument",
    ),
    case("prefix-not-utf8", "clear_cache", "--prefix", b"\xff", message=NOT_UTF8),
    case(
        "batch-zero", "clear_cache", "--batch", "0", message="--batch must be a whole number from 1 to 100000"
    ),
    case("batch-negative", "clear_cache", "--batch", "-1", message="--batch must be a whole number from 1"),
    case("batch-huge", "clear_cache", "--batch", "9" * 30, message="--batch must be a whole number from 1"),
    case("batch-word", "clear_cache", "--batch", "many", message="invalid int value"),
    case("format-unknown", "clear_cache", "--format", "yaml", message=INVALID_CHOICE),
]

PRUNE_STATIC = [
    case("format-unknown", "prune_static", "--format", "yaml", message=INVALID_CHOICE),
    case("extra-argument", "prune_static", "everything", message="unrecognized arguments: everything"),
]

SWAP_LIVE_MIGRATIONS = [
    case("action-unknown", "swap_live_migrations", "undo", message=INVALID_CHOICE),
    case("to-missing", "swap_live_migrations", "plan", message="--to must be a JSON list"),
    case(
        "to-not-json",
        "swap_live_migrations",
        "reverse",
        "--to",
        "notes.0001",
        message="--to must be a JSON list",
    ),
    case(
        "to-not-pairs", "swap_live_migrations", "reverse", "--to", "[1]", message="--to must be a JSON list"
    ),
    case(
        "to-object",
        "swap_live_migrations",
        "reverse",
        "--to",
        '{"notes": 1}',
        message="--to must be a JSON list",
    ),
    case(
        "to-short-pair",
        "swap_live_migrations",
        "reverse",
        "--to",
        '[["notes"]]',
        message="--to must be a JSON list",
    ),
    case("to-null", "swap_live_migrations", "reverse", "--to", "[null]", message="--to must be a JSON list"),
    case(
        "to-unknown-migration",
        "swap_live_migrations",
        "reverse",
        "--to",
        '[["notes", "9999_nope"]]',
        message="notes.9999_nope is unknown to this code",
    ),
    case("database-unknown", "swap_live_migrations", "known", "--database", "other", message=INVALID_CHOICE),
]

# Paths under the folder that holds the deploy root (it is digested too): "{base}" is replaced.
DEPLOYKIT_INIT = [
    case(
        "root-exists",
        "deploykit_init",
        "{base}/site",
        message="is not empty; deploykit_init never overwrites",
    ),
    case("root-empty", "deploykit_init", "", "--no-venv", message="give the path of the deploy root"),
    case(
        "root-under-a-file",
        "deploykit_init",
        "{base}/site/.deploykit-root/new",
        "--no-venv",
        message="does not exist",
    ),
    case(
        "root-parent-missing", "deploykit_init", "{base}/missing/new", "--no-venv", message="does not exist"
    ),
    case("root-not-utf8", "deploykit_init", b"new\xff", "--no-venv", message=NOT_UTF8),
    case(
        "slots-same",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--slots",
        "blue",
        "blue",
        message="must differ",
    ),
    case(
        "slots-reserved",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--slots",
        "live",
        "stage",
        message="reserved",
    ),
    case(
        "slots-path",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--slots",
        "../x",
        "y",
        message="Slot name '../x'",
    ),
    case(
        "slots-empty", "deploykit_init", "{base}/new", "--no-venv", "--slots", "", "y", message="Slot name ''"
    ),
    case(
        "slots-prefix", "deploykit_init", "{base}/new", "--no-venv", "--slots", "a", "ab", message="prefixes"
    ),
    case(
        "slots-one",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--slots",
        "blue",
        message="expected 2 arguments",
    ),
    case(
        "source-missing",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--source",
        "{base}/nowhere",
        message="does not exist",
    ),
    case("source-empty", "deploykit_init", "{base}/new", "--no-venv", "--source", "", message="--source"),
    case(
        "source-option",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--source=--upload-pack=touch pwned",
        message="--source",
    ),
    case("source-dash", "deploykit_init", "{base}/new", "--no-venv", "--source=-x", message="--source"),
    case(
        "ref-unknown",
        "deploykit_init",
        "{base}/new",
        "--no-venv",
        "--ref",
        "no-such-ref",
        message="no-such-ref",
    ),
    case("ref-empty", "deploykit_init", "{base}/new", "--no-venv", "--ref", "", message=REF_ERROR),
    case("ref-option", "deploykit_init", "{base}/new", "--no-venv", "--ref=--orphan=x", message=REF_ERROR),
    case(
        "python-missing",
        "deploykit_init",
        "{base}/new",
        "--python",
        "{base}/nowhere/python",
        message="does not exist",
    ),
    case("python-empty", "deploykit_init", "{base}/new", "--python", "", message="--python"),
    case(
        "requirements-missing",
        "deploykit_init",
        "{base}/new",
        "--requirements",
        "nope.txt",
        message="not in the checkout",
    ),
    case(
        "requirements-empty", "deploykit_init", "{base}/new", "--requirements", "", message="--requirements"
    ),
    case(
        "requirements-absolute",
        "deploykit_init",
        "{base}/new",
        "--requirements",
        "/etc/hostname",
        message="--requirements",
    ),
    case(
        "requirements-outside",
        "deploykit_init",
        "{base}/new",
        "--requirements",
        "../../../../../../../../etc/hostname",
        message="--requirements",
    ),
]

COMMANDS = {
    "maintenance": MAINTENANCE,
    "migrate_safe": MIGRATE_SAFE,
    "swap_live": SWAP_LIVE,
    "deploy_pull": DEPLOY_PULL,
    "deploy": DEPLOY,
    "deploy_log": DEPLOY_LOG,
    "deploy_check": DEPLOY_CHECK,
    "server_config": SERVER_CONFIG,
    "clear_cache": CLEAR_CACHE,
    "prune_static": PRUNE_STATIC,
    "swap_live_migrations": SWAP_LIVE_MIGRATIONS,
    "deploykit_init": DEPLOYKIT_INIT,
}


def _params() -> list[object]:
    params: list[object] = []
    for command, cases in COMMANDS.items():
        for item in cases:
            marks = []
            if item.known_defect is not None:
                marks.append(pytest.mark.xfail(reason=item.known_defect, strict=True))
            params.append(pytest.param(item, id=f"{command}-{item.id}", marks=marks))
    return params


class Snapshot:
    """Digests of a folder tree; a file's content is hashed again only when its stat changed."""

    def __init__(self) -> None:
        self._hashes: dict[tuple[str, int, int, int, int], str] = {}

    def listing(self, top: Path) -> Listing:
        found: Listing = {}
        self._walk(str(top), len(str(top)) + 1, found)
        return found

    def _walk(self, directory: str, cut: int, found: Listing) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    what = "-> " + os.readlink(entry.path)
                elif stat.S_ISREG(info.st_mode):
                    what = self._hash(entry.path, info)
                else:
                    what = ""
                found[entry.path[cut:]] = (info.st_mode, what)
                if stat.S_ISDIR(info.st_mode):
                    self._walk(entry.path, cut, found)

    def _hash(self, path: str, info: os.stat_result) -> str:
        # ctime changes on every write and cannot be set back, so an unchanged stat means unchanged content.
        key = (path, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if key not in self._hashes:
            with open(path, "rb") as handle:
                self._hashes[key] = hashlib.file_digest(handle, "sha256").hexdigest()
        return self._hashes[key]


def database_digest(database: Path) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """The schema (every object's SQL) and a hash of every table's rows."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        schema = [
            (kind, name, sql or "")
            for kind, name, sql in connection.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
            )
        ]
        rows = {}
        for kind, name, _ in schema:
            if kind == "table":
                content = sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{name}"'))  # noqa: S608 (a name from sqlite_master)
                rows[name] = hashlib.sha256("\n".join(content).encode()).hexdigest()
    finally:
        connection.close()
    return schema, rows


def differences(before: Listing, after: Listing) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def restore(base: Path, pristine: Path, changed: list[str]) -> None:
    """Put each changed path back as it is in ``pristine`` (the tree as the fixture built it)."""
    for relative in sorted(changed, key=len, reverse=True):
        target = base / relative
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.is_symlink() or target.exists():
            target.unlink()
    for relative in sorted(changed, key=len):
        source, target = pristine / relative, base / relative
        if target.exists() or target.is_symlink() or not (source.exists() or source.is_symlink()):
            continue
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target)


@dataclass
class Corpus:
    site: Site
    base: Path
    pristine: Path
    snapshot: Snapshot
    baseline: Listing

    @property
    def database(self) -> Path:
        return self.site.root.shared_dir / "db.sqlite3"

    def run(self, args: tuple[bytes, ...]) -> subprocess.CompletedProcess[bytes]:
        slot = self.site.root.path / "live"
        return subprocess.run(
            [os.fsencode(slot / ".venv" / "bin" / "python"), b"manage.py", *args],
            cwd=slot / "example_project",
            env={
                **BARE_ENVIRONMENT,
                **slot_packages.pip_environment_in_use(),
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=300,
            check=False,
        )

    def reset(self, listing: Listing) -> None:
        """Put the tree back as the fixture built it, when ``listing`` (its current state) differs."""
        changed = differences(self.baseline, listing)
        if changed:
            restore(self.base, self.pristine, changed)
            left = differences(self.baseline, self.snapshot.listing(self.base))
            assert left == [], f"the deploy root could not be put back: {left[:10]}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    base = tmp_path_factory.mktemp("corpus")
    site = build_site(base)
    # A cache in the site's database, so clear_cache really plans and clears (and the digest sees it).
    site.write_env(CACHE_URL=f"dbcache://{CACHE_TABLE}")
    site.manage("live", "migrate", "-v0")
    site.manage("live", "createcachetable")
    # The lock's empty file, as every root that has seen a pull or a swap has it: a refusal that took the
    # lock before it looked (swap_live --repair) leaves the file, which is no state.
    with lock.deploy_lock(site.root, command="corpus"):
        pass
    pristine = tmp_path_factory.mktemp("pristine") / "base"
    shutil.copytree(base, pristine, symlinks=True)
    snapshot = Snapshot()
    try:
        yield Corpus(site, base, pristine, snapshot, snapshot.listing(base))
    finally:
        site.stop_servers()


def argv(item: Case, base: Path) -> tuple[bytes, ...]:
    return tuple(
        value if isinstance(value, bytes) else value.replace("{base}", str(base)).encode()
        for value in item.args
    )


class BadInputCorpusTests:
    @pytest.mark.parametrize("item", _params())
    def test_refused_clearly_and_nothing_changed(self, corpus: Corpus, item: Case) -> None:
        if item.arrange is None:
            # The tree as the previous case left it: the baseline.
            before = corpus.baseline, database_digest(corpus.database)
        else:
            item.arrange(corpus.base)
            before = corpus.snapshot.listing(corpus.base), database_digest(corpus.database)
        try:
            completed = corpus.run(argv(item, corpus.base))
        finally:
            after = corpus.snapshot.listing(corpus.base), database_digest(corpus.database)
            corpus.reset(after[0])
        stderr = completed.stderr.decode("utf-8", "replace")
        stdout = completed.stdout.decode("utf-8", "replace")
        shown = f"exit {completed.returncode}\nstdout: {stdout[-2000:]}\nstderr: {stderr[-3000:]}"
        assert "Traceback" not in stderr, shown
        assert completed.returncode != 0, shown
        # A CommandError's sentence, or argparse's own for a value of the wrong type or choice.
        said = "CommandError: " in stderr or (completed.returncode == 2 and "error: " in stderr)
        assert said, shown
        assert item.message in stderr, shown
        assert differences(before[0], after[0]) == [], shown
        assert after[1] == before[1], shown
