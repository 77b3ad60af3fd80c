"""`patternbot validate`: each problem as `path:line: message`, exit codes, pre-commit's mode."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.errors import KnowledgeBaseError
from bot.knowledge.repository import load_knowledge_base
from bot.knowledge.schema import Pattern, Policy
from bot.main import main
from tests.support.kb import pattern_data, policy_data

REPO_ROOT = Path(__file__).resolve().parent.parent

# A pattern with a misspelt key and a near-miss kind; line numbers matter to the assertions.
MISSPELT = """\
id: misspelt
description: Misspelt keys
trigers:
  - misspelt
suggestedResources: [Deployment, Servce]
rationale: Shows a typo.
createdAt: 2025-01-15
createdBy: platform-team
"""

UNTERMINATED = """\
id: broken
description: "unterminated
triggers: [broken]
"""

DUPLICATE_OF_WEB = """\
id: web
description: The same id as a pattern
triggers: [web]
rationale: Shows a duplicate.
createdAt: 2025-01-15
createdBy: security-team
"""


def _write(root: Path, relative: str, text: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def broken_kb(kb_repo_factory: Callable[..., Path]) -> Path:
    """A knowledge base with problems spread over several files (and one valid file)."""
    root = kb_repo_factory(patterns=[pattern_data("web")], commit=False)
    _write(root, "patterns/misspelt.yaml", MISSPELT)
    _write(root, "patterns/broken.yaml", UNTERMINATED)
    _write(root, "policies/web.yaml", DUPLICATE_OF_WEB)
    return root


def test_broken_knowledge_base_lists_every_problem_with_file_and_line(
    broken_kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", "--repo", str(broken_kb)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [
        "patterns/broken.yaml:4: YAML syntax error: found unexpected end of stream"
        " (while scanning a quoted scalar at line 2)",
        "patterns/misspelt.yaml:3: unknown key 'trigers' (did you mean 'triggers'?)",
        "patterns/misspelt.yaml:5: suggestedResources.1: unknown kind 'Servce';"
        " did you mean 'Service'?",
        "patterns/web.yaml:1: duplicate id 'web': also used by policies/web.yaml",
        "policies/web.yaml:1: duplicate id 'web': also used by patterns/web.yaml",
        "5 problem(s) in 4 file(s)",
    ]
    assert err == ""


def test_valid_knowledge_base_prints_counts(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(
        patterns=[pattern_data("web"), pattern_data("db")], policies=[policy_data("limits")]
    )

    code = main(["validate", "--repo", str(root)])

    assert code == 0
    assert capsys.readouterr().out == "ok: 2 patterns, 1 policies\n"


def test_json_output(broken_kb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--repo", str(broken_kb), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["valid"] is False
    assert (report["patterns"], report["policies"]) == (1, 0)
    assert report["problems"][1] == {
        "path": "patterns/misspelt.yaml",
        "line": 3,
        "message": "unknown key 'trigers' (did you mean 'triggers'?)",
    }
    assert len(report["problems"]) == 5


@pytest.mark.parametrize(
    ("relative", "content", "expected"),
    [
        pytest.param(
            "patterns/empty.yaml",
            "",
            ["patterns/empty.yaml:1: expected a mapping of pattern keys, found an empty file"],
            id="empty file",
        ),
        pytest.param(
            "policies/listed.yaml",
            "- a\n- b\n",
            ["policies/listed.yaml:1: expected a mapping of policy keys, found a list"],
            id="top-level list",
        ),
        pytest.param(
            "patterns/latin1.yaml",
            b"id: latin1\ndescription: caf\xe9\n",
            [
                "patterns/latin1.yaml:2: not UTF-8 text (invalid continuation byte at byte 27);"
                " save the file as UTF-8"
            ],
            id="not UTF-8",
        ),
        pytest.param(
            "patterns/tabs.yaml",
            "id: tabs\ntriggers:\n\t- x\n",
            [
                "patterns/tabs.yaml:3: YAML syntax error: found character '\\t'"
                " that cannot start any"
                " token"
            ],
            id="tab indentation",
        ),
    ],
)
def test_unusable_files(
    kb_repo_factory: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    relative: str,
    content: str | bytes,
    expected: list[str],
) -> None:
    root = kb_repo_factory(commit=False)
    _write(root, relative, content)

    code = main(["validate", "--repo", str(root)])

    assert code == 1
    assert capsys.readouterr().out.splitlines()[:-1] == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"triggers": []}, ["3: triggers: must not be empty"], id="empty triggers"),
        pytest.param(
            {"triggers": ["  "]}, ["4: triggers.0: must not be empty"], id="blank trigger"
        ),
        pytest.param(
            {"triggers": "web app"},
            ["3: triggers: expected a list, found the text 'web app'"],
            id="triggers not a list",
        ),
        pytest.param(
            {"createdBy": 7}, ["10: createdBy: expected text, found the number 7"], id="wrong type"
        ),
        pytest.param(
            {"createdAt": "last tuesday"},
            ["9: createdAt: 'last tuesday' is not an ISO 8601 date or time"],
            id="bad date",
        ),
        pytest.param(
            {"suggestedResources": ["deployment", "PVC", "Services", "my-thing"]},
            [
                "6: suggestedResources.0: 'deployment' is not a kind name;"
                " did you mean 'Deployment'?",
                "7: suggestedResources.1: 'PVC' is a short name; write the kind"
                " 'PersistentVolumeClaim'",
                "8: suggestedResources.2: 'Services' is a plural; the kind is 'Service'",
                "9: suggestedResources.3: 'my-thing' is not a Kubernetes kind name"
                " (kinds are UpperCamelCase)",
            ],
            id="kind names",
        ),
        pytest.param(
            {"usageMetrics": {"timesUsed": -1, "timesRecomended": 3}},
            [
                "12: usageMetrics.timesUsed: Input should be greater than or equal to 0",
                "13: unknown key 'timesRecomended' (did you mean 'timesRecommended'?)",
            ],
            id="nested usage metrics",
        ),
        pytest.param(
            {"id": "other"},
            [
                "1: id 'other' differs from the file name;"
                " rename the file to other.yaml or change the id"
            ],
            id="id differs from file name",
        ),
        pytest.param(
            {"id": "web app"},
            [
                "1: id 'web app' differs from the file name;"
                " rename the file to web app.yaml or change the id",
                "1: id: 'web app' is not a valid id: must hold only lower-case letters, digits,"
                " '.', '_' and '-', starting and ending with a letter or digit, at most 63"
                " characters",
            ],
            id="invalid id",
        ),
    ],
)
def test_field_problems(
    kb_repo_factory: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, object],
    expected: list[str],
) -> None:
    root = kb_repo_factory(commit=False)
    _write(root, "patterns/web.yaml", _yaml(pattern_data("web", **overrides)))

    code = main(["validate", "--repo", str(root)])

    assert code == 1
    assert capsys.readouterr().out.splitlines()[:-1] == [f"patterns/web.yaml:{e}" for e in expected]


def test_missing_required_key(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(commit=False)
    data = policy_data("limits")
    del data["rationale"]
    _write(root, "policies/limits.yaml", _yaml(data))

    assert main(["validate", "--repo", str(root)]) == 1
    assert capsys.readouterr().out == (
        "policies/limits.yaml:1: missing required key 'rationale'\n1 problem(s) in 1 file(s)\n"
    )


def test_same_id_in_yaml_and_yml(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")], commit=False)
    _write(root, "patterns/web.yml", _yaml(pattern_data("web")))

    assert main(["validate", "--repo", str(root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "patterns/web.yaml:1: duplicate id 'web': also used by patterns/web.yml",
        "patterns/web.yml:1: duplicate id 'web': also used by patterns/web.yaml",
        "2 problem(s) in 2 file(s)",
    ]


def test_author_annotations_are_ignored(kb_repo_factory: Callable[..., Path]) -> None:
    root = kb_repo_factory(
        patterns=[pattern_data("web", **{"x-owner": "team-a", "x-reviewed": {"by": "someone"}})]
    )

    kb = load_knowledge_base(root)

    assert kb.problems == []
    assert list(kb.patterns) == ["web"]


def test_files_without_usage_metrics_load_unchanged(kb_repo_factory: Callable[..., Path]) -> None:
    root = kb_repo_factory(patterns=[pattern_data("web")])

    pattern = load_knowledge_base(root).patterns["web"]

    assert pattern.usage_metrics is None
    assert pattern.to_data() == pattern_data("web")


class TestFileArguments:
    """pre-commit passes only the changed files; ids are still compared across the whole base."""

    def test_only_problems_of_the_given_files(
        self, broken_kb: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        misspelt = broken_kb / "patterns/misspelt.yaml"

        code = main(["validate", "--repo", str(broken_kb), str(misspelt)])

        assert code == 1
        assert capsys.readouterr().out.splitlines() == [
            "patterns/misspelt.yaml:3: unknown key 'trigers' (did you mean 'triggers'?)",
            "patterns/misspelt.yaml:5: suggestedResources.1: unknown kind 'Servce';"
            " did you mean 'Service'?",
            "2 problem(s) in 1 file(s)",
        ]

    def test_duplicate_of_an_unchanged_file_is_reported_on_the_changed_one(
        self, broken_kb: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # The new file sorts first, so the unchanged policy would otherwise carry the only report.
        code = main(["validate", "--repo", str(broken_kb), str(broken_kb / "patterns/web.yaml")])

        assert code == 1
        assert capsys.readouterr().out.splitlines() == [
            "patterns/web.yaml:1: duplicate id 'web': also used by policies/web.yaml",
            "1 problem(s) in 1 file(s)",
        ]

    def test_valid_file_among_broken_ones(
        self, kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        root = kb_repo_factory(patterns=[pattern_data("web")], commit=False)
        _write(root, "patterns/broken.yaml", UNTERMINATED)

        code = main(["validate", "--repo", str(root), str(root / "patterns/web.yaml")])

        assert code == 0
        assert capsys.readouterr().out == "ok: 1 patterns, 0 policies\n"

    def test_file_outside_the_knowledge_base_is_named(
        self, kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        root = kb_repo_factory(patterns=[pattern_data("web")])
        outside = _write(root, "docs/web.yaml", _yaml(pattern_data("web")))

        code = main(["validate", "--repo", str(root), str(outside)])

        err = capsys.readouterr().err
        assert code == 0
        assert err == (
            f"patternbot: warning: {outside}: not checked (items are patterns/**/<id>.yaml"
            " or policies/**/<id>.yaml)\n"
        )


def test_shipped_example_knowledge_base_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--repo", str(REPO_ROOT)])

    assert capsys.readouterr().out == "ok: 10 patterns, 10 policies\n"
    assert code == 0


def test_no_traceback_from_the_command_line(broken_kb: Path) -> None:
    _write(broken_kb, "patterns/latin1.yaml", b"id: latin1\ndescription: caf\xe9\n")
    _write(broken_kb, "policies/listed.yaml", "- a\n")
    _write(broken_kb, "patternbot.yaml", "learning:\n  minConfidence: [1]\n")
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    for args in (["validate"], ["validate", "--json"], ["validate", "patterns/misspelt.yaml"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=broken_kb,
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        assert "Traceback" not in done.stdout + done.stderr
        assert done.returncode == 1
        assert done.stderr == (
            "patternbot: patternbot.yaml:2: learning.minConfidence:"
            " Input should be a valid number\n"
        )


DOT_AI_RECORDS = {
    # vfarcic/dot-ai tests/unit/core/knowledge-migration.test.ts: a legacy Qdrant pattern document.
    "patterns/pattern-abc.yaml": """\
