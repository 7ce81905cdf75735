"""Issue 11: no message, log line, history record or JSON output ever contains a URL's password.

The passwords are any printable ASCII, including the characters that make ``urlsplit`` cut a URL in the
wrong place (``/ ? # @ :``), percent signs, quotes, backslashes and spaces.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from django_deploykit.deploy_check import diagnose
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import ROOT_MARKER, DeployRoot
from django_deploykit.deploy_root.logs import RunLogs
from django_deploykit.deploy_root.slot_commands import SlotProject
from django_deploykit.deploy_root.stages import StageFailed, StageRunner
from django_deploykit.redact import redact_error, redact_text, redact_url
from django_deploykit.servers import verify
from django_deploykit.settings import DeployEnv
from django_deploykit.swap_live import gate

# Printable ASCII without the line breaks and other whitespace a one-line setting cannot hold; space stays.
PRINTABLE = "".join(c for c in string.printable if c not in "\t\n\r\x0b\x0c")
# At least four characters: a shorter password ("app", "db:", "543") is already part of the text around it,
# so finding it there says nothing. Longer ones that happen to be part of that text are skipped (assume).
PASSWORDS = st.text(alphabet=PRINTABLE, min_size=4, max_size=32)
EXAMPLES = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

DATABASE_URLS = (
    "postgres://app:{}@db:5432/app",
    "postgres://app:{}@db:notaport/app",
    "postgress://app:{}@db:5432/app",
    "postgres://app:{}@db:5432/app?conn_health_checks=sometimes",
    "mysql://app:{}@db:3306/app?ssl=true",
)
CACHE_URLS = (
    "redis://:{}@cache:6379/0",
    "redis://app:{}@cache:6379/0?version=x",
    "rediss://:{}@cache:notaport/0",
    "pymemcache://app:{}@cache:11211",
)
# How a careless project or a failing tool prints a URL.
CONTEXTS = (
    "{}",
    "database: {}",
    "could not connect to {}: timeout expired",
    "'{}' refused the connection",
    'DATABASES["default"] from "{}"',
    "invalid (in {!r})",
)
BENIGN = "Benign-Pass-1"


def forms(password: str) -> tuple[str, ...]:
    """The password as written, and as ``repr`` and JSON would escape it."""
    return (password, repr(password)[1:-1], json.dumps(password)[1:-1])


def assert_hidden(password: str, *texts: str) -> None:
    for text in texts:
        for form in forms(password):
            assert form not in text, f"{form!r} is in {text!r}"


def strings_of(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for key, value in document.items():
            yield str(key)
            yield from strings_of(value)
    elif isinstance(document, list):
        for item in document:
            yield from strings_of(item)


def settings_errors(password: str) -> list[str]:
    """Every ImproperlyConfigured message that reading the URLs holding ``password`` raises."""
    messages = []
    readers: list[tuple[str, str, Callable[[DeployEnv], Any]]] = [
        *(("DATABASE_URL", url, lambda env: env.database_url("DATABASE_URL")) for url in DATABASE_URLS),
        *(("CACHE_URL", url, lambda env: env.cache_url("CACHE_URL")) for url in CACHE_URLS),
        # A cache URL read as a database URL (and back) is refused for its scheme.
        *(("DATABASE_URL", url, lambda env: env.database_url("DATABASE_URL")) for url in CACHE_URLS),
        *(("CACHE_URL", url, lambda env: env.cache_url("CACHE_URL")) for url in DATABASE_URLS),
    ]
    for variable, url, read in readers:
        env = DeployEnv(environ={variable: url.format(password), "PRODUCTION": ""})
        try:
            read(env)
        except ImproperlyConfigured as exc:
            messages.append(str(exc))
    return messages


def redacted(password: str) -> list[str]:
    texts = []
    for url in (*DATABASE_URLS, *CACHE_URLS):
        value = url.format(password)
        texts.append(redact_url(value))
        texts.extend(redact_text(context.format(value)) for context in CONTEXTS)
        texts.append(redact_error(f"Port could not be cast to integer value as {value!r}", value))
    return texts


def make_deploy_root(path: Path) -> DeployRoot:
    (path / ROOT_MARKER).write_text(json.dumps({"slots": ["blue", "green"]}))
    (path / "shared").mkdir()
    return DeployRoot(path)


@pytest.fixture
def deploy_root(tmp_path: Path) -> DeployRoot:
    return make_deploy_root(tmp_path)


def pull_that_prints(root: DeployRoot, url: str) -> tuple[str, str, dict[str, Any]]:
    """A pull whose stage fails printing ``url`` (a settings module that prints DATABASE_URL): what the
    terminal shows, the stage log, and ``deploy_log ID --format json``."""
    record = history.HistoryRecord(
        kind="pull", result="failed", started_at="2026-01-01T00:00:00+00:00", duration=1
    )
    logs = RunLogs(root, record.id)
    said: list[str] = []
    runner = StageRunner(logs, 1, said.append)

    def failing(log: Any) -> str:
        log.write(f"database: {url}\n")
        raise StageFailed(f"manage.py check failed: database: {url} | ImproperlyConfigured")

    try:
        runner.run("check", failing)
    except StageFailed as exc:
        record.message = str(exc)
    record.details = {"stages": [stage.as_dict() for stage in runner.results]}
    history.append(root, record)
    out = StringIO()
    with override_settings(DEPLOYKIT_ROOT=str(root.path)):
        call_command("deploy_log", record.id, "--format", "json", stdout=out)
    log_text = "".join(path.read_text() for path in sorted(logs.directory.iterdir()))
    return "\n".join(said) + record.message, log_text, json.loads(out.getvalue())


def fixed_text(root: DeployRoot) -> str:
    """Everything the flows print around a password, found with a password that is in none of it."""
    parts = [*settings_errors(BENIGN), *redacted(BENIGN)]
    said, log, document = pull_that_prints(root, DATABASE_URLS[0].format(BENIGN))
    history_file = root.history_file.read_text()
    return "\n".join([*parts, said, log, *strings_of(document), history_file]).replace(BENIGN, "")


class PasswordNeverPrintedTests:
    @EXAMPLES
    @given(password=PASSWORDS)
    def test_settings_errors(self, password: str) -> None:
        assume(password not in "\n".join(settings_errors(BENIGN)))
        assert_hidden(password, *settings_errors(password))

    @EXAMPLES
    @given(password=PASSWORDS)
    def test_redaction_helpers(self, password: str) -> None:
        assume(password not in "\n".join(redacted(BENIGN)))
        assert_hidden(password, *redacted(password))

    @EXAMPLES
    @given(password=PASSWORDS)
    def test_stage_output_log_history_and_deploy_log_json(
        self, tmp_path_factory: pytest.TempPathFactory, password: str
    ) -> None:
        # A deploy root per example, so that the history read back stays short.
        root = make_deploy_root(tmp_path_factory.mktemp("root"))
        assume(password not in fixed_text(root))
        for template in (DATABASE_URLS[0], CACHE_URLS[0]):
            said, log, document = pull_that_prints(root, template.format(password))
            assert_hidden(password, said, log, *strings_of(document))
        assert_hidden(password, root.history_file.read_text())


class HttpUrlSettingsTests:
    """DEPLOYKIT_STAGE_HEALTH_URL, DEPLOYKIT_LIVE_URL and DEPLOYKIT_STAGE_URL may carry basic-auth passwords."""

    # urllib takes what follows the first ':' of "app:Zx9/..." for a port, and its InvalidURL, which is not
    # a ValueError, escaped as a traceback quoting "nonnumeric port: 'Zx9'".
    URLS = (
        "http://app:Zx9/Qw8+Lk7@127.0.0.1:9/",
        "http://app:Zx9?Qw8@127.0.0.1:9/",
        "http://app:Zx9#Qw8@127.0.0.1:9/",
    )

    @pytest.mark.parametrize("url", URLS)
    def test_stage_health_probe(self, url: str) -> None:
        check = gate.health_probe(url, 1.0)
        assert not check.passed
        assert_pieces_hidden(check.detail)

    @pytest.mark.parametrize("url", URLS)
    def test_swap_verification(self, url: str) -> None:
        result = verify.wait_for_revision(url, revision="a" * 40, slot="blue", timeout=0.1, interval=0.05)
        assert not result.verified
        assert_pieces_hidden(result.describe())

    @pytest.mark.parametrize("url", URLS)
    def test_deploy_check_server_finding_in_json(self, deploy_root: DeployRoot, url: str) -> None:
        options = diagnose.CheckOptions(project_subdir=Path("example_project"), link="live", url=url)
        project = SlotProject(deploy_root, "blue", options.project_subdir)
        finding = diagnose._server(deploy_root, "blue", project, options)
        assert finding.level == "error"
        assert_pieces_hidden(json.dumps(finding.as_dict()))


def assert_pieces_hidden(text: str) -> None:
    assert "did not answer" in text or "revision endpoint" in text
    for piece in ("Zx9", "Qw8", "Lk7"):
        assert piece not in text
