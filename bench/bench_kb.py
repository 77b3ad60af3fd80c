"""Loading a large knowledge base: cold (no parse cache), warm (cache hit), git-derived fields.

Run by hand: `python bench/bench_kb.py [--items 525]`. Builds a temporary git repository whose
items leave createdAt/createdBy out (so every item needs its adding commit), then times
load_knowledge_base (min of 3 runs each).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bot.knowledge.repository import load_knowledge_base
from bot.yamlfile import dump_text


def _build(root: Path, items: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for number in range(items):
        folder = "patterns" if number % 3 else "policies"
        data: dict[str, object] = {
            "id": f"item-{number}",
            "description": f"Workload number {number} with a description of realistic length",
            "triggers": [f"workload {number}", "web application", "rest api", "frontend"],
            "rationale": "A rationale paragraph explaining why these resources belong together. "
            * 3,
        }
        if folder == "patterns":
            data["suggestedResources"] = ["Deployment", "Service", "Ingress"]
        else:
            data["appliesTo"] = ["Deployment"]
        path = root / folder / f"item-{number}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_text(data), encoding="utf-8")
    env = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), *env, "commit", "-q", "-m", "items"], check=True)


def _timed(root: Path, state: Path, clear: bool) -> float:
    best = float("inf")
    for _ in range(3):
        if clear:
            shutil.rmtree(state, ignore_errors=True)
        start = time.perf_counter()
        kb = load_knowledge_base(root, state_dir=state)
        best = min(best, time.perf_counter() - start)
        assert not kb.problems, kb.problems[:3]
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=525)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        _build(root, args.items)
        state = root / ".patternbot"
        cold = _timed(root, state, clear=True)
        load_knowledge_base(root, state_dir=state)
        warm = _timed(root, state, clear=False)
        print(f"{args.items} items: cold (no cache) {cold:.3f} s, warm (cache hit) {warm:.3f} s")


if __name__ == "__main__":
    main()