id: pattern-abc
description: Blue-Green deployment pattern for zero-downtime releases.
triggers:
  - blue-green
  - zero-downtime
suggestedResources:
  - Deployment
  - Service
rationale: Decouples deployment from release enabling instant rollback.
createdAt: '2024-01-01T00:00:00.000Z'
createdBy: platform-team
""",
    # vfarcic/dot-ai docs/ai-engine/organizational-data/policies.md: "Viewing Policy Details".
    "policies/d53b3447-0eed-42a0-8a8b-651d18374325.yaml": """\
id: d53b3447-0eed-42a0-8a8b-651d18374325
description: All containers must have CPU and memory resource limits defined to prevent resource
  starvation and ensure fair resource allocation
triggers: [applications, microservices, web applications, containerized applications, workloads,
  pods, containers, deployments]
rationale: Resource limits prevent any single container from consuming excessive CPU or memory.
createdAt: 2025-08-25
createdBy: platform-team
""",
    # vfarcic/dot-ai knowledge-migration tests: a policy intent with its deployed Kyverno policy.
    "policies/pol_2025_01_21_resource_limits.yaml": """\
id: pol_2025_01_21_resource_limits
description: All containers must specify CPU and memory resource limits
triggers: [resource limits, cpu limits, memory limits, resource management]
rationale: Prevents single containers from consuming all cluster resources
createdAt: 2025-01-21T10:00:00Z
createdBy: platform-team
deployedPolicies:
  - name: require-resource-limits-1735789200
    appliedAt: 2025-01-21T10:30:00Z
