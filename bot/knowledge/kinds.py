"""Kubernetes resource kind names: which spellings are kinds, and what a near miss meant."""

from __future__ import annotations

import difflib
import re

# Built-in kinds of a current Kubernetes release plus the CRD kinds common in deployment patterns.
KNOWN_KINDS: frozenset[str] = frozenset(
    {
        # core/v1
        "Binding", "ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace", "Node",
        "PersistentVolume", "PersistentVolumeClaim", "Pod", "PodTemplate", "ReplicationController",
        "ResourceQuota", "Secret", "Service", "ServiceAccount",
        # apps, batch, autoscaling, policy
        "ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet",
        "CronJob", "Job", "HorizontalPodAutoscaler", "PodDisruptionBudget",
        # networking, discovery, gateway API
        "Ingress", "IngressClass", "NetworkPolicy", "EndpointSlice", "Gateway", "GatewayClass",
        "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute", "ReferenceGrant",
        # rbac, storage, scheduling, admission, node, coordination
        "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "StorageClass",
        "VolumeAttachment", "CSIDriver", "CSINode", "CSIStorageCapacity", "VolumeSnapshot",
        "VolumeSnapshotClass", "PriorityClass", "RuntimeClass", "Lease",
        "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        "CustomResourceDefinition", "APIService", "CertificateSigningRequest", "FlowSchema",
        "PriorityLevelConfiguration",
        # common CRDs: autoscaling, monitoring, certificates, secrets, policy engines, mesh
        "VerticalPodAutoscaler", "ScaledObject", "ScaledJob", "ServiceMonitor", "PodMonitor",
        "PrometheusRule", "Prometheus", "Alertmanager", "AlertmanagerConfig", "Probe",
        "ThanosRuler", "GrafanaDashboard", "Certificate", "Issuer", "ClusterIssuer",
        "ExternalSecret", "SecretStore", "ClusterSecretStore", "SealedSecret",
        "ClusterPolicy", "Policy", "PolicyException", "ValidatingPolicy", "MutatingPolicy",
        "VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy",
        "ServiceEntry", "Sidecar", "Rollout", "Application", "ApplicationSet", "Kustomization",
        "HelmRelease", "BackupStorageLocation", "Schedule", "Backup",
    }
)

# Short names kubectl accepts; in a pattern they are ambiguous, so we name the real kind.
SHORT_NAMES: dict[str, str] = {
    "PVC": "PersistentVolumeClaim", "PV": "PersistentVolume", "HPA": "HorizontalPodAutoscaler",
    "VPA": "VerticalPodAutoscaler", "PDB": "PodDisruptionBudget", "SA": "ServiceAccount",
    "CM": "ConfigMap", "SVC": "Service", "NS": "Namespace", "STS": "StatefulSet",
    "DS": "DaemonSet", "RS": "ReplicaSet", "NETPOL": "NetworkPolicy", "ING": "Ingress",
    "CRD": "CustomResourceDefinition", "SC": "StorageClass", "DEPLOY": "Deployment",
    "PO": "Pod", "CJ": "CronJob", "QUOTA": "ResourceQuota", "LIMITS": "LimitRange",
}

_KIND_SHAPE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_BY_LOWER = {kind.lower(): kind for kind in KNOWN_KINDS}


def _plural_of(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


_BY_PLURAL = {_plural_of(kind): kind for kind in KNOWN_KINDS}


def kind_problem(name: str) -> str | None:
    """Why `name` is not a Kubernetes kind name, or None when it is one (built-in or a CRD's)."""
    if name in KNOWN_KINDS:
        return None
    compact = re.sub(r"[\s_\-]", "", name)
    upper = compact.upper()
    if upper in SHORT_NAMES:
        return f"{name!r} is a short name; write the kind {SHORT_NAMES[upper]!r}"
    if compact.lower() in _BY_LOWER:
        return f"{name!r} is not a kind name; did you mean {_BY_LOWER[compact.lower()]!r}?"
    if compact.lower() in _BY_PLURAL:
        return f"{name!r} is a plural; the kind is {_BY_PLURAL[compact.lower()]!r}"
    if not _KIND_SHAPE.match(name):
        # "apps/v1 Deployment" or "Deployment.apps": the kind is one of the words.
        words = [word for word in re.findall(r"[A-Za-z0-9]+", name) if word in KNOWN_KINDS]
        close = words[:1] or difflib.get_close_matches(name, sorted(KNOWN_KINDS), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{name!r} is not a Kubernetes kind name (kinds are UpperCamelCase){hint}"
    close = difflib.get_close_matches(name, sorted(KNOWN_KINDS), n=1, cutoff=0.85)
    if close:
        return f"unknown kind {name!r}; did you mean {close[0]!r}?"
    # An UpperCamelCase name we do not know is taken as a custom resource's kind.
    return None


def is_kind_name(name: str) -> bool:
    """True when `name` is spelt like a Kubernetes kind (a built-in one or a custom resource's)."""
    return kind_problem(name) is None


def canonical_kind(name: str) -> str | None:
    """The known kind a near miss stands for ('PVC', 'configmap', 'Services'), else None."""
    if name in KNOWN_KINDS:
        return name
    compact = re.sub(r"[\s_\-]", "", name)
    return (
        SHORT_NAMES.get(compact.upper())
        or _BY_LOWER.get(compact.lower())
        or _BY_PLURAL.get(compact.lower())
    )
