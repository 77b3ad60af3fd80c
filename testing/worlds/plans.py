"""The evaluation worlds: which real charts and policy texts play which role.

Neither world was used to calibrate the learning engine (its defaults were measured on the
calibration simulator, testing.simulation). Each draws on different corpus files:

- charts: patterns from bitnami Helm charts (charts.jsonl), policies from the dot-ai policy intents
  (dotai_examples.jsonl), gaps paraphrased from held-out charts' descriptions and keywords.
- kyverno: policies are real Kyverno policy texts (kyverno_policies.jsonl, title + description,
  no settings map), patterns from other bitnami and prometheus-community charts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from testing.worlds import corpus
from testing.worlds.build import (
    GapPlan,
    SettingPlan,
    WorldPlan,
    build_world,
    dotai_policy,
    kyverno_policy,
)
from testing.worlds.model import Burst, World

POD = "spec.template.spec"
CONTAINER = f"{POD}.containers[0]"
CLUSTERS_A = (("dev", 0.24), ("staging", 0.21), ("prod-us", 0.29), ("prod-eu", 0.26))
CLUSTERS_B = (("dev", 0.3), ("staging", 0.18), ("prod-us", 0.34), ("prod-eu", 0.18))


def _dotai_policies(folder: Path) -> tuple[dict[str, object], ...]:
    """Three distinct dot-ai policy intents (resource limits, non-root, replica count)."""
    wanted = (
        ("resource starvation", "container-resource-limits"),
        ("run as non-root", "containers-run-as-non-root"),
        ("replica count", "deployment-replica-count"),
    )
    intents = corpus.dotai_policy_intents(folder)
    found = []
    for marker, item_id in wanted:
        record = next((r for r in intents if marker in str(r.get("description", ""))), None)
        if record is None:
            raise corpus.CorpusMissing(f"no dot-ai policy intent mentions {marker!r}")
        found.append(dotai_policy(record, item_id))
    return tuple(found)


def charts_plan(folder: Path) -> WorldPlan:
    return WorldPlan(
        name="charts",
        description="patterns from bitnami Helm charts, policies from dot-ai policy intents",
        patterns=(
            "kong",
            "wordpress",
            "mariadb",
            "postgresql",
            "redis",
            "memcached",
            "tomcat",
            "odoo",
            "mongodb",
            "apache",
            "nginx",
            "grafana",
            "prometheus",
            "moodle",
            "keycloak",
            "minio",
            "jenkins",
            "harbor",
        ),
        partner=("kong", "wordpress", "HorizontalPodAutoscaler"),
        partner_share=0.85,
        addition=("mariadb", "NetworkPolicy", 0.9),
        cluster_addition=("redis", "PodDisruptionBudget", "prod-eu", 0.92),
        recent_kind=("postgresql", "VerticalPodAutoscaler", 67.0),
        noise=(("memcached", "PodDisruptionBudget", 0.2), ("tomcat", "Ingress", 0.17)),
        tiny=("odoo", "CronJob", 4),
        failing=(
            "mongodb",
            0.32,
            "MongoServerSelectionError: connect ECONNREFUSED {ip}:27017 "
            "(replica set rs0 has no primary)",
            "MongoServerSelectionError",
            0.78,
        ),
        rarely=(
            "apache",
            "nginx",
            (
                "an Apache HTTP server for our legacy site",
                "serve static files with an HTTP server for {team}",
                "an httpd web server with mod_rewrite in {env}",
                "host the {team} docs site on an Apache web server",
            ),
        ),
        duplicate=(
            "grafana",
            "prometheus",
            "grafana-prometheus-monitoring",
            "Grafana dashboards on top of a Prometheus monitoring system and time series database",
        ),
        covered_worded=(
            "moodle",
            (
                "a place to run online courses for our academy",
                "an e-learning portal where employees take training modules",
                "a learning management system for onboarding classes",
                "course pages and quizzes for the internal university",
            ),
        ),
        filled_gap=(
            "sonarqube",
            (
                "measure the technical quality of our code",
                "detect code issues, bugs and vulnerabilities early",
                "static analysis and code review reports for every repository",
                "a code quality platform for the {team} team",
            ),
        ),
        gaps=(
            GapPlan(
                name="messaging",
                charts=("kafka", "rabbitmq", "nats"),
                phrases=(
                    "a message broker for order events",
                    "a durable queue between services",
                    "event streaming for clickstream data",
                    "pub-sub messaging between our microservices",
                ),
                kinds=(
                    ("StatefulSet", 0.95),
                    ("Service", 0.94),
                    ("Secret", 0.9),
                    ("ConfigMap", 0.87),
                    ("PodDisruptionBudget", 0.88),
                ),
                noise=(("NetworkPolicy", 0.2),),
            ),
            GapPlan(
                name="ml",
                charts=("pytorch", "mlflow", "tensorflow-resnet"),
                phrases=(
                    "serve our fraud model for online predictions",
                    "a model server for real-time inference",
                    "track machine learning experiments and deploy models",
                    "a GPU notebook to train deep learning models",
                ),
                kinds=(
                    ("Deployment", 0.95),
                    ("Service", 0.9),
                    ("PersistentVolumeClaim", 0.88),
                    ("ConfigMap", 0.87),
                ),
                noise=(("ServiceMonitor", 0.18),),
            ),
        ),
        policies=_dotai_policies(folder),
        settings=(
            SettingPlan(
                "memory-limits",
                f"{CONTAINER}.resources.limits.memory",
                ("256Mi", "512Mi", "1Gi", "2Gi"),
                0.91,
                "container-resource-limits",
            ),
            SettingPlan(
                "cpu-limits",
                f"{CONTAINER}.resources.limits.cpu",
                ("250m", "500m", "1"),
                0.9,
                "container-resource-limits",
            ),
            SettingPlan(
                "run-as-non-root",
                f"{POD}.securityContext.runAsNonRoot",
                (True,),
                0.89,
                "containers-run-as-non-root",
            ),
            SettingPlan(
                "replicas", "spec.replicas", (2, 3, 3, 4), 0.93, "deployment-replica-count"
            ),
            SettingPlan(
                "seccomp", f"{POD}.securityContext.seccompProfile.type", ("RuntimeDefault",), 0.87
            ),
            SettingPlan(
                "read-only-root",
                f"{CONTAINER}.securityContext.readOnlyRootFilesystem",
                (True,),
                0.9,
            ),
            SettingPlan(
                "pull-policy", f"{CONTAINER}.imagePullPolicy", ("IfNotPresent",), 0.2, noise=True
            ),
            SettingPlan(
                "privilege-escalation",
                f"{CONTAINER}.securityContext.allowPrivilegeEscalation",
                (False,),
                0.97,
                until_day=77.0,
            ),
        ),
        burst=Burst(
            41.0, 1.5, 0.6, "etcdserver: request timed out, possibly due to leader change ({pod})"
        ),
        background=("keycloak", "minio", "jenkins", "harbor"),
        clusters=CLUSTERS_A,
        sources={
            "charts.jsonl": "patterns (description, keywords, default-on kinds); gap intents",
            "dotai_examples.jsonl": "policy intents (description, triggers, rationale)",
        },
    )


def kyverno_plan(folder: Path) -> WorldPlan:
    records = corpus.kyverno_policies(folder)
    names = (
        "require-run-as-nonroot",
        "require-run-as-non-root-user",
        "require-ro-rootfs",
        "require-pod-probes",
        "require-requests-limits",
        "disallow-privilege-escalation",
        "disallow-latest-tag",
        "disallow-privileged-containers",
        "disallow-host-namespaces",
        "disallow-host-path",
        "restrict-image-registries",
        "require-labels",
        "restrict-nodeport",
        "disallow-default-namespace",
        "restrict-apparmor-profiles",
        "add-networkpolicy",
        "disallow-empty-ingress-host",
    )
    missing = [name for name in names if name not in records]
    if missing:
        raise corpus.CorpusMissing(f"Kyverno policies missing from the corpus: {missing}")
    return WorldPlan(
        name="kyverno",
        description="policies are real Kyverno policy texts, patterns from other Helm charts",
        patterns=(
            "haproxy",
            "drupal",
            "rabbitmq",
            "kafka",
            "zookeeper",
            "etcd",
            "matomo",
            "cassandra",
            "fluentd",
            "logstash",
            "prometheus",
            "alertmanager",
            "gitea",
            "valkey",
            "influxdb",
            "sonarqube",
            "superset",
            "harbor",
        ),
        partner=("haproxy", "drupal", "PodDisruptionBudget"),
        partner_share=0.88,
        addition=("rabbitmq", "NetworkPolicy", 0.88),
        cluster_addition=("kafka", "PodDisruptionBudget", "prod-us", 0.9),
        recent_kind=None,
        noise=(("zookeeper", "ServiceMonitor", 0.22), ("etcd", "HorizontalPodAutoscaler", 0.16)),
        tiny=("matomo", "CronJob", 4),
        failing=(
            "cassandra",
            0.3,
            "NoHostAvailable: node {ip}:9042 cannot achieve consistency level QUORUM",
            "NoHostAvailable",
            0.8,
        ),
        rarely=(
            "fluentd",
            "logstash",
            (
                "collect logs from every node for the {team} team",
                "a log collector that forwards container logs",
                "gather application logs and ship them to our log store",
                "route logs from all pods to the search cluster in {env}",
            ),
        ),
        duplicate=(
            "prometheus",
            "alertmanager",
            "prometheus-alerting",
            "Prometheus monitoring with Alertmanager handling the alerts it sends",
        ),
        covered_worded=(
            "gitea",
            (
                "a self-hosted place for our git repositories",
                "host source code and pull requests inside the cluster",
                "our own GitHub-like code hosting",
                "a private git server for the {team} team",
            ),
        ),
        filled_gap=(
            "harbor",
            (
                "a container image registry that scans for vulnerabilities",
                "a trusted registry to store and sign our docker images",
                "our own cloud-native image registry",
                "a place to push images with vulnerability scanning",
            ),
        ),
        gaps=(
            GapPlan(
                name="search",
                charts=("elasticsearch", "opensearch", "solr"),
                phrases=(
                    "full-text search over our product catalogue",
                    "an index to search support tickets",
                    "a search cluster for log analytics",
                    "search-as-you-type for the help center",
                ),
                kinds=(
                    ("StatefulSet", 0.96),
                    ("Service", 0.93),
                    ("ConfigMap", 0.9),
                    ("PersistentVolumeClaim", 0.89),
                    ("PodDisruptionBudget", 0.86),
                ),
                noise=(("ServiceMonitor", 0.21),),
            ),
            GapPlan(
                name="ci",
                charts=("concourse", "gitlab-runner", "argo-workflows"),
                phrases=(
                    "build runners for our pipelines",
                    "run CI jobs for every pull request",
                    "a continuous integration server for the monorepo",
                    "execute our test pipelines on Kubernetes",
                ),
                kinds=(
                    ("Deployment", 0.94),
                    ("Secret", 0.92),
                    ("ServiceAccount", 0.9),
                    ("RoleBinding", 0.88),
                    ("ConfigMap", 0.87),
                ),
                noise=(("PersistentVolumeClaim", 0.19),),
            ),
        ),
        policies=tuple(kyverno_policy(records[name]) for name in names),
        settings=(
            SettingPlan(
                "run-as-non-root",
                f"{POD}.securityContext.runAsNonRoot",
                (True,),
                0.9,
                "require-run-as-nonroot",
            ),
            SettingPlan(
                "read-only-root",
                f"{CONTAINER}.securityContext.readOnlyRootFilesystem",
                (True,),
                0.88,
                "require-ro-rootfs",
            ),
            SettingPlan(
                "readiness-probe",
                f"{CONTAINER}.readinessProbe.httpGet.path",
                ("/ready",),
                0.9,
                "require-pod-probes",
            ),
            SettingPlan(
                "memory-limits",
                f"{CONTAINER}.resources.limits.memory",
                ("128Mi", "256Mi", "512Mi", "1Gi"),
                0.92,
                "require-requests-limits",
            ),
            SettingPlan(
                "privilege-escalation",
                f"{CONTAINER}.securityContext.allowPrivilegeEscalation",
                (False,),
                0.88,
                "disallow-privilege-escalation",
            ),
            SettingPlan(
                "drop-all-capabilities",
                f"{CONTAINER}.securityContext.capabilities.drop[0]",
                ("ALL",),
                0.9,
            ),
            SettingPlan(
                "seccomp", f"{POD}.securityContext.seccompProfile.type", ("RuntimeDefault",), 0.86
            ),
            SettingPlan(
                "termination-grace", f"{POD}.terminationGracePeriodSeconds", (30, 45, 60, 90), 0.91
            ),
            SettingPlan(
                "automount-token",
                f"{POD}.automountServiceAccountToken",
                (False,),
                0.96,
                since_day=68.0,
            ),
            SettingPlan(
                "pull-policy", f"{CONTAINER}.imagePullPolicy", ("Always",), 0.18, noise=True
            ),
            SettingPlan(
                "istio-injection",
                "spec.template.metadata.annotations.sidecar.istio.io/inject",
                ("true",),
                0.97,
                until_day=76.0,
            ),
        ),
        burst=Burst(
            55.0,
            1.0,
            0.65,
            'Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": '
            'Post "https://kyverno-svc.kyverno.svc:443/validate": context deadline exceeded',
        ),
        background=("valkey", "influxdb", "sonarqube", "superset"),
        clusters=CLUSTERS_B,
        sources={
            "kyverno_policies.jsonl": "policies (title, description, subject kinds)",
            "charts.jsonl": "patterns (description, keywords, default-on kinds); gap intents",
        },
    )


def holdout_plan(folder: Path) -> WorldPlan:
    """A world kept from the engine's owners during development: measured only for the docs.

    Policies are other Kyverno texts than the kyverno world's, and the covered and uncovered
    settings are swapped: dropping ALL capabilities and seccomp are governed here,
    run-as-non-root and a read-only root filesystem are not (with look-alike policies about
    root groups and read-only hostPath volumes in the knowledge base).
    """
    records = corpus.kyverno_policies(folder)
    names = (
        "drop-all-capabilities",
        "restrict-seccomp-strict",
        "imagepullpolicy-always",
        "topologyspreadconstraints-policy",
        "require-pod-priorityclassname",
        "require-non-root-groups",
        "ensure-readonly-hostpath",
        "deployment-has-multiple-replicas",
        "disallow-latest-tag",
        "restrict-image-registries",
        "check-hpa-exists",
        "restrict-nodeport",
    )
    missing = [name for name in names if name not in records]
    if missing:
        raise corpus.CorpusMissing(f"Kyverno policies missing from the corpus: {missing}")
    return WorldPlan(
        name="holdout",
        description="observability charts with other Kyverno texts; never shown while tuning",
        patterns=(
            "oauth2-proxy",
            "jaeger",
            "thanos",
            "prometheus-pushgateway",
            "kube-state-metrics",
            "prometheus-redis-exporter",
            "zipkin",
            "sealed-secrets",
            "grafana-tempo",
            "cadvisor",
            "node-exporter",
            "grafana-loki",
            "fluent-bit",
            "external-dns",
            "metallb",
            "victoriametrics",
            "grafana-mimir",
            "prometheus-blackbox-exporter",
            "prometheus-postgres-exporter",
        ),
        partner=("oauth2-proxy", "jaeger", "Ingress"),
        partner_share=0.86,
        addition=("thanos", "PodDisruptionBudget", 0.89),
        cluster_addition=("prometheus-pushgateway", "NetworkPolicy", "staging", 0.91),
        recent_kind=("kube-state-metrics", "ServiceMonitor", 69.0),
        noise=(
            ("prometheus-redis-exporter", "Secret", 0.19),
            ("zipkin", "HorizontalPodAutoscaler", 0.24),
        ),
        tiny=("sealed-secrets", "CronJob", 4),
        failing=(
            "grafana-tempo",
            0.33,
            "failed to flush block: context deadline exceeded writing to s3://tempo-traces-{id}",
            "failed to flush block",
            0.77,
        ),
        rarely=(
            "cadvisor",
            "node-exporter",
            (
                "container CPU and memory metrics from every node",
                "collect per-container resource usage on all nodes in {env}",
                "monitor running containers on each node for the {team} team",
                "a daemon that exports container stats",
            ),
        ),
        duplicate=(
            "grafana-loki",
            "fluent-bit",
            "loki-logging-stack",
            "Grafana Loki log aggregation with Fluent Bit gathering and sending the logs",
        ),
        covered_worded=(
            "external-dns",
            (
                "keep our DNS records in sync with the services we expose",
                "publish ingress hostnames to Route53 automatically",
                "create DNS entries when a new service goes live",
                "manage public DNS names for the {team} team's endpoints",
            ),
        ),
        filled_gap=(
            "metallb",
            (
                "a load balancer for our bare metal cluster",
                "give services external IPs on premises with BGP",
                "LoadBalancer services without a cloud provider",
                "announce service IPs over ARP in the data center",
            ),
        ),
        gaps=(
            GapPlan(
                name="data-pipelines",
                charts=("airflow", "spark", "flink"),
                phrases=(
                    "schedule our nightly ETL pipelines as DAGs",
                    "run large batch data processing jobs",
                    "stream processing over the clickstream events",
                    "orchestrate data workflows for the {team} team",
                ),
                kinds=(
                    ("Deployment", 0.93),
                    ("StatefulSet", 0.9),
                    ("Service", 0.95),
                    ("ConfigMap", 0.88),
                    ("Secret", 0.86),
                ),
                noise=(("Job", 0.2),),
            ),
            GapPlan(
                name="graph-db",
                charts=("janusgraph", "neo4j"),
                phrases=(
                    "a graph database for our recommendation engine",
                    "store relationships between customers and products as a graph",
                    "query connected data with Cypher",
                    "a knowledge graph for the {team} team",
                ),
                kinds=(
                    ("StatefulSet", 0.94),
                    ("Service", 0.93),
                    ("PersistentVolumeClaim", 0.91),
                    ("Secret", 0.87),
                ),
                noise=(("ServiceMonitor", 0.22),),
            ),
        ),
        policies=tuple(kyverno_policy(records[name]) for name in names),
        settings=(
            SettingPlan(
                "drop-all-capabilities",
                f"{CONTAINER}.securityContext.capabilities.drop[0]",
                ("ALL",),
                0.9,
                "drop-all-capabilities",
            ),
            SettingPlan(
                "seccomp",
                f"{POD}.securityContext.seccompProfile.type",
                ("RuntimeDefault",),
                0.88,
                "restrict-seccomp-strict",
            ),
            SettingPlan(
                "pull-always",
                f"{CONTAINER}.imagePullPolicy",
                ("Always",),
                0.9,
                "imagepullpolicy-always",
            ),
            SettingPlan(
                "zone-spread",
                f"{POD}.topologySpreadConstraints[0].topologyKey",
                ("topology.kubernetes.io/zone",),
                0.87,
                "topologyspreadconstraints-policy",
            ),
            SettingPlan(
                "priority-class",
                f"{POD}.priorityClassName",
                ("standard", "critical", "batch"),
                0.9,
                "require-pod-priorityclassname",
            ),
            SettingPlan(
                "replicas", "spec.replicas", (2, 3, 4), 0.92, "deployment-has-multiple-replicas"
            ),
            SettingPlan("run-as-non-root", f"{POD}.securityContext.runAsNonRoot", (True,), 0.88),
            SettingPlan(
                "read-only-root",
                f"{CONTAINER}.securityContext.readOnlyRootFilesystem",
                (True,),
                0.9,
            ),
            SettingPlan(
                "memory-requests",
                f"{CONTAINER}.resources.requests.memory",
                ("64Mi", "128Mi", "256Mi", "512Mi"),
                0.9,
            ),
            SettingPlan("dns-policy", f"{POD}.dnsPolicy", ("ClusterFirst",), 0.21, noise=True),
            SettingPlan(
                "scrape-annotation",
                "spec.template.metadata.annotations.prometheus.io/scrape",
                ("true",),
                0.97,
                until_day=75.0,
            ),
        ),
        burst=Burst(
            30.0, 1.0, 0.6, "dial tcp {ip}:443: i/o timeout (cloud provider API unavailable)"
        ),
        background=(
            "victoriametrics",
            "grafana-mimir",
            "prometheus-blackbox-exporter",
            "prometheus-postgres-exporter",
        ),
        clusters=(("dev", 0.2), ("staging", 0.25), ("prod-us", 0.25), ("prod-eu", 0.3)),
        sources={
            "kyverno_policies.jsonl": "policies (title, description, subject kinds)",
            "charts.jsonl": "patterns and gap intents (bitnami, prometheus-community, grafana)",
        },
    )


PLANS: dict[str, Callable[[Path], WorldPlan]] = {
    "charts": charts_plan,
    "kyverno": kyverno_plan,
    "holdout": holdout_plan,
}
WORLD_NAMES = tuple(PLANS)
# Worlds whose results go to the engine's owners while they work; the holdout's do not.
DEVELOPMENT_WORLDS = ("charts", "kyverno")


def load_world(name: str, folder: Path | None = None) -> World:
    """The named world built from the corpus (CorpusMissing when the corpus is absent)."""
    if name not in PLANS:
        raise ValueError(f"unknown world {name!r}; known: {', '.join(WORLD_NAMES)}")
    found = corpus.corpus_dir(folder)
    return build_world(PLANS[name](found), found)
