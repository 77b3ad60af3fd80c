"""Test fixtures for the platform: suggestions, repositories with a remote, and a GitHub stand-in.

The stand-in serves the few REST endpoints patternbot uses over real HTTP on 127.0.0.1, backed by a
real bare git repository (branches are pushed to it; merging really merges with git). Every response
body can be checked against the subset of GitHub's OpenAPI description in tests/fixtures.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.learning.suggestion import ClusterFigures, Evidence, Suggestion, SuggestionType
from bot.logs.usage import Window
from tests.support.kb import git, make_kb_repo, pattern_data, policy_data

OPENAPI_SUBSET = Path(__file__).resolve().parent.parent / "fixtures" / "github-openapi-subset.json"
OWNER, NAME = "acme", "platform-kb"
REPOSITORY = f"{OWNER}/{NAME}"
HUMAN = ("Human Reviewer", "human@example.com")

# A small knowledge base whose stateless-web-app file has comments and a folded rationale.
WEB_APP_YAML = """\
# Owned by the platform team.
id: stateless-web-app
description: Stateless web application served through an ingress
triggers:
  - web application
  - "REST API"  # quoted on purpose
suggestedResources:
  - Deployment
  - Service
  - Ingress
rationale: >-
  A Deployment runs interchangeable replicas, the Service gives them one stable address and the
  Ingress routes external traffic.
createdAt: 2025-01-15
createdBy: platform-team
"""


# --- suggestions -------------------------------------------------------------------------------


def evidence(fingerprint: str, hits: int = 8, cases: int = 10, **overrides: Any) -> Evidence:
    """Evidence with a window, two clusters and example intents."""
    data: dict[str, Any] = {
        "signal": "common_additions",
        "frequency": hits / cases,
        "hits": hits,
        "cases": cases,
        "window": Window(
            start=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            end=dt.datetime(2026, 3, 31, tzinfo=dt.UTC),
        ),
        "patterns_used": ["stateless-web-app"],
        "clusters": {
            "prod-eu": ClusterFigures(frequency=0.9, hits=hits - 1, cases=cases - 2),
            "staging": ClusterFigures(frequency=0.5, hits=1, cases=2),
        },
        "example_intents": ["deploy the checkout web app", "web frontend for @alice, see #42"],
        "fingerprint": fingerprint,
    }
    data.update(overrides)
    return Evidence(**data)


def update_suggestion(hits: int = 8, cases: int = 10, confidence: float = 0.82) -> Suggestion:
    """update_pattern: add PodDisruptionBudget to stateless-web-app."""
    draft = pattern_data(
        "stateless-web-app",
        suggestedResources=["Deployment", "Service", "Ingress", "PodDisruptionBudget"],
    )
    return Suggestion(
        type=SuggestionType.UPDATE_PATTERN,
        target="stateless-web-app",
        confidence=confidence,
        reason=f"PodDisruptionBudget was added in {hits} of {cases} uses of stateless-web-app.",
        draft=draft,
        changes={"add": {"suggestedResources": ["PodDisruptionBudget"]}},
        evidence=evidence("fp-update-web", hits, cases),
    )


def create_pattern_suggestion(
    item_id: str = "grpc-backend", confidence: float = 0.78
) -> Suggestion:
    """create_pattern for a new id."""
    draft = pattern_data(
        item_id,
        suggestedResources=["Deployment", "Service", "HorizontalPodAutoscaler"],
        createdBy="patternbot",
        createdAt="2026-03-31",
    )
    return Suggestion(
        type=SuggestionType.CREATE_PATTERN,
        confidence=confidence,
        reason=f"7 weak-match intents share the resources of {item_id}.",
        draft=draft,
        evidence=evidence(f"fp-create-{item_id}", 7, 9, signal="gap"),
    )


def create_policy_suggestion(item_id: str = "require-pod-priority") -> Suggestion:
    """create_policy for a new id."""
    draft = policy_data(item_id, createdBy="patternbot", createdAt="2026-03-31")
    return Suggestion(
        type=SuggestionType.CREATE_POLICY,
        confidence=0.9,
        reason="Deployed solutions set priorityClassName in 12 of 12 cases.",
        draft=draft,
        evidence=evidence(f"fp-policy-{item_id}", 12, 12, signal="common_configuration"),
    )


def deprecate_suggestion(target: str = "legacy-batch") -> Suggestion:
    """deprecate_pattern of an existing pattern."""
    draft = pattern_data(
        target, deprecated=True, deprecatedReason="Chosen in 1 of 20 strong matches."
    )
    return Suggestion(
        type=SuggestionType.DEPRECATE_PATTERN,
        target=target,
        confidence=0.8,
        reason="Recommended as relevant 20 times, chosen once.",
        draft=draft,
        changes={
            "set": {"deprecated": True, "deprecatedReason": "Chosen in 1 of 20 strong matches."}
        },
        evidence=evidence(f"fp-deprecate-{target}", 1, 20, signal="rarely_used"),
    )


def make_platform_kb(root: Path) -> Path:
    """A knowledge-base repository with stateless-web-app (commented) and legacy-batch."""
    make_kb_repo(
        root, patterns=[pattern_data("legacy-batch")], policies=[policy_data("require-limits")]
    )
    (root / "patterns" / "stateless-web-app.yaml").write_text(WEB_APP_YAML, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "add stateless-web-app")
    return root


def branches(root: Path) -> list[str]:
    """Every local branch of a repository, sorted."""
    return sorted(git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split())


def commit_as_human(repo: Path, ref: str, path: str, text: str, message: str = "human edit") -> str:
    """A commit by a human on top of `ref` (a branch of `repo`, bare or not), changing one file."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": HUMAN[0],
        "GIT_AUTHOR_EMAIL": HUMAN[1],
        "GIT_COMMITTER_NAME": HUMAN[0],
        "GIT_COMMITTER_EMAIL": HUMAN[1],
    }

    def run(*args: str, stdin: str | None = None, extra: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=repo,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            env={**env, **(extra or {})},
        )
        return done.stdout.strip()

    with tempfile.TemporaryDirectory() as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        parent = run("rev-parse", f"refs/heads/{ref}")
        run("read-tree", parent, extra=index)
        blob = run("hash-object", "-w", "--stdin", stdin=text)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", extra=index)
        tree = run("write-tree", extra=index)
    sha = run("commit-tree", tree, "-p", parent, "-m", message)
    run("update-ref", f"refs/heads/{ref}", sha)
    return sha


