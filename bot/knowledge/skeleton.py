"""The commented skeleton `patternbot new` writes: a valid item whose comments explain each key."""

from __future__ import annotations

import json
from typing import Literal

ItemType = Literal["pattern", "policy"]

_HEADER = """\
# A {what}. Every key is explained in docs/knowledge-base.md; check the file with
# `patternbot validate`. createdAt and createdBy are left out on purpose: git records who added
# this file and when, and patternbot reads them from there (write them only to override git).

"""

_PATTERN = """\
# The id is the file name and what logs, metrics and pull requests refer to: keep it stable
# (to replace a pattern, deprecate it and add a new one).
id: {id}
# One line saying what this is, the way someone would search for it.
description: {title} workloads (say in one line what they are)
# Words and short phrases of a user's request that should retrieve this pattern: what people type
# ("web application", "REST API"), several short phrases, synonyms and technology names.
triggers:
  - {words}
# The Kubernetes kinds this pattern deploys, spelt as in `kind:` (UpperCamelCase, singular:
# PersistentVolumeClaim, not PVC). Custom resources' kinds are fine (ServiceMonitor).
suggestedResources:
  - Deployment
  - Service
# Why the organization deploys it this way: the reason, not a list of the resources.
rationale: >-
  Explain why these resources belong together for {words} workloads.
"""

_POLICY = """\
# The id is the file name and what logs, metrics and pull requests refer to: keep it stable.
id: {id}
# One line stating the rule, the way someone would search for it.
description: {title} (state the rule in one line)
# Words and short phrases of a user's request this rule is relevant to.
triggers:
  - {words}
# The Kubernetes kinds the rule applies to, spelt as in `kind:` (UpperCamelCase, singular).
appliesTo:
  - Deployment
  - StatefulSet
# Why the rule exists: what goes wrong without it.
rationale: >-
  Explain why {words} is required.
# Optional: setting paths and the values the rule requires, for example
# settings:
#   spec.replicas: 2
# Optional: the policy-engine objects that enforce it, for example
# deployedPolicies:
#   - name: {id}
#     appliedAt: 2025-01-21
"""


def skeleton_text(item_type: ItemType, item_id: str, schema_path: str | None) -> str:
    """The file `patternbot new` writes for `item_id`; `schema_path` adds the editor modeline."""
    words = item_id.replace("-", " ").replace("_", " ").replace(".", " ")
    # JSON strings are valid YAML scalars, so an id like `1.0` or `yes` stays text.
    values = {
        "id": json.dumps(item_id) if item_id != _plain_scalar(item_id) else item_id,
        "words": words,
        "title": words[:1].upper() + words[1:],
    }
    what = "deployment pattern" if item_type == "pattern" else "policy intent"
    modeline = f"# yaml-language-server: $schema={schema_path}\n" if schema_path else ""
    body = (_PATTERN if item_type == "pattern" else _POLICY).format(**values)
    return modeline + _HEADER.format(what=what) + body


def _plain_scalar(item_id: str) -> str:
    """`item_id` when YAML reads it back as the same text, else '' (a number, a boolean...)."""
    from bot.yamlfile import load_text

    loaded = load_text(f"id: {item_id}\n", "<id>")
    return item_id if isinstance(loaded.get("id"), str) and loaded["id"] == item_id else ""
