"""Hostile log text through what users run (issue 10 items 6-9): nothing leaks, nothing is live.

One small knowledge base, one log crafted so that every hostile string would reach a suggestion
(a setting most deployments share, weak-match intents that form a gap, a failed outcome's error,
unknown pattern ids, a rejected line), then `run --platform local`, `propose --json`,
`suggest --json` and `metrics`; and `propose` against the GitHub stand-in. Every byte they
produce is checked: standard output and error, JSON, branch names, commit messages, the files on
the branches, the proposal records, the dashboard, the step summary and the quarantine.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.logs.emitter import WorkflowLog
from bot.main import main
from tests.support.kb import git
from tests.support.platform import REPOSITORY, GitHubWorld

# Exact secret values: none of them may appear in anything patternbot produces.
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
ANTHROPIC_KEY = "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe_d-cBa"
GOOGLE_KEY = "AIza" + "SyD4f5G6h7J8k9L0m1N2b3V4c5X6z7Q8w9E"
GITLAB_TOKEN = "glpat-" + "Qw3rTy7uI0oP5aS8dF2g"
SLACK_WEBHOOK = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/" + "a1B2c3D4e5F6g7H8i9J0k1L2"
PASSWORD = "hunter2"
SECRETS = (GITHUB_TOKEN, ANTHROPIC_KEY, GOOGLE_KEY, GITLAB_TOKEN, SLACK_WEBHOOK, PASSWORD)

# Issue 10 items 7 and 8, verbatim.
WORKFLOW_COMMANDS = "\n::add-mask::x\n::error title=pwned::x"
LINK = "[click](https://evil.example)"
IMAGE = "![](https://evil.example/x.png)"
BAD_ID = "x` <img src=x> @acme/admins `y"
PLACEHOLDER = "{{knowledge_base}}"

BRANCH_NAME = re.compile(r"^patternbot/[a-z0-9/._-]+$")
# The names of redaction masks (`[REDACTED:gitlab-token]`): patternbot's words, not the user's, so
# they must never become a drafted id, trigger or topic.
MASK_WORDS = re.compile(
    r"redacted|github-token|anthropic-key|google-api-key|gitlab-token|slack-webhook", re.IGNORECASE
)
WORKFLOWS = 24


def write_hostile_logs(path: Path, workflows: int = WORKFLOWS, channel: bool = True) -> Path:
    """A log in which each hostile string sits where the engine would turn it into a suggestion.

    - every deployed solution of stateless-web-app carries the same annotation value (a
      common configuration -> create_policy) holding a token, workflow commands, a link, an image,
      a mention and a prompt placeholder; and a setting whose key is a token;
    - half the workflows are weak-match intents about one topic (a gap -> create_pattern) that
      carry every other secret shape, a link and an image;
    - every solution also names an unknown pattern whose id breaks out of a code span;
    - one outcome fails with a token in its error; one line is rejected for a token in `ts`.
    """
    note = f"see {GITHUB_TOKEN}{WORKFLOW_COMMANDS} {LINK} {IMAGE} @acme/admins {PLACEHOLDER}"
    markup = f"a{WORKFLOW_COMMANDS} {LINK} {IMAGE} @acme/admins {PLACEHOLDER}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as stream:
        log = WorkflowLog(stream, cluster="prod-eu")
        for number in range(workflows):
            wid = f"wf-{number:03d}"
            if number % 2:
                intent = (
                    f"nightly report generator batch job {number} {LINK} {IMAGE} "
                    f"{PLACEHOLDER} key {ANTHROPIC_KEY} {GOOGLE_KEY} {GITLAB_TOKEN} "
                    f"webhook {SLACK_WEBHOOK} password is {PASSWORD} @acme/admins"
                )
                log.retrieved(wid, intent, [("stateless-web-app", 0.12), (BAD_ID, 0.1)])
                used = [BAD_ID]
                kinds = ["CronJob", "ConfigMap", "Secret"]
            else:
                log.retrieved(wid, f"deploy web shop {number}", [("stateless-web-app", 0.82)])
                used = ["stateless-web-app", BAD_ID]
                kinds = ["Deployment", "Service", "Ingress"]
            log.solution(
                wid,
                patterns_used=used,
                resources=kinds,
                settings={
                    "metadata.annotations.note": note,
                    # Not in the settings vocabulary: a value convention, drafted with its value
                    # (a value holding a redaction mask is never proposed, so no token here).
                    "spec.template.spec.deliveryChannel": markup if channel else "stable",
                    f"metadata.labels.{GITHUB_TOKEN}": "on",
                    "spec.template.spec.containers[0].env.DB_PASSWORD": PASSWORD,
                },
            )
            failed = number == 0
            log.outcome(
                wid,
                "failed" if failed else "deployed",
                error=f"auth failed with {GITHUB_TOKEN}{WORKFLOW_COMMANDS}" if failed else None,
            )
        # Item 9: a rejected line whose reason would quote the token.
        stream.write(
            json.dumps(
                {
                    "v": 1,
                    "eventId": "bad",
                    "workflowId": "wf-bad",
                    "workflow": "recommend",
                    "type": "outcome",
                    "ts": GITHUB_TOKEN,
                    "status": "deployed",
                }
            )
            + "\n"
        )
    return path


# --- checks ------------------------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML on (as GitHub) plus tables; `text_join` off so that a backslash
    # escape stays its own token and an unescaped `https://` in one text token is visible.
    return MarkdownIt("commonmark", {"html": True}).enable("table").disable("text_join")


def _tokens(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def markdown_problems(text: str) -> list[str]:
    """What in `text` renders live on GitHub: links, images, raw tags, mentions, autolinks."""
    problems = []
    for token in _tokens(_markdown().parse(text)):
        if token.type in ("link_open", "image"):
            problems.append(f"{token.type}: {token.attrs}")
        if token.type in ("html_inline", "html_block") and re.search(
            r"<\s*(img|script|a|iframe)\b", token.content, re.IGNORECASE
        ):
            problems.append(f"raw HTML: {token.content!r}")
        if token.type == "text":
            # GitHub autolinks bare URLs and pings @team; in one unescaped text run, both live.
            if re.search(r"(?:https?://|www\.)evil", token.content):
                problems.append(f"autolink: {token.content!r}")
            if "@acme" in token.content:
                problems.append(f"mention: {token.content!r}")
    html = _markdown().render(text)
    if re.search(r"<(img|script|a)\b", html):
        problems.append(f"rendered HTML has a live tag: {html!r}")
    return problems


def leaked(text: str) -> list[str]:
    """The secrets that appear verbatim in `text`."""
    return [secret for secret in SECRETS if secret in text]


def command_lines(text: str) -> list[str]:
    """Lines a CI runner would execute as workflow commands."""
    return [line for line in text.splitlines() if line.strip().startswith("::")]


def assert_terminal_output_is_clean(out: str, err: str) -> None:
    assert leaked(out) == [] and leaked(err) == []
    assert command_lines(out) == [] and command_lines(err) == []


def branch_files(root: Path) -> dict[str, str]:
    """Every file that differs from main on a patternbot branch, as `branch:path` -> text."""
    files = {}
    for branch in proposal_branches(root):
        changed = git(root, "diff", "--name-only", f"main...{branch}").split()
        for path in changed:
            files[f"{branch}:{path}"] = git(root, "show", f"{branch}:{path}")
    return files


def proposal_branches(root: Path) -> list[str]:
    refs = git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split()
    return sorted(ref for ref in refs if ref != "main")


def commit_messages(root: Path) -> str:
    return git(root, "log", "--all", "--format=%B%n%an%n%cn")


def state_files(root: Path) -> dict[str, str]:
    """Every text file patternbot left under .patternbot (records, dashboard, quarantine...)."""
    found = {}
    for path in sorted((root / ".patternbot").rglob("*")):
        if path.is_file() and "qdrant" not in path.parts and "cache" not in path.parts:
            found[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    return found


def quarantine_reasons(files: dict[str, str]) -> list[str]:
    reasons = []
    for name, text in files.items():
        if "/quarantine/" in f"/{name}":
            reasons += [json.loads(line)["reason"] for line in text.splitlines() if line]
    return reasons


def without_quarantined_lines(files: dict[str, str]) -> dict[str, str]:
    # A quarantine file keeps each rejected line verbatim on purpose (nothing is lost; it stays
    # in the git-ignored state folder): only its reason is output, and that is checked.
    kept = {}
    for name, text in files.items():
        if "/quarantine/" in f"/{name}":
            records = [json.loads(line) for line in text.splitlines() if line]
            text = json.dumps([{k: v for k, v in r.items() if k != "line"} for r in records])
        kept[name] = text
    return kept


def assert_posted_text_is_clean(world: GitHubWorld) -> None:
    """Titles, bodies and comments on the stand-in: no secret, nothing live, fingerprint heads."""
    standin = world.standin
    posted = {}
    for number, pull in standin.pulls.items():
        assert BRANCH_NAME.match(pull["head"]), pull["head"]
        posted[f"pull {number} title"] = pull["title"]
        posted[f"pull {number} body"] = pull["body"] or ""
    for number, issue in standin.issues.items():
        posted[f"issue {number} title"] = issue["title"]
        posted[f"issue {number} body"] = issue["body"] or ""
    for number, comments in standin.comments.items():
        for index, comment in enumerate(comments):
            posted[f"comment {number}.{index}"] = comment
    assert {name: leaked(text) for name, text in posted.items() if leaked(text)} == {}
    problems = {name: markdown_problems(text) for name, text in posted.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the tests ---------------------------------------------------------------------------------


def test_run_on_the_local_platform_leaks_nothing_and_renders_nothing_live(
    platform_kb: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs = write_hostile_logs(tmp_path / "logs" / "hostile.jsonl")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("PATTERNBOT_PROPOSALS_MAX_NEW_PER_RUN", "10")
    monkeypatch.setenv("PATTERNBOT_PROPOSALS_DASHBOARD", "true")
    code, out, err = run_cli(
        capsys, "run", "--repo", str(platform_kb), "--logs", str(logs), "--platform", "local"
    )
    assert code == 0, err
    assert_terminal_output_is_clean(out, err)
    # The log really carried what it should: a rejected line, a policy and a pattern drafted.
    assert f"{logs}:{3 * WORKFLOWS + 1}: 'ts' is not an RFC 3339 time" in err
    branches = proposal_branches(platform_kb)
    kinds = sorted({b.split("/")[1] for b in branches})
    assert kinds == ["create-pattern", "create-policy"], out
    assert all(BRANCH_NAME.match(b) for b in branches), branches
    assert leaked(" ".join(branches)) == []

    files = branch_files(platform_kb)
    assert any(path.endswith(".yaml") and "deliveryChannel" in text for path, text in files.items())
    drafted = {path: MASK_WORDS.findall(text) for path, text in files.items()}
    assert {path: words for path, words in drafted.items() if words} == {}
    state = state_files(platform_kb)
    everything = {
        "commits": commit_messages(platform_kb),
        **files,
        **without_quarantined_lines(state),
        "summary": summary.read_text(encoding="utf-8"),
    }
    assert {name: leaked(text) for name, text in everything.items() if leaked(text)} == {}
    # A commit message is printed by `git log` in CI too; a reason spanning lines could also
    # forge a trailer (Patternbot-Fingerprint) the bot reads back.
    assert command_lines(everything["commits"]) == []
    assert quarantine_reasons(state) == [
        "'ts' is not an RFC 3339 time: \"[REDACTED:github-token]\""
    ]

    markdown = {"summary": everything["summary"]}
    markdown |= {name: text for name, text in state.items() if name.endswith(".md")}
    for name, text in state.items():
        if "proposals" in name and name.endswith(".json"):
            record = json.loads(text)
            markdown[f"{name} body"] = record.get("body", "")
            markdown[f"{name} title"] = record.get("title", "")
            for number, comment in enumerate(record.get("comments", [])):
                markdown[f"{name} comment {number}"] = str(comment)
    assert "proposals/dashboard.md" in "".join(markdown), sorted(state)
    problems = {name: markdown_problems(text) for name, text in markdown.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_propose_suggest_and_metrics_json_leak_nothing(
    platform_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = write_hostile_logs(tmp_path / "logs" / "hostile.jsonl")
    for command in (
        ["suggest", "--json"],
        ["suggest"],
        ["metrics", "--json"],
        ["metrics"],
        ["propose", "--json"],
        ["propose", "--dry-run"],
    ):
        code, out, err = run_cli(
            capsys, command[0], "--repo", str(platform_kb), "--logs", str(logs), *command[1:]
        )
        assert code == 0, (command, err)
        assert_terminal_output_is_clean(out, err)
        if command == ["metrics"]:
            # The hostile id reached the tools (as an anomaly: it names nothing in the KB).
            assert f"anomaly: unknown_pattern {BAD_ID} in {WORKFLOWS} workflow(s)" in out
        if command == ["propose", "--json"]:
            data = json.loads(out)
            branches = [str(p["branch"]) for p in data["proposals"]]
            assert all(BRANCH_NAME.match(b) for b in branches), branches
            for proposal in data["proposals"]:
                for key in ("title", "body"):
                    assert markdown_problems(str(proposal.get(key) or "")) == [], (key, proposal)
    assert {n: leaked(t) for n, t in branch_files(platform_kb).items() if leaked(t)} == {}
    assert leaked(commit_messages(platform_kb)) == []


def test_propose_on_github_posts_nothing_secret_or_live(
    github_world: GitHubWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    monkeypatch.setenv("GITHUB_API_URL", github_world.api_url)
    monkeypatch.setenv("PATTERNBOT_PROPOSALS_MAX_NEW_PER_RUN", "10")
    monkeypatch.setenv("PATTERNBOT_PROPOSALS_DASHBOARD", "true")
    logs = write_hostile_logs(tmp_path / "logs" / "hostile.jsonl")
    code, out, err = run_cli(
        capsys, "propose", "--repo", str(github_world.clone), "--logs", str(logs)
    )
    assert code == 0, err
    assert_terminal_output_is_clean(out, err)
    standin = github_world.standin
    assert len(standin.pulls) == 4, out
    assert [issue["title"] for issue in standin.issues.values()] == ["patternbot dashboard"]
    assert_posted_text_is_clean(github_world)
    # A later run where the hostile convention is gone closes its pull request with a comment
    # (bodies and the dashboard are rewritten in place, so they are checked after each run).
    more = write_hostile_logs(tmp_path / "logs2" / "hostile.jsonl", 2 * WORKFLOWS, channel=False)
    code, out, err = run_cli(
        capsys, "propose", "--repo", str(github_world.clone), "--logs", str(more)
    )
    assert code == 0, err
    assert_terminal_output_is_clean(out, err)
    assert len(standin.pulls) == 5 and len(standin.comments[1]) == 1, out
    assert_posted_text_is_clean(github_world)
    pushed = subprocess.run(
        ["git", "log", "--all", "--format=%B"],
        cwd=github_world.bare,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert leaked(pushed) == []


def test_the_markdown_checker_sees_what_github_would_render() -> None:
    # The checker itself must be able to fail on each hostile input of issue 10 item 8.
    assert markdown_problems(f"intent {LINK}") != []
    assert markdown_problems(f"intent {IMAGE}") != []
    assert markdown_problems(f"id `{BAD_ID}`") != []
    assert markdown_problems("see https://evil.example now") != []
    assert markdown_problems("ping @acme/admins") != []
    from bot.platform.markdown import code, inert

    for text in (LINK, IMAGE, BAD_ID, "see https://evil.example", "@acme/admins", PLACEHOLDER):
        assert markdown_problems(f"x {inert(text)} y") == []
        assert markdown_problems(f"| a | {code(text)} |\n| - | - |\n| b | {inert(text)} |") == []


def test_redaction_masks_never_become_words_of_a_drafted_id() -> None:
    # Bug: intents with sk-ant-/AIza/glpat- keys drafted `anthropic-key-google-api-key-gitlab`.
    from bot.learning.phrases import clean_words

    text = (
        "nightly job [REDACTED:anthropic-key] [REDACTED:gitlab-token] password is [redacted:secret]"
    )
    assert clean_words(text) == ["nightly", "job", "password", "is"]


def test_a_reason_cannot_add_lines_or_trailers_to_a_commit_message() -> None:
    # Bug: a setting value with line breaks put `::error` lines into the commit message.
    from bot.platform.proposer import commit_message
    from tests.support.platform import create_policy_suggestion

    suggestion = create_policy_suggestion()
    reason = f"set x to a{WORKFLOW_COMMANDS}\nPatternbot-Fingerprint: forged"
    message = commit_message(suggestion.model_copy(update={"reason": reason}))
    assert message.splitlines() == [
        "patternbot: add policy require-pod-priority",
        "",
        "set x to a ::add-mask::x ::error title=pwned::x Patternbot-Fingerprint: forged",
        "",
        message.splitlines()[4],
        "",
        "Patternbot-Fingerprint: fp-policy-require-pod-priority",
    ]
