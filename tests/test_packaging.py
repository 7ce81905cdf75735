"""The distributions as a user gets them: what the sdist and the wheel hold, the README the package
index shows, and the demo run from an installed wheel, in a virtualenv of its own."""

from __future__ import annotations

import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest

from tests.deployment import REPO_ROOT

REPOSITORY = "https://github.com/django-deploykit/django-deploykit"
PACKAGE = "django_deploykit"


@dataclass
class Distributions:
    source: Path
    wheel_file: Path
    sdist: list[str]  # paths inside the sdist, without its top folder
    wheel: list[str]
    metadata: Message


def source_tree(destination: Path) -> Path:
    """A copy of the checkout as a clone of it would be: tracked and new files, nothing git ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        path = REPO_ROOT / name
        if path.is_file():  # a tracked file deleted in the work tree is listed too
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination / name)
    return destination


def build(source: Path, output: Path) -> Distributions:
    """``python -m build``: the sdist, then the wheel from the sdist, as a release makes them."""
    # No isolation: setuptools and build come from the test environment instead of the network.
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(output), str(source)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (sdist,) = output.glob("*.tar.gz")
    (wheel,) = output.glob("*.whl")
    with tarfile.open(sdist) as archive:
        sdist_names = [str(PurePosixPath(*PurePosixPath(m.name).parts[1:])) for m in archive if m.isfile()]
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = archive.namelist()
        (metadata_name,) = (name for name in wheel_names if name.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    return Distributions(source, wheel, sdist_names, wheel_names, metadata)


def package_files(tree: Path) -> list[str]:
    return sorted(
        str(path.relative_to(tree))
        for path in (tree / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    tree = source_tree(tmp_path_factory.mktemp("source"))
    return build(tree, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def wheel_python(dists: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a new virtualenv with the wheel and its dependencies installed, and no demo extra."""
    home = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True)
    python = home / "venv" / "bin" / "python"
    # The dependencies come from the package index, as for a user.
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(dists.wheel_file)],
        cwd=home,
        env=clean_environment(home),
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = subprocess.run(
        [str(python), "-c", "import django_deploykit; print(django_deploykit.__file__)"],
        cwd=home,
        env=clean_environment(home),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(home / "venv"), where
    return python


def clean_environment(tmpdir: Path) -> dict[str, str]:
    """This process's environment without what would make the checkout importable."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "PYTHONSTARTUP"}
    }
    environment["TMPDIR"] = str(tmpdir)
    return environment


class DistributionTests:
    def test_license_is_in_the_sdist_and_the_wheel(self, dists: Distributions) -> None:
        license_text = (REPO_ROOT / "LICENSE").read_text(encoding="utf-8")
        assert license_text.startswith("BSD 3-Clause License")
        assert "Copyright (c) 2026, django-deploykit contributors" in license_text
        assert "LICENSE" in dists.sdist
        assert any(name.endswith(".dist-info/licenses/LICENSE") for name in dists.wheel), dists.wheel
        assert dists.metadata["License-Expression"] == "BSD-3-Clause"
        assert dists.metadata.get_all("License-File") == ["LICENSE"]

    def test_the_wheel_holds_the_package_only(self, dists: Distributions) -> None:
        outside = [
            name
            for name in dists.wheel
            if not name.startswith(f"{PACKAGE}/") and not re.match(rf"{PACKAGE}-[^/]+\.dist-info/", name)
        ]
        assert outside == []
        assert not [name for name in dists.wheel if "tests/" in name]

    def test_the_wheel_holds_every_file_of_the_package(self, dists: Distributions) -> None:
        # Modules, py.typed, templates (and translations once there are any): nothing is left out.
        expected = package_files(dists.source)
        assert f"{PACKAGE}/py.typed" in expected
        assert [name for name in expected if "/templates/" in name]
        assert sorted(set(expected) - set(dists.wheel)) == []

    def test_the_sdist_holds_the_package_readme_license_and_docs_and_no_tests(
        self, dists: Distributions
    ) -> None:
        assert not [
            name for name in dists.sdist if name.startswith(("tests/", "example_project/", "benchmarks/"))
        ]
        for name in ("README.md", "LICENSE", "pyproject.toml", "PKG-INFO"):
            assert name in dists.sdist
        # Whole trees, never part of one.
        docs = sorted(str(path.relative_to(dists.source)) for path in (dists.source / "docs").rglob("*.md"))
        assert [name for name in sorted(dists.sdist) if name.startswith("docs/")] == docs
        assert sorted(set(package_files(dists.source)) - set(dists.sdist)) == []

    def test_translations_reach_the_sdist_and_the_wheel(self, tmp_path: Path) -> None:
        # A catalogue in a language no one ships, added to a copy of the tree: the package-data pattern
        # for locale/ is exercised whether or not the checkout has translations yet.
        tree = source_tree(tmp_path / "source")
        messages = tree / PACKAGE / "locale" / "zz" / "LC_MESSAGES"
        messages.mkdir(parents=True)
        (messages / "django.po").write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
        (messages / "django.mo").write_bytes(b"\xde\x12\x04\x95" + bytes(24))
        built = build(tree, tmp_path / "dist")
        for name in (
            f"{PACKAGE}/locale/zz/LC_MESSAGES/django.po",
            f"{PACKAGE}/locale/zz/LC_MESSAGES/django.mo",
        ):
            assert name in built.sdist
            assert name in built.wheel

    def test_project_urls_are_in_the_metadata(self, dists: Distributions) -> None:
        urls = dict(entry.split(", ", 1) for entry in dists.metadata.get_all("Project-URL") or [])
        assert set(urls) >= {"Homepage", "Documentation", "Source", "Issues"}
        assert all(url.startswith(REPOSITORY) for url in urls.values()), urls


MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
FENCED_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)


def markdown_links(text: str) -> list[str]:
    prose = CODE_SPAN.sub("", FENCED_CODE.sub("", text))
    return [
        *MARKDOWN_LINK.findall(prose),
        *REFERENCE_DEFINITION.findall(prose),
        *HTML_LINK.findall(prose),
    ]


class ReadmeLinkTests:
    def test_the_parser_finds_every_kind_of_link(self) -> None:
        text = (
            "See [a](docs/a.md), ![b](img/b.png \"title\") and <a href='c.md'>c</a>.\n"
            "`[not](a-link.md)`\n```\n[nor](this.md)\n```\n[ref]: docs/ref.md\n"
        )
        assert sorted(markdown_links(text)) == ["c.md", "docs/a.md", "docs/ref.md", "img/b.png"]

    def test_the_readme_on_the_package_index_has_no_relative_links(self, dists: Distributions) -> None:
        # The index shows the description in the wheel's metadata: the README as it was built.
        description = dists.metadata.get_payload()
        assert isinstance(description, str)
        assert description.strip() == (REPO_ROOT / "README.md").read_text(encoding="utf-8").strip()
        links = markdown_links(description)
        assert links
        relative = [link for link in links if not (urlsplit(link).scheme or link.startswith("#"))]
        assert relative == []

    def test_the_readme_links_to_the_repository_name_files_that_exist(self) -> None:
        links = markdown_links((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
        files = [
            link.removeprefix(f"{REPOSITORY}/").split("/", 2)[2].split("#")[0]
            for link in links
            if link.startswith((f"{REPOSITORY}/blob/main/", f"{REPOSITORY}/tree/main/"))
        ]
        assert files
        assert [name for name in files if not (REPO_ROOT / name).exists()] == []


class DemoFromWheelTests:
    MESSAGE = (
        "The demo runs from a checkout of django-deploykit, not from an installed package (it needs "
        f"example_project/ and gunicorn): clone {REPOSITORY} and run pip install -e '.[demo]' in the clone.\n"
    )

    def test_a_folder_that_did_not_exist_is_not_left_behind(self, wheel_python: Path, tmp_path: Path) -> None:
        (tmp_path / "tmp").mkdir()
        completed = subprocess.run(
            [str(wheel_python), "-m", "django_deploykit.demo", str(tmp_path / "parent" / "new")],
            cwd=tmp_path,
            env=clean_environment(tmp_path / "tmp"),
            capture_output=True,
            text=True,
        )

        assert (completed.returncode, completed.stdout, completed.stderr) == (1, "", self.MESSAGE)
        assert sorted(path.name for path in tmp_path.iterdir()) == ["tmp"]
        assert list((tmp_path / "tmp").iterdir()) == []

    def test_no_temporary_folder_is_left_behind(self, wheel_python: Path, tmp_path: Path) -> None:
        (tmp_path / "tmp").mkdir()
        completed = subprocess.run(
            [str(wheel_python), "-m", "django_deploykit.demo"],
            cwd=tmp_path,
            env=clean_environment(tmp_path / "tmp"),
            capture_output=True,
            text=True,
        )

        assert (completed.returncode, completed.stdout, completed.stderr) == (1, "", self.MESSAGE)
        assert list((tmp_path / "tmp").iterdir()) == []

    def test_without_gunicorn_it_says_how_to_get_it(self, wheel_python: Path, tmp_path: Path) -> None:
        # The example project of this checkout, but the installed wheel has no demo extra.
        script = (
            "import sys\n"
            "from pathlib import Path\n"
            "from django_deploykit.demo.sandbox import DemoError, check_requirements\n"
            "try:\n"
            "    check_requirements(Path(sys.argv[1]))\n"
            "except DemoError as exc:\n"
            "    print(exc)\n"
        )
        completed = subprocess.run(
            [str(wheel_python), "-c", script, str(REPO_ROOT / "example_project")],
            cwd=tmp_path,
            env=clean_environment(tmp_path),
            capture_output=True,
            text=True,
            check=True,
        )

        assert completed.stdout == (
            "The demo serves the example project with gunicorn, which is not installed: run "
            "pip install -e '.[demo]' in the checkout.\n"
        )