""",
}


def test_dot_ai_records_load(kb_repo_factory: Callable[..., Path]) -> None:
    root = kb_repo_factory(commit=False)
    for relative, text in DOT_AI_RECORDS.items():
        _write(root, relative, text)

    kb = load_knowledge_base(root)

    assert kb.problems == []
    assert list(kb.patterns) == ["pattern-abc"]
    assert sorted(kb.policies) == [
        "d53b3447-0eed-42a0-8a8b-651d18374325",
        "pol_2025_01_21_resource_limits",
    ]
    assert kb.patterns["pattern-abc"].created_at == "2024-01-01T00:00:00.000Z"
    deployed = kb.policies["pol_2025_01_21_resource_limits"].deployed_policies[0]
    assert (deployed.name, deployed.applied_at) == (
        "require-resource-limits-1735789200",
        "2025-01-21T10:30:00Z",  # the author's own spelling is kept
    )


def test_dot_ai_partial_legacy_record_names_what_is_missing(
    kb_repo_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # dot-ai's migration tests also hold stubs without provenance: git supplies that, not the rest.
    root = kb_repo_factory(commit=False)
    _write(
        root,
        "patterns/p1.yaml",
        "id: p1\ndescription: Canary release\ntriggers: [canary]\nrationale: Safe rollout.\n",
    )

    assert main(["validate", "--repo", str(root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "patterns/p1.yaml:1: missing required key 'suggestedResources'",
        "1 problem(s) in 1 file(s)",
    ]


def test_models_round_trip_through_yaml() -> None:
    pattern = Pattern.model_validate(pattern_data("web", usageMetrics={"timesUsed": 3}))
    policy = Policy.model_validate(policy_data("limits", settings={"replicas": 2}))

    assert Pattern.model_validate(pattern.to_data()) == pattern
    assert Policy.model_validate(policy.to_data()) == policy
    assert pattern.to_data()["usageMetrics"] == {"timesUsed": 3}


def _yaml(data: dict[str, object]) -> str:
    from io import StringIO

    stream = StringIO()
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(data, stream)
    return stream.getvalue()


class TestPreCommitHook:
    """`.pre-commit-hooks.yaml` lets other repositories run `patternbot validate` on commit."""

    def _hook(self) -> dict[str, object]:
        hooks = YAML(typ="safe").load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
        assert [hook["id"] for hook in hooks] == ["patternbot-validate"]
        hook: dict[str, object] = hooks[0]
        return hook

    def test_definition(self) -> None:
        hook = self._hook()

        keys = ("entry", "language", "files", "pass_filenames", "require_serial")
        assert {key: hook[key] for key in keys} == {
            "entry": "patternbot validate",
            "language": "python",
            "files": r"^(patterns|policies)/.*\.(yaml|yml|YAML|YML)$",
            "pass_filenames": True,
            "require_serial": True,
        }

    def test_files_pattern_selects_item_files(self) -> None:
        files = re.compile(str(self._hook()["files"]))

        chosen = [
            name
            for name in (
                "patterns/web.yaml",
                "policies/limits.yml",
                "patterns/team-a/db.YAML",
                "patterns/README.md",
                "docs/patterns/web.yaml",
                "patternbot.yaml",
            )
            if files.search(name)
        ]

        assert chosen == ["patterns/web.yaml", "policies/limits.yml", "patterns/team-a/db.YAML"]

    def test_entry_runs_on_the_files_pre_commit_passes(
        self, kb_repo_factory: Callable[..., Path]
    ) -> None:
        root = kb_repo_factory(patterns=[pattern_data("web")], policies=[policy_data("limits")])
        _write(root, "patterns/misspelt.yaml", MISSPELT)
        program, *arguments = str(self._hook()["entry"]).split()
        # The console script is `patternbot`; the module runs the same main() without installing.
        assert program == "patternbot"
        command = [sys.executable, "-m", "bot", *arguments]
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

        def commit_hook(*files: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*command, *files],
                cwd=root,
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )

        clean, dirty = commit_hook("patterns/web.yaml"), commit_hook("patterns/misspelt.yaml")

        assert (clean.returncode, clean.stdout) == (0, "ok: 1 patterns, 1 policies\n")
        assert dirty.returncode == 1
        assert dirty.stdout.splitlines()[0] == (
            "patterns/misspelt.yaml:3: unknown key 'trigers' (did you mean 'triggers'?)"
        )


def test_require_valid_names_the_first_problem_and_counts_the_rest(tmp_path: Path) -> None:
    (tmp_path / "patterns").mkdir()
    (tmp_path / "patterns" / "a.yaml").write_text("id: a\n", encoding="utf-8")
    (tmp_path / "patterns" / "b.yaml").write_text("id: [\n", encoding="utf-8")
    kb = load_knowledge_base(tmp_path)
    with pytest.raises(KnowledgeBaseError) as caught:
        kb.require_valid()
    assert str(caught.value) == (
        f"{kb.problems[0]} (and {len(kb.problems) - 1} more); "
        "run `patternbot validate` for the full list"
    )
    assert len(kb.problems) > 1
    (tmp_path / "empty").mkdir()
    load_knowledge_base(tmp_path / "empty").require_valid()  # no files, no problems: no error
