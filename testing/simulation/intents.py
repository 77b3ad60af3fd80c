"""What simulated users type: intents per pattern, gap families and one-off requests."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bot.knowledge.schema import Pattern

TEAMS = (
    "payments",
    "checkout",
    "search",
    "identity",
    "growth",
    "data-platform",
    "mobile-backend",
    "billing",
    "risk",
    "catalog",
    "notifications",
    "analytics",
)
ENVIRONMENTS = ("staging", "production", "our dev cluster", "the EU region", "prod")

COVERED_TEMPLATES = (
    "deploy {thing} for the {team} team",
    "I need to deploy {thing} for {team}",
    "set up {thing} in {env}",
    "we want to run {thing} on Kubernetes",
    "help me ship {thing} to {env}",
    "create the manifests for {thing}",
    "{team} needs {thing}, with the usual production setup",
    "can you deploy {thing} for the {team} squad?",
)

# Hand-written noun phrases for the repository's example knowledge base; other ids get phrases
# derived from their triggers and description.
EXAMPLE_THINGS: dict[str, tuple[str, ...]] = {
    "stateless-web-app": (
        "a stateless web frontend",
        "our checkout REST API",
        "a Node.js web app",
        "the customer portal",
        "a Django web application",
        "an HTTP microservice",
        "the marketing website backend",
        "a Go REST service",
    ),
    "stateful-database": (
        "a PostgreSQL database",
        "a MySQL instance with persistent storage",
        "a MongoDB replica set",
        "the orders database",
        "a stateful database with backups",
    ),
    "background-worker": (
        "a background worker that consumes jobs",
        "a Celery worker pool",
        "a queue consumer for image resizing",
        "an async task worker",
        "the email sending worker",
    ),
    "scheduled-batch-job": (
        "a nightly batch job",
        "a cron job that exports reports",
        "a scheduled data cleanup task",
        "an hourly ETL job",
        "a weekly billing run",
    ),
    "message-queue": (
        "a RabbitMQ message broker",
        "a Kafka cluster for events",
        "a NATS message queue",
    ),
    "cache-service": (
        "a Redis cache",
        "a Memcached cluster for session data",
        "an in-memory cache for the API",
        "a Redis cache in front of the catalog service",
    ),
    "monitoring-stack": (
        "Prometheus and Grafana monitoring",
        "a monitoring stack with alerting",
        "metrics collection and dashboards",
        "Prometheus with Alertmanager",
    ),
    "internal-grpc-service": (
        "an internal gRPC service",
        "a gRPC backend for the pricing engine",
        "a private gRPC microservice",
        "an internal protobuf API",
    ),
    "node-agent": (
        "a log shipper on every node",
        "a node-level metrics exporter",
        "a DaemonSet agent for security scanning",
    ),
    "public-api-gateway": (
        "a public API gateway",
        "an API gateway with rate limiting",
        "the external ingress for our public API",
        "an edge gateway with TLS",
    ),
}

# Intents that sound like the rarely used pattern's job (retrieval ranks it first) although people
# end up choosing something else.
NODE_LEVEL_INTENTS = (
    "collect logs from every node for the {team} team",
    "run a Fluent Bit agent on all nodes",
    "install a node exporter on each node in {env}",
    "put a security agent on every node",
    "gather host metrics from all nodes",
    "ship container logs from each node to our log store",
)

SCATTERED_INTENTS = (
    "why does my pod keep restarting",
    "rotate the TLS certificate for the staging ingress",
    "give the {team} team read access to the logs namespace",
    "clean up unused persistent volumes",
    "move our namespace to the new cluster",
    "set a resource quota for the sandbox namespace",
    "debug DNS resolution failures in {env}",
    "upgrade the ingress controller",
    "create a service account for the CI pipeline",
    "increase the memory limit of the search service",
    "make the dashboards load faster",
    "archive last year's audit logs",
)
SCATTERED_KINDS = (
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ResourceQuota",
    "Certificate",
    "Namespace",
    "ConfigMap",
)


@dataclass(frozen=True)
class GapFamily:
    """A recurring kind of request no pattern covers, and the resources its solutions share."""

    name: str
    templates: tuple[str, ...]
    subjects: tuple[str, ...]
    resources: tuple[str, ...]
    keywords: tuple[str, ...]  # words that, in a pattern's text, mean the family is not a gap there

    def intent(self, rng: random.Random, team: str) -> tuple[str, str]:
        """(intent text, subject) for one request of this family."""
        subject = rng.choice(self.subjects)
        text = rng.choice(self.templates).format(
            subject=subject, team=team, env=rng.choice(ENVIRONMENTS)
        )
        return text, subject


GAP_FAMILIES = (
    GapFamily(
        name="ml-inference",
        templates=(
            "serve our {subject} model behind an HTTP endpoint",
            "deploy a real-time inference API for the {subject} model",
            "host the {subject} model as a REST service with autoscaling",
            "expose the {subject} model for online predictions",
            "run a model server for {subject} inference",
            "I need an endpoint that returns {subject} predictions for the {team} team",
            "put the {subject} model into production as a scalable service",
            "set up online inference for the {subject} model, weights on a volume",
        ),
        subjects=(
            "fraud-detection",
            "churn-prediction",
            "product-recommendation",
            "image-classification",
            "sentiment-analysis",
            "demand-forecasting",
            "search-ranking",
            "spam-filter",
        ),
        resources=(
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PersistentVolumeClaim",
            "ConfigMap",
        ),
        keywords=("inference", "serving", "machine learning", "model server", "predictions"),
    ),
    GapFamily(
        name="video-transcoding",
        templates=(
            "transcode uploaded {subject} videos into streaming formats",
            "run a video transcoding pipeline for {subject} uploads",
            "convert {subject} recordings to HLS for the {team} team",
            "process incoming {subject} videos with ffmpeg in batches",
            "set up a transcoding queue for {subject} clips in {env}",
        ),
        subjects=("lecture", "webinar", "user", "marketing", "support-call", "product-demo"),
        resources=("Job", "PersistentVolumeClaim", "ConfigMap", "Secret"),
        keywords=("transcod", "video", "ffmpeg", "hls"),
    ),
    GapFamily(
        name="game-server",
        templates=(
            "host dedicated {subject} game servers",
            "run multiplayer {subject} match servers for the {team} team",
            "deploy game server instances for {subject} with sticky sessions",
            "scale {subject} game rooms in {env}",
        ),
        subjects=("racing", "puzzle", "battle-arena", "card", "strategy"),
        resources=("StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget"),
        keywords=("game", "multiplayer", "match server"),
    ),
)


def _words(item_id: str) -> str:
    return item_id.replace("-", " ").replace("_", " ")


def _first_clause(text: str, limit: int = 90) -> str:
    clause = re.split(r"(?<=[.;:])\s", text.strip(), maxsplit=1)[0].rstrip(".;:")
    if len(clause) > limit:
        clause = clause[:limit].rsplit(" ", 1)[0]
    return clause


def things_for(pattern: Pattern) -> tuple[str, ...]:
    """Noun phrases a user might use for what `pattern` deploys."""
    if pattern.id in EXAMPLE_THINGS:
        return EXAMPLE_THINGS[pattern.id]
    phrases = [f"a {trigger}" for trigger in pattern.triggers[:6]]
    phrases.append(_words(pattern.id))
    phrases.append(f"{_words(pattern.id)} ({_first_clause(pattern.description)})")
    return tuple(phrases)


def covered_intent(rng: random.Random, things: tuple[str, ...], team: str) -> str:
    """One request for something a pattern covers, phrased in one of several ways."""
    template = rng.choice(COVERED_TEMPLATES)
    return template.format(thing=rng.choice(things), team=team, env=rng.choice(ENVIRONMENTS))


def node_level_intent(rng: random.Random, team: str) -> str:
    """A request that sounds like a node agent's job."""
    return rng.choice(NODE_LEVEL_INTENTS).format(team=team, env=rng.choice(ENVIRONMENTS))


def scattered_intent(rng: random.Random, team: str) -> str:
    """A one-off request with no recurring theme (weak matches that are not a gap)."""
    return rng.choice(SCATTERED_INTENTS).format(team=team, env=rng.choice(ENVIRONMENTS))


def gap_family_for(patterns: list[Pattern]) -> GapFamily:
    """The first gap family none of `patterns` mentions, so the planted gap is a real gap."""
    texts = [pattern.retrieval_text().lower() for pattern in patterns]
    for family in GAP_FAMILIES:
        if not any(keyword in text for keyword in family.keywords for text in texts):
            return family
    return GAP_FAMILIES[-1]
