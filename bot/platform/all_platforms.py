"""The platform registry: each `--platform` name and how it is built from config and environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.config import Config
from bot.platform.base import Platform
from bot.platform.github import GitHubPlatform, github_client, settings_from_environment
from bot.platform.gitrepo import GitRepo
from bot.platform.local import LocalPlatform


def _local(config: Config, repo: GitRepo, environ: Mapping[str, str]) -> Platform:
    return LocalPlatform(repo, config.state_dir, config.proposals.branch_prefix)


def _github(config: Config, repo: GitRepo, environ: Mapping[str, str]) -> Platform:
    token, repository, api_url = settings_from_environment(environ)
    client = github_client(token, api_url, max_wait=config.proposals.max_rate_limit_wait_seconds)
    return GitHubPlatform(repo, client, repository, config.proposals.branch_prefix)


PLATFORMS: dict[str, Callable[[Config, GitRepo, Mapping[str, str]], Platform]] = {
    "local": _local,
    "github": _github,
}


def default_platform(environ: Mapping[str, str]) -> str:
    """github when a token is set, else local (no network, what the quick start uses)."""
    return "github" if environ.get("GITHUB_TOKEN") else "local"


def open_platform(
    name: str | None, config: Config, repo: GitRepo, environ: Mapping[str, str]
) -> Platform:
    """The named platform (or the default for this environment), ready to use."""
    return PLATFORMS[name or default_platform(environ)](config, repo, environ)


def check_platform(name: str | None, environ: Mapping[str, str]) -> None:
    """Fail early, before any slow work, when the platform's settings are missing."""
    if (name or default_platform(environ)) == "github":
        settings_from_environment(environ)
