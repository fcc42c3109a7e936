"""The Helm chart, rendered by the real Helm engine (helm-python-sdk), linted strictly, and every
manifest validated against the Kubernetes schemas in strict mode, in both deployment modes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from sidecar.cli import build_parser
from sidecar.tls import LISTENERS
from tests.helpers import REPO

CHART = REPO / "helm" / "cryptopay-sidecar"
APP_CHART = REPO / "helm" / "examples" / "checkout-app"
EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))
# The oldest Kubernetes the chart supports (native sidecars, preStop sleep) and the newest.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
RELEASE, NAMESPACE = "rel", "pay"
FULLNAME = "rel-cryptopay-sidecar"

Doc = dict[str, Any]


def load_values(path: Path) -> dict[str, Any]:
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(values, dict)
    return values


def render(values: dict[str, Any] | None = None, chart: Path = CHART) -> list[Doc]:
    rendered = helm.Chart.load(chart).render(values, name=RELEASE, namespace=NAMESPACE)
    docs: list[Doc] = []
    for path, manifest in sorted(rendered.items()):
        if not path.endswith(".yaml"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(manifest) if doc)
    return docs


def only(docs: list[Doc], kind: str) -> Doc:
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


def pod_spec(docs: list[Doc]) -> Doc:
    spec: Doc = only(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def sidecar_container(spec: Doc) -> Doc:
    containers: list[Doc] = spec.get("initContainers", []) + spec["containers"]
    (container,) = [c for c in containers if c["name"] == "cryptopay-sidecar"]
    return container


def args(container: Doc) -> dict[str, str]:
    out = {}
    for arg in container["args"][1:]:
        name, _, value = arg.partition("=")
        out[name] = value
    return out


def mounted_file(spec: Doc, container: Doc, path: str) -> tuple[Doc, str]:
    """The volume and key a file path in the container comes from (through its mounts)."""
    volumes = {v["name"]: v for v in spec["volumes"]}
    for mount in container["volumeMounts"]:
        directory = mount["mountPath"].rstrip("/") + "/"
        if path.startswith(directory):
            # Directory mounts only: a subPath mount never sees a Secret's updates.
            assert "subPath" not in mount and mount["readOnly"] is True, mount
            volume = volumes[mount["name"]]
            source = volume.get("secret") or volume["configMap"]
            name = path.removeprefix(directory)
            (key,) = [i["key"] for i in source["items"] if i["path"] == name]
            return volume, key
    raise AssertionError(f"{path} is not in any mount")


def check_service_monitor(doc: Doc) -> None:
    """ServiceMonitor is a CRD (no schema in kubernetes-validate): check its shape by hand."""
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    spec = doc["spec"]
    assert set(spec) <= {"selector", "namespaceSelector", "endpoints", "jobLabel"}
    assert spec["selector"]["matchLabels"]
    for endpoint in spec["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "scheme", "tlsConfig"}
        assert endpoint["port"] and endpoint["path"].startswith("/")


def check_certificate(doc: Doc) -> None:
    """cert-manager's Certificate is a CRD too: the fields of cert-manager.io/v1 it may use."""
    assert doc["apiVersion"] == "cert-manager.io/v1"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    spec = doc["spec"]
    assert set(spec) <= {
        "secretName",
        "secretTemplate",
        "issuerRef",
        "duration",
        "renewBefore",
        "dnsNames",
        "ipAddresses",
        "privateKey",
        "usages",
    }
    assert spec["secretName"] and spec["issuerRef"]["name"]
    assert set(spec["issuerRef"]) <= {"name", "kind", "group"}
    assert spec["dnsNames"] or spec["ipAddresses"]
    assert set(spec["privateKey"]) <= {"algorithm", "size", "rotationPolicy", "encoding"}
    assert "server auth" in spec["usages"]


def validate(docs: list[Doc]) -> None:
    assert docs
    for doc in docs:
        if doc["kind"] == "ServiceMonitor":
            check_service_monitor(doc)
            continue
        if doc["kind"] == "Certificate":
            check_certificate(doc)
            continue
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)


