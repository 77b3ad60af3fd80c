"""The GitHub platform: branches pushed to the `origin` remote, pull requests opened with PyGithub.

Needs GITHUB_TOKEN and GITHUB_REPOSITORY (owner/name); GITHUB_API_URL selects GitHub Enterprise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from github import Auth, Github, GithubException
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.GithubRetry import GithubRetry
from github.PullRequest import PullRequest
from github.Repository import Repository
from urllib3 import Retry

from bot.errors import PlatformError
from bot.platform.base import DashboardIssue, PlatformUnavailableError, Proposal, UpsertResult
from bot.platform.gitrepo import GitRepo

DEFAULT_API_URL = "https://api.github.com"
DASHBOARD_MARKER = "<!-- patternbot:dashboard -->"
_ALREADY_EXISTS = "A pull request already exists"


class BoundedRetry(GithubRetry):
    """PyGithub's retry policy, but a Retry-After over `max_wait` stops instead of sleeping."""

    def __init__(
        self, max_wait: float | None = None, backoff_factor: float = 0.5, **kwargs: Any
    ) -> None:
        # urllib3 rebuilds the policy through new(), which passes max_rate_limit_wait back in.
        kwargs.setdefault("max_rate_limit_wait", max_wait)
        kwargs.setdefault("total", 3)
        kwargs["backoff_factor"] = backoff_factor
        # Editing a title or body is idempotent, so PATCH is retried like GET and POST.
        kwargs.setdefault(
            "allowed_methods", Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"}
        )
        super().__init__(**kwargs)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if response is not None and response.status in (403, 429):
            header = response.headers.get("Retry-After")
            try:
                wait = float(header) if header is not None else None
            except ValueError:
                wait = None
            bound = self.max_rate_limit_wait
            if wait is not None and bound is not None and wait > bound:
                raise RateLimitExceededExceedsMaxWait(
                    response.status, None, dict(response.headers), wait=wait
                )
        return super().increment(method, url, response, *args, **kwargs)


@contextlib.contextmanager
def _github_errors(action: str) -> Iterator[None]:
    """Translate PyGithub and transport failures into patternbot's errors, naming the action."""
    try:
        yield
    except RateLimitExceededExceedsMaxWait as exc:
        raise PlatformUnavailableError(
            f"GitHub rate limit while trying to {action}: "
            f"retry after {exc.wait:.0f}s exceeds the wait bound"
        ) from exc
    except GithubException as exc:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        detail = f"{exc.status} {message}" if message else str(exc.status)
        if exc.status in (403, 429) or exc.status >= 500:
            raise PlatformUnavailableError(f"GitHub could not {action}: {detail}") from exc
        if exc.status == 401:
            raise PlatformError(
                f"GitHub rejected GITHUB_TOKEN while trying to {action}: {detail}"
            ) from exc
        raise PlatformError(f"GitHub could not {action}: {detail}") from exc
    except requests.exceptions.RequestException as exc:
        reason = type(exc).__name__
        raise PlatformUnavailableError(
            f"GitHub did not answer while trying to {action} ({reason})"
        ) from exc


def github_client(
    token: str, api_url: str, *, max_wait: float, throttle: bool = True, backoff: float = 0.5
) -> Github:
    """A PyGithub client with a bounded retry policy (throttling off is for local stand-ins)."""
    retry = BoundedRetry(max_wait, backoff_factor=backoff)
    if throttle:
        return Github(base_url=api_url, auth=Auth.Token(token), retry=retry, timeout=30)
    return Github(
        base_url=api_url,
        auth=Auth.Token(token),
        retry=retry,
        timeout=30,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def settings_from_environment(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """(token, owner/name, API URL) from the environment, or an error naming what is missing."""
    token = environ.get("GITHUB_TOKEN", "")
    repository = environ.get("GITHUB_REPOSITORY", "")
    missing = [
        name
        for name, value in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository))
        if not value
    ]
    if missing:
        raise PlatformError(f"--platform github needs {' and '.join(missing)} in the environment")
    if repository.count("/") != 1:
        raise PlatformError(f"GITHUB_REPOSITORY must be owner/name, got {repository!r}")
    return token, repository, environ.get("GITHUB_API_URL") or DEFAULT_API_URL


