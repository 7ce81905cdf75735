from __future__ import annotations

import itertools
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_deploykit.settings import CHOICE_SETTING, SettingsModeWarning, current_choice, dispatch

STRONG_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"

PRODUCTION_MODULE = """
from django_deploykit.settings import env
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.secret("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
MODULE_NAME = "production"
"""
DEV_MODULE = """
from django_deploykit.settings import env
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.secret("SECRET_KEY", default="django-insecure-dev")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default="localhost")
MODULE_NAME = "dev"
"""
_counter = itertools.count()

MakePackage = Callable[..., tuple[str, Path]]


@pytest.fixture
def make_package(tmp_path: Path) -> Iterator[MakePackage]:
    """Create ``<tmp>/project/<unique package>/settings/`` with the given modules; return its name."""
    project = tmp_path / "project"
    project.mkdir()
    sys.path.insert(0, str(project))
    created: list[str] = []

    def make(production: str | None = PRODUCTION_MODULE, dev: str | None = DEV_MODULE) -> tuple[str, Path]:
        name = f"site{next(_counter)}_{os.getpid()}"
        settings_dir = project / name / "settings"
        settings_dir.mkdir(parents=True)
        (project / name / "__init__.py").write_text("")
        (settings_dir / "__init__.py").write_text("")
        if production is not None:
            (settings_dir / "production.py").write_text(textwrap.dedent(production))
        if dev is not None:
            (settings_dir / "dev.py").write_text(textwrap.dedent(dev))
        created.append(name)
        __import__(f"{name}.settings")
        return f"{name}.settings", project

    yield make
    sys.path.remove(str(project))
    for name in list(sys.modules):
        if any(name == c or name.startswith(c + ".") for c in created):
            del sys.modules[name]


def package(name: str) -> ModuleType:
    return sys.modules[name]


