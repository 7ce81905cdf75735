"""A new project adopts django-deploykit by following docs/adopting.md, then deploys again and again.

The project is made by ``django-admin startproject``; every file and command comes from the
doc's marked blocks (``<!-- adopter: ... -->``), with only the site's own values (deploy root,
ports, secret key) replaced. The slots install with real pip from the project's requirements,
the package under test arriving as a wheel (tests/slot_packages.py). Under a load of its own:
deploy v1, v2 (a column added), v3 (a column dropped), v4, ``swap_live --rollback``, a deploy with
``--maintenance --at``, ``deploy_check`` and ``deploy_log``. Then a member of the team, a user of the
test's own in the doc's "deployers" group, signs in through the deploy console's sign-in page, deploys v6
with its deploy form and follows the run through its JSON API until the new release is live, recorded
as theirs.
"""

from __future__ import annotations

import contextlib
import datetime
import http.cookiejar
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from django_deploykit.demo.load import Load
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import read_deploy_root
from tests import slot_packages
from tests.deployment import BARE_ENVIRONMENT, GIT_ENV, git
from tests.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "adopting.md"
BLOCK = re.compile(r"<!-- adopter: (?P<action>[^>]*?) -->\n```[a-z]*\n(?P<body>.*?)```", re.DOTALL)
DOC_ROOT, DOC_LIVE_PORT, DOC_STAGE_PORT = "/srv/mysite", "8000", "8001"
DOC_KEY = "replace-with-50-or-more-random-characters"

# The test's own app: a page that says which release serves it.
APP_FILES = {
    "shop/__init__.py": "",
    "shop/apps.py": "from django.apps import AppConfig\n\n\nclass ShopConfig(AppConfig):\n    name = 'shop'\n",
    "shop/migrations/__init__.py": "",
}
VIEW = (
    """from django.http import HttpResponse

from shop.models import Item


def index(request):
    return HttpResponse(f"RELEASE {{RELEASE}} items={{Item.objects.count()}}")
""".replace("{{RELEASE}}", "{release}")
    .replace("{{Item", "{Item")
    .replace("count()}}", "count()}")
)


def blocks() -> list[tuple[str, str]]:
    found = [(match["action"].strip(), match["body"]) for match in BLOCK.finditer(DOC.read_text())]
    assert found, "docs/adopting.md has no marked blocks"
    return found


def localise(text: str, root: Path, ports: dict[str, int], key: str) -> str:
    return (
        text.replace(DOC_ROOT, str(root))
        .replace(f":{DOC_LIVE_PORT}", f":{ports['live']}")
        .replace(f":{DOC_STAGE_PORT}", f":{ports['stage']}")
        .replace(DOC_KEY, key)
    )


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        argv,
        cwd=cwd,
        env={
            **BARE_ENVIRONMENT,
            # The doc's "python3" is the Python the site runs on: this test environment's.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{BARE_ENVIRONMENT['PATH']}",
            **slot_packages.pip_environment(),
            **GIT_ENV,
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{shlex.join(argv)} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
    )
    return completed


def write(project: Path, path: str, text: str) -> None:
    target = project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def release(project: Path, number: int, fields: str, migration: str | None, message: str) -> None:
    write(project, "shop/models.py", f"from django.db import models\n\n\nclass Item(models.Model):\n{fields}")
    write(project, "shop/views.py", VIEW.replace("{release}", f"v{number}"))
    if migration:
        name, body = migration.split("\n", 1)
        write(project, f"shop/migrations/{name}.py", body)
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)
    git(project, "push", "--quiet", "origin", "main")