# --- OpenAPI checking ---------------------------------------------------------------------------


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable` spelt the JSON Schema way."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


_SPEC_CACHE: dict[str, Any] = {}


def openapi_subset() -> dict[str, Any]:
    """The OpenAPI subset, loaded once."""
    if "spec" not in _SPEC_CACHE:
        _SPEC_CACHE["spec"] = json.loads(OPENAPI_SUBSET.read_text(encoding="utf-8"))
    spec: dict[str, Any] = _SPEC_CACHE["spec"]
    return spec


def response_schema(method: str, template: str, status: int) -> dict[str, Any]:
    """The JSON Schema of one documented response, with the components it references."""
    spec = openapi_subset()
    response = spec["paths"][template][method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return {**_json_schema(schema), "components": _json_schema(spec["components"])}


def _default(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value `schema` accepts, filling every required property."""
    if "$ref" in schema:
        return _default(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_default(part, components))
        return merged
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _default(schema[key][0], components)
    if schema.get("nullable"):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: _default(properties.get(name, {}), components)
            for name in schema.get("required", [])
        }
    if kind == "string":
        return "2026-01-01T00:00:00Z" if schema.get("format") == "date-time" else ""
    return {"array": [], "integer": 0, "number": 0, "boolean": False}[kind]


def document(schema_name: str, **values: Any) -> dict[str, Any]:
    """A complete object of a component schema, with `values` laid over its defaults."""
    components = openapi_subset()["components"]["schemas"]
    data: dict[str, Any] = _default(components[schema_name], components)
    data.update(values)
    return data


def assert_responses_match_openapi(world: GitHubWorld) -> None:
    """Every answer the stand-in gave validates against GitHub's OpenAPI description."""
    import jsonschema  # type: ignore[import-untyped]

    checked = 0
    for request in world.standin.requests:
        if request.template:
            schema = response_schema(request.method, request.template, request.status)
            jsonschema.validate(request.body, schema)
            checked += 1
    assert checked > 0


# --- the GitHub stand-in ------------------------------------------------------------------------


@dataclass
class Fault:
    """A planned failure: matched by method and path; `apply` runs the request before failing it."""

    method: str
    path: str  # a regular expression searched in the request path
    status: int  # 0 drops the connection without an answer
    times: int = 1
    apply: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    """One request the stand-in answered (or dropped)."""

    method: str
    path: str
    template: str
    status: int
    body: Any
    authorization: str = ""


class GitHubStandIn:
    """The state of the fake GitHub: one repository, its pull requests and issues."""

    def __init__(self, bare: Path) -> None:
        self.bare = bare
        self.base_url = ""
        self.pulls: dict[int, dict[str, Any]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.next_number = 1
        self.lock = threading.Lock()

    # -- git in the bare repository --
    def _git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.bare, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout.strip()

    def tip(self, branch: str) -> str | None:
        try:
            return self._git("rev-parse", "--verify", "-q", f"refs/heads/{branch}")
        except RuntimeError:
            return None

    def merge(self, number: int) -> str:
        """Merge pull request `number` with git (a merge commit), as the Merge button does."""
        pull = self.pulls[number]
        head, base = self.tip(pull["head"]), self.tip(pull["base"])
        assert head and base
        tree = self._git("merge-tree", "--write-tree", base, head).splitlines()[0]
        env_args = ["-c", "user.name=GitHub", "-c", "user.email=noreply@github.com"]
        sha = self._git(
            *env_args,
            "commit-tree",
            tree,
            "-p",
            base,
            "-p",
            head,
            "-m",
            f"Merge pull request #{number}",
        )
        self._git("update-ref", f"refs/heads/{pull['base']}", sha)
        pull.update(state="closed", merged=True, head_sha=head, closed_at=_now(), merged_at=_now())
        return sha

    def close(self, number: int) -> None:
        """Close pull request `number` without merging: a rejection."""
        pull = self.pulls[number]
        pull.update(
            state="closed", head_sha=self.tip(pull["head"]) or pull["head_sha"], closed_at=_now()
        )

    def delete_branch(self, branch: str) -> None:
        self._git("update-ref", "-d", f"refs/heads/{branch}")

    # -- JSON documents --
    def _repo_doc(self, full: bool) -> dict[str, Any]:
        owner = document("simple-user", login=OWNER, id=1, type="Organization")
        values = {
            "id": 1,
            "name": NAME,
            "full_name": REPOSITORY,
            "owner": owner,
            "url": f"{self.base_url}/repos/{REPOSITORY}",
            "html_url": f"https://github.example/{REPOSITORY}",
            "default_branch": "main",
            "clone_url": str(self.bare),
        }
        return document("full-repository" if full else "repository", **values)

    def _user(self) -> dict[str, Any]:
        return document("simple-user", login="patternbot[bot]", id=2, type="Bot")

    def _labels(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            document(
                "label",
                id=index + 1,
                name=name,
                url=f"{self.base_url}/repos/{REPOSITORY}/labels/{name}",
                # pull-request-simple wants a string here where label allows null.
                description="",
                color="ededed",
            )
            for index, name in enumerate(names)
        ]

    def _pull_doc(self, pull: dict[str, Any], simple: bool = False) -> dict[str, Any]:
        number = pull["number"]
        head_sha = self.tip(pull["head"]) if pull["state"] == "open" else pull["head_sha"]
        api = f"{self.base_url}/repos/{REPOSITORY}"

        def side(ref: str, sha: str | None) -> dict[str, Any]:
            return {
                "label": f"{OWNER}:{ref}",
                "ref": ref,
                "sha": sha or "0" * 40,
                "user": self._user(),
                "repo": self._repo_doc(False),
            }

        values = {
            "id": 1000 + number,
            "number": number,
            "state": pull["state"],
            "title": pull["title"],
            "body": pull["body"],
            "url": f"{api}/pulls/{number}",
            "html_url": f"https://github.example/{REPOSITORY}/pull/{number}",
            "issue_url": f"{api}/issues/{number}",
            "user": self._user(),
            "labels": self._labels(pull["labels"]),
            "head": side(pull["head"], head_sha),
            "base": side(pull["base"], self.tip(pull["base"])),
            "created_at": pull["created_at"],
            "updated_at": pull["created_at"],
            "closed_at": pull["closed_at"],
            "merged_at": pull["merged_at"],
            "author_association": "NONE",
        }
        if not simple:
            values.update(merged=pull["merged"], maintainer_can_modify=True)
        return document("pull-request-simple" if simple else "pull-request", **values)

    def _issue_doc(self, number: int) -> dict[str, Any]:
        api = f"{self.base_url}/repos/{REPOSITORY}"
        if number in self.pulls:
            pull = self.pulls[number]
            title, body, state, labels = pull["title"], pull["body"], pull["state"], pull["labels"]
        else:
            issue = self.issues[number]
            title, body, state, labels = (
                issue["title"],
                issue["body"],
                issue["state"],
                issue["labels"],
            )
        values: dict[str, Any] = {
            "id": 2000 + number,
            "number": number,
            "title": title,
            "body": body,
            "state": state,
            "url": f"{api}/issues/{number}",
            "html_url": f"https://github.example/{REPOSITORY}/issues/{number}",
            "repository_url": api,
            "labels": self._labels(labels),
            "user": self._user(),
            "comments": len(self.comments.get(number, [])),
        }
        if number in self.pulls:
            values["pull_request"] = {
                "url": f"{api}/pulls/{number}",
                "html_url": None,
                "diff_url": None,
                "patch_url": None,
            }
        return document("issue", **values)

    # -- request handling --
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, str, Any]:
        """(status, OpenAPI path template, JSON answer) for one request."""
        prefix = f"/api/v3/repos/{REPOSITORY}"
        if not path.startswith(prefix):
            return 404, "", {"message": "Not Found", "documentation_url": "https://docs.github.com"}
        rest = path[len(prefix) :]
        repo_t = "/repos/{owner}/{repo}"
        if rest == "" and method == "GET":
            return 200, repo_t, self._repo_doc(True)
        if rest == "/pulls" and method == "GET":
            return 200, repo_t + "/pulls", self._list_pulls(query)
        if rest == "/pulls" and method == "POST":
            return self._create_pull(body)
        match = re.fullmatch(r"/pulls/(\d+)", rest)
        if match and int(match.group(1)) in self.pulls:
            pull = self.pulls[int(match.group(1))]
            if method == "PATCH":
                for key in ("title", "body"):
                    if key in body:
                        pull[key] = body[key]
                if body.get("state") == "closed" and pull["state"] == "open":
                    self.close(pull["number"])
            return 200, repo_t + "/pulls/{pull_number}", self._pull_doc(pull)
        if rest == "/issues" and method == "GET":
            wanted = set(",".join(query.get("labels", [])).split(",")) - {""}
            state = query.get("state", ["open"])[0]
            numbers = sorted(set(self.issues) | set(self.pulls))
            found = [
                self._issue_doc(n)
                for n in numbers
                if (state == "all" or self._issue_doc(n)["state"] == state)
                and wanted <= {label["name"] for label in self._issue_doc(n)["labels"]}
            ]
            return 200, repo_t + "/issues", found
        if rest == "/issues" and method == "POST":
            number = self._number()
            self.issues[number] = {
                "title": body["title"],
                "body": body.get("body"),
                "state": "open",
                "labels": list(body.get("labels", [])),
            }
            return 201, repo_t + "/issues", self._issue_doc(number)
        match = re.fullmatch(r"/issues/(\d+)(/comments|/labels)?", rest)
        if match and (int(match.group(1)) in self.issues or int(match.group(1)) in self.pulls):
            number, tail = int(match.group(1)), match.group(2)
            template = repo_t + "/issues/{issue_number}" + (tail or "")
            if tail == "/comments" and method == "POST":
                self.comments.setdefault(number, []).append(body["body"])
                comment = document(
                    "issue-comment",
                    id=len(self.comments[number]),
                    body=body["body"],
                    user=self._user(),
                    url=f"{self.base_url}/repos/{REPOSITORY}/issues/comments/{number}",
                    issue_url=f"{self.base_url}/repos/{REPOSITORY}/issues/{number}",
                    author_association="NONE",
                )
                return 201, template, comment
            if tail == "/labels" and method == "POST":
                target = self.pulls.get(number) or self.issues[number]
                names = body if isinstance(body, list) else body["labels"]
                for name in names:
                    if name not in target["labels"]:
                        target["labels"].append(name)
                return 200, template, self._labels(target["labels"])
            if tail is None and method == "PATCH":
                target = self.pulls.get(number) or self.issues[number]
                for key in ("title", "body", "state"):
                    if key in body and not (key == "state" and number in self.pulls):
                        target[key] = body[key]
                return 200, template, self._issue_doc(number)
            if tail is None and method == "GET":
                return 200, template, self._issue_doc(number)
        return 404, "", {"message": "Not Found", "documentation_url": "https://docs.github.com"}

    def _number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def _list_pulls(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = query.get("state", ["open"])[0]
        head = query.get("head", [None])[0]
        found = []
        for number in sorted(self.pulls):
            pull = self.pulls[number]
            if state != "all" and pull["state"] != state:
                continue
            if head is not None and head != f"{OWNER}:{pull['head']}":
                continue
            found.append(self._pull_doc(pull, simple=True))
        return found

    def _create_pull(self, body: dict[str, Any]) -> tuple[int, str, Any]:
        template = "/repos/{owner}/{repo}/pulls"
        head, base = body["head"], body["base"]
        if self.tip(head) is None:
            error = {"resource": "PullRequest", "field": "head", "code": "invalid"}
            return (
                422,
                template,
                {"message": "Validation Failed", "errors": [error], "documentation_url": ""},
            )
        if any(p["head"] == head and p["state"] == "open" for p in self.pulls.values()):
            error = {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"A pull request already exists for {OWNER}:{head}.",
            }
            return (
                422,
                template,
                {"message": "Validation Failed", "errors": [error], "documentation_url": ""},
            )
        number = self._number()
        self.pulls[number] = {
            "number": number,
            "title": body["title"],
            "body": body.get("body"),
            "head": head,
            "base": base,
            "state": "open",
            "merged": False,
            "labels": [],
            "head_sha": self.tip(head),
            "created_at": _now(),
            "closed_at": None,
            "merged_at": None,
        }
        return 201, template, self._pull_doc(self.pulls[number])

    def open_pulls(self) -> list[dict[str, Any]]:
        return [pull for pull in self.pulls.values() if pull["state"] == "open"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        standin = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else {}
        parts = urlsplit(self.path)
        with standin.lock:
            fault = next(
                (
                    f
                    for f in standin.faults
                    if f.times > 0 and f.method == self.command and re.search(f.path, parts.path)
                ),
                None,
            )
            if fault is not None:
                fault.times -= 1
            if fault is not None and fault.status == 0:
                standin.requests.append(Recorded(self.command, parts.path, "", 0, None))
                self.close_connection = True
                return
            if fault is None or fault.apply:
                try:
                    status, template, answer = standin.handle(
                        self.command, parts.path, parse_qs(parts.query), body
                    )
                except Exception as exc:  # a stand-in bug must fail the test, not hang the client
                    status, template, answer = 500, "", {"message": f"stand-in error: {exc!r}"}
            if fault is not None:
                # Applied or not, the client only sees the injected failure.
                status, template = fault.status, ""
                answer = {"message": f"fault injected ({fault.status})", "documentation_url": ""}
            authorization = self.headers.get("Authorization", "")
            standin.requests.append(
                Recorded(self.command, parts.path, template, status, answer, authorization)
            )
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (fault.headers if fault is not None else {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    standin: GitHubStandIn


@dataclass
class GitHubWorld:
    """A running stand-in, its bare repository, and the bot's clone (origin = the bare one)."""

    standin: GitHubStandIn
    api_url: str
    clone: Path
    bare: Path

    def sync_clone(self) -> None:
        """Bring the clone's main up to date, as a fresh CI checkout would be."""
        git(self.clone, "fetch", "-q", "origin", "main")
        git(self.clone, "merge", "-q", "--ff-only", "FETCH_HEAD")


@pytest.fixture
def github_world(tmp_path: Path) -> Iterator[GitHubWorld]:
    """The GitHub stand-in on 127.0.0.1 serving a real bare repository cloned from a test KB."""
    source = make_platform_kb(tmp_path / "source")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(bare)], check=True)
    clone = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
    standin = GitHubStandIn(bare)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.standin = standin
    standin.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GitHubWorld(standin, standin.base_url, clone, bare)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def platform_kb(tmp_path: Path) -> Path:
    """A local knowledge-base repository for the local platform."""
    return make_platform_kb(tmp_path / "kb")
