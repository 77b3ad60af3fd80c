"""A knowledge base of any size for benchmarks, built from the evaluation corpus or built-in charts.

The corpus (charts.jsonl and kyverno_policies.jsonl, see its README) is read at run time from a path
argument and never copied into the repository. Without it, a small built-in chart list is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.errors import UsageError
from bot.knowledge.kinds import kind_problem
from bot.knowledge.schema import Pattern, Policy
from bot.yamlfile import dump_text
from testing.simulation.scenario import NON_ROOT_PATH, NON_ROOT_VALUE

CREATED_AT = "2026-10-01"
CREATED_BY = "simulation"
MAX_POLICIES = 24


@dataclass(frozen=True)
class Chart:
    """What a pattern is made from: a Helm chart's name, description, keywords and default kinds."""

    name: str
    description: str
    keywords: tuple[str, ...]
    kinds: tuple[str, ...]
    source: str


BUILT_IN_CHARTS = (
    Chart(
        "nginx",
        "NGINX web server and reverse proxy",
        ("web server", "reverse proxy", "http"),
        ("Deployment", "Service", "ConfigMap", "Ingress"),
        "built-in",
    ),
    Chart(
        "postgresql",
        "PostgreSQL relational database with persistent storage",
        ("database", "sql", "postgres"),
        ("StatefulSet", "Service", "Secret", "PersistentVolumeClaim"),
        "built-in",
    ),
    Chart(
        "redis",
        "Redis in-memory key-value store used as a cache",
        ("cache", "key value", "redis"),
        ("StatefulSet", "Service", "ConfigMap"),
        "built-in",
    ),
    Chart(
        "rabbitmq",
        "RabbitMQ message broker",
        ("message queue", "amqp", "broker"),
        ("StatefulSet", "Service", "Secret", "ConfigMap"),
        "built-in",
    ),
    Chart(
        "fluent-bit",
        "Fluent Bit log processor running on every node",
        ("logging", "log shipper", "daemonset"),
        ("DaemonSet", "ConfigMap", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"),
        "built-in",
    ),
    Chart(
        "prometheus",
        "Prometheus monitoring system and time series database",
        ("monitoring", "metrics", "alerting"),
        ("Deployment", "Service", "ConfigMap", "ServiceAccount", "PersistentVolumeClaim"),
        "built-in",
    ),
    Chart(
        "grafana",
        "Grafana dashboards for metrics and logs",
        ("dashboards", "visualization"),
        ("Deployment", "Service", "ConfigMap", "Secret"),
        "built-in",
    ),
    Chart(
        "keycloak",
        "Keycloak identity and access management server",
        ("sso", "identity", "oauth"),
        ("StatefulSet", "Service", "Secret", "Ingress"),
        "built-in",
    ),
    Chart(
        "minio",
        "MinIO S3-compatible object storage",
        ("object storage", "s3"),
        ("Deployment", "Service", "Secret", "PersistentVolumeClaim"),
        "built-in",
    ),
    Chart(
        "cronjob-runner",
        "Scheduled batch jobs on a cron schedule",
        ("cron", "batch", "scheduled job"),
        ("CronJob", "ConfigMap", "ServiceAccount"),
        "built-in",
    ),
    Chart(
        "celery-worker",
        "Background task workers consuming a queue",
        ("worker", "background jobs", "celery"),
        ("Deployment", "ConfigMap", "Secret"),
        "built-in",
    ),
    Chart(
        "envoy-gateway",
        "Envoy API gateway for public traffic",
        ("api gateway", "ingress", "edge proxy"),
        ("Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler"),
        "built-in",
    ),
)

BUILT_IN_POLICIES = (
    (
        "require-run-as-nonroot",
        "Require runAsNonRoot",
        "Containers must run as a non-root user.",
        ("Pod",),
    ),
    (
        "require-requests-limits",
        "Require Limits and Requests",
        "Every container declares CPU and memory requests and limits.",
        ("Pod",),
    ),
    (
        "disallow-latest-tag",
        "Disallow Latest Tag",
        "Images must use a pinned tag, never latest.",
        ("Pod",),
    ),
    (
        "require-pod-probes",
        "Require Pod Probes",
        "Containers declare liveness and readiness probes.",
        ("Pod",),
    ),
    (
        "disallow-privileged-containers",
        "Disallow Privileged Containers",
        "Privileged mode is not allowed.",
        ("Pod",),
    ),
)

# Variants make more patterns than there are charts: (suffix, label, kinds added, kinds removed).
_VARIANTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("ha", "high availability", ("PodDisruptionBudget", "HorizontalPodAutoscaler"), ()),
    ("secure", "locked-down network", ("NetworkPolicy",), ()),
    ("edge", "internet-facing", ("Ingress",), ()),
    ("internal", "cluster-internal", (), ("Ingress",)),
    ("observed", "with monitoring", ("ServiceMonitor",), ()),
    ("minimal", "minimal", (), ("ConfigMap", "Secret", "ServiceAccount", "NetworkPolicy")),
)
# Policies about the simulated seccomp setting are left out so the
# planted common configuration stays uncovered.
_SECCOMP_WORDS = ("seccomp",)