V1_FIELDS = (
    "    name = models.CharField(max_length=50)\n    legacy = models.CharField(max_length=20, null=True)\n"
)
V1_MIGRATION = """0001_initial
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=50)),
                ("legacy", models.CharField(max_length=20, null=True)),
            ],
        ),
    ]
"""
V2_FIELDS = V1_FIELDS + "    price = models.IntegerField(null=True)\n"
V2_MIGRATION = """0002_item_price
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.AddField("item", "price", models.IntegerField(null=True))]
"""
V3_FIELDS = "    name = models.CharField(max_length=50)\n    price = models.IntegerField(null=True)\n"
V3_MIGRATION = """0003_remove_item_legacy
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_item_price")]
    operations = [migrations.RemoveField("item", "legacy")]
"""


def serves(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        return str(response.read().decode())


class ConsoleBrowser:
    """A team member's browser on the deploy console: its cookies, the CSRF token, a Referer on each POST."""

    def __init__(self, console: str) -> None:
        self.console = console
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def open(self, path: str, fields: dict[str, str] | None = None) -> tuple[str, str]:
        """GET ``path`` (or POST ``fields`` with the CSRF token); the final URL and the body."""
        url = f"{self.console}{path}"
        data = None
        if fields is not None:
            token = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
            data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token or ""}).encode()
        request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310 (local)
        with self.opener.open(request, timeout=30) as response:
            return str(response.geturl()), str(response.read().decode())

    def sign_in(self, username: str, password: str) -> None:
        start = urllib.parse.urlsplit(self.console).path + "/"
        self.open(f"/login/?next={start}")
        url, _ = self.open("/login/", {"username": username, "password": password, "next": start})
        assert url == f"{self.console}/", f"signing in ended at {url}"

    def deploy(self, ref: str) -> str:
        """Press the deploy button, confirmed: the run's id, from the run page it leads to."""
        url, page = self.open("/deploy/", {"ref": ref, "confirmed": "yes"})
        found = re.search(r"/runs/([^/]+)/$", url)
        assert found, f"the deploy form led to {url}:\n{page[-2000:]}"
        return found.group(1)

    def wait_for(self, run_id: str, timeout: float = 240.0) -> dict[str, object]:
        """The run's JSON state once finished, asked once a second; the swap reloads the server that answers."""
        state: dict[str, object] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                _, body = self.open(f"/api/runs/{run_id}/")
                state = json.loads(body)
                if state.get("finished"):
                    return state
            time.sleep(1)
        pytest.fail(f"the console's run {run_id} did not finish in {timeout:.0f} s: {state}")


