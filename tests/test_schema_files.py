"""The published JSON Schemas: current with the models and agreeing with `patternbot validate`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from bot.commands.schema import SCHEMA_FILES, stale_files
from bot.knowledge.jsonschema import pattern_json_schema, policy_json_schema
from bot.main import main
from bot.yamlfile import load_file
from tests.support.kb import pattern_data

REPO_ROOT = Path(__file__).resolve().parent.parent


def _json_data(path: Path) -> Any:
    """A YAML file as an editor's schema check sees it: plain JSON values, dates as text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return plain(load_file(path))


def _errors(schema: dict[str, Any], data: Any) -> list[str]:
    validator = Draft202012Validator(schema)
    return sorted(
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(data)
    )


def test_committed_schema_files_are_current() -> None:
    stale = stale_files(REPO_ROOT / "schemas")

    assert stale == [], "run `patternbot schema` and commit the result"


def test_check_names_each_missing_or_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schemas"
    assert main(["schema", "--out", str(out), "--check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{out / name}: missing; run `patternbot schema --out {out}` and commit the result"
        for name in SCHEMA_FILES
    ]

    assert main(["schema", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {out / name}" for name in SCHEMA_FILES]

    assert main(["schema", "--out", str(out), "--check"]) == 0
    assert capsys.readouterr().out == f"ok: {len(SCHEMA_FILES)} schema files in {out} are current\n"

    policy = out / "policy.schema.json"
    policy.write_text(policy.read_text(encoding="utf-8").replace("policy", "pollicy"), "utf-8")
    assert main(["schema", "--out", str(out), "--check"]) == 1
    assert capsys.readouterr().out == (
        f"{policy}: out of date; run `patternbot schema --out {out}` and commit the result\n"
    )


def test_schemas_are_valid_json_schema() -> None:
    Draft202012Validator.check_schema(pattern_json_schema())
    Draft202012Validator.check_schema(policy_json_schema())


@pytest.mark.parametrize(
    "schema", [pattern_json_schema(), policy_json_schema()], ids=["pattern", "policy"]
)
def test_every_property_is_described(schema: dict[str, Any]) -> None:
    models = [schema, *schema["$defs"].values()]

    undescribed = [
        name
        for model in models
        for name, prop in model["properties"].items()
        if not prop.get("description")
    ]

    assert undescribed == []
    assert schema["additionalProperties"] is False
    assert list(schema["patternProperties"]) == ["^x-"]
    assert all(model["additionalProperties"] is False for model in schema["$defs"].values())


def test_schema_uses_the_yaml_keys() -> None:
    schema = pattern_json_schema()

    assert schema["required"] == [
        "id",
        "description",
        "triggers",
        "rationale",
        "suggestedResources",
    ]
    assert list(schema["properties"]) == [
        "id",
        "description",
        "triggers",
        "rationale",
        "createdAt",
        "createdBy",
        "usageMetrics",
        "suggestedResources",
        "deprecated",
        "deprecatedReason",
    ]
    assert schema["properties"]["suggestedResources"]["items"]["pattern"] == "^[A-Z][A-Za-z0-9]*$"
    assert list(policy_json_schema()["properties"]) == [
        "id",
        "description",
        "triggers",
        "rationale",
        "createdAt",
        "createdBy",
        "usageMetrics",
        "appliesTo",
        "settings",
        "deployedPolicies",
    ]


@pytest.mark.parametrize(
    "path",
    sorted(REPO_ROOT.glob("patterns/*.yaml")) + sorted(REPO_ROOT.glob("policies/*.yaml")),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_example_files_match_their_schema_and_name_it(path: Path) -> None:
    schema = pattern_json_schema() if path.parent.name == "patterns" else policy_json_schema()
    kind = "pattern" if path.parent.name == "patterns" else "policy"

    assert _errors(schema, _json_data(path)) == []
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json"


def test_schema_rejects_what_validate_rejects() -> None:
    data = pattern_data(
        "web",
        triggers=[" "],
        suggestedResources=["deployment"],
        createdAt="yesterday",
        rationalle="typo",
        **{"x-owner": "team-a"},
    )

    assert _errors(pattern_json_schema(), data) == [
        ": 'rationalle' does not match any of the regexes: '^x-'",
        "createdAt: 'yesterday' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}'",
        "suggestedResources/0: 'deployment' does not match '^[A-Z][A-Za-z0-9]*$'",
        "triggers/0: ' ' does not match '\\\\S'",
    ]


def test_check_jsonschema_validates_yaml_files_with_the_published_schema(tmp_path: Path) -> None:
    # The same check an editor or a CI step runs on the YAML text itself.
    bad = tmp_path / "web.yaml"
    bad.write_text(
        "id: web\ndescription: Web\ntriggers: [web]\nsuggestedResources: [Deployments]\n"
        "rationale: r\ncreatedAt: 2025-01-15\ncreatedBy: me\nx-note: ok\nowner: me\n",
        encoding="utf-8",
    )
    schema = REPO_ROOT / "schemas" / "pattern.schema.json"

    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1
    assert f"{bad}::$: 'owner' does not match any of the regexes: '^x-'" in done.stdout
    assert "Deployments" not in done.stdout  # a plural is spelt like a kind; validate catches it
    good = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--schemafile",
            str(schema),
            *map(str, sorted(REPO_ROOT.glob("patterns/*.yaml"))),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (good.returncode, good.stdout.strip()) == (0, "ok -- validation done")


def test_schema_file_text_is_stable_json() -> None:
    text = (REPO_ROOT / "schemas" / "pattern.schema.json").read_text(encoding="utf-8")

    assert json.loads(text)["title"] == "patternbot pattern"
    assert text.endswith("}\n")


def test_knowledge_base_doc_describes_every_key() -> None:
    doc = (REPO_ROOT / "docs" / "knowledge-base.md").read_text(encoding="utf-8")
    keys = {
        name
        for schema in (pattern_json_schema(), policy_json_schema())
        for model in (schema, *schema["$defs"].values())
        for name in model["properties"]
    }

    assert sorted(key for key in keys if f"`{key}`" not in doc) == []
    assert "# yaml-language-server: $schema=../schemas/pattern.schema.json" in doc