def _valid_kinds(kinds: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(kind for kind in kinds if kind_problem(kind) is None))


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read the corpus file {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not JSON: {exc.msg}") from exc
        if isinstance(record, dict):
            yield record


def corpus_charts(corpus_dir: Path) -> list[Chart]:
    """The usable application charts of charts.jsonl, in file order, with their default-on kinds."""
    charts = []
    seen: set[str] = set()
    for record in _read_jsonl(corpus_dir / "charts.jsonl"):
        if record.get("type") == "library":
            continue
        kinds = _valid_kinds(
            list(record.get("kinds_default_on") or record.get("kinds_unconditional") or [])
        )
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(record.get("chart", ""))).strip("-")
        description = " ".join(str(record.get("description") or "").split())
        if not kinds or not name or not description:
            continue
        if name in seen:
            name = f"{name}-{str(record.get('source', 'other')).split('/')[0]}"
        seen.add(name)
        keywords = tuple(str(word) for word in record.get("keywords") or [] if str(word).strip())
        charts.append(Chart(name, description, keywords, kinds, str(record.get("source", ""))))
    return charts


def _chart_pattern(
    chart: Chart, variant: tuple[str, str, tuple[str, ...], tuple[str, ...]] | None
) -> dict[str, Any]:
    kinds = list(chart.kinds)
    item_id, description = chart.name, chart.description
    triggers = list(chart.keywords[:6]) or [chart.name.replace("-", " ")]
    if variant is not None:
        suffix, label, added, removed = variant
        kinds = [kind for kind in kinds if kind not in removed] or list(chart.kinds[:1])
        kinds.extend(kind for kind in added if kind not in kinds)
        item_id = f"{chart.name}-{suffix}"
        description = f"{description} ({label} variant)"
        triggers = [f"{label} {trigger}" for trigger in triggers[:3]]
    return {
        "id": item_id,
        "description": description,
        "triggers": triggers,
        "suggestedResources": kinds,
        "rationale": f"What the {chart.source} chart {chart.name} creates with its default values.",
        "createdAt": CREATED_AT,
        "createdBy": CREATED_BY,
    }


def _patterns(charts: list[Chart], count: int) -> Iterator[dict[str, Any]]:
    made = 0
    seen: set[str] = set()
    kinds_of_round: list[tuple[str, str, tuple[str, ...], tuple[str, ...]] | None] = [
        None,
        *_VARIANTS,
    ]
    for number in range(10_000):
        base, cycle = kinds_of_round[number % len(kinds_of_round)], number // len(kinds_of_round)
        if cycle == 0:
            variant = base
        elif base is None:
            variant = (f"v{cycle + 1}", f"generation {cycle + 1}", (), ())
        else:
            variant = (f"{base[0]}{cycle + 1}", *base[1:])
        for chart in charts:
            if made == count:
                return
            data = _chart_pattern(chart, variant)
            if data["id"] in seen:
                continue
            try:
                Pattern.model_validate(data)
            except ValidationError:
                continue
            made += 1
            seen.add(data["id"])
            yield data


def corpus_policies(corpus_dir: Path) -> list[dict[str, Any]]:
    """Policy items from distinct classic Kyverno best-practice and pod-security policies."""
    policies: dict[str, dict[str, Any]] = {}
    for record in _read_jsonl(corpus_dir / "kyverno_policies.jsonl"):
        name = str(record.get("name") or "")
        if record.get("folder") not in ("best-practices", "pod-security") or name in policies:
            continue
        title, text = str(record.get("title") or ""), str(record.get("description") or "")
        if (
            not title
            or not text
            or any(word in (name + title + text).lower() for word in _SECCOMP_WORDS)
        ):
            continue
        applies = _valid_kinds([str(kind).strip() for kind in record.get("subject_kinds") or []])
        policies[name] = _policy_data(name, title, text, applies)
    ordered = [policies[name] for name in sorted(policies)][:MAX_POLICIES]
    if not any(NON_ROOT_PATH in policy.get("settings", {}) for policy in ordered):
        ordered.append(_policy_data(*BUILT_IN_POLICIES[0]))
    return ordered


def _policy_data(name: str, title: str, text: str, applies: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": name,
        "description": title,
        "triggers": [title.lower()],
        "rationale": text,
        "createdAt": CREATED_AT,
        "createdBy": CREATED_BY,
    }
    if applies:
        data["appliesTo"] = list(applies)
    if name == "require-run-as-nonroot":
        data["settings"] = {NON_ROOT_PATH: NON_ROOT_VALUE}
    return Policy.model_validate(data).to_data()


def generate_knowledge_base(
    corpus_dir: Path | None,
    n_patterns: int,
    out_dir: Path,
    *,
    patterns_dir: str = "patterns",
    policies_dir: str = "policies",
) -> tuple[int, int]:
    """Write `n_patterns` patterns and some policies as YAML under `out_dir`; returns the counts.

    Patterns come from the corpus's Helm charts (built-in charts without a corpus), with variants
    when more patterns are asked for than there are charts.
    """
    if n_patterns < 1:
        raise UsageError(f"--patterns must be at least 1, not {n_patterns}")
    for folder in (patterns_dir, policies_dir):
        existing = sorted((out_dir / folder).glob("*.y*ml")) if (out_dir / folder).is_dir() else []
        if existing:
            raise UsageError(
                f"{out_dir / folder} already holds {existing[0].name}; "
                "generate into an empty repository"
            )
    charts = corpus_charts(corpus_dir) if corpus_dir is not None else list(BUILT_IN_CHARTS)
    if not charts:
        raise UsageError(f"no usable chart in {corpus_dir}")
    patterns = list(_patterns(charts, n_patterns))
    if corpus_dir is not None:
        policies = corpus_policies(corpus_dir)
    else:
        policies = [_policy_data(*entry) for entry in BUILT_IN_POLICIES]
    for folder, items in ((patterns_dir, patterns), (policies_dir, policies)):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        for data in items:
            (out_dir / folder / f"{data['id']}.yaml").write_text(dump_text(data), encoding="utf-8")
    return len(patterns), len(policies)
