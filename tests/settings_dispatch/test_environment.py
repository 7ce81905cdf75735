from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_deploykit.settings import DeployEnv, ValueSource


def make_env(**environ: str) -> DeployEnv:
    return DeployEnv(environ=dict(environ))


class ModeTests:
    def test_mode_follows_the_variables_existence(self) -> None:
        assert make_env().mode == "development"
        assert make_env(PRODUCTION="").mode == "production"
        assert make_env(PRODUCTION="false").mode == "production"
        assert DeployEnv(environ={"LIVE": ""}, production_variable="LIVE").mode == "production"


class GetterTests:
    @pytest.mark.parametrize(
        ("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("", False)]
    )
    def test_bool(self, raw: str, expected: bool) -> None:
        assert make_env(DEBUG=raw).bool("DEBUG") is expected

    def test_bool_rejects_other_words(self) -> None:
        with pytest.raises(
            ImproperlyConfigured,
            match="DEBUG, from the environment variable DEBUG .* is invalid: 'maybe' is not a boolean",
        ):
            make_env(DEBUG="maybe").bool("DEBUG")

    def test_int(self) -> None:
        assert make_env(N="42").int("N") == 42
        with pytest.raises(ImproperlyConfigured, match="N, from .* is invalid"):
            make_env(N="forty").int("N")

    def test_list(self) -> None:
        assert make_env(HOSTS=" a.example, b.example ,,").list("HOSTS") == ["a.example", "b.example"]
        assert make_env().list("HOSTS", default="x,y") == ["x", "y"]
        assert make_env().list("HOSTS", default=["z"]) == ["z"]

    def test_missing_without_default_raises_outside_dispatch(self) -> None:
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set in the process environment"):
            make_env().str("SECRET_KEY")

    def test_dev_default_applies_only_in_development(self) -> None:
        assert make_env().str("X", dev_default="d") == "d"
        with pytest.raises(ImproperlyConfigured, match=r"X is not set .* \(it is required in production\)"):
            make_env(PRODUCTION="").str("X", dev_default="d")
        assert make_env(PRODUCTION="").str("X", "both", dev_default="d") == "both"

    def test_values_are_raw_even_with_dollar_signs(self) -> None:
        env = make_env(KEY="$OTHER", OTHER="never-used", MIDDLE="a$b$")
        assert env.str("KEY") == "$OTHER"
        assert env.secret("MIDDLE") == "a$b$"

    def test_secret_defaults_become_known_defaults(self) -> None:
        env = make_env()
        env.secret("SECRET_KEY", dev_default="dev-key")
        assert "dev-key" in env.known_defaults

    def test_problems_are_collected_during_dispatch(self) -> None:
        env = make_env(PRODUCTION="", DEBUG="perhaps")
        env.collect_problems()
        assert env.bool("DEBUG") is False
        assert env.str("SECRET_KEY") == ""
        problems = env.take_problems()
        assert set(problems) == {"DEBUG", "SECRET_KEY"}
        with pytest.raises(ImproperlyConfigured):
            env.str("SECRET_KEY")


class SourceTests:
    def test_sources(self, tmp_path: Path) -> None:
        env_file = tmp_path / ".env"
        env_file.write_text("FROM_FILE=1\nBOTH=file\n# a comment\nexport EXPORTED='quoted value'\n")
        env = make_env(BOTH="process")
        assert env.load_env_file(env_file) == {"FROM_FILE", "EXPORTED"}
        assert env.str("EXPORTED") == "quoted value"
        assert env.str("BOTH") == "process"
        env.str("FROM_FILE")
        env.str("ABSENT", default="x")
        assert env.sources["BOTH"] == ValueSource("BOTH", "environment")
        assert env.sources["FROM_FILE"] == ValueSource("FROM_FILE", "env_file", env_file)
        assert env.sources["ABSENT"].origin == "default"
        assert str(env_file) in env.sources["FROM_FILE"].describe()
        assert "ABSENT is not set" in env.sources["ABSENT"].describe()

    def test_missing_env_file_is_fine(self, tmp_path: Path) -> None:
        assert make_env().load_env_file(tmp_path / "absent.env") == frozenset()
