"""Renovate-style checkboxes on the dashboard: what a reviewer asked the next run to do.

Each box carries a hidden marker `<!-- patternbot-request: <action> <fingerprint> -->`; a ticked box
(`- [x]`) is a request the next run honours once, after which the box is drawn unticked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

RequestAction = Literal["open-now", "recreate", "repropose"]
_BOX = re.compile(
    r"^\s*[-*] \[(?P<mark>[ xX])\] .*<!-- patternbot-request: "
    r"(?P<action>open-now|recreate|repropose) (?P<fingerprint>[A-Za-z0-9_.:-]+) -->\s*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class DashboardRequests:
    """Fingerprints whose boxes are ticked, per action."""

    open_now: frozenset[str] = field(default_factory=frozenset)  # open despite the limits
    recreate: frozenset[str] = field(default_factory=frozenset)  # rebuild the branch from base
    repropose: frozenset[str] = field(default_factory=frozenset)  # ignore the rejection

    def any(self) -> bool:
        return bool(self.open_now or self.recreate or self.repropose)


def requests_in(body: str | None) -> DashboardRequests:
    """The ticked boxes of a dashboard body (an unticked or unknown box asks for nothing)."""
    found: dict[str, set[str]] = {"open-now": set(), "recreate": set(), "repropose": set()}
    for match in _BOX.finditer(body or ""):
        if match.group("mark") in "xX":
            found[match.group("action")].add(match.group("fingerprint"))
    return DashboardRequests(
        frozenset(found["open-now"]), frozenset(found["recreate"]), frozenset(found["repropose"])
    )


def checkbox(action: RequestAction, fingerprint: str, label: str) -> str:
    """An unticked box for `action` on `fingerprint`; `label` must already be inert Markdown."""
    return f"- [ ] {label} <!-- patternbot-request: {action} {fingerprint} -->"
