"""server_config in the test process: what each file says, bad input with nothing written, the check mode.

The real servers read these files in test_real_servers.py and test_apache.py.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_deploykit.deploy_check.diagnose import CheckOptions, _server_files
from django_deploykit.deploy_root.layout import read_deploy_root
from django_deploykit.exit_codes import ExitCode
from tests.commands import run_command

SERVERS = {"user": "www-data", "server_name": "www.example.org"}


@pytest.fixture(name="root")
def deploy_root(tmp_path: Path) -> Path:
    root = tmp_path / "srv"
    for slot in ("blue", "green"):
        (root / slot / "example_project").mkdir(parents=True)
    (root / "shared").mkdir()
    # As the docs say to leave it: the app servers' user owns the shared folder.
    shutil.chown(root / "shared", "www-data", "www-data")
    (root / ".deploykit-root").write_text(json.dumps({"slots": ["blue", "green"]}))
    (root / "live").symlink_to("blue")
    (root / "stage").symlink_to("green")
    return root


def project_settings(root: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "DEPLOYKIT_ROOT": str(root),
        "DEPLOYKIT_PROJECT_SUBDIR": "example_project",
        "WSGI_APPLICATION": "mysite.wsgi.application",
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(root / "shared" / "static"),
        "MEDIA_URL": "/media/",
        "MEDIA_ROOT": str(root / "shared" / "media"),
        "DEPLOYKIT_SERVERS": SERVERS,
        "DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES": ("127.0.0.1/32", "::1/128"),
        **overrides,
    }


@pytest.fixture(name="configured")
def configured_project(root: Path) -> Iterator[Path]:
    with override_settings(**project_settings(root)):
        yield root


def rendered(root: Path, **overrides: Any) -> dict[str, str]:
    with override_settings(**project_settings(root, **overrides)):
        out, err, code = run_command("server_config", "--format", "json")
    assert code == ExitCode.OK, err
    document = json.loads(out)
    return {entry["file"]: Path(entry["path"]).read_text() for entry in document["files"]}


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else b""
        for path in sorted(root.rglob("*"))
        if not path.is_symlink()
    }


class GunicornAndNginxTests:
    def test_the_files_a_gunicorn_project_needs(self, root: Path) -> None:
        files = rendered(root)
        assert sorted(files) == [
            "gunicorn-live.conf.py",
            "gunicorn-stage.conf.py",
            "logrotate-mysite",
            "mysite-live.service",
            "mysite-live.socket",
            "mysite-stage.service",
            "mysite-stage.socket",
            "nginx-mysite.conf",
        ]

    def test_gunicorn_runs_through_the_link_with_production_chosen(self, root: Path) -> None:
        config = rendered(root)["gunicorn-live.conf.py"]
        assert f'chdir = "{root}/live/example_project"' in config
        assert 'wsgi_app = "mysite.wsgi:application"' in config
        assert f'pidfile = "{root}/run/live.pid"' in config
        assert f'raw_env = ["PRODUCTION=1", "DEPLOYKIT_ROOT={root}"]' in config
        assert f'control_socket = "{root}/run/live.ctl"' in config
        compile(config, "gunicorn-live.conf.py", "exec")  # gunicorn imports it as Python

    def test_the_unit_passes_production_and_starts_the_launcher_through_the_link(self, root: Path) -> None:
        unit = rendered(root)["mysite-live.service"]
        assert "User=www-data\nGroup=www-data\n" in unit
        assert "Environment=PRODUCTION=1\n" in unit
        assert (
            f"ExecStart={root}/live/.venv/bin/python -m django_deploykit.gunicorn_launcher --config "
            f"{root}/servers/gunicorn-live.conf.py\n"
        ) in unit
        assert "Requires=mysite-live.socket" in unit
        assert f"PIDFile={root}/run/live.pid" in unit
        assert "Restart=on-failure" in unit
        assert "ListenStream=127.0.0.1:8000" in rendered(root)["mysite-live.socket"]

    def test_the_settings_production_variable_is_the_one_set(self, root: Path) -> None:
        choice = {"mode": "production", "variable": "DJANGO_PRODUCTION"}
        files = rendered(root, DEPLOYKIT_SETTINGS_CHOICE=choice)
        assert "Environment=DJANGO_PRODUCTION=1\n" in files["mysite-live.service"]
        assert '"DJANGO_PRODUCTION=1"' in files["gunicorn-stage.conf.py"]
        assert "PRODUCTION=1" not in files["mysite-live.service"].replace("DJANGO_PRODUCTION=1", "")

    def test_nginx_proxies_live_and_stage_and_shows_the_static_page(self, root: Path) -> None:
        site = rendered(root, DEPLOYKIT_LIVE_URL="http://127.0.0.1:9100/-/deploykit/revision/")[
            "nginx-mysite.conf"
        ]
        # The live server's address is the one the swap verifies through.
        assert "upstream mysite_live {\n    server 127.0.0.1:9100;" in site
        assert "upstream mysite_stage {\n    server 127.0.0.1:8001;" in site
        assert "listen 80;" in site
        assert "listen 8080;" in site
        assert f"alias {root}/shared/static/;" in site
        assert f"alias {root}/shared/media/;" in site
        assert f"alias {root}/shared/maintenance.html;" in site
        assert site.count("error_page 502 503 504 =503 /.deploykit-maintenance.html;") == 2
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
        # The stage site is never indexed.
        assert "return 200 'User-agent: *\nDisallow: /\n';" in site

    def test_static_files_on_another_host_get_no_location(self, root: Path) -> None:
        site = rendered(root, STATIC_URL="https://cdn.example.org/static/")["nginx-mysite.conf"]
        assert "location /static/" not in site
        assert "location /media/" in site

    def test_a_stage_name_puts_the_stage_site_on_the_same_port(self, root: Path) -> None:
        servers = {
            **SERVERS,
            "stage_server_name": "stage.example.org",
            "robots_txt": "User-agent: *\nAllow: /\n",
        }
        site = rendered(root, DEPLOYKIT_SERVERS=servers)["nginx-mysite.conf"]
        assert site.count("listen 80;") == 2
        assert "server_name stage.example.org;" in site
        assert "return 200 'User-agent: *\nAllow: /\n';" in site

    def test_logrotate_reopens_with_usr1_and_creates_files_the_app_can_write(self, root: Path) -> None:
        text = rendered(root)["logrotate-mysite"]
        assert f"{root}/shared/log/live.access.log" in text
        assert "su www-data www-data" in text
        assert "create 0640 www-data www-data" in text
        assert f'kill -USR1 "$(cat {root}/run/live.pid)"' in text
        assert f'kill -USR1 "$(cat {root}/run/stage.pid)"' in text


class ConsoleRunnerTests:
    def test_no_runner_units_while_the_console_starts_its_own_commands(self, root: Path) -> None:
        assert not [name for name in rendered(root) if "console" in name]

    def test_the_queued_consoles_runner_runs_as_the_deploy_user_outside_the_app_units(
        self, root: Path
    ) -> None:
        files = rendered(root, DEPLOYKIT_CONSOLE_RUNNER="queue")
        path_unit, service = files["mysite-console.path"], files["mysite-console.service"]
        assert f"PathExistsGlob={root}/shared/console/queue/*.json" in path_unit
        assert "Unit=mysite-console.service" in path_unit
        assert "Type=oneshot" in service
        assert "User=root" in service
        assert "Environment=PRODUCTION=1" in service
        assert (
            f"ExecStart={root}/live/.venv/bin/python {root}/live/example_project/manage.py console_runner"
            in service
        )
        other = rendered(
            root,
            DEPLOYKIT_CONSOLE_RUNNER="queue",
            DEPLOYKIT_SERVERS={**SERVERS, "deploy_user": "deploy"},
        )
        assert "User=deploy" in other["mysite-console.service"]

    @pytest.mark.parametrize("app_server", ["gunicorn", "uwsgi"])
    def test_the_install_steps_enable_the_path_unit_not_its_oneshot_service(
        self, root: Path, app_server: str
    ) -> None:
        servers = {**SERVERS, "app_server": app_server}
        with override_settings(
            **project_settings(root, DEPLOYKIT_CONSOLE_RUNNER="queue", DEPLOYKIT_SERVERS=servers)
        ):
            out, err, code = run_command("server_config", "--format", "json")
        assert code == ExitCode.OK, err
        [enable] = [step for step in json.loads(out)["install"] if step.startswith("systemctl enable")]
        assert "mysite-console.path" in enable
        assert "mysite-console.service" not in enable
        assert ("mysite-live.socket" if app_server == "gunicorn" else "mysite-live.service") in enable


class UwsgiTests:
    def test_ini_goes_through_the_link_and_matches_the_touch_adapter(self, root: Path) -> None:
        files = rendered(root, DEPLOYKIT_SERVERS={**SERVERS, "app_server": "uwsgi"})
        assert "gunicorn-live.conf.py" not in files
        assert "mysite-live.socket" not in files
        ini = files["uwsgi-live.ini"]
        for line in (
            f"home = {root}/live/.venv",
            f"chdir = {root}/live/example_project",
            "module = mysite.wsgi:application",
            "env = PRODUCTION=1",
            f"touch-reload = {root}/run/live.reload",
            f"master-fifo = {root}/run/live.fifo",
            "lazy-apps = true",
            f"hook-post-fork = chdir:{root}/live/example_project",
            f"touch-logreopen = {root}/run/live.logreopen",
        ):
            assert line + "\n" in ini
        assert (
            f"ExecStart={root}/live/.venv/bin/uwsgi --ini {root}/servers/uwsgi-live.ini"
            in files["mysite-live.service"]
        )
        assert f"touch {root}/run/stage.logreopen" in files["logrotate-mysite"]

    def test_the_reload_setting_these_files_need(self, root: Path) -> None:
        servers = {**SERVERS, "app_server": "uwsgi"}
        reload = {
            "live": {"adapter": "touch", "path": "run/live.reload"},
            "stage": {"adapter": "touch", "path": "run/stage.reload"},
        }
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS=servers, DEPLOYKIT_RELOAD=reload)):
            out, _, _ = run_command("server_config", "--format", "json")
        assert json.loads(out)["warnings"] == []
        wrong = {"live": {"adapter": "gunicorn", "pidfile": "run/live.pid"}}
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS=servers, DEPLOYKIT_RELOAD=wrong)):
            out, _, _ = run_command("server_config", "--format", "json")
        (warning,) = json.loads(out)["warnings"]
        assert "DEPLOYKIT_RELOAD does not reload the servers these files describe" in warning
        assert "'path': 'run/live.reload'" in warning


class ModWsgiTests:
    def test_apache_daemon_mode_for_both_links_and_the_touched_scripts(self, root: Path) -> None:
        files = rendered(root, DEPLOYKIT_SERVERS={**SERVERS, "app_server": "mod_wsgi"})
        assert sorted(files) == ["apache-mysite.conf", "live.wsgi", "robots-stage.txt", "stage.wsgi"]
        vhost = files["apache-mysite.conf"]
        assert f"python-home={root}/live/.venv python-path={root}/live/example_project" in vhost
        assert f"WSGIScriptAlias / {root}/servers/stage.wsgi process-group=mysite-stage" in vhost
        assert "<VirtualHost *:8080>" in vhost
        script = files["live.wsgi"]
        assert 'os.environ["PRODUCTION"] = "1"' in script
        assert "from mysite.wsgi import application as application" in script
        compile(script, "live.wsgi", "exec")


class AccessTests:
    """What the servers' user could not read or write: warnings, since the files themselves are right."""

    def warnings(self, root: Path, **servers: Any) -> list[str]:
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS={**SERVERS, **servers})):
            out, _, code = run_command("server_config", "--dry-run", "--format", "json")
        assert code == ExitCode.OK
        return list(json.loads(out)["warnings"])

    def test_a_private_env_file_of_another_user(self, root: Path) -> None:
        env_file = root / "shared" / ".env"
        env_file.write_text("PRODUCTION=\n")
        env_file.chmod(0o600)  # root's, as deploykit_init run by root leaves it
        (warning,) = self.warnings(root)
        assert (
            f"{env_file} is root's with mode 0600: the app servers, run as www-data, could not read it"
            in warning
        )
        shutil.chown(env_file, "www-data")
        assert self.warnings(root) == []
        # Root may read anything.
        shutil.chown(env_file, "root")
        assert self.warnings(root, user="root") == []

    def test_a_group_readable_env_file_of_the_servers_group(self, root: Path) -> None:
        env_file = root / "shared" / ".env"
        env_file.write_text("PRODUCTION=\n")
        env_file.chmod(0o640)
        shutil.chown(env_file, "root", "www-data")
        assert self.warnings(root) == []

    def test_a_shared_folder_the_servers_cannot_write(self, root: Path) -> None:
        shutil.chown(root / "shared", "root", "root")
        (warning,) = self.warnings(root)
        assert "could not write media or SQLite files there (chown -R www-data" in warning

    def test_a_user_that_does_not_exist(self, root: Path) -> None:
        assert self.warnings(root, user="nosuchuser") == [
            "The user 'nosuchuser' that the files run the app servers as does not exist on this machine."
        ]