class GitHubPlatform:
    """Pull requests on GitHub (or GitHub Enterprise) for branches pushed to a git remote."""

    name = "github"

    def __init__(
        self,
        repo: GitRepo,
        client: Github,
        repository: str,
        branch_prefix: str,
        *,
        remote: str = "origin",
    ) -> None:
        self.repo = repo
        self.client = client
        self.full_name = repository
        self.owner = repository.split("/", 1)[0]
        self.prefix = branch_prefix
        self.remote = remote
        self._gh_repo: Repository | None = None
        self._fetched = False

    def _repository(self) -> Repository:
        if self._gh_repo is None:
            with _github_errors(f"read repository {self.full_name}"):
                self._gh_repo = self.client.get_repo(self.full_name)
        return self._gh_repo

    def base_branch(self) -> str:
        return str(self._repository().default_branch)

    def _tracking_ref(self, branch: str) -> str:
        return f"refs/patternbot/{self.remote}/{branch}"

    def _fetch(self) -> None:
        if not self._fetched:
            self.repo.fetch(
                self.remote,
                f"+refs/heads/{self.prefix}/*:refs/patternbot/{self.remote}/{self.prefix}/*",
            )
            self._fetched = True

    def _proposal(self, pull: PullRequest) -> Proposal:
        state = "merged" if pull.merged else ("open" if pull.state == "open" else "closed")
        return Proposal(
            branch=str(pull.head.ref),
            number=int(pull.number),
            url=str(pull.html_url),
            state=state,  # type: ignore[arg-type]
            title=str(pull.title),
            body=str(pull.body or ""),
            head=str(pull.head.sha),
            closed_at=pull.closed_at.isoformat() if pull.closed_at else None,
        )

    def proposals(self) -> list[Proposal]:
        found = []
        with _github_errors("list pull requests"):
            for pull in self._repository().get_pulls(state="all", sort="created", direction="asc"):
                if str(pull.head.ref).startswith(f"{self.prefix}/"):
                    found.append(self._proposal(pull))
        return found

    def branch_tip(self, branch: str) -> str | None:
        self._fetch()
        return self.repo.resolve(self._tracking_ref(branch))

    def publish(self, branch: str, sha: str, *, force: bool) -> None:
        self.repo.push(self.remote, sha, branch, force=force)
        self.repo.set_ref(self._tracking_ref(branch), sha)

    def find_open(self, branch: str) -> Proposal | None:
        with _github_errors(f"look up the pull request for {branch}"):
            pulls = self._repository().get_pulls(state="open", head=f"{self.owner}:{branch}")
            return next((self._proposal(pull) for pull in pulls), None)

    def open_proposal(self, branch: str, title: str, body: str, labels: list[str]) -> Proposal:
        # A POST retried after a 5xx may already have created it: look before creating.
        existing = self.find_open(branch)
        if existing is None:
            with _github_errors(f"open a pull request for {branch}"):
                try:
                    pull: PullRequest | None = self._repository().create_pull(
                        base=self.base_branch(),
                        head=branch,
                        title=title,
                        body=body,
                        maintainer_can_modify=True,
                    )
                except GithubException as exc:
                    if not _already_exists(exc):
                        raise
                    pull = None
            existing = self._proposal(pull) if pull is not None else self.find_open(branch)
            if existing is None:
                raise PlatformError(
                    f"GitHub says a pull request for {branch} exists but none is open"
                )
        if labels:
            with _github_errors(f"label pull request #{existing.number}"):
                self._repository().get_issue(existing.number).add_to_labels(*labels)
        return existing

    def update_proposal(self, proposal: Proposal, title: str, body: str) -> None:
        with _github_errors(f"update pull request #{proposal.number}"):
            self._repository().get_pull(proposal.number).edit(title=title, body=body)

    def comment(self, proposal: Proposal, text: str) -> None:
        with _github_errors(f"comment on pull request #{proposal.number}"):
            self._repository().get_issue(proposal.number).create_comment(text)

    def close_proposal(self, proposal: Proposal) -> None:
        with _github_errors(f"close pull request #{proposal.number}"):
            self._repository().get_pull(proposal.number).edit(state="closed")

    def delete_branch(self, branch: str, expected: str) -> None:
        # With a lease: a branch someone pushed to since it was read is not deleted.
        self.repo.delete_remote_branch(self.remote, branch, expected)
        if self.repo.resolve(self._tracking_ref(branch)) is not None:
            self.repo.delete_ref(self._tracking_ref(branch))

    def _dashboard_issue(self, labels: list[str]) -> Any:
        """The dashboard issue, open or closed (the oldest wins if someone made a second)."""
        repository = self._repository()
        found = [
            issue
            for issue in repository.get_issues(state="all", labels=labels)
            if issue.pull_request is None and DASHBOARD_MARKER in (issue.body or "")
        ]
        return min(found, key=lambda issue: int(issue.number)) if found else None

    def find_dashboard(self, title: str, labels: list[str]) -> DashboardIssue | None:
        with _github_errors("read the dashboard issue"):
            issue = self._dashboard_issue(labels)
            if issue is None:
                return None
            body = str(issue.body or "").removeprefix(f"{DASHBOARD_MARKER}\n")
            return DashboardIssue(
                state="open" if issue.state == "open" else "closed",
                body=body,
                url=str(issue.html_url),
            )

    def upsert_dashboard(
        self, title: str, body: str, labels: list[str], *, reopen: bool
    ) -> UpsertResult:
        text = f"{DASHBOARD_MARKER}\n{body}"
        with _github_errors("update the dashboard issue"):
            issue = self._dashboard_issue(labels)
            if issue is None:
                self._repository().create_issue(title=title, body=text, labels=labels)
                return "created"
            if issue.state != "open":
                if not reopen:
                    return "off"
                issue.edit(title=title, body=text, state="open")
                return "reopened"
            if issue.body == text and issue.title == title:
                return "unchanged"
            issue.edit(title=title, body=text)
            return "updated"


def _already_exists(exc: BaseException | None) -> bool:
    if not isinstance(exc, GithubException) or exc.status != 422:
        return False
    text = str(exc.data)
    return _ALREADY_EXISTS in text
