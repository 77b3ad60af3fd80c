"""What a code-hosting platform must do for patternbot: the Platform protocol and its records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from bot.errors import PlatformError
from bot.platform.pr_body import ProposalMetadata, parse_metadata

ProposalState = Literal["open", "merged", "closed"]
DashboardState = Literal["open", "closed"]
UpsertResult = Literal["created", "updated", "unchanged", "reopened", "off"]


class ProposalStatus(StrEnum):
    """What a run did (or, in a dry run, would do) with one suggestion or open pull request."""

    CREATED = "created"
    UPDATED = "updated"
    RECREATED = "recreated"  # a bot-only branch rebuilt from the moved base branch
    UNCHANGED = "unchanged"
    WOULD_CREATE = "would_create"
    WOULD_UPDATE = "would_update"
    WOULD_RECREATE = "would_recreate"
    WOULD_CLOSE = "would_close"
    CLOSED_OBSOLETE = "closed_obsolete"
    CONFLICT = "conflict"  # human commits on the branch and the base changed the same file
    BLOCKED_HUMAN_EDITS = "blocked_human_edits"
    HELD_BACK = "held_back"
    RATE_LIMITED = "rate_limited"
    SKIPPED = "skipped"  # the change is already on the base branch and no pull request is open
    INVALID = "invalid"
    FAILED = "failed"
    PENDING = "pending"


# Statuses of a pull request that is open after the run (it counts toward the limits).
OPEN_STATUSES = frozenset(
    {
        ProposalStatus.CREATED,
        ProposalStatus.UPDATED,
        ProposalStatus.RECREATED,
        ProposalStatus.UNCHANGED,
        ProposalStatus.WOULD_CREATE,
        ProposalStatus.WOULD_UPDATE,
        ProposalStatus.WOULD_RECREATE,
        ProposalStatus.CONFLICT,
        ProposalStatus.BLOCKED_HUMAN_EDITS,
    }
)


@dataclass(frozen=True)
class DashboardIssue:
    """The dashboard as the platform holds it."""

    state: DashboardState
    body: str
    url: str


class PlatformUnavailableError(PlatformError):
    """The platform stopped answering (rate limit past the wait bound, dropped connection, 5xx)."""


@dataclass
class Proposal:
    """One suggestion pull request (or its local stand-in) as the platform reports it."""

    branch: str
    number: int
    url: str
    state: ProposalState
    title: str
    body: str
    head: str | None  # the branch tip the platform knows, when it knows one
    closed_at: str | None = None

    @property
    def metadata(self) -> ProposalMetadata | None:
        """The hidden metadata patternbot wrote into the body, if any."""
        return parse_metadata(self.body)


class Platform(Protocol):
    """Where branches are published and pull requests live: the local clone or GitHub."""

    name: str

    def base_branch(self) -> str:
        """The branch proposals are opened against."""
        ...

    def proposals(self) -> list[Proposal]:
        """Every proposal under the bot's branch prefix, open or not, oldest first."""
        ...

    def branch_tip(self, branch: str) -> str | None:
        """The commit the published branch points at (fetched locally), or None when absent."""
        ...

    def publish(self, branch: str, sha: str, *, force: bool) -> None:
        """Make the published branch point at `sha` (fast-forward unless `force`)."""
        ...

    def find_open(self, branch: str) -> Proposal | None:
        """The open proposal whose head is `branch`, looked up afresh."""
        ...

    def open_proposal(self, branch: str, title: str, body: str, labels: list[str]) -> Proposal:
        """Open a proposal for `branch` (an existing open one for it counts as success)."""
        ...

    def update_proposal(self, proposal: Proposal, title: str, body: str) -> None:
        """Replace the title and body of an open proposal."""
        ...

    def comment(self, proposal: Proposal, text: str) -> None:
        """Add a comment to a proposal."""
        ...

    def close_proposal(self, proposal: Proposal) -> None:
        """Close an open proposal without merging it."""
        ...

    def delete_branch(self, branch: str, expected: str) -> None:
        """Delete the published branch, only while it still points at `expected`."""
        ...

    def find_dashboard(self, title: str, labels: list[str]) -> DashboardIssue | None:
        """The dashboard, open or closed, or None when there never was one."""
        ...

    def upsert_dashboard(
        self, title: str, body: str, labels: list[str], *, reopen: bool
    ) -> UpsertResult:
        """Create, edit in place or (with `reopen`) reopen the one dashboard.

        A closed dashboard without `reopen` is left closed and untouched: "off".
        """
        ...