class BadInputTests:
    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            (
                {"DEPLOYKIT_SERVERS": {**SERVERS, "app_server": "waitress"}},
                "not a server kind this package renders",
            ),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "web_server": "caddy"}}, "use 'nginx', 'apache' or None"),
            ({"DEPLOYKIT_SERVERS": {"server_name": "www.example.org"}}, "has no 'user'"),
            ({"DEPLOYKIT_SERVERS": {"user": "www-data"}}, "has no 'server_name'"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "usr": "x"}}, "unknown key 'usr'"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "user": "www data"}}, "not a valid user or group name"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "live_bind": "127.0.0.1"}}, "write HOST:PORT"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "stage_bind": "127.0.0.1:8000"}}, "cannot both listen on"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "listen": 8080}}, "needs a name or a port of its own"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "web_server": "apache"}}, "rendered for mod_wsgi"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "robots_txt": "it's"}}, "without quotes"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "install": {"x": "etc/x"}}}, "absolute path"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "name": "My Site"}}, "lower-case"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "group": "web group"}}, "not a valid user or group name"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "stage_server_name": "stage..org"}}, "write a host name"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "server_name": []}}, "write a host name"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "stage_listen": 0}}, "from 1 to 65535"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "listen": True}}, "from 1 to 65535"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "workers": 0}}, "from 1 to 512"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "timeout": "30"}}, "from 1 to 3600"),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "client_max_body_size": "10 m"}}, "write a size"),
            (
                {
                    "DEPLOYKIT_SERVERS": {**SERVERS, "deploy_user": "root user"},
                    "DEPLOYKIT_CONSOLE_RUNNER": "queue",
                },
                "not a valid user or group name",
            ),
            ({"DEPLOYKIT_SERVERS": {**SERVERS, "live_bind": "127.0.0.1:99999"}}, "write HOST:PORT"),
            ({"DEPLOYKIT_SERVERS": ["user"]}, "must be a dict"),
            ({"STATIC_ROOT": "/var/www/static"}, "outside the deploy root"),
            ({"STATIC_URL": "/static files/"}, "must start and end with '/'"),
            ({"WSGI_APPLICATION": None}, "WSGI_APPLICATION is not set"),
        ],
    )
    def test_a_clear_error_and_nothing_written(
        self, root: Path, overrides: dict[str, Any], message: str
    ) -> None:
        before = snapshot(root)
        with override_settings(**project_settings(root, **overrides)):
            _out, err, code = run_command("server_config")
        assert code == ExitCode.FAILED
        assert message in err
        assert "Nothing was written." in err
        assert "Traceback" not in err
        assert snapshot(root) == before

    def test_a_static_root_inside_a_slot_is_refused(self, root: Path) -> None:
        with override_settings(
            **project_settings(root, STATIC_ROOT=str(root / "live" / "example_project" / "static"))
        ):
            _, err, code = run_command("server_config")
        assert code == ExitCode.FAILED
        assert "inside a slot" in err
        assert not (root / "servers").exists()

    def test_an_unknown_kind_is_a_usage_error(self, configured: Path) -> None:
        _, err, code = run_command("server_config", "--kind", "caddy")
        assert code == ExitCode.USAGE or code == ExitCode.FAILED
        assert "caddy" in err
        assert not (configured / "servers").exists()

    def test_a_kind_the_project_does_not_use(self, configured: Path) -> None:
        _, err, code = run_command("server_config", "--kind", "uwsgi")
        assert code == ExitCode.FAILED
        assert "This project has no uwsgi files" in err
        assert not (configured / "servers").exists()

    def test_an_unwritable_folder_writes_nothing(self, configured: Path) -> None:
        (configured / "servers").mkdir()
        (configured / "servers" / "nginx-mysite.conf").mkdir()  # a folder where a file must go
        _, err, code = run_command("server_config")
        assert code == ExitCode.FAILED
        assert "Nothing was written." in err
        assert sorted(path.name for path in (configured / "servers").iterdir()) == ["nginx-mysite.conf"]


