"""The ``.env`` file: one grammar, and an error for every line outside it.

A line this reader skipped could be the ``PRODUCTION=`` line, and then the process would quietly run the
development settings with DEBUG on. So nothing is skipped: a line is blank, a comment or an assignment,
and anything else stops the settings from loading, with the file and the line number, in both modes.

The grammar (documented for users in the README, "The .env file"):

* The file is UTF-8; a byte-order mark at its start is ignored. Lines end with LF, CRLF or CR.
* Blank lines and lines whose first non-blank character is ``#`` are ignored.
* An assignment is ``NAME=value``, optionally preceded by ``export`` and by spaces or tabs, with optional
  spaces or tabs around ``=``. ``NAME`` is letters, digits and underscores, not starting with a digit.
* An unquoted value runs to the end of the line; a ``#`` after a space or tab starts a comment, and spaces
  and tabs at its end are dropped. Quotes inside it are kept as they are.
* ``'single quotes'`` keep everything between them literally.
* ``"double quotes"`` understand ``\\n`` (newline), ``\\t`` (tab), ``\\"`` and ``\\\\``; any other backslash
  is an error, so that a value written for a shell (``\\$``) is not silently read another way.
* After a closing quote only spaces, tabs and a ``#`` comment may follow.
* A quoted value ends on its own line: a missing closing quote is an error instead of a value that
  swallows the lines after it (one of which could be ``PRODUCTION=``). Write ``\\n`` for a line break.
* ``$`` is never expanded: values are read raw, so a generated key such as ``$x9…`` works.
* A name without ``=`` is an error: it could mean an empty value or an unfinished line.
* A name given twice takes the last value.

Error messages never quote the line: a line that cannot be read may be a secret pasted in the wrong place.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from django.core.exceptions import ImproperlyConfigured

_BYTE_ORDER_MARK: Final = "\ufeff"
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
_BLANK: Final = " \t"
_ASSIGNMENT: Final = re.compile(
    r"(?:export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=(?P<gap>[ \t]*)(?P<rest>.*)"
)
_BARE_NAME: Final = re.compile(r"(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*(?:#.*)?")
_COMMENT_AFTER_VALUE: Final = re.compile(r"[ \t]#")
# Tab is the one control character a value may hold; NUL cannot even reach the process environment.
_CONTROL_CHARACTER: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ESCAPES: Final = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class EnvFileError(ImproperlyConfigured):
    """The ``.env`` file exists but cannot be read, or holds a line outside the grammar."""


class _LineError(ValueError):
    """One line is outside the grammar; the message says how, without quoting the line."""


def parse_env_file(path: Path) -> dict[str, str]:
    """Return the ``NAME=value`` pairs of the ``.env`` file at ``path`` (``{}`` when there is none).

    A path that exists but cannot be read (a dangling symbolic link, a folder, no permission, not UTF-8)
    and a line outside the grammar raise ``EnvFileError``: skipping either could silently choose the
    development settings.
    """
    text = _read(path)
    values: dict[str, str] = {}
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        try:
            pair = parse_line(line)
        except _LineError as exc:
            raise EnvFileError(
                f"Line {number} of the .env file {path} cannot be read: {exc} The settings were not loaded: "
                "a line left out could silently choose the development settings."
            ) from None
        if pair is not None:
            values[pair[0]] = pair[1]
    return values


def parse_line(line: str) -> tuple[str, str] | None:
    """Return the ``(name, value)`` of one line, ``None`` for a blank or comment line."""
    control = _CONTROL_CHARACTER.search(line)
    if control is not None:
        raise _LineError(f"it holds the control character U+{ord(control[0]):04X}, which no value may hold.")
    stripped = line.lstrip(_BLANK)
    if not stripped or stripped.startswith("#"):
        return None
    match = _ASSIGNMENT.fullmatch(stripped)
    if match is None:
        raise _LineError(_why_not_an_assignment(stripped))
    name, rest = match["name"], match["rest"]
    if rest.startswith("'"):
        value, after = _single_quoted(name, rest)
    elif rest.startswith('"'):
        value, after = _double_quoted(name, rest)
    elif match["gap"] and rest.startswith("#"):
        # "NAME= # a note" documents an empty value, as after any other value.
        return name, ""
    else:
        comment = _COMMENT_AFTER_VALUE.search(rest)
        return name, (rest[: comment.start()] if comment else rest).rstrip(_BLANK)
    after = after.lstrip(_BLANK)
    if after and not after.startswith("#"):
        raise _LineError(
            f"the quoted value of {name} is followed by more text; only a # comment may follow a closing "
            "quote. Put the whole value inside the quotes."
        )
    return name, value


def _why_not_an_assignment(stripped: str) -> str:
    if _BARE_NAME.fullmatch(stripped):
        return (
            "it is a name without '=', which is ambiguous: it could mean an empty value or an unfinished "
            "line. Write NAME= (nothing after '=') for an empty value, or delete the line."
        )
    if "=" in stripped:
        return (
            "the text before '=' is not a variable name (letters, digits and underscores, not starting "
            "with a digit, optionally after 'export ')."
        )
    return "it is neither NAME=value, nor a # comment, nor blank."


def _single_quoted(name: str, rest: str) -> tuple[str, str]:
    end = rest.find("'", 1)
    if end == -1:
        raise _LineError(_unclosed(name, "'"))
    return rest[1:end], rest[end + 1 :]


def _double_quoted(name: str, rest: str) -> tuple[str, str]:
    value: list[str] = []
    index = 1
    while index < len(rest):
        character = rest[index]
        if character == '"':
            return "".join(value), rest[index + 1 :]
        if character == "\\":
            escaped = rest[index + 1 : index + 2]
            if escaped not in _ESCAPES:
                raise _LineError(
                    f'the double-quoted value of {name} holds a backslash that is not \\n, \\t, \\" or \\\\. '
                    "Write \\\\ for a backslash, or use single quotes for a value taken literally."
                )
            value.append(_ESCAPES[escaped])
            index += 2
            continue
        value.append(character)
        index += 1
    raise _LineError(_unclosed(name, '"'))


def _unclosed(name: str, quote: str) -> str:
    return (
        f"the value of {name} opens a quote ({quote}) that is not closed on the same line. A quoted value "
        "cannot span lines; write \\n inside double quotes for a line break."
    )


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        dangling = _dangling_link(path)
        if dangling is None:
            return ""
        where = "it is" if dangling == path else f"its folder {dangling} is"
        raise EnvFileError(
            f"The .env file {path} exists but cannot be read: {where} a symbolic link to "
            f"{os.readlink(dangling)}, which does not exist. Point the link at the real file, or remove it "
            "if there should be no .env file."
        ) from None
    except OSError as exc:
        raise EnvFileError(
            f"The .env file {path} exists but cannot be read ({exc.strerror or type(exc).__name__}). "
            "Make it a file the server's user can read, or remove it if there should be no .env file."
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK.split(data[: exc.start].decode("utf-8")))
        raise EnvFileError(
            f"Line {line} of the .env file {path} is not valid UTF-8. Save the file as UTF-8."
        ) from None
    return text.removeprefix(_BYTE_ORDER_MARK)


def _dangling_link(path: Path) -> Path | None:
    """The first of ``path`` and its folders that is a symbolic link to nothing, if any."""
    for candidate in (path, *path.parents):
        if candidate.is_symlink() and not candidate.exists():
            return candidate
    return None
