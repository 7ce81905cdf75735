"""The .env grammar, through the reader the dispatcher uses (``DeployEnv.load_env_file``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_deploykit.settings import DeployEnv
from tests.conftest import REPO_ROOT


def load(tmp_path: Path, content: str | bytes) -> dict[str, str]:
    """The variables a process gets from a .env file holding ``content``."""
    env_file = tmp_path / ".env"
    if isinstance(content, str):
        env_file.write_bytes(content.encode())
    else:
        env_file.write_bytes(content)
    environ: dict[str, str] = {}
    DeployEnv(environ=environ).load_env_file(env_file)
    return environ


def refusal(tmp_path: Path, content: str | bytes) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load(tmp_path, content)
    return str(excinfo.value)


class IssueCasesTests:
    """Each way issue 11 found of losing a PRODUCTION line."""

    @pytest.mark.parametrize(
        "content",
        [
            "PRODUCTION = 1\n",
            "PRODUCTION =1\n",
            "PRODUCTION= 1\n",
            "PRODUCTION\t=\t1\n",
            " PRODUCTION=1\n",
            "\tPRODUCTION=1\n",
            "\ufeffPRODUCTION=1\n",
            "\ufeffPRODUCTION=1\r\nDEBUG=false\r\n",
            "  export   PRODUCTION = 1  # the live site\n",
        ],
        ids=[
            "spaces",
            "space-before",
            "space-after",
            "tabs",
            "leading-space",
            "leading-tab",
            "bom",
            "bom-crlf",
            "export-comment",
        ],
    )
    def test_production_line_is_read(self, tmp_path: Path, content: str) -> None:
        assert load(tmp_path, content)["PRODUCTION"] == "1"

    def test_bare_name_is_an_error_naming_file_and_line(self, tmp_path: Path) -> None:
        message = refusal(tmp_path, "# settings\nDEBUG=false\nPRODUCTION\n")
        assert f"Line 3 of the .env file {tmp_path / '.env'} cannot be read" in message
        assert "a name without '=', which is ambiguous" in message
        assert "Write NAME= (nothing after '=') for an empty value" in message

    def test_dangling_symbolic_link_is_an_error_not_no_file(self, tmp_path: Path) -> None:
        (tmp_path / ".env").symlink_to(tmp_path / "moved-away.env")
        with pytest.raises(ImproperlyConfigured) as excinfo:
            DeployEnv(environ={}).load_env_file(tmp_path / ".env")
        assert f"The .env file {tmp_path / '.env'} exists but cannot be read" in str(excinfo.value)
        assert "a symbolic link to" in str(excinfo.value)
        assert "which does not exist" in str(excinfo.value)

    def test_dangling_link_on_the_way_is_an_error(self, tmp_path: Path) -> None:
        (tmp_path / "shared").symlink_to(tmp_path / "gone")
        with pytest.raises(ImproperlyConfigured, match=r"its folder .*shared is a symbolic link to"):
            DeployEnv(environ={}).load_env_file(tmp_path / "shared" / ".env")


class GrammarTests:
    def test_what_dotenv_files_commonly_hold(self, tmp_path: Path) -> None:
        content = (
            "# a full-line comment\n"
            "\n"
            "   \n"
            "   # an indented comment\n"
            "PLAIN=first\n"
            "PLAIN=value\n"
            "EMPTY=\n"
            "NOTED= # an empty value with a note\n"
            "TRAILING=value   \n"
            "COMMENTED=value # a note\n"
            "HASH_INSIDE=abc#def\n"
            "HASH_FIRST=#abc\n"
            'JSON={"live": {"adapter": "gunicorn"}}\n'
            "export EXPORTED=yes\n"
            "SINGLE='  a # b \\n $HOME \"x\" '\n"
            "SINGLE_NOTE='x' # note\n"
            'DOUBLE="a\\nb\\tc \\"q\\" \\\\ # not a comment $HOME"\n'
            "DOLLAR=$OTHER\n"
            "URL=postgres://app:Zx9/Qw8+Lk7@db:5432/app?sslmode=require\n"
            "SPACED=two words\n"
        )
        assert load(tmp_path, content) == {
            "PLAIN": "value",
            "EMPTY": "",
            "NOTED": "",
            "TRAILING": "value",
            "COMMENTED": "value",
            "HASH_INSIDE": "abc#def",
            "HASH_FIRST": "#abc",
            "JSON": '{"live": {"adapter": "gunicorn"}}',
            "EXPORTED": "yes",
            "SINGLE": '  a # b \\n $HOME "x" ',
            "SINGLE_NOTE": "x",
            "DOUBLE": 'a\nb\tc "q" \\ # not a comment $HOME',
            "DOLLAR": "$OTHER",
            "URL": "postgres://app:Zx9/Qw8+Lk7@db:5432/app?sslmode=require",
            "SPACED": "two words",
        }

    @pytest.mark.parametrize("ending", ["\r\n", "\r"])
    def test_a_file_saved_by_a_windows_editor(self, tmp_path: Path, ending: str) -> None:
        # A byte-order mark, CRLF (or old Mac CR) line endings, spaces around '='.
        content = "\ufeff" + ending.join(["A = 1", "B='two'", 'C="3"', "", "# c", "D=4"]) + ending
        assert load(tmp_path, content) == {"A": "1", "B": "two", "C": "3", "D": "4"}

    def test_a_name_called_export(self, tmp_path: Path) -> None:
        assert load(tmp_path, "export=1\nexport = 2\n") == {"export": "2"}

    @pytest.mark.parametrize(
        ("content", "line", "expected"),
        [
            ("A=1\nexport PRODUCTION\n", 2, "a name without '='"),
            ("PRODUCTION # on\n", 1, "a name without '='"),
            ("A=1\nSECRET KEY=x\n", 2, "the text before '=' is not a variable name"),
            ("1ST=x\n", 1, "the text before '=' is not a variable name"),
            ("=x\n", 1, "the text before '=' is not a variable name"),
            ("this is not a line\n", 1, "neither NAME=value, nor a # comment, nor blank"),
            ("A='open\nPRODUCTION=\nB=closed'\n", 1, "the value of A opens a quote (') that is not closed"),
            ('A="open\nPRODUCTION=\n"\n', 1, 'the value of A opens a quote (") that is not closed'),
            ('A="ends with a backslash\\"\n', 1, 'opens a quote (") that is not closed'),
            ("A='x'y\n", 1, "the quoted value of A is followed by more text"),
            ('A="x" "y"\n', 1, "the quoted value of A is followed by more text"),
            ('A="\\$HOME"\n', 1, "holds a backslash that is not"),
            ('A="C:\\data"\n', 1, "holds a backslash that is not"),
            ("A=x\x00y\n", 1, "the control character U+0000"),
            ("A=1\nB=x\x0cy\n", 2, "the control character U+000C"),
            ("A=1\n\ufeffB=2\n", 2, "the text before '=' is not a variable name"),
        ],
    )
    def test_a_line_outside_the_grammar_is_an_error(
        self, tmp_path: Path, content: str, line: int, expected: str
    ) -> None:
        message = refusal(tmp_path, content)
        assert f"Line {line} of the .env file {tmp_path / '.env'} cannot be read: " in message
        assert expected in message
        assert "The settings were not loaded" in message

    def test_the_line_itself_is_never_quoted(self, tmp_path: Path) -> None:
        # An unreadable line may be a secret pasted in the wrong place.
        message = refusal(tmp_path, "A=1\nZx9Qw8Lk7Secret\n")
        assert "Zx9Qw8Lk7Secret" not in message
        message = refusal(tmp_path, "PASSWORD='Zx9Qw8Lk7Secret\n")
        assert "Zx9Qw8Lk7Secret" not in message

    def test_not_utf8_names_the_line(self, tmp_path: Path) -> None:
        message = refusal(tmp_path, b"A=1\nB=caf\xe9\n")
        assert f"Line 2 of the .env file {tmp_path / '.env'} is not valid UTF-8" in message


def test_the_readmes_example_reads_as_documented(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The .env file", 1)[1]
    example = section.split("```sh\n", 1)[1].split("```", 1)[0]
    assert load(tmp_path, example) == {
        "PRODUCTION": "",
        "SECRET_KEY": "x9$k#...",
        "ALLOWED_HOSTS": "www.example.org",
        "DATABASE_URL": "postgres://app:pa ss@db:5432/site",
        "GREETING": "two\nlines",
    }
