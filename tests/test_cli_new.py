"""`patternbot new pattern|policy ID`: a valid, commented skeleton at the right path (issue 13)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.knowledge.repository import load_knowledge_base
from bot.main import main
from tests.support.kb import pattern_data, policy_data

REPO_ROOT = Path(__file__).resolve().parent.parent

EXPECTED_PATTERN = """\
# yaml-language-server: $schema=../schemas/pattern.schema.json
# A deployment pattern. Every key is explained in docs/knowledge-base.md; check the file with
# `patternbot validate`. createdAt and createdBy are left out on purpose: git records who added
# this file and when, and patternbot reads them from there (write them only to override git).

# The id is the file name and what logs, metrics and pull requests refer to: keep it stable
# (to replace a pattern, deprecate it and add a new one).
id: web-app
# One line saying what this is, the way someone would search for it.
description: Web app workloads (say in one line what they are)
# Words and short phrases of a user's request that should retrieve this pattern: what people type
# ("web application", "REST API"), several short phrases, synonyms and technology names.
triggers:
  - web app
# The Kubernetes kinds this pattern deploys, spelt as in `kind:` (UpperCamelCase, singular:
# PersistentVolumeClaim, not PVC). Custom resources' kinds are fine (ServiceMonitor).
suggestedResources:
  - Deployment
  - Service
# Why the organization deploys it this way: the reason, not a list of the resources.
rationale: >-
  Explain why these resources belong together for web app workloads.
"""

EXPECTED_POLICY = """\
# A policy intent. Every key is explained in docs/knowledge-base.md; check the file with
# `patternbot validate`. createdAt and createdBy are left out on purpose: git records who added
# this file and when, and patternbot reads them from there (write them only to override git).

# The id is the file name and what logs, metrics and pull requests refer to: keep it stable.
id: require-labels
# One line stating the rule, the way someone would search for it.
description: Require labels (state the rule in one line)
# Words and short phrases of a user's request this rule is relevant to.
triggers:
  - require labels
# The Kubernetes kinds the rule applies to, spelt as in `kind:` (UpperCamelCase, singular).
appliesTo:
  - Deployment
  - StatefulSet
# Why the rule exists: what goes wrong without it.
rationale: >-
  Explain why require labels is required.
# Optional: setting paths and the values the rule requires, for example
# settings:
#   spec.replicas: 2
# Optional: the policy-engine objects that enforce it, for example
# deployedPolicies:
#   - name: require-labels
#     appliedAt: 2025-01-21
"""


def test_new_pattern_writes_the_commented_skeleton_that_validates(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("db")])
    shutil.copytree(REPO_ROOT / "schemas", root / "schemas")

    code = main(["new", "pattern", "web-app", "--repo", str(root)])

    assert code == 0
    assert (root / "patterns/web-app.yaml").read_text(encoding="utf-8") == EXPECTED_PATTERN
    assert capsys.readouterr().out == (
        f"wrote {root / 'patterns/web-app.yaml'}: fill in the description, triggers and"
        " rationale, then run\n`patternbot validate`; git will record who added it and when\n"
    )
    kb = load_knowledge_base(root)
    assert kb.problems == []
    assert kb.patterns["web-app"].suggested_resources == ["Deployment", "Service"]
    assert kb.patterns["web-app"].created_by == "Test Author"


def test_new_policy_without_a_schemas_folder(kb_repo_factory: Callable[..., Path]) -> None:
    root = kb_repo_factory(patterns=[pattern_data("db")])

    assert main(["new", "policy", "require-labels", "--repo", str(root)]) == 0

    assert (root / "policies/require-labels.yaml").read_text(encoding="utf-8") == EXPECTED_POLICY
    kb = load_knowledge_base(root)
    assert (kb.problems, kb.policies["require-labels"].applies_to) == (
        [],
        ["Deployment", "StatefulSet"],
    )


def test_new_honours_configured_folders(kb_repo_factory: Callable[..., Path]) -> None:
    root = kb_repo_factory(patterns=[pattern_data("db")])
    (root / "patternbot.yaml").write_text("paths:\n  policies: rules\n", encoding="utf-8")

    assert main(["new", "policy", "limits", "--repo", str(root)]) == 0
    assert (root / "rules/limits.yaml").is_file()


@pytest.mark.parametrize("folder", ["patterns", "policies"])
def test_new_refuses_an_id_that_exists_as_a_pattern_or_a_policy(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str], folder: str
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("db")], policies=[policy_data("limits")])
    taken = "db" if folder == "patterns" else "limits"
    before = (root / folder / f"{taken}.yaml").read_text(encoding="utf-8")

    code = main(["new", "pattern", taken, "--repo", str(root)])

    assert code == 1
    assert capsys.readouterr().err == (
        f"patternbot: {root / folder / f'{taken}.yaml'}: id {taken!r} already exists;"
        " pick another id\n"
    )
    assert (root / folder / f"{taken}.yaml").read_text(encoding="utf-8") == before


def test_new_refuses_an_invalid_id(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("db")])

    code = main(["new", "pattern", "web..app", "--repo", str(root)])

    assert code == 2
    assert capsys.readouterr().err == (
        "patternbot: error: 'web..app' is not a valid id: must not contain '..'"
        " (git refuses it in branch names)\n"
    )
    assert sorted(p.name for p in (root / "patterns").iterdir()) == ["db.yaml"]