class ModeChoiceTests:
    def test_absent_variable_means_development(self, make_package: MakePackage) -> None:
        name, project = make_package()
        choice = dispatch(name, environ={})
        assert choice.mode == "development"
        assert choice.module == f"{name}.dev"
        assert package(name).MODULE_NAME == "dev"
        assert "PRODUCTION is not set in the process environment" in choice.reason
        assert str(project / ".env") in choice.reason

    @pytest.mark.parametrize("value", ["", "1", "yes"])
    def test_present_variable_means_production_without_warning(
        self, make_package: MakePackage, value: str, recwarn: pytest.WarningsRecorder
    ) -> None:
        name, _ = make_package()
        environ = {"PRODUCTION": value, "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "example.org"}
        choice = dispatch(name, environ=environ)
        assert choice.mode == "production"
        assert package(name).MODULE_NAME == "production"
        assert package(name).DEBUG is False
        assert f"PRODUCTION is set (to {value!r}) in the process environment" in choice.reason
        assert not [w for w in recwarn if issubclass(w.category, SettingsModeWarning)]
        assert choice.warnings == ()

    @pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off"])
    def test_false_looking_value_still_means_production_and_warns(
        self, make_package: MakePackage, value: str
    ) -> None:
        name, _ = make_package()
        environ = {"PRODUCTION": value, "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "example.org"}
        with pytest.warns(SettingsModeWarning, match="still selects production settings"):
            choice = dispatch(name, environ=environ)
        assert choice.mode == "production"
        assert package(name).MODULE_NAME == "production"
        assert "Unset PRODUCTION" in choice.warnings[0]

    def test_variable_only_in_env_file_means_production(self, make_package: MakePackage) -> None:
        name, project = make_package()
        env_file = project / ".env"
        env_file.write_text(f"PRODUCTION=\nSECRET_KEY={STRONG_KEY}\nALLOWED_HOSTS=example.org\n")
        environ: dict[str, str] = {}
        choice = dispatch(name, environ=environ)
        assert choice.mode == "production"
        assert choice.env_file == env_file
        assert f"in the .env file {env_file}" in choice.reason
        # The file's variables reach the process, so child processes see them too.
        assert environ["PRODUCTION"] == ""

    def test_env_file_never_overrides_the_real_environment(self, make_package: MakePackage) -> None:
        name, project = make_package()
        (project / ".env").write_text("ALLOWED_HOSTS=from-file.example\nDEBUG=true\n")
        environ = {"ALLOWED_HOSTS": "from-env.example"}
        dispatch(name, environ=environ)
        assert package(name).ALLOWED_HOSTS == ["from-env.example"]
        assert package(name).DEBUG is True

    def test_custom_variable_name(self, make_package: MakePackage) -> None:
        name, _ = make_package()
        environ = {"PRODUCTION": "", "LIVE_SITE": "", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "a.example"}
        assert dispatch(name, variable="LIVE_SITE", environ=environ).mode == "production"
        name2, _ = make_package()
        choice = dispatch(name2, variable="LIVE_SITE", environ={"PRODUCTION": ""})
        assert choice.mode == "development"
        assert "LIVE_SITE is not set" in choice.reason

    def test_explicit_env_file_and_env_file_variable(self, make_package: MakePackage, tmp_path: Path) -> None:
        elsewhere = tmp_path / "conf" / "site.env"
        elsewhere.parent.mkdir()
        elsewhere.write_text(f"PRODUCTION=1\nSECRET_KEY={STRONG_KEY}\nALLOWED_HOSTS=a.example\n")
        name, _ = make_package()
        assert dispatch(name, env_file=elsewhere, environ={}).env_file == elsewhere
        name2, _ = make_package()
        choice = dispatch(name2, environ={"DEPLOYKIT_ENV_FILE": str(elsewhere)})
        assert (choice.mode, choice.env_file) == ("production", elsewhere)

    def test_env_file_defaults_to_deploy_roots_shared_folder(
        self, make_package: MakePackage, tmp_path: Path
    ) -> None:
        name, project = make_package()
        (project / ".deploykit-root").write_text(json.dumps({"slots": ["dog", "cat"]}))
        (project / "shared").mkdir()
        (project / "shared" / ".env").write_text(
            f"PRODUCTION=\nSECRET_KEY={STRONG_KEY}\nALLOWED_HOSTS=a.example\n"
        )
        (project / ".env").write_text("")  # not the one used inside a deploy root
        choice = dispatch(name, environ={})
        assert choice.mode == "production"
        assert choice.env_file == project / "shared" / ".env"
        assert choice.deploy_root is not None
        assert choice.deploy_root.slot_names == ("dog", "cat")

    def test_choice_is_exposed(self, make_package: MakePackage) -> None:
        name, _ = make_package()
        choice = dispatch(name, environ={})
        assert current_choice() == choice
        exposed = package(name).__dict__[CHOICE_SETTING]
        assert exposed["mode"] == "development"
        assert exposed["module"] == f"{name}.dev"
        assert exposed["reason"] == choice.reason

    def test_absolute_module_names(self, make_package: MakePackage) -> None:
        name, _ = make_package()
        choice = dispatch(
            name, development=f"{name}.production", environ={"SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "a"}
        )
        assert choice.module == f"{name}.production"


class RefusalTests:
    def test_missing_production_module_names_it(self, make_package: MakePackage) -> None:
        name, _ = make_package(production=None)
        with pytest.raises(
            ImproperlyConfigured, match=rf"production settings module {name}\.production does not exist"
        ):
            dispatch(name, environ={"PRODUCTION": "1"})

    def test_missing_dependency_inside_the_module_is_not_disguised(self, make_package: MakePackage) -> None:
        name, _ = make_package(dev="import no_such_dependency_here\n")
        with pytest.raises(ModuleNotFoundError, match="no_such_dependency_here"):
            dispatch(name, environ={})

    def test_every_problem_is_listed_at_once(self, make_package: MakePackage) -> None:
        name, project = make_package()
        (project / ".env").write_text("DEBUG=on\n")
        environ = {"PRODUCTION": "", "SECRET_KEY": "short", "ALLOWED_HOSTS": ""}
        with pytest.raises(ImproperlyConfigured) as excinfo:
            dispatch(name, environ=environ)
        message = str(excinfo.value)
        assert f"Refusing to load the production settings {name}.production" in message
        assert (
            f"DEBUG is on; it comes from the environment variable DEBUG (set in the .env file {project / '.env'})"
            in message
        )
        assert "SECRET_KEY is too weak (5 characters" in message
        assert "the environment variable SECRET_KEY (set in the process environment)" in message
        assert "ALLOWED_HOSTS is empty; it comes from the environment variable ALLOWED_HOSTS" in message
        assert message.count("\n  - ") == 3

    def test_missing_variables_are_listed_with_where_they_were_looked_for(
        self, make_package: MakePackage
    ) -> None:
        name, _ = make_package()
        with pytest.raises(ImproperlyConfigured) as excinfo:
            dispatch(name, environ={"PRODUCTION": ""})
        message = str(excinfo.value)
        assert "SECRET_KEY is not set in the process environment (and there is no .env file)." in message
        assert "ALLOWED_HOSTS is not set in the process environment" in message
        # Reported once, not again as "SECRET_KEY is missing".
        assert message.count("SECRET_KEY") == 1

    @pytest.mark.parametrize(
        ("key", "expected"),
        [
            ("django-insecure-" + "x1y2z3" * 10, "is a development key"),
            ("changeme", "is a known default value"),
            ("a" * 60, "is too weak (60 characters, 1 distinct"),
        ],
    )
    def test_weak_secret_keys(self, make_package: MakePackage, key: str, expected: str) -> None:
        name, _ = make_package()
        with pytest.raises(ImproperlyConfigured, match=expected.replace("(", r"\(")):
            dispatch(name, environ={"PRODUCTION": "", "SECRET_KEY": key, "ALLOWED_HOSTS": "a"})

    def test_key_from_the_settings_module_is_named(self, make_package: MakePackage) -> None:
        name, _ = make_package(production='DEBUG = True\nSECRET_KEY = "x"\nALLOWED_HOSTS = ["a"]\n')
        with pytest.raises(ImproperlyConfigured) as excinfo:
            dispatch(name, environ={"PRODUCTION": ""})
        assert f"DEBUG is on; it comes from {name}.production (DEBUG is set there" in str(excinfo.value)

    def test_development_default_key_is_refused_in_production(self, make_package: MakePackage) -> None:
        production = """
        from django_deploykit.settings import env
        SECRET_KEY = env.secret("SECRET_KEY", dev_default="a-development-default-key-" + "q" * 40)
        ALLOWED_HOSTS = ["a"]
        """
        name, _ = make_package(production=production)
        with pytest.raises(
            ImproperlyConfigured, match=r"SECRET_KEY is not set .* \(it is required in production\)"
        ):
            dispatch(name, environ={"PRODUCTION": ""})
        name2, _ = make_package(production=production)
        key = "a-development-default-key-" + "q" * 40
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is a known default value"):
            dispatch(name2, environ={"PRODUCTION": "", "SECRET_KEY": key})

    def test_unreadable_env_file_is_an_error(self, make_package: MakePackage, tmp_path: Path) -> None:
        name, project = make_package()
        (project / ".env").mkdir()  # exists, cannot be read as a file
        with pytest.raises(ImproperlyConfigured, match="exists but cannot be read"):
            dispatch(name, environ={})

    def test_a_second_attempt_reads_the_environment_again(self, make_package: MakePackage) -> None:
        name, _ = make_package()
        environ = {"PRODUCTION": ""}
        with pytest.raises(ImproperlyConfigured):
            dispatch(name, environ=environ)
        environ.update(SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="a.example")
        assert dispatch(name, environ=environ).mode == "production"
        assert package(name).SECRET_KEY == STRONG_KEY


class ValueTests:
    def test_dollar_sign_in_values_is_kept(self, make_package: MakePackage) -> None:
        name, _ = make_package()
        key = "$abc" + STRONG_KEY + "$def"
        dispatch(name, environ={"PRODUCTION": "", "SECRET_KEY": key, "ALLOWED_HOSTS": "a.example"})
        assert key == package(name).SECRET_KEY

    def test_dollar_sign_in_env_file(self, make_package: MakePackage) -> None:
        name, project = make_package()
        key = "$HOME" + STRONG_KEY
        (project / ".env").write_text(f"PRODUCTION=\nSECRET_KEY='{key}'\nALLOWED_HOSTS=a.example\n")
        dispatch(name, environ={})
        assert key == package(name).SECRET_KEY


class EnvFileGrammarTests:
    """Issue 11: a PRODUCTION line the reader could not read chose development, DEBUG on."""

    @pytest.mark.parametrize(
        "line", ["PRODUCTION = 1", " PRODUCTION=1", "\ufeffPRODUCTION=1", "export PRODUCTION=1 # live"]
    )
    def test_production_lines_written_by_hand_select_production(
        self, make_package: MakePackage, line: str
    ) -> None:
        name, project = make_package()
        (project / ".env").write_text(f"{line}\r\nSECRET_KEY = {STRONG_KEY}\r\nALLOWED_HOSTS=a.example\r\n")
        choice = dispatch(name, environ={})
        assert choice.mode == "production"
        assert package(name).DEBUG is False

    @pytest.mark.parametrize("environ", [{}, {"PRODUCTION": "1"}], ids=["development", "production"])
    def test_a_line_it_cannot_read_refuses_in_both_modes(
        self, make_package: MakePackage, environ: dict[str, str]
    ) -> None:
        name, project = make_package()
        (project / ".env").write_text(f"SECRET_KEY={STRONG_KEY}\nALLOWED_HOSTS=a.example\nPRODUCTION\n")
        with pytest.raises(ImproperlyConfigured, match=f"Line 3 of the .env file {project / '.env'}"):
            dispatch(name, environ=dict(environ, SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="a.example"))

    def test_a_dangling_link_refuses_instead_of_counting_as_no_file(self, make_package: MakePackage) -> None:
        name, project = make_package()
        (project / ".env").symlink_to(project / "site.env")
        with pytest.raises(ImproperlyConfigured, match="is a symbolic link to .*which does not exist"):
            dispatch(name, environ={})


class PasswordInRefusalTests:
    def test_a_database_password_holding_a_slash_is_not_in_the_refusal(
        self, make_package: MakePackage
    ) -> None:
        # Issue 11: "...as 'Zx9' (in 'postgres://app:Zx9/Qw8+Lk7@db:5432/app')".
        production = PRODUCTION_MODULE + 'DATABASES = {"default": env.database_url("DATABASE_URL")}\n'
        name, project = make_package(production=production)
        (project / ".env").write_text("DATABASE_URL='postgres://app:Zx9/Qw8+Lk7@db:5432/app'\n")
        environ = {"PRODUCTION": "", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "a.example"}
        with pytest.raises(ImproperlyConfigured) as excinfo:
            dispatch(name, environ=environ)
        message = str(excinfo.value)
        assert (
            f"DATABASE_URL, from the environment variable DATABASE_URL (set in the .env file {project / '.env'})"
            in message
        )
        assert "postgres://app:***@db:5432/app" in message
        for piece in ("Zx9", "Qw8", "Lk7"):
            assert piece not in message