class WriteAndCheckTests:
    def test_writing_again_changes_nothing_not_even_the_times(self, configured: Path) -> None:
        run_command("server_config")
        times = {path.name: path.stat().st_mtime_ns for path in (configured / "servers").iterdir()}
        out, _, code = run_command("server_config", "--format", "json")
        assert code == ExitCode.OK
        assert {entry["change"] for entry in json.loads(out)["files"]} == {"unchanged"}
        assert {path.name: path.stat().st_mtime_ns for path in (configured / "servers").iterdir()} == times
        assert all(path.stat().st_mode & 0o777 == 0o644 for path in (configured / "servers").iterdir())

    def test_the_web_servers_error_page_exists_from_the_start_and_a_written_one_is_kept(
        self, configured: Path
    ) -> None:
        out, _, _ = run_command("server_config", "--format", "json")
        page = configured / "shared" / "maintenance.html"
        assert json.loads(out)["static_page"] == str(page)
        assert "<html" in page.read_text()
        page.write_text("<p>Back at 15:00</p>")
        run_command("server_config")
        assert page.read_text() == "<p>Back at 15:00</p>"

    def test_dry_run_writes_nothing(self, configured: Path) -> None:
        out, _, code = run_command("server_config", "--dry-run")
        assert code == ExitCode.OK
        assert "would be created" in out
        assert not (configured / "servers").exists()

    def test_check_reports_a_hand_edit_with_its_diff(self, configured: Path) -> None:
        _, _, code = run_command("server_config", "--check")
        assert code == ExitCode.SERVER_CONFIG_DRIFT  # nothing rendered yet
        run_command("server_config")
        out, _, code = run_command("server_config", "--check")
        assert code == ExitCode.OK
        assert "are as the settings render them" in out
        nginx = configured / "servers" / "nginx-mysite.conf"
        nginx.write_text(nginx.read_text().replace("client_max_body_size 10m;", "client_max_body_size 1g;"))
        out, _, code = run_command("server_config", "--check")
        assert code == ExitCode.SERVER_CONFIG_DRIFT
        assert "differs from what the settings render" in out
        assert "-    client_max_body_size 1g;\n+    client_max_body_size 10m;" in out

    def test_check_follows_the_installed_copies(self, root: Path, tmp_path: Path) -> None:
        etc = tmp_path / "etc"
        etc.mkdir()
        install = {"nginx-mysite.conf": str(etc / "mysite.conf"), "logrotate-mysite": str(etc / "logrotate")}
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS={**SERVERS, "install": install})):
            run_command("server_config")
            out, _, code = run_command("server_config", "--check", "--format", "json")
            assert code == ExitCode.SERVER_CONFIG_DRIFT
            assert {(d["file"], d["problem"]) for d in json.loads(out)["drift"]} == {
                ("nginx-mysite.conf", "missing"),
                ("logrotate-mysite", "missing"),
            }
            (etc / "mysite.conf").symlink_to(root / "servers" / "nginx-mysite.conf")
            (etc / "logrotate").write_text((root / "servers" / "logrotate-mysite").read_text())
            _, _, code = run_command("server_config", "--check")
            assert code == ExitCode.OK
            # Settings changed since the files were rendered and installed: both places drift.
            with override_settings(DEPLOYKIT_SERVERS={**SERVERS, "install": install, "workers": 9}):
                out, _, code = run_command("server_config", "--check", "--format", "json")
                assert code == ExitCode.SERVER_CONFIG_DRIFT
                drifted = {(d["file"], d["path"]) for d in json.loads(out)["drift"]}
                assert ("gunicorn-live.conf.py", str(root / "servers" / "gunicorn-live.conf.py")) in drifted
                assert all(name != "nginx-mysite.conf" for name, _ in drifted)

    @pytest.mark.parametrize("mode", [(), ("--check",), ("--dry-run",), ("--kind", "nginx")])
    def test_an_install_entry_naming_no_rendered_file(self, root: Path, mode: tuple[str, ...]) -> None:
        servers = {**SERVERS, "install": {"nginx.conf": "/etc/nginx/sites-enabled/mysite.conf"}}
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS=servers)):
            _, err, code = run_command("server_config", *mode)
        assert code == ExitCode.FAILED
        assert "'nginx.conf', which is not a rendered file" in err
        assert not (root / "servers").exists()

    def test_with_kind_an_install_entry_of_another_kind_is_fine(self, root: Path) -> None:
        servers = {**SERVERS, "install": {"logrotate-mysite": "/etc/logrotate.d/mysite"}}
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS=servers)):
            _, _, code = run_command("server_config", "--kind", "nginx")
        assert code == ExitCode.OK
        assert [path.name for path in (root / "servers").iterdir()] == ["nginx-mysite.conf"]

    def test_a_page_that_cannot_be_written_is_a_warning_after_the_files(
        self, configured: Path, read_only_folder: Any
    ) -> None:
        with read_only_folder(configured / "shared"):
            out, _, code = run_command("server_config", "--format", "json")
        assert code == ExitCode.OK
        document = json.loads(out)
        assert "static_page" not in document
        assert any("could not be written" in warning for warning in document["warnings"])
        assert (configured / "servers" / "nginx-mysite.conf").is_file()

    def test_print_writes_one_file_and_nothing_else(self, configured: Path) -> None:
        out, _, code = run_command("server_config", "--print", "mysite-live.socket")
        assert code == ExitCode.OK
        assert out.startswith("# Rendered by 'manage.py server_config'")
        assert out.endswith("WantedBy=sockets.target\n")
        assert not (configured / "servers").exists()
        assert not (configured / "shared" / "maintenance.html").exists()
        _, err, code = run_command("server_config", "--print", "nope")
        assert code == ExitCode.FAILED
        assert "No rendered file is named 'nope'" in err

    def test_the_trusted_proxies_warning(self, root: Path) -> None:
        with override_settings(**project_settings(root, DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES=())):
            out, _, _ = run_command("server_config")
        assert "add '127.0.0.1/32' and '::1/128' to DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES" in out


