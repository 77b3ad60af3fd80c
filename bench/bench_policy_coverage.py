"""Policy coverage on a real policy library (run by hand, not a test): speed and what is named.

Builds a knowledge base from the corpus's Kyverno policies at run time (title as description and
trigger, the Kyverno description as rationale, as the evaluation worlds do), indexes it for
coverage and looks up every vocabulary setting, then prints how many policies name each setting.

    python bench/bench_policy_coverage.py [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.knowledge.schema import Policy
from bot.learning.policy_coverage import CoverageIndex
from bot.learning.settings_vocabulary import load_vocabulary
from testing.worlds.corpus import DEFAULT_CORPUS


def kyverno_policies(corpus: Path) -> dict[str, Policy]:
    policies: dict[str, Policy] = {}
    for line in (corpus / "kyverno_policies.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        name, title = record.get("name"), (record.get("title") or "").strip()
        if not name or not title or name in policies:
            continue
        policies[name] = Policy.model_validate(
            {
                "id": name,
                "description": title,
                "triggers": [title.lower()],
                "rationale": record.get("description") or title,
                "createdAt": "2026-01-01",
                "createdBy": "kyverno",
            }
        )
    return policies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("PATTERNBOT_CORPUS") or str(DEFAULT_CORPUS)
    parser.add_argument("--corpus", type=Path, default=Path(default))
    args = parser.parse_args()
    policies = kyverno_policies(args.corpus)
    vocabulary = load_vocabulary()
    started = time.perf_counter()
    index = CoverageIndex(policies, vocabulary)
    indexed = time.perf_counter() - started
    paths = [f"spec.template.spec.containers[0].{entry.paths[0]}" for entry in
             vocabulary.settings.values()]  # fmt: skip
    started = time.perf_counter()
    covered = [index.covering(path) for path in paths]
    looked = time.perf_counter() - started
    print(f"{len(policies)} policies indexed in {indexed:.3f} s")
    found = sum(c is not None for c in covered)
    print(f"{len(paths)} setting lookups in {looked:.3f} s ({found} covered)")
    naming = Counter(s for names in index.names for s in names.settings)
    for setting_id in vocabulary.settings:
        print(f"  {setting_id:34} named by {naming[setting_id]:3} policies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
