"""The local platform: proposals are branches in the local clone plus JSON records; no network.

A record lives in `<state>/proposals/<branch with / as __>.json`. Feedback is read from git:
- the branch (or the last commit patternbot put on it) is merged into the base branch: accepted;
- the branch was deleted without being merged, or its record says `"state": "closed"`: rejected;
- otherwise it is open.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from bot.atomicfile import write_atomically
from bot.errors import PlatformError
from bot.platform.base import DashboardIssue, Proposal, ProposalState, UpsertResult
from bot.platform.gitrepo import GitRepo

DASHBOARD_FILE = "dashboard.md"
# Renaming the dashboard to this switches it off, as closing the issue does on GitHub.
CLOSED_DASHBOARD_FILE = "dashboard.closed.md"


class LocalPlatform:
    """Branches in the repository itself; pull requests recorded under the state folder."""

    name = "local"

    def __init__(self, repo: GitRepo, state_dir: Path, branch_prefix: str) -> None:
        self.repo = repo
        self.folder = state_dir / "proposals"
        self.prefix = branch_prefix

    def base_branch(self) -> str:
        branch = self.repo.current_branch()
        if branch is None:
            raise PlatformError(
                "HEAD is detached; check out the branch proposals should target (for example main)"
            )
        if branch.startswith(f"{self.prefix}/"):
            raise PlatformError(
                f"HEAD is on the proposal branch {branch}; "
                "check out the base branch (for example main)"
            )
        return branch

    def _record_path(self, branch: str) -> Path:
        return self.folder / (branch.replace("/", "__") + ".json")

    def _records(self) -> list[tuple[Path, dict[str, Any]]]:
        if not self.folder.is_dir():
            return []
        records = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise PlatformError(
                    f"{path}:1: unreadable proposal record ({exc}); delete it or fix it"
                ) from exc
            if isinstance(data, dict) and isinstance(data.get("branch"), str):
                records.append((path, data))
        return sorted(records, key=lambda item: int(item[1].get("number", 0)))

    def _write(self, record: dict[str, Any], path: Path | None = None) -> None:
        path = path or self._record_path(str(record["branch"]))
        text = json.dumps(record, indent=2, sort_keys=True) + "\n"
        try:
            write_atomically(path, text)
        except OSError as exc:
            raise PlatformError(f"{path}: cannot write the proposal record ({exc})") from exc

    def _state(self, record: dict[str, Any], tip: str | None, base: str | None) -> ProposalState:
        if record.get("state") in ("closed", "merged"):
            return "closed" if record["state"] == "closed" else "merged"
        landed = [sha for sha in (tip, record.get("head")) if sha and self.repo.has_commit(sha)]
        if base and any(self.repo.is_ancestor(sha, base) for sha in landed):
            return "merged"
        return "open" if tip else "closed"

    def _proposal(self, path: Path, record: dict[str, Any], base: str | None) -> Proposal:
        branch = str(record["branch"])
        tip = self.repo.resolve(f"refs/heads/{branch}")
        state = self._state(record, tip, base)
        if state != "open" and record.get("state") == "open":
            # A decision is final: freeze it, so a later proposal on the same branch cannot undo it.
            merged_head = tip if state == "merged" and tip else record.get("head")
            record.update(state=state, head=merged_head, closedAt=_now())
            self._write(record, path)
        return Proposal(
            branch=branch,
            number=int(record["number"]),
            # Stable even when the record file is renamed after a later re-proposal.
            url=f"local:{branch}#{record['number']}",
            state=state,
            title=str(record.get("title", "")),
            body=str(record.get("body", "")),
            head=tip if state == "open" else record.get("head"),
            closed_at=record.get("closedAt"),
        )

    def proposals(self) -> list[Proposal]:
        base = self.repo.resolve(f"refs/heads/{self.base_branch()}")
        return [self._proposal(path, record, base) for path, record in self._records()]

    def branch_tip(self, branch: str) -> str | None:
        return self.repo.resolve(f"refs/heads/{branch}")

    def publish(self, branch: str, sha: str, *, force: bool) -> None:
        if self.repo.current_branch() == branch:
            raise PlatformError(
                f"branch {branch} is checked out; patternbot does not move a checked-out branch"
            )
        old = self.branch_tip(branch)
        if old is not None and not force and not self.repo.is_ancestor(old, sha):
            raise PlatformError(f"branch {branch} moved since it was read; run again")
        self.repo.set_ref(f"refs/heads/{branch}", sha, old or "0" * 40)

    def find_open(self, branch: str) -> Proposal | None:
        return next((p for p in self.proposals() if p.branch == branch and p.state == "open"), None)

    def open_proposal(self, branch: str, title: str, body: str, labels: list[str]) -> Proposal:
        existing = self.find_open(branch)
        if existing is not None:
            return existing
        records = self._records()
        number = max((int(record.get("number", 0)) for _, record in records), default=0) + 1
        path = self._record_path(branch)
        for old_path, old in records:
            if old_path == path:
                # The decided proposal this one follows keeps its record, under its number.
                old_path.rename(path.with_suffix(f".{old['number']}.json"))
        record: dict[str, Any] = {
            "number": number,
            "branch": branch,
            "base": self.base_branch(),
            "title": title,
            "body": body,
            "labels": labels,
            "state": "open",
            "head": self.branch_tip(branch),
            "comments": [],
        }
        self._write(record, path)
        return self._proposal(path, record, self.repo.resolve(f"refs/heads/{record['base']}"))

    def _record_for(self, proposal: Proposal) -> tuple[Path, dict[str, Any]]:
        for path, record in self._records():
            if int(record.get("number", 0)) == proposal.number:
                return path, record
        raise PlatformError(f"no proposal record for #{proposal.number} under {self.folder}")

    def update_proposal(self, proposal: Proposal, title: str, body: str) -> None:
        path, record = self._record_for(proposal)
        record.update(title=title, body=body)
        if record.get("state") == "open":
            record["head"] = self.branch_tip(proposal.branch)
        self._write(record, path)

    def comment(self, proposal: Proposal, text: str) -> None:
        path, record = self._record_for(proposal)
        record.setdefault("comments", []).append(text)
        self._write(record, path)

    def close_proposal(self, proposal: Proposal) -> None:
        path, record = self._record_for(proposal)
        record.update(state="closed", head=self.branch_tip(proposal.branch), closedAt=_now())
        self._write(record, path)

    def delete_branch(self, branch: str, expected: str) -> None:
        if self.repo.current_branch() == branch:
            raise PlatformError(f"branch {branch} is checked out; patternbot does not delete it")
        self.repo.delete_ref(f"refs/heads/{branch}", expected)

    def find_dashboard(self, title: str, labels: list[str]) -> DashboardIssue | None:
        for name, state in ((DASHBOARD_FILE, "open"), (CLOSED_DASHBOARD_FILE, "closed")):
            path = self.folder / name
            if path.is_file():
                return DashboardIssue(
                    state="open" if state == "open" else "closed",
                    body=path.read_text(encoding="utf-8").split("\n\n", 1)[-1],
                    url=str(path),
                )
        return None

    def upsert_dashboard(
        self, title: str, body: str, labels: list[str], *, reopen: bool
    ) -> UpsertResult:
        path = self.folder / DASHBOARD_FILE
        closed = self.folder / CLOSED_DASHBOARD_FILE
        text = f"# {title}\n\n{body}"
        status: UpsertResult
        if path.is_file():
            if path.read_text(encoding="utf-8") == text:
                return "unchanged"
            status = "updated"
        elif closed.is_file():
            if not reopen:
                return "off"
            closed.rename(path)
            status = "reopened"
        else:
            status = "created"
        try:
            write_atomically(path, text)
        except OSError as exc:
            raise PlatformError(f"{path}: cannot write the dashboard ({exc})") from exc
        return status


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
