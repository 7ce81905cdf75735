"""The pipeline setting's forms, and deploy() run in-process with a callable and a program stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_deploykit.deploy.pipeline import BUILTIN_STAGES, PipelineError, parse_pipeline
from django_deploykit.deploy.procedure import DeployFailed, DeployOptions, StageContext, deploy
from django_deploykit.deploy_root import history, links
from django_deploykit.deploy_root.lock import TOKEN_VARIABLE
from tests.deployment import Site, build_site

SEEN: list[StageContext] = []


def remember_context(context: StageContext) -> str:
    SEEN.append(context)
    context.log.write("a callable stage wrote this")
    return f"live is {context.links.live}"


def broken(context: StageContext) -> None:
    raise RuntimeError("the callable stage broke")


@pytest.fixture
def bare_site(tmp_path: Path) -> Site:
    return build_site(tmp_path, venvs=False)


def options(stages: list[object]) -> DeployOptions:
    return DeployOptions(project_subdir=Path("example_project"), stages=parse_pipeline(stages))


class PipelineParsingTests:
    def test_default_is_the_builtin_pipeline(self) -> None:
        assert [stage.name for stage in parse_pipeline(None)] == list(BUILTIN_STAGES)

    def test_every_form(self) -> None:
        stages = parse_pipeline(
            [
                "pull",
                {"name": "smoke", "command": "check", "args": ["--deploy"], "slot": "stage"},
                {"name": "warm", "argv": ["true"]},
                {"name": "note", "callable": "tests.deploy.test_pipeline.remember_context"},
                remember_context,
            ]
        )
        assert [(s.name, s.kind) for s in stages] == [
            ("pull", "builtin"),
            ("smoke", "command"),
            ("warm", "argv"),
            ("note", "callable"),
            ("remember_context", "callable"),
        ]
        assert stages[1].describe() == "manage.py check --deploy in the stage slot"

    @pytest.mark.parametrize(
        ("entry", "message"),
        [
            ("swapp", "DEPLOYKIT_DEPLOY_PIPELINE[0] is 'swapp', which is not a stage"),
            ({"command": "check"}, "needs a 'name'"),
            ({"name": "x", "argv": ["true"], "command": "check"}, "exactly one of"),
            ({"name": "x", "command": "check", "slot": "blue"}, "'slot' must be 'live' or 'stage'"),
            ({"name": "x", "argv": "true"}, "argv must be a list of strings"),
            ({"name": "x", "callable": "no.such.module"}, "cannot import 'no.such.module'"),
            ({"name": "x", "argv": ["true"], "when": "always"}, "unknown keys: when"),
            (42, "must be a stage name, a dict or a callable"),
        ],
    )
    def test_bad_entries(self, entry: object, message: str) -> None:
        with pytest.raises(PipelineError, match=message.replace("[", r"\[").replace("]", r"\]")):
            parse_pipeline([entry])

    def test_duplicates_and_empty(self) -> None:
        with pytest.raises(PipelineError, match="names these stages twice: pull"):
            parse_pipeline(["pull", "pull"])
        with pytest.raises(PipelineError, match="is empty"):
            parse_pipeline([])


class InProcessDeployTests:
    def test_callable_and_program_stages_run_under_the_deploys_lock(self, bare_site: Site) -> None:
        SEEN.clear()
        lines: list[str] = []
        outcome = deploy(
            bare_site.root,
            options(
                [remember_context, {"name": "token", "argv": ["sh", "-c", f'test -n "${TOKEN_VARIABLE}"']}]
            ),
            lines.append,
        )
        assert outcome.result == "ok"
        assert [s.status for s in outcome.stages] == ["ok", "ok"]
        assert outcome.stages[0].summary == "live is blue"
        assert "a callable stage wrote this" in Path(str(outcome.stages[0].log)).read_text()
        assert SEEN[0].links == links.LinkState("blue", "green")
        assert TOKEN_VARIABLE in SEEN[0].environment
        assert any("[1/2] remember_context: ok" in line for line in lines)
        assert history.read(bare_site.root).__next__().kind == "init"

    def test_a_failing_callable_halts_before_the_next_stage(self, bare_site: Site) -> None:
        with pytest.raises(DeployFailed) as caught:
            deploy(bare_site.root, options([broken, {"name": "after", "argv": ["true"]}]), lambda line: None)
        assert caught.value.exit_code == 1
        outcome = caught.value.outcome
        assert [(s.name, s.status) for s in outcome.stages] == [("broken", "failed")]
        assert "RuntimeError: the callable stage broke" in outcome.stages[0].summary
        assert "Live was not touched" in str(caught.value)
        records = [r for r in history.read(bare_site.root) if r.kind == "deploy"]
        assert records[-1].result == "failed"
