"""What a code-hosting platform must do for patternbot: the Platform protocol and its records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.errors import PlatformError
from bot.platform.pr_body import ProposalMetadata, parse_metadata

ProposalState = Literal["open", "merged", "closed"]


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

    def upsert_dashboard(self, title: str, body: str, labels: list[str]) -> str:
        """Create or edit in place the dashboard; returns created, updated or unchanged."""
        ...