def stop_servers(root: Path) -> None:
    for pidfile in (root / "run").glob("*.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError, OSError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    deadline = time.monotonic() + 15
    while list((root / "run").glob("*.pid")) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_startproject_project_adopts_the_docs_and_deploys_again_and_again(tmp_path: Path) -> None:
    slot_packages.use_wheelhouse()
    origin = tmp_path / "origin.git"
    project = tmp_path / "mysite"
    root = tmp_path / "srv" / "mysite"
    root.parent.mkdir()
    ports = {"live": free_port(), "stage": free_port()}
    key = secrets.token_urlsafe(50)

    # A new project, exactly as startproject makes it, in a git repository with an origin.
    run([sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path)
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "remote", "add", "origin", str(origin))
    (project / "mysite" / "settings").mkdir()
    (project / "mysite" / "settings.py").rename(project / "mysite" / "settings" / "base.py")

    commands: list[str] = []
    for action, body in blocks():
        verb, _, argument = action.partition(" ")
        if verb == "write":
            write(project, argument, body)
        elif verb == "append":
            target = project / argument
            target.write_text(target.read_text(encoding="utf-8") + "\n" + body, encoding="utf-8")
        elif verb == "env":
            env_file = Path(localise(argument, root, ports, key))
            commands.append(f"#env {env_file}\n{localise(body, root, ports, key)}")
        elif verb == "run":
            commands.extend(line for line in localise(body, root, ports, key).splitlines() if line.strip())
        else:
            pytest.fail(f"docs/adopting.md: unknown block action {action!r}")
    # The test's app, released as v1 with the adoption.
    for path, text in APP_FILES.items():
        write(project, path, text)
    base = project / "mysite" / "settings" / "base.py"
    base.write_text(base.read_text() + '\nINSTALLED_APPS += ["shop"]\n')
    urls = project / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + '\nfrom shop.views import index\n\nurlpatterns += [path("", index)]\n')
    release(project, 1, V1_FIELDS, V1_MIGRATION, "adopt django-deploykit; v1")

    try:
        for command in commands:
            if command.startswith("#env "):
                header, text = command.split("\n", 1)
                Path(header[len("#env ") :]).write_text(text, encoding="utf-8")
                continue
            run(shlex.split(command), cwd=project)
        assert read_deploy_root(root).slot_names == ("blue", "green")
        # The server files rendered from the adopted settings, through the live server's address.
        assert (
            "server 127.0.0.1:" + str(ports["live"]) in (root / "servers" / "nginx-mysite.conf").read_text()
        )
        assert "RELEASE v1" in serves(ports["live"])

        live_manage = [str(root / "live" / ".venv" / "bin" / "python"), str(root / "live" / "manage.py")]

        def deploy(*extra: str) -> str:
            return run([*live_manage, "deploy", "--yes", *extra], cwd=tmp_path).stdout

        with Load(f"http://127.0.0.1:{ports['live']}/") as load:
            release(project, 2, V2_FIELDS, V2_MIGRATION, "v2: items get a price")
            deploy()
            assert "RELEASE v2" in serves(ports["live"])
            release(project, 3, V3_FIELDS, V3_MIGRATION, "v3: the legacy column goes")
            output = deploy()
            assert "RELEASE v3" in serves(ports["live"])
            assert "migrate-destructive: ok" in output
            release(project, 4, V3_FIELDS, None, "v4: a new page text")
            deploy()
            assert "RELEASE v4" in serves(ports["live"])
            run([*live_manage, "swap_live", "--rollback"], cwd=tmp_path)
            assert "RELEASE v3" in serves(ports["live"])
        assert load.result.requests > 50
        assert load.result.failures == []

        # A deploy in an announced window: the swap waits for the window to start.
        release(project, 5, V3_FIELDS, None, "v5: after the rollback")
        at = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)).isoformat(
            timespec="seconds"
        )
        deploy("--maintenance", "--at", at, "--for", "5m")
        assert "RELEASE v5" in serves(ports["live"])

        check = run([*live_manage, "deploy_check"], cwd=tmp_path)
        assert "[error]" not in check.stdout
        log = run([*live_manage, "deploy_log"], cwd=tmp_path).stdout
        assert log.count("deploy ") >= 5
        deploys = [record for record in history.read(read_deploy_root(root)) if record.kind == "deploy"]
        assert [record.result for record in deploys] == ["ok"] * 5

        # A member of the team deploys from the console (section 7): a user of the test's own, in the
        # doc's "deployers" group, signs in on the live server and presses the deploy button.
        username, password = "dana", secrets.token_urlsafe(16)
        run(
            [
                *live_manage,
                "shell",
                "-c",
                "from django.contrib.auth.models import Group, User; "
                f"User.objects.create_user({username!r}, password={password!r})"
                ".groups.add(Group.objects.get(name='deployers'))",
            ],
            cwd=tmp_path,
        )
        browser = ConsoleBrowser(f"http://127.0.0.1:{ports['live']}/-/deploykit/console")
        browser.sign_in(username, password)
        release(project, 6, V3_FIELDS, None, "v6: deployed from the console")
        state = browser.wait_for(browser.deploy("main"))
        assert state["state"] == "ok", state
        assert "RELEASE v6" in serves(ports["live"])
        console_deploy = [r for r in history.read(read_deploy_root(root)) if r.kind == "deploy"][-1]
        assert console_deploy.result == "ok"
        assert console_deploy.user.startswith(f"{username} (console, as "), console_deploy.user
    finally:
        stop_servers(root)
