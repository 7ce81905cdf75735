"""The git stage: fetch, resolve the ref, refuse what cannot be fast-forwarded, move the stage slot."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django_deploykit.deploy_root.slot_commands import CommandLog, CommandResult, failure_text, run_program
from django_deploykit.redact import redact_url

GIT_TIMEOUT = 300.0
UNFINISHED_CHECKOUT = "deploykit-unfinished-checkout"
# How git quotes a write that found no room (ENOSPC, EFBIG, EDQUOT).
_NO_ROOM = ("No space left on device", "File too large", "Disk quota exceeded")
MIGRATION_FILE = re.compile(r"^(?P<app>.+)/migrations/(?P<name>\d{4}_[^/]+)\.py$")
# What no branch, tag or commit can hold: white space, control characters, a range's "..".
NOT_IN_A_REF = re.compile(r"[\s\x00-\x1f\x7f]|\.\.")


class GitError(Exception):
    """The git stage cannot go on; the message says what to do."""


@dataclass(frozen=True)
class CommitRange:
    old: str
    new: str
    commits: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        return self.old == self.new

    def describe(self) -> str:
        if self.unchanged:
            return f"already at {self.new[:12]}"
        return f"{self.old[:12]}..{self.new[:12]} ({len(self.commits)} commit{'s' if len(self.commits) != 1 else ''})"


def ref_error(ref: str, option: str = "--ref") -> str | None:
    """Why ``ref`` cannot name one branch, tag or commit, as a sentence; ``None`` when it can.

    Checked before anything runs: git would only say so after the lock, the fetch and the logs.
    """
    if ref.strip() and not ref.startswith("-") and not NOT_IN_A_REF.search(ref):
        return None
    return (
        f"{option} must name a branch, tag or commit, e.g. {option} main; {ref!r} cannot be one (it is empty, "
        "starts with '-', or holds white space, a control character or '..')."
    )


def git(checkout: Path, *args: str, log: CommandLog | None = None) -> CommandResult:
    return run_program(
        ("git", "--no-pager", "-C", str(checkout), *args), cwd=checkout, timeout=GIT_TIMEOUT, log=log
    )


def _ok(result: CommandResult, what: str, log: CommandLog | None) -> str:
    if result.exit_code != 0:
        raise GitError(f"{what}: {failure_text(result, log)}")
    return result.stdout.strip()


def fetch(checkout: Path, remote: str, log: CommandLog | None = None) -> None:
    result = git(checkout, "fetch", "--quiet", "--tags", "--force", remote, log=log)
    if result.exit_code != 0:
        url = remote_url(checkout, remote, log)
        named = (
            f"the remote '{remote}' ({redact_url(url)})"
            if url
            else f"the remote '{remote}', which the repository of {checkout} does not define"
        )
        output = result.stdout + result.stderr
        if any(error in output for error in _NO_ROOM):
            hint = f"there is no room for what it fetched{_free_space(checkout)}"
        else:
            hint = "check that it is reachable and that the slot can read it"
        raise GitError(f"git could not fetch from {named}; {hint}: " + failure_text(result, log))


def remote_url(checkout: Path, remote: str, log: CommandLog | None = None) -> str | None:
    result = git(checkout, "remote", "get-url", remote, log=log)
    return result.stdout.strip() or None if result.exit_code == 0 else None


def resolve(checkout: Path, remote: str, ref: str, log: CommandLog | None = None) -> str:
    """The commit ``ref`` names: a branch of the remote first, then a tag or a commit."""
    for candidate in (f"refs/remotes/{remote}/{ref}", f"refs/tags/{ref}", ref):
        result = git(checkout, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", log=log)
        if result.exit_code == 0:
            return result.stdout.strip()
    raise GitError(
        f"The ref '{ref}' is not a branch of '{remote}', a tag or a commit; check the name and push it."
    )


def head(checkout: Path, log: CommandLog | None = None) -> str:
    return _ok(git(checkout, "rev-parse", "HEAD", log=log), "git could not read HEAD", log)


def dirty_files(checkout: Path, log: CommandLog | None = None) -> list[str]:
    result = git(checkout, "status", "--porcelain", "--untracked-files=no", log=log)
    _ok(result, "git status failed", log)
    # Not stripped: each line starts with two status columns, the first often a space.
    return [line[3:] for line in result.stdout.splitlines() if line.strip()]


def is_ancestor(checkout: Path, old: str, new: str, log: CommandLog | None = None) -> bool:
    return git(checkout, "merge-base", "--is-ancestor", old, new, log=log).exit_code == 0


def commit_range(checkout: Path, old: str, new: str, log: CommandLog | None = None) -> CommitRange:
    if old == new:
        return CommitRange(old, new, ())
    output = _ok(git(checkout, "log", "--format=%h %s", f"{old}..{new}", log=log), "git log failed", log)
    return CommitRange(old, new, tuple(output.splitlines()))


def changed_files(checkout: Path, old: str, new: str, log: CommandLog | None = None) -> list[str]:
    output = _ok(git(checkout, "diff", "--name-only", old, new, log=log), "git diff failed", log)
    return output.splitlines()


def migration_files(checkout: Path, commit: str, log: CommandLog | None = None) -> set[tuple[str, str]]:
    """(app folder relative to the checkout, migration name) of every migration file in ``commit``'s tree."""
    output = _ok(git(checkout, "ls-tree", "-r", "--name-only", commit, log=log), "git ls-tree failed", log)
    found = set()
    for path in output.splitlines():
        match = MIGRATION_FILE.search(path)
        if match:
            found.add((match["app"], match["name"]))
    return found


