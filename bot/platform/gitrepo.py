"""The git work of a proposal, done with objects and refs: the user's checkout is never touched.

Commits are built from a temporary index file (GIT_INDEX_FILE), so neither the working tree, the
real index nor HEAD of the repository change while patternbot prepares a branch.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git
from gitdb.base import IStream  # type: ignore[import-untyped]

from bot.errors import PlatformError

BOT_NAME = "patternbot"
BOT_EMAIL = "patternbot@users.noreply.github.com"
FINGERPRINT_TRAILER = "Patternbot-Fingerprint"


@dataclass(frozen=True)
class CommitInfo:
    """One commit on a proposal branch, as far as telling the bot's from a human's needs."""

    sha: str
    author_email: str
    committer_email: str
    summary: str
    has_trailer: bool

    @property
    def by_bot(self) -> bool:
        return (
            self.has_trailer
            and self.author_email == BOT_EMAIL
            and self.committer_email == BOT_EMAIL
        )


def _failure(action: str, exc: git.GitCommandError) -> PlatformError:
    detail = str(exc.stderr or exc).strip().splitlines()
    reason = detail[-1].strip().removeprefix("stderr: ").strip("'") if detail else "failed"
    return PlatformError(f"git {action} failed: {reason}")


class GitRepo:
    """A repository on disk, seen through GitPython."""

    def __init__(self, root: Path) -> None:
        try:
            self.repo = git.Repo(root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise PlatformError(
                f"{root}: not a git repository; proposals need one (run `git init`)"
            ) from exc
        self.root = root

    def head(self) -> str:
        """The commit HEAD points at: proposals are based on it."""
        try:
            return self.repo.head.commit.hexsha
        except ValueError as exc:
            raise PlatformError(
                f"{self.root}: the repository has no commits yet; commit the knowledge base first"
            ) from exc

    def current_branch(self) -> str | None:
        """The checked-out branch's name, or None on a detached HEAD."""
        return None if self.repo.head.is_detached else self.repo.active_branch.name

    def resolve(self, ref: str) -> str | None:
        """The commit a ref names, or None when it does not exist."""
        try:
            return self.repo.commit(ref).hexsha
        except (git.BadName, ValueError):
            return None

    def read_file(self, commit: str, path: str) -> str | None:
        """The text of `path` at `commit`, or None when the file is not there."""
        try:
            blob = self.repo.commit(commit).tree / path
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data.decode("utf-8")

    def commit_file(self, parent: str, path: str, text: str, message: str) -> str:
        """A new commit on `parent` whose only change is `path` holding `text`; no ref is moved."""
        data = text.encode("utf-8")
        blob = self.repo.odb.store(IStream(git.Blob.type, len(data), io.BytesIO(data)))
        with tempfile.TemporaryDirectory(prefix="patternbot-index-") as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            try:
                self.repo.git.execute(["git", "read-tree", parent], env=env)
                self.repo.git.execute(
                    [
                        "git",
                        "update-index",
                        "--add",
                        "--cacheinfo",
                        f"100644,{blob.hexsha.decode()},{path}",
                    ],
                    env=env,
                )
                tree = str(self.repo.git.execute(["git", "write-tree"], env=env)).strip()
            except git.GitCommandError as exc:
                raise _failure("commit", exc) from exc
        bot = git.Actor(BOT_NAME, BOT_EMAIL)
        commit = git.Commit.create_from_tree(
            self.repo,
            tree,
            message,
            parent_commits=[self.repo.commit(parent)],
            head=False,
            author=bot,
            committer=bot,
        )
        return commit.hexsha

    def commits_between(self, base: str, tip: str) -> list[CommitInfo]:
        """Commits reachable from `tip` but not from `base`, newest first."""
        found = []
        for commit in self.repo.iter_commits(f"{base}..{tip}"):
            message = str(commit.message)
            found.append(
                CommitInfo(
                    sha=commit.hexsha,
                    author_email=str(commit.author.email),
                    committer_email=str(commit.committer.email),
                    summary=message.splitlines()[0] if message else "",
                    has_trailer=f"\n{FINGERPRINT_TRAILER}: " in message,
                )
            )
        return found

    def foreign_commits(self, base: str, tip: str) -> list[CommitInfo]:
        """Commits on `tip` (not on `base`) that patternbot did not make, newest first.

        The one check behind "never overwrite a human's commit": both creating a proposal on an
        existing branch and updating one use it. A commit is patternbot's only when authored and
        committed by its identity with the fingerprint trailer, so a human `--amend` or rebase of a
        bot commit (which keeps the author but changes the committer) counts as foreign.
        """
        if not self.has_commit(tip):
            return []
        return [commit for commit in self.commits_between(base, tip) if not commit.by_bot]

    def merge_base(self, one: str, other: str) -> str | None:
        """The best common ancestor of two commits, or None when they share no history."""
        try:
            bases = self.repo.merge_base(one, other)
        except (git.GitCommandError, git.BadName, ValueError):
            return None
        return bases[0].hexsha if bases else None

    def delete_ref(self, ref: str, old: str | None = None) -> None:
        """Delete `ref`; with `old`, only if it still points there."""
        args = ["git", "update-ref", "-d", ref] + ([old] if old else [])
        try:
            self.repo.git.execute(args)
        except git.GitCommandError as exc:
            raise _failure(f"delete {ref}", exc) from exc

    def delete_remote_branch(self, remote: str, branch: str, expected: str) -> None:
        """Delete `branch` on `remote` only while it points at `expected` (never a newer push)."""
        try:
            self.repo.git.execute(
                [
                    "git",
                    "push",
                    "--quiet",
                    "--no-verify",
                    f"--force-with-lease=refs/heads/{branch}:{expected}",
                    remote,
                    f":refs/heads/{branch}",
                ]
            )
        except git.GitCommandError as exc:
            raise _failure(f"delete {branch} on {remote}", exc) from exc

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is in the history of `descendant`."""
        try:
            return self.repo.is_ancestor(self.repo.commit(ancestor), self.repo.commit(descendant))
        except (git.GitCommandError, git.BadName, ValueError):
            return False

    def has_commit(self, sha: str) -> bool:
        """True when the object database holds commit `sha`."""
        return self.resolve(sha) is not None

    def set_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        """Point `ref` at `sha`; with `old`, only if it still points there (a compare-and-swap)."""
        args = ["git", "update-ref", "-m", "patternbot", ref, sha]
        if old is not None:
            args.append(old)
        try:
            self.repo.git.execute(args)
        except git.GitCommandError as exc:
            raise _failure(f"update-ref {ref}", exc) from exc

    def fetch(self, remote: str, refspec: str) -> None:
        """Fetch `refspec` from `remote` (a missing remote branch is not an error)."""
        try:
            self.repo.git.execute(
                ["git", "fetch", "--quiet", "--prune", "--no-tags", remote, refspec]
            )
        except git.GitCommandError as exc:
            raise _failure(f"fetch from {remote}", exc) from exc

    def push(self, remote: str, sha: str, branch: str, *, force: bool = False) -> None:
        """Make `branch` on `remote` point at `sha` (fast-forward only unless `force`)."""
        spec = f"{'+' if force else ''}{sha}:refs/heads/{branch}"
        try:
            self.repo.git.execute(["git", "push", "--quiet", "--no-verify", remote, spec])
        except git.GitCommandError as exc:
            raise _failure(f"push to {remote} {branch}", exc) from exc

    def remote_url(self, remote: str) -> str | None:
        """The fetch URL of `remote`, or None when there is no such remote."""
        try:
            return str(self.repo.remote(remote).url)
        except ValueError:
            return None