# --- lint, render and validate --------------------------------------------------------------------


def test_lint_is_clean_in_strict_mode() -> None:
    for values in [None, *(load_values(path) for path in EXAMPLES)]:
        report = helm.lint(CHART, values, strict=True)
        assert report["errors"] == []
        # Severity 1 is informational ("icon is recommended"); 2 and 3 are warnings and errors.
        assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize(
    "example", [None, *EXAMPLES], ids=lambda p: p.name if p else "default values"
)
def test_renders_valid_manifests(example: Path | None) -> None:
    values = load_values(example) if example else None
    helm.Chart.load(CHART).validate_schema(values)
    validate(render(values))


# --- gateway mode ---------------------------------------------------------------------------------


def test_default_gateway() -> None:
    docs = render()
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"]
    deployment = only(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    assert container["image"] == "ghcr.io/cryptopay-sidecar/cryptopay-sidecar:0.1.0"
    flags = args(container)
    assert flags["--grpc-listen"] == "0.0.0.0:50051"
    # Admin paths (metrics, health, /policy, /admin) on a port of their own, so the webhook port
    # that an Ingress exposes serves webhooks only.
    assert flags["--http-listen"] == "0.0.0.0:8080"
    assert flags["--admin-listen"] == "0.0.0.0:9090"
    assert "--api-listen" not in flags
    assert flags["--upstream"] == "mainnet"
    assert "--policy" not in flags and "--demo" not in flags
    # A gateway leaves its Service while Redis is down: callers go to a replica that has it.
    assert flags["--readiness"] == "strict"

    # Native gRPC probes against the health service; liveness asks only /healthz, because
    # readiness turns NOT_SERVING while the pod drains.
    for probe in ("startupProbe", "readinessProbe"):
        assert container[probe]["grpc"] == {"port": 50051, "service": ""}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
    assert spec["terminationGracePeriodSeconds"] >= 10 + 5

    # The Service reaches every named port of the container, and nothing else.
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": 50051, "http": 8080, "admin": 9090}
    service = only(docs, "Service")
    assert {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        "grpc": (50051, "grpc"),
        "http": (8080, "http"),
        "admin": (9090, "admin"),
    }
    assert only(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_token_comes_from_a_secret_file_only() -> None:
    spec = pod_spec(render())
    container = sidecar_container(spec)
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    token = volumes["cryptopay-sidecar-token"]["secret"]
    assert token["secretName"] == f"{FULLNAME}-token"
    assert token["items"] == [{"key": "token", "path": "token"}]
    mount = mounts["cryptopay-sidecar-token"]
    assert mount["readOnly"] is True
    assert args(container)["--token-file"] == f"{mount['mountPath']}/token"
    # Never in the environment, never a flag value.
    assert not any("TOKEN" in e["name"] and "value" in e for e in container.get("env", []))

    rotated = pod_spec(render({"token": {"existingSecret": "cp", "previousKey": "old"}}))
    secret = {v["name"]: v for v in rotated["volumes"]}["cryptopay-sidecar-token"]["secret"]
    assert secret["secretName"] == "cp"
    assert {"key": "old", "path": "previous-token"} in secret["items"]
    env = {e["name"]: e.get("value") for e in sidecar_container(rotated)["env"]}
    assert env["CRYPTOPAY_SIDECAR_PREVIOUS_TOKEN_FILE"].endswith("/previous-token")


def test_hardened_security_context() -> None:
    spec = pod_spec(render())
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    context = sidecar_container(spec)["securityContext"]
    assert context["runAsNonRoot"] is True and context["runAsUser"] > 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    # The only writable path is an emptyDir at /tmp.
    mounts = {m["mountPath"]: m["name"] for m in sidecar_container(spec)["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_inline_policy_is_mounted_as_a_directory_for_hot_reload() -> None:
    policy = "version: 1\ndefaults:\n  rpcs:\n    allow: [GetMe]\n"
    docs = render({"policy": {"inline": {"checkout.yaml": policy}}})
    config_map = only(docs, "ConfigMap")
    assert config_map["data"] == {"checkout.yaml": policy}
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "cryptopay-sidecar-policy"]
    # subPath mounts never see ConfigMap updates; a directory mount does (symlink swap).
    assert "subPath" not in mount
    assert args(container)["--policy"] == mount["mountPath"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == "cryptopay-sidecar-policy"]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]

    existing = render({"policy": {"existingConfigMap": "platform-policies"}})
    assert not [d for d in existing if d["kind"] == "ConfigMap"]
    volumes = {v["name"]: v for v in pod_spec(existing)["volumes"]}
    assert volumes["cryptopay-sidecar-policy"]["configMap"]["name"] == "platform-policies"


def test_redis_url_from_a_secret_or_a_plain_url() -> None:
    env = {
        e["name"]: e
        for e in sidecar_container(pod_spec(render({"redis": {"existingSecret": "r"}})))["env"]
    }
    assert env["CRYPTOPAY_SIDECAR_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "r",
        "key": "redis-url",
    }
    plain = sidecar_container(pod_spec(render({"redis": {"url": "redis://redis:6379/0"}})))
    assert {"name": "CRYPTOPAY_SIDECAR_REDIS_URL", "value": "redis://redis:6379/0"} in plain["env"]


def test_otel_environment() -> None:
    otel = {"endpoint": "http://collector:4317", "resourceAttributes": "a=b"}
    container = sidecar_container(pod_spec(render({"otel": otel})))
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4317"
    assert env["OTEL_SERVICE_NAME"] == FULLNAME
    assert env["OTEL_RESOURCE_ATTRIBUTES"].endswith(",a=b")


def test_autoscaling_replaces_the_replica_count() -> None:
    docs = render({"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 9}})
    assert "replicas" not in only(docs, "Deployment")["spec"]
    hpa = only(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == FULLNAME
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 9)


def test_http_front_gets_its_own_port() -> None:
    docs = render({"api": {"enabled": True}})
    container = sidecar_container(pod_spec(docs))
    assert args(container)["--api-listen"] == "0.0.0.0:8091"
    assert {"name": "api", "containerPort": 8091, "protocol": "TCP"} in container["ports"]
    service_ports = {p["name"]: p for p in only(docs, "Service")["spec"]["ports"]}
    assert service_ports["api"]["targetPort"] == "api"

    # It follows the gRPC API onto loopback unless told otherwise.
    local = render({"api": {"enabled": True}, "grpc": {"host": "127.0.0.1"}})
    assert args(sidecar_container(pod_spec(local)))["--api-listen"] == "127.0.0.1:8091"
    own = render({"api": {"enabled": True, "host": "0.0.0.0"}, "grpc": {"host": "127.0.0.1"}})
    assert args(sidecar_container(pod_spec(own)))["--api-listen"] == "0.0.0.0:8091"


@pytest.mark.parametrize(
    "values",
    [
        {"ports": {"admin": 8080}},
        {"ports": {"admin": 50051}},
        {"api": {"enabled": True}, "ports": {"api": 9090}},
        {"demo": {"enabled": True, "emulatorPort": 9090}},
    ],
)
def test_listeners_need_ports_of_their_own(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmRenderError, match="every listener needs a port of its own"):
        render(values)


TLS_SECRET = {"tls": {"enabled": True, "existingSecret": "sidecar-tls"}}
CERT_MANAGER = {
    "tls": {"enabled": True, "certManager": {"enabled": True, "issuerRef": {"name": "internal-ca"}}}
}


MTLS = {"tls": {**CERT_MANAGER["tls"], "clientCA": {"enabled": True}}}
TLS_CASES = {"tls off": {}, "tls secret": TLS_SECRET, "cert-manager": CERT_MANAGER, "mtls": MTLS}


@pytest.mark.parametrize("tls", TLS_CASES.values(), ids=TLS_CASES)
def test_gateway_with_and_without_tls_lints_and_validates(tls: dict[str, Any]) -> None:
    helm.Chart.load(CHART).validate_schema(tls)
    report = helm.lint(CHART, tls, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
    docs = render(tls)
    validate(docs)
    flags = args(sidecar_container(pod_spec(docs)))
    assert ("--tls-cert" in flags) is bool(tls)
    assert ("--tls-client-ca" in flags) is (tls is MTLS)


@pytest.mark.parametrize("tls", TLS_CASES.values(), ids=TLS_CASES)
def test_the_sidecar_accepts_the_arguments_the_chart_renders(tls: dict[str, Any]) -> None:
    """The chart's command line goes through the sidecar's own parser: a renamed flag, an
    unknown listener or a value out of range fails here rather than in a crash-looping pod."""
    container = sidecar_container(pod_spec(render({**tls, "api": {"enabled": True}})))
    parsed = build_parser().parse_args(container["args"])
    assert parsed.command == "serve"
    assert parsed.admin_listen.endswith(":9090")
    listeners = [n for n in parsed.tls_listeners.split(",") if n]
    assert set(listeners) <= set(LISTENERS)
    assert (parsed.tls_cert is not None) is bool(tls)


def test_tls_from_an_existing_secret() -> None:
    docs = render(TLS_SECRET)
    validate(docs)
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    flags = args(container)
    assert flags["--tls-listeners"] == "grpc,api"
    assert "--tls-client-ca" not in flags
    for flag, key in (("--tls-cert", "tls.crt"), ("--tls-key", "tls.key")):
        volume, mounted_key = mounted_file(spec, container, flags[flag])
        assert (volume["secret"]["secretName"], mounted_key) == ("sidecar-tls", key)
        # Readable through the pod's fsGroup only, like the token.
        assert volume["secret"]["defaultMode"] == 0o440
    assert not [d for d in docs if d["kind"] == "Certificate"]

    # The kubelet's gRPC probe cannot do TLS: with TLS on the gRPC port every probe asks the
    # plaintext admin port, whose /readyz follows the same readiness as the gRPC health service.
    for probe in ("startupProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/readyz", "port": "admin"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}

    # The webhook port, which the Ingress reaches, and the admin port stay plaintext.
    service = {p["name"]: p["appProtocol"] for p in only(docs, "Service")["spec"]["ports"]}
    assert service == {"grpc": "grpc", "http": "http", "admin": "http"}


def test_tls_only_on_the_webhook_listener_keeps_native_grpc_probes() -> None:
    docs = render({"tls": {**TLS_SECRET["tls"], "listeners": ["webhook"]}})
    container = sidecar_container(pod_spec(docs))
    assert args(container)["--tls-listeners"] == "webhook"
    assert container["readinessProbe"]["grpc"] == {"port": 50051, "service": ""}
    service = {p["name"]: p["appProtocol"] for p in only(docs, "Service")["spec"]["ports"]}
    assert service["http"] == "https"


def test_tls_on_the_admin_listener_probes_and_scrapes_https() -> None:
    tls_config = {"ca": {"secret": {"name": "ca", "key": "ca.crt"}}, "serverName": "sidecar"}
    docs = render(
        {
            "tls": {**TLS_SECRET["tls"], "listeners": ["grpc", "admin"]},
            "metrics": {"serviceMonitor": {"enabled": True, "tlsConfig": tls_config}},
        }
    )
    validate(docs)
    container = sidecar_container(pod_spec(docs))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["scheme"] == "HTTPS"
    (endpoint,) = only(docs, "ServiceMonitor")["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["scheme"]) == ("admin", "https")
    assert endpoint["tlsConfig"] == tls_config
    service = {p["name"]: p["appProtocol"] for p in only(docs, "Service")["spec"]["ports"]}
    assert service["admin"] == "https"

    # Plaintext admin: no scheme, and the tlsConfig is not used.
    (plain,) = only(
        render(
            {
                **TLS_SECRET,
                "metrics": {"serviceMonitor": {"enabled": True, "tlsConfig": tls_config}},
            }
        ),
        "ServiceMonitor",
    )["spec"]["endpoints"]
    assert "scheme" not in plain and "tlsConfig" not in plain


def test_tls_from_cert_manager() -> None:
    docs = render(CERT_MANAGER)
    validate(docs)
    certificate = only(docs, "Certificate")
    spec = certificate["spec"]
    assert spec["issuerRef"] == {
        "name": "internal-ca",
        "kind": "Issuer",
        "group": "cert-manager.io",
    }
    assert (spec["duration"], spec["renewBefore"]) == ("2160h", "720h")
    assert spec["privateKey"]["rotationPolicy"] == "Always"
    # The names clients dial: the Service's.
    service = only(docs, "Service")["metadata"]["name"]
    assert spec["dnsNames"] == [
        service,
        f"{service}.{NAMESPACE}",
        f"{service}.{NAMESPACE}.svc",
        f"{service}.{NAMESPACE}.svc.cluster.local",
    ]
    # The Secret cert-manager writes is the one mounted.
    pod = pod_spec(docs)
    container = sidecar_container(pod)
    volume, key = mounted_file(pod, container, args(container)["--tls-cert"])
    assert (volume["secret"]["secretName"], key) == (spec["secretName"], "tls.crt")

    named = render(
        {
            "tls": {
                "enabled": True,
                "certManager": {
                    "enabled": True,
                    "issuerRef": {"name": "mesh-ca", "kind": "ClusterIssuer"},
                    "dnsNames": ["pay.example.internal"],
                    "duration": "24h",
                    "renewBefore": "8h",
                },
            }
        }
    )
    spec = only(named, "Certificate")["spec"]
    assert spec["dnsNames"] == ["pay.example.internal"]
    assert spec["issuerRef"]["kind"] == "ClusterIssuer"
    assert (spec["duration"], spec["renewBefore"]) == ("24h", "8h")


@pytest.mark.parametrize(
    ("client_ca", "source", "name", "key"),
    [
        ({}, "secret", "sidecar-tls", "ca.crt"),
        ({"key": "bundle.pem"}, "secret", "sidecar-tls", "bundle.pem"),
        ({"existingSecret": "client-ca"}, "secret", "client-ca", "ca.crt"),
        ({"existingConfigMap": "mesh-ca", "key": "root.pem"}, "configMap", "mesh-ca", "root.pem"),
    ],
)
def test_client_ca(client_ca: dict[str, str], source: str, name: str, key: str) -> None:
    values = {"tls": {**TLS_SECRET["tls"], "clientCA": {"enabled": True, **client_ca}}}
    docs = render(values)
    validate(docs)
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    volume, mounted_key = mounted_file(spec, container, args(container)["--tls-client-ca"])
    assert source in volume
    assert (volume[source].get("secretName") or volume[source]["name"], mounted_key) == (name, key)
    # The server certificate still comes from its Secret.
    volume, _ = mounted_file(spec, container, args(container)["--tls-cert"])
    assert volume["secret"]["secretName"] == "sidecar-tls"


def test_tls_enabled_is_the_switch() -> None:
    # Everything else under tls is kept but unused while it is off.
    off = render({"tls": {**CERT_MANAGER["tls"], "enabled": False, "clientCA": {"enabled": True}}})
    assert off == render()


def namespace(name: str) -> Doc:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def ingress_rules(policy: Doc) -> dict[str, list[Doc] | None]:
    """Port name -> the peers allowed to reach it (None: everyone)."""
    out: dict[str, list[Doc] | None] = {}
    for rule in policy["spec"]["ingress"]:
        for port in rule["ports"]:
            assert port["port"] not in out, f"{port['port']} is in two rules"
            out[port["port"]] = rule.get("from")
    return out


def test_network_policy_per_port() -> None:
    monitoring = [namespace("monitoring")]
    docs = render({"networkPolicy": {"enabled": True, "adminFrom": monitoring}})
    validate(docs)
    rules = ingress_rules(only(docs, "NetworkPolicy"))
    assert rules == {
        "grpc": [{"podSelector": {"matchLabels": {"cryptopay-sidecar-client": "true"}}}],
        "http": None,
        "admin": monitoring,
    }
    # The HTTP front holds the token's power like the gRPC API: the same callers.
    with_api = render({"api": {"enabled": True}, "networkPolicy": {"enabled": True}})
    rules = ingress_rules(only(with_api, "NetworkPolicy"))
    assert rules["api"] == rules["grpc"]
    # Without adminFrom no rule opens the admin port: only the node (the kubelet's probes).
    assert "admin" not in rules
    with pytest.raises(helm.HelmRenderError, match=r"networkPolicy\.adminFrom is empty"):
        render(
            {"networkPolicy": {"enabled": True}, "metrics": {"serviceMonitor": {"enabled": True}}}
        )


def test_production_example() -> None:
    docs = render(load_values(CHART / "examples" / "gateway-production.yaml"))
    container = sidecar_container(pod_spec(docs))
    assert container["image"].endswith("@sha256:" + "0" * 64)

    ingress = only(docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    # Only the webhook endpoint is public.
    assert (path["path"], path["pathType"]) == ("/webhooks/cryptopay/4f6c0e2a", "Exact")
    assert path["backend"]["service"] == {"name": FULLNAME, "port": {"name": "http"}}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CRYPTOPAY_SIDECAR_WEBHOOK_PATH"] == path["path"]

    monitor = only(docs, "ServiceMonitor")
    service = only(docs, "Service")
    # Prometheus scrapes the admin port, which the Ingress never reaches.
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("admin", "/metrics")
    assert "admin" in {p["name"] for p in service["spec"]["ports"]}
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()

    policy = only(docs, "NetworkPolicy")
    rules = ingress_rules(policy)
    assert rules["grpc"] == [
        {
            **namespace("shop"),
            "podSelector": {"matchLabels": {"cryptopay-sidecar-client": "true"}},
        }
    ]
    # Webhooks from the ingress controller, the admin port from monitoring: neither reaches
    # the other's port.
    assert rules["http"] == [namespace("ingress-nginx")]
    assert rules["admin"] == [namespace("monitoring")]
    assert "Egress" in policy["spec"]["policyTypes"]
    assert only(docs, "PodDisruptionBudget")["spec"] == {
        "minAvailable": 2,
        "selector": only(docs, "Deployment")["spec"]["selector"],
    }


def test_mtls_example() -> None:
    docs = render(load_values(CHART / "examples" / "gateway-mtls.yaml"))
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    flags = args(container)
    certificate = only(docs, "Certificate")["spec"]
    assert certificate["issuerRef"]["kind"] == "ClusterIssuer"
    # Server certificate and client CA from the Secret cert-manager writes.
    for flag, key in (
        ("--tls-cert", "tls.crt"),
        ("--tls-key", "tls.key"),
        ("--tls-client-ca", "ca.crt"),
    ):
        volume, mounted = mounted_file(spec, container, flags[flag])
        assert (volume["secret"]["secretName"], mounted) == (certificate["secretName"], key)
    assert container["readinessProbe"]["httpGet"]["port"] == "admin"
    # The Ingress still reaches only the webhook port.
    (path,) = only(docs, "Ingress")["spec"]["rules"][0]["http"]["paths"]
    assert path["backend"]["service"]["port"] == {"name": "http"}


def test_demo_example_needs_no_token() -> None:
    docs = render(load_values(CHART / "examples" / "demo.yaml"))
    container = sidecar_container(pod_spec(docs))
    flags = args(container)
    assert "--demo" in flags and "--token-file" not in flags
    assert not [v for v in pod_spec(docs)["volumes"] if "secret" in v]
    assert not [d for d in docs if d["kind"] == "PodDisruptionBudget"]


# --- schema ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"token": {"value": "1234:AAAA", "key": "token"}}, "/token"),
        ({"mode": "mesh"}, "/mode"),
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"replicaCount": 0}, "/replicaCount"),
        ({"ports": {"grpc": 70000}}, "/ports/grpc"),
        ({"ports": {"admin": 0}}, "/ports/admin"),
        ({"ports": {"grpcName": "admin"}}, "/ports/grpcName"),
        ({"upstream": "ftp://example.com"}, "/upstream"),
        ({"redis": {"url": "redis://:hunter2@redis:6379/0"}}, "/redis/url"),
        ({"redis": {"url": "redis://redis:6379", "existingSecret": "r"}}, "/redis/url"),
        ({"policy": {"inline": {"policy.json": "{}"}}}, "policy.json"),
        ({"policy": {"existingConfigMap": "x", "inline": {"a.yaml": "v"}}}, "/policy/inline"),
        ({"securityContext": {"runAsNonRoot": False}}, "/securityContext/runAsNonRoot"),
        ({"securityContext": {"allowPrivilegeEscalation": True}}, "allowPrivilegeEscalation"),
        ({"probes": {"kind": "tcp"}}, "/probes/kind"),
        ({"webhook": {"path": "no-slash"}}, "/webhook/path"),
        ({"logLevel": "verbose"}, "/logLevel"),
        ({"readiness": "lenient"}, "/readiness"),
        ({"extraArgs": ["serve"]}, "/extraArgs/0"),
        ({"autoscaling": {"enabled": True, "maxReplicas": 1}}, "maxReplicas"),
        ({"unknownKey": 1}, "unknownKey"),
        # TLS needs a certificate, from exactly one place.
        ({"tls": {"enabled": True}}, "/tls/existingSecret"),
        (
            {"tls": {"enabled": True, "existingSecret": "s", "certManager": {"enabled": True}}},
            "/tls/existingSecret",
        ),
        (
            {"tls": {"enabled": True, "certManager": {"enabled": True}}},
            "/tls/certManager/issuerRef",
        ),
        ({"tls": {"listeners": ["grpc", "metrics"]}}, "/tls/listeners/1"),
        ({"tls": {"listeners": []}}, "/tls/listeners"),
        ({"tls": {"listeners": ["grpc", "grpc"]}}, "/tls/listeners"),
        ({"tls": {"certManager": {"duration": "90d"}}}, "/tls/certManager/duration"),
        ({"tls": {"certManager": {"dnsNames": ["Not A Name"]}}}, "/tls/certManager/dnsNames/0"),
        (
            {"tls": {"clientCA": {"existingSecret": "a", "existingConfigMap": "b"}}},
            "/tls/clientCA/existingConfigMap",
        ),
        # The kubelet's gRPC probe cannot do TLS.
        (
            {"tls": {"enabled": True, "existingSecret": "s"}, "probes": {"kind": "grpc"}},
            "/probes/kind",
        ),
    ],
)
def test_schema_refuses_bad_values(values: dict[str, Any], complaint: str) -> None:
    chart = helm.Chart.load(CHART)
    with pytest.raises(helm.HelmValuesError) as info:
        chart.validate_schema(values)
    assert complaint in str(info.value)
    with pytest.raises(helm.HelmValuesError):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)


def test_required_values_fail_with_a_clear_message() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"ingress\.host is required"):
        render({"ingress": {"enabled": True}})
    with pytest.raises(helm.HelmRenderError, match=r"ingress\.serviceName is required"):
        render({"mode": "sidecar", "ingress": {"enabled": True, "host": "h.example.com"}})


# --- sidecar mode ---------------------------------------------------------------------------------


def test_sidecar_mode_alone_renders_only_the_policy() -> None:
    docs = render(load_values(CHART / "examples" / "sidecar.yaml"))
    assert [d["kind"] for d in docs] == ["ConfigMap"]


@pytest.fixture
def app_chart(tmp_path: Path) -> Iterator[Path]:
    """The example application chart with its dependency on this chart built (offline)."""
    shutil.copytree(REPO / "helm", tmp_path / "helm", ignore=shutil.ignore_patterns("charts"))
    app = tmp_path / "helm" / "examples" / "checkout-app"
    helm.dependency_build(app)
    yield app


def render_app(app: Path, values: dict[str, Any] | None = None) -> list[Doc]:
    return render(values, chart=app)


def test_application_chart_with_a_native_sidecar(app_chart: Path) -> None:
    docs = render_app(app_chart)
    validate(docs)
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    assert container in spec["initContainers"]
    assert container["restartPolicy"] == "Always"
    # Only the application in the pod can call the API; probes use the HTTP port then.
    assert args(container)["--grpc-listen"] == "127.0.0.1:50051"
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    assert args(container)["--admin-listen"] == "0.0.0.0:9090"
    # A Redis outage must not take the application's pod out of its Service.
    assert args(container)["--readiness"] == "degraded"
    (app,) = spec["containers"]
    assert {"name": "CRYPTOPAY_SIDECAR_TARGET", "value": "127.0.0.1:50051"} in app["env"]

    # Every mount has its volume, and the policy volume is the ConfigMap the subchart renders.
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert {m["name"] for m in container["volumeMounts"]} <= set(volumes)
    config_map = only(docs, "ConfigMap")
    policy_volume = volumes["cryptopay-sidecar-policy"]["configMap"]["name"]
    assert policy_volume == config_map["metadata"]["name"]
    assert volumes["cryptopay-sidecar-token"]["secret"]["secretName"] == "checkout-cryptopay-token"

    # The webhook Ingress reaches the sidecar's http port through the application's Service.
    ingress = only(docs, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = only(docs, "Service")
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    # The subchart itself runs nothing in sidecar mode.
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "Deployment", "Ingress", "Service"]


def test_application_chart_with_a_classic_sidecar(app_chart: Path) -> None:
    docs = render_app(app_chart, {"cryptopay": {"sidecar": {"native": False}}})
    validate(docs)
    spec = pod_spec(docs)
    assert "initContainers" not in spec
    assert [c["name"] for c in spec["containers"]] == ["checkout", "cryptopay-sidecar"]
    assert "restartPolicy" not in sidecar_container(spec)


def test_sidecar_can_expose_grpc_for_native_probes(app_chart: Path) -> None:
    docs = render_app(app_chart, {"cryptopay": {"grpc": {"host": "0.0.0.0"}}})
    container = sidecar_container(pod_spec(docs))
    assert container["readinessProbe"]["grpc"] == {"port": 50051, "service": ""}


@pytest.mark.parametrize("tls", TLS_CASES.values(), ids=TLS_CASES)
def test_sidecar_with_and_without_tls(app_chart: Path, tls: dict[str, Any]) -> None:
    docs = render_app(app_chart, {"cryptopay": tls})
    validate(docs)
    spec = pod_spec(docs)
    container = sidecar_container(spec)
    flags = args(container)
    # Probes ask the admin port in both cases: the API is on loopback.
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    if not tls:
        assert not [f for f in flags if f.startswith("--tls")]
        assert not [d for d in docs if d["kind"] == "Certificate"]
        return
    volume, key = mounted_file(spec, container, flags["--tls-cert"])
    assert key == "tls.crt"
    # In an application's pod (whose fsGroup this chart does not set) readable by all, but
    # mounted in the sidecar's container only.
    assert volume["secret"]["defaultMode"] == 0o444
    if tls is TLS_SECRET:
        assert volume["secret"]["secretName"] == "sidecar-tls"
        return
    # The subchart renders the Certificate; in the pod the application dials 127.0.0.1.
    certificate = only(docs, "Certificate")["spec"]
    assert volume["secret"]["secretName"] == certificate["secretName"]
    assert (certificate["dnsNames"], certificate["ipAddresses"]) == (["localhost"], ["127.0.0.1"])
    if tls is MTLS:
        _, ca_key = mounted_file(spec, container, flags["--tls-client-ca"])
        assert ca_key == "ca.crt"


def test_readiness_mode_can_be_chosen(app_chart: Path) -> None:
    docs = render_app(app_chart, {"cryptopay": {"readiness": "strict"}})
    assert args(sidecar_container(pod_spec(docs)))["--readiness"] == "strict"
    assert (
        args(sidecar_container(pod_spec(render({"readiness": "degraded"}))))["--readiness"]
        == "degraded"
    )