class DeployCheckTests:
    def options(self) -> CheckOptions:
        return CheckOptions(project_subdir=Path("example_project"), link="live", url=None)

    def test_drift_is_a_warning_with_its_fix(self, configured: Path) -> None:
        root = read_deploy_root(configured)
        (finding,) = _server_files(root, self.options())
        assert finding.level == "warning"
        assert "is missing" in finding.detail
        assert "server_config --check" in finding.fix
        run_command("server_config")
        (finding,) = _server_files(root, self.options())
        assert finding.level == "ok"
        assert "8 files as the settings render them" in finding.detail

    def test_what_the_servers_user_could_not_read_is_a_warning(self, configured: Path) -> None:
        env_file = configured / "shared" / ".env"
        env_file.write_text("PRODUCTION=\n")
        env_file.chmod(0o600)
        access = [
            f
            for f in _server_files(read_deploy_root(configured), self.options())
            if f.check == "server access"
        ]
        assert [f.level for f in access] == ["warning"]
        assert "could not read it" in access[0].detail

    def test_bad_settings_are_an_error_and_no_setting_no_finding(self, root: Path) -> None:
        deploy_root = read_deploy_root(root)
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS={"server_name": "x.org"})):
            (finding,) = _server_files(deploy_root, self.options())
        assert finding.level == "error"
        assert "has no 'user'" in finding.detail
        with override_settings(**project_settings(root, DEPLOYKIT_SERVERS={})):
            assert _server_files(deploy_root, self.options()) == []
        assert os.listdir(root / "shared") == []