def checkout(checkout_dir: Path, commit: str, log: CommandLog | None = None) -> None:
    """Check out ``commit`` detached, and make sure every file of it was written.

    git reports success when it could not write a file (a full disk leaves it empty), so the
    working tree is compared with the commit afterwards. A marker in the git folder, written
    first and removed once the tree is whole, tells the next pull that the files left
    different are this checkout's unfinished work, not someone's local changes.
    """
    marker = _git_dir(checkout_dir, log) / UNFINISHED_CHECKOUT
    try:
        marker.write_text(commit + "\n", encoding="utf-8")
    except OSError as exc:
        raise GitError(
            f"Could not write {marker} before checking out {commit[:12]} ({exc.strerror}{_free_space(checkout_dir)}); "
            "the checkout was not changed."
        ) from exc
    # A detached checkout of the exact commit: the same for a branch, a tag or a SHA.
    result = git(checkout_dir, "checkout", "--quiet", "--detach", commit, log=log)
    _ok(result, f"git could not check out {commit}{_free_space(checkout_dir)}", log)
    left = dirty_files(checkout_dir, log)
    if left:
        errors = "; ".join(
            line for line in result.stderr.splitlines() if line.startswith(("error:", "fatal:"))
        )
        listing = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        raise GitError(
            f"git could not write every file of {commit[:12]} into {checkout_dir} ({errors or 'no error said'}"
            f"{_free_space(checkout_dir)}); left unfinished: {listing}. The next pull finishes the checkout."
        )
    marker.unlink()


def unfinished_checkout(checkout_dir: Path, log: CommandLog | None = None) -> str | None:
    """The commit an earlier pull's checkout did not finish writing, if one did not."""
    try:
        return (_git_dir(checkout_dir, log) / UNFINISHED_CHECKOUT).read_text(encoding="utf-8").strip() or None
    except (OSError, GitError):
        return None


def _git_dir(checkout_dir: Path, log: CommandLog | None) -> Path:
    return Path(
        _ok(git(checkout_dir, "rev-parse", "--absolute-git-dir", log=log), "git rev-parse failed", log)
    )


def _free_space(path: Path) -> str:
    try:
        stats = os.statvfs(path)
    except OSError:
        return ""
    return f"; {stats.f_bavail * stats.f_frsize / 1e6:.1f} MB free on the filesystem of {path}"


def tag_deploy(checkout_dir: Path, commit: str, log: CommandLog | None = None) -> str:
    """Tag ``commit`` for rollback in the slot's own repository (not pushed)."""
    name = "deploy-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    _ok(git(checkout_dir, "tag", name, commit, log=log), f"git could not create the tag {name}", log)
    return name
