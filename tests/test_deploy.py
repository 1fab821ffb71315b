"""Deployment files: Dockerfiles linted (hadolint), compose files validated (docker-compose), Kubernetes
manifests rendered and validated against the Kubernetes schemas, the images' requirements resolved
against the package registry, the Triton entrypoint linted (shellcheck) and run, and one environment
shared by all of them."""
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from bench.processes import free_port
from tests.helpers import ROOT, deployment_env

DOCKERFILES = sorted((ROOT / "docker").glob("*.Dockerfile"))
COMPOSE_FILES = sorted((ROOT / "docker").glob("compose*.yaml"))
KUSTOMIZATION = ROOT / "k8s" / "kustomization.yaml"
ADAPTER_VALUES = ROOT / "k8s" / "prometheus-adapter-values.yaml"  # Helm values, not a manifest
ENTRYPOINT = ROOT / "docker" / "triton-entrypoint.sh"
BIN = Path(sys.executable).parent
# The Python of each GPU base image (its release notes); the export's pins must have wheels for it.
TRITON_IMAGE_PYTHON = {"nvcr.io/nvidia/tritonserver:25.06-py3": "3.12"}


def run(*args, cwd=ROOT, env=None):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env)


def pins(requirements: Path) -> dict[str, str]:
    """name -> version of every `name==version` line, following `-r` includes."""
    found = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(pins(requirements.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.split("==")
            found[re.sub(r"\[.*\]", "", name).lower()] = version.strip()
    return found


def resolved(requirements: Path, tmp_path: Path, *pip_options: str) -> list[dict]:
    """What `pip install -r requirements` would install on a clean machine (a dry run against the registry)."""
    report = tmp_path / "report.json"
    result = run(BIN / "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", report,
                 *pip_options, "-r", requirements)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(report.read_text())["install"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(dockerfile):
    result = run(BIN / "hadolint", dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_reject_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN apt-get update && apt-get install -y curl\n")
    assert run(BIN / "hadolint", bad).returncode != 0


@pytest.mark.parametrize("compose", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid_with_health_checks_and_the_shared_env(compose):
    result = run("docker-compose", "-f", compose, "config", cwd=compose.parent)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"triton", "frontend"}
    assert all("healthcheck" in s for s in services.values())
    frontend = services["frontend"]
    assert frontend["environment"]["TRITON_URL"] == "triton:8000"
    assert frontend["depends_on"]["triton"]["condition"] == "service_healthy"
    for key, value in deployment_env().items():
        assert frontend["environment"][key] == value


def test_gpu_compose_reserves_a_gpu():
    config = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    devices = config["services"]["triton"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]


def test_kubernetes_manifests_validate_against_the_schemas():
    resources = yaml.safe_load(KUSTOMIZATION.read_text())["resources"]
    listed = {ROOT / "k8s" / r for r in resources}
    manifests = set((ROOT / "k8s").glob("*.yaml")) - {KUSTOMIZATION, ADAPTER_VALUES}
    assert listed == manifests, "every manifest is in the kustomization"
    result = run(BIN / "kubernetes-validate", "--strict", *sorted(listed))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "did not validate" not in result.stdout + result.stderr


def test_kubernetes_validation_does_reject_a_bad_manifest(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "k8s" / "frontend.yaml").read_text().replace("containerPort: 8880", "containerPortt: 8880"))
    result = run(BIN / "kubernetes-validate", "--strict", bad)
    assert result.returncode != 0 or "did not validate" in result.stdout + result.stderr


KUSTOMIZE_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images"}
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding"}


def kustomize(directory: Path) -> list[dict]:
    """`kubectl kustomize` for the fields k8s/kustomization.yaml uses (resources, namespace, images), so
    that the render needs no kubectl; it refuses a kustomization with any other field."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert set(kustomization) <= KUSTOMIZE_FIELDS, f"render these too: {set(kustomization) - KUSTOMIZE_FIELDS}"
    images = {i["name"]: f"{i['newName']}:{i['newTag']}" for i in kustomization.get("images", [])}
    documents = [d for r in kustomization["resources"] for d in yaml.safe_load_all((directory / r).read_text()) if d]
    for document in documents:
        if document["kind"] not in CLUSTER_SCOPED:
            document["metadata"]["namespace"] = kustomization["namespace"]
        for container in document.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            container["image"] = images.get(container["image"], container["image"])
    return documents


def test_kustomize_renders_a_valid_whole(tmp_path):
    documents = kustomize(ROOT / "k8s")
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    result = run(BIN / "kubernetes-validate", "--strict", path)
    assert result.returncode == 0 and "did not validate" not in result.stdout + result.stderr, result.stdout
    namespaced = [d for d in documents if d["kind"] != "Namespace"]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"kokoro"}
    images = {c["image"] for d in documents for c in d.get("spec", {}).get("template", {}).get("spec", {})
              .get("containers", [])}
    assert images == {"registry.example.com/kokoro-triton:0.1.0", "registry.example.com/kokoro-frontend:0.1.0"}


def test_kubernetes_config_map_is_the_shared_env():
    config_map = yaml.safe_load((ROOT / "k8s" / "frontend-config.yaml").read_text())
    assert config_map["data"] == deployment_env()


def test_hpa_scales_triton_on_the_adapter_metric_of_the_served_model():
    hpa = yaml.safe_load((ROOT / "k8s" / "triton-hpa.yaml").read_text())
    [rule] = yaml.safe_load(ADAPTER_VALUES.read_text())["rules"]["custom"]
    assert rule["name"]["as"] == hpa["spec"]["metrics"][0]["pods"]["metric"]["name"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "kokoro-triton"
    served = f'model="{deployment_env()["TRITON_MODEL"]}"'
    assert served in rule["seriesQuery"]
    selectors = re.findall(r"\{([^}]*)\}\[", rule["metricsQuery"])
    assert len(selectors) == 2 and all(served in s for s in selectors), "queue time and requests of that model"


def test_the_shared_env_is_a_valid_settings_object(monkeypatch):
    from frontend.settings import Settings

    for key, value in deployment_env().items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.port == 8880 and settings.triton_model == "kokoro"


@pytest.mark.slow  # the registry's resolver
def test_frontend_requirements_resolve_without_torch(tmp_path):
    """The API image installs requirements-frontend.txt alone: nothing in it may pull PyTorch or CUDA."""
    names = {item["metadata"]["name"].lower() for item in resolved(ROOT / "requirements-frontend.txt", tmp_path,
                                                                    "--prefer-binary")}
    assert {"misaki", "spacy", "phonemizer-fork", "espeakng-loader", "num2words"} <= names
    heavy = sorted(n for n in names if n in {"torch", "triton"} or n.startswith(("nvidia-", "cuda-")))
    assert not heavy, f"the frontend image would install {heavy}"


@pytest.mark.slow  # the registry's resolver
def test_gpu_image_python_has_wheels_for_the_export_pins(tmp_path):
    """The GPU image installs requirements-export.txt into its base's system Python."""
    base = re.search(r"^FROM (\S+)", (ROOT / "docker" / "triton-gpu.Dockerfile").read_text(), re.M).group(1)
    assert base in TRITON_IMAGE_PYTHON, f"add {base}'s Python version (its release notes) to TRITON_IMAGE_PYTHON"
    items = resolved(ROOT / "requirements-export.txt", tmp_path, "--no-deps", "--only-binary", ":all:",
                     "--python-version", TRITON_IMAGE_PYTHON[base], "--platform", "manylinux_2_28_x86_64",
                     "--platform", "manylinux2014_x86_64", "--target", tmp_path / "target")
    assert {item["metadata"]["name"].lower() for item in items} == set(pins(ROOT / "requirements-export.txt"))


def test_requirement_files_agree_on_shared_pins():
    """requirements.txt includes the frontend's and the export's files; a package pinned in both (numpy) has
    one version."""
    frontend, export = pins(ROOT / "requirements-frontend.txt"), pins(ROOT / "requirements-export.txt")
    shared = frontend.keys() & export.keys()
    assert {name: frontend[name] for name in shared} == {name: export[name] for name in shared}


def test_entrypoint_passes_shellcheck():
    result = run(BIN / "shellcheck", ENTRYPOINT, ROOT / "scripts" / "setup.sh", ROOT / "scripts" / "gpu_check.sh")
    assert result.returncode == 0, result.stdout


def test_shellcheck_does_reject_a_bad_script(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    assert run(BIN / "shellcheck", bad).returncode != 0


def ready(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v2/health/ready", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_entrypoint(models: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """docker/triton-entrypoint.sh as the CPU image runs it (tiny synthetic export), on free ports."""
    env = dict(os.environ, KOKORO_TARGET="cpu", MODEL_REPOSITORY=str(models), PATH=f"{BIN}:{os.environ['PATH']}",
               KOKORO_EXPORT_ARGS="--synthetic --tiny --parity-lengths 8")
    http_port = free_port()
    ports = ["--http-port", str(http_port), "--grpc-port", str(free_port()), "--metrics-port", str(free_port())]
    with open(log, "wb") as out:
        process = subprocess.Popen([ENTRYPOINT, *ports], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return process, http_port


@pytest.mark.stack
def test_two_replicas_on_one_volume_export_once_and_serve(tmp_path):
    """Two Triton replicas started together on one model volume: one exports under the lock, the other
    waits for it instead of exporting into the same files, and both serve the export."""
    models, logs = tmp_path / "models", [tmp_path / "replica-a.log", tmp_path / "replica-b.log"]
    replicas = [start_entrypoint(models, log) for log in logs]
    try:
        deadline = time.monotonic() + 900
        while not all(ready(port) for _, port in replicas) and time.monotonic() < deadline:
            assert all(p.poll() is None for p, _ in replicas), "\n".join(log.read_text()[-2000:] for log in logs)
            time.sleep(1)
        assert all(ready(port) for _, port in replicas), "\n".join(log.read_text()[-2000:] for log in logs)
    finally:
        for process, _ in replicas:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(60)
    texts = [log.read_text() for log in logs]
    assert sum("triton-entrypoint: exporting" in text for text in texts) == 1, texts
    assert sum("waiting for its export" in text for text in texts) == 1, texts
    assert (models / "kokoro" / "assets" / "provenance.json").is_file()


def health_checks() -> dict[str, list[str]]:
    """Every exec health check (compose, Dockerfiles) by where it is defined: its command."""
    checks = {}
    for compose in COMPOSE_FILES:
        for name, service in yaml.safe_load(compose.read_text())["services"].items():
            checks[f"{compose.name}:{name}"] = service["healthcheck"]["test"][1:]  # after "CMD"
    for dockerfile in DOCKERFILES:
        found = re.search(r"^HEALTHCHECK .*\n\s*CMD (\[.*\])$", dockerfile.read_text(), re.MULTILINE)
        checks[dockerfile.name] = json.loads(found.group(1))
    return checks


def http_probes() -> dict[str, str]:
    """Every Kubernetes probe of the Triton and frontend pods but the frontend's liveness, by pod and kind:
    its path. The frontend's liveness is the process alone: restarting the API heals no model."""
    probes = {}
    for manifest in ("triton.yaml", "frontend.yaml"):
        documents = yaml.safe_load_all((ROOT / "k8s" / manifest).read_text())
        [deployment] = [d for d in documents if d["kind"] == "Deployment"]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            if kind in container and not (manifest == "frontend.yaml" and kind == "livenessProbe"):
                probes[f"{manifest}:{kind}"] = container[kind]["httpGet"]["path"]
    return probes


def probe_results(triton_port: int, api_url: str) -> dict[str, bool]:
    """Whether each probe passes against this Triton (for those of Triton's container) or API."""
    api_address = api_url.removeprefix("http://")
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    results = {}
    for where, argv in health_checks().items():
        argv = [a.replace("127.0.0.1:8000", f"127.0.0.1:{triton_port}").replace("127.0.0.1:8880", api_address)
                for a in argv]
        results[where] = run(*argv, env=env).returncode == 0
    for where, path in http_probes().items():
        base = f"http://127.0.0.1:{triton_port}" if where.startswith("triton") else api_url
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=5) as response:
                results[where] = 200 <= response.status < 400  # what the kubelet counts as success
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            results[where] = False
    return results


def test_probes_fail_while_the_model_cannot_serve(tiny_repository, tmp_path):
    """Every health check and probe (compose, Dockerfiles, Kubernetes) against a live Triton whose model is
    not loaded (unloaded through the model control API), and an API in front of it: all pass while the
    model serves, all fail once it cannot, although Triton's process answers (`/v2/health/live`)."""
    import tritonclient.http as tritonhttp

    from serving.tritonserver import TritonServer
    from tests.helpers import frontend

    server = TritonServer(tiny_repository, free_port(), free_port(), free_port(), log_path=tmp_path / "triton.log",
                          extra=["--model-control-mode=explicit", "--load-model=*", "--exit-timeout-secs=3"])
    triton_port = int(server.http_url.rsplit(":", 1)[1])
    with server, frontend(TRITON_URL=server.http_url, MODEL_REPOSITORY=str(tiny_repository)) as api:
        serving = probe_results(triton_port, api.url)
        assert all(serving.values()), serving
        tritonhttp.InferenceServerClient(server.http_url).unload_model(deployment_env()["TRITON_MODEL"])
        assert server.live()
        cannot_serve = probe_results(triton_port, api.url)
        assert not any(cannot_serve.values()), f"these pass while the model cannot serve: {cannot_serve}"


# What is exposed (docs/deployment.md): Triton has no keys and no limits, so only the API may reach it.

TRITON_PORTS = {8000, 8001, 8002}


@pytest.mark.parametrize("compose", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_publishes_the_api_alone(compose):
    """docker-compose's own rendering: Triton's ports are exposed to the compose network (the API reaches
    `triton:8000`) and published on no host address; the API's ports (HTTP, Wyoming) are the ones published."""
    result = run("docker-compose", "-f", compose, "config", cwd=compose.parent)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}
    assert published["triton"] == [], f"Triton's ports are published on the host: {published['triton']}"
    assert [int(p["target"]) for p in published["frontend"]] == [8880, 10200]  # the API, Wyoming
    assert {int(port) for port in services["triton"]["expose"]} == TRITON_PORTS
    assert int(services["frontend"]["environment"]["TRITON_URL"].rsplit(":", 1)[1]) in TRITON_PORTS


def deployment(documents: list[dict], name: str) -> dict:
    [found] = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
    return found


def pod_labels(documents: list[dict], name: str) -> dict[str, str]:
    return deployment(documents, name)["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A label selector against labels (matchLabels and matchExpressions, as the API server evaluates them)."""
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if not {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[operator]:
            return False
    return True


def admitted(documents: list[dict], source_labels: dict, source_namespace: str, port: int) -> bool:
    """Whether the rendered NetworkPolicies let a pod (labels, namespace) connect to a Triton pod's TCP
    `port`, by the Kubernetes semantics: a pod no policy selects for Ingress admits everything; a selected
    pod admits what one rule of one policy admits (`from` and `ports` absent or empty: anything)."""
    target = pod_labels(documents, "kokoro-triton")
    named = {p["name"]: p["containerPort"] for c in deployment(documents, "kokoro-triton")["spec"]["template"]
             ["spec"]["containers"] for p in c.get("ports", [])}
    policies = [d for d in documents if d["kind"] == "NetworkPolicy" and selects(d["spec"]["podSelector"], target)
                and "Ingress" in d["spec"].get("policyTypes", ["Ingress"])]
    if not policies:
        return True
    namespace_labels = {"kubernetes.io/metadata.name": source_namespace}

    def peer_admits(peer: dict, policy_namespace: str) -> bool:
        if "ipBlock" in peer:
            return True  # an address range: pods anywhere, as far as this check can tell
        in_namespace = (selects(peer["namespaceSelector"], namespace_labels) if "namespaceSelector" in peer
                        else source_namespace == policy_namespace)
        return in_namespace and selects(peer.get("podSelector", {}), source_labels)

    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = [named.get(p.get("port"), p.get("port")) for p in rule.get("ports", [])
                     if p.get("protocol", "TCP") == "TCP"]
            port_ok = not rule.get("ports") or port in ports or any(p is None for p in ports)
            if port_ok and (not rule.get("from") or any(peer_admits(peer, policy["metadata"]["namespace"])
                                                        for peer in rule["from"])):
                return True
    return False


def test_network_policy_admits_only_the_api_to_triton():
    """Rendered as `kubectl apply -k` would apply it: the API's pods reach Triton's HTTP and gRPC ports;
    Prometheus (namespace `monitoring`, where the adapter's values find it) reaches the metrics port the
    pods are annotated to be scraped on, and nothing else; any other pod, here or elsewhere, nothing."""
    documents = kustomize(ROOT / "k8s")
    assert any(d["kind"] == "NetworkPolicy" for d in documents), "listed in k8s/kustomization.yaml"
    frontend = pod_labels(documents, "kokoro-frontend")
    annotations = deployment(documents, "kokoro-triton")["spec"]["template"]["metadata"]["annotations"]
    metrics_port = int(annotations["prometheus.io/port"])
    assert "monitoring.svc" in yaml.safe_load(ADAPTER_VALUES.read_text())["prometheus"]["url"]
    assert admitted(documents, frontend, "kokoro", 8000) and admitted(documents, frontend, "kokoro", 8001)
    assert admitted(documents, {"app": "prometheus"}, "monitoring", metrics_port)
    assert not admitted(documents, {"app": "prometheus"}, "monitoring", 8000)
    assert not admitted(documents, frontend, "default", 8000), "the API's labels in another namespace"
    for stranger, namespace in (({"app": "debug"}, "kokoro"), ({}, "kokoro"), ({"app": "web"}, "default"),
                                (pod_labels(documents, "kokoro-triton"), "kokoro")):
        assert not any(admitted(documents, stranger, namespace, port) for port in TRITON_PORTS), (stranger, namespace)


def test_network_policy_check_does_see_an_open_triton():
    """The same check without the policy, or with a rule that admits any pod: Triton is open."""
    documents = kustomize(ROOT / "k8s")
    assert admitted([d for d in documents if d["kind"] != "NetworkPolicy"], {"app": "debug"}, "default", 8000)
    [policy] = [d for d in documents if d["kind"] == "NetworkPolicy"]
    policy["spec"]["ingress"].append({"from": [{"podSelector": {}}]})
    assert admitted(documents, {"app": "debug"}, "kokoro", 8000)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_image_runs_under_tini(dockerfile):
    """tini is PID 1 in every image: it forwards signals and reaps orphans (a killed Triton's stubs), which
    the supervisor or the API as PID 1 would leave as zombies. Installed, pinned, from the distribution."""
    text = dockerfile.read_text()
    [entrypoint] = re.findall(r"^ENTRYPOINT (\[.*\])$", text, re.MULTILINE)
    assert json.loads(entrypoint)[:2] == ["tini", "--"], entrypoint
    installs = [" ".join(run.split()) for run in re.findall(r"^RUN ((?:.*\\\n)*.*)$", text, re.MULTILINE)]
    assert any(re.search(r"apt-get install .*\btini=\S+", run) for run in installs), "tini installed, pinned"


SUBREAPER = """
import ctypes, json, subprocess, time
from serving.supervisor import adopts_orphans, reap_orphans, zombie_children
before = adopts_orphans()
assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER, as PID 1 is
kept = subprocess.Popen(["sh", "-c", "exit 3"])  # a child this process waits for itself (the server)
subprocess.run(["sh", "-c", "sleep 0.2 & exit 0"], check=True)  # its sleep is orphaned: reparented here
time.sleep(1.5)
zombies = zombie_children()
reaped = reap_orphans({kept.pid})
print(json.dumps({"before": before, "after": adopts_orphans(), "kept": kept.pid, "zombies": zombies,
                  "reaped": reaped, "left": zombie_children(), "status": kept.wait()}))
"""


def test_supervisor_reaps_orphans_but_not_its_server():
    """In a real subreaper process (what PID 1 is): an orphan reparented to it is reaped; the child it waits
    for itself keeps its zombie, so that its exit status is still its own."""
    result = run(sys.executable, "-c", SUBREAPER)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert not seen["before"] and seen["after"]
    assert seen["kept"] in seen["zombies"] and len(seen["zombies"]) == 2, seen
    assert seen["reaped"] == [z for z in seen["zombies"] if z != seen["kept"]], seen
    assert seen["left"] == [seen["kept"]] and seen["status"] == 3, seen


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # a thread may end between the listing and the read
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def zombies_of(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        try:
            if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                found.append(child)
        except (OSError, IndexError):
            continue
    return found


def tritonservers(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        try:
            if b"tritonserver" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0]:
                found.append(child)
        except OSError:
            continue
    return found


def test_supervisor_as_pid_1_reaps_the_stubs_of_a_killed_server(tiny_repository, tmp_path):
    """The supervisor run as the images would run it without tini (a subreaper stands in for PID 1): its
    tritonserver and the server's Python stubs SIGKILLed together leave the stubs' zombies to the
    supervisor (nothing else can wait for them), which restarts Triton and reaps them."""
    http_port, log = free_port(), tmp_path / "supervisor.log"
    wrapper = ("import ctypes, os, sys; assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0; "
               "os.execv(sys.executable, [sys.executable, '-m', 'serving.supervisor', *sys.argv[1:]])")
    with open(log, "ab") as out:  # O_APPEND: the supervisor's and its servers' lines never overwrite each other
        supervisor = subprocess.Popen(
            [sys.executable, "-c", wrapper, "--model-repository", str(tiny_repository), "--http-port", str(http_port),
             "--grpc-port", str(free_port()), "--metrics-port", str(free_port()), "--exit-timeout-secs=3"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_for(condition, message: str, timeout: float = 600) -> None:  # a loaded 2-core machine
        deadline = time.monotonic() + timeout
        while not condition():
            assert supervisor.poll() is None, f"the supervisor exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{message}:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
    try:
        wait_for(lambda: ready(http_port) and len(tritonservers(supervisor.pid)) == 1, "Triton not ready")
        [first] = tritonservers(supervisor.pid)
        stubs = children(first)
        assert stubs, "the tiny repository's Python models run in stub processes"
        os.killpg(first, signal.SIGKILL)  # the server's own session: it and its stubs
        wait_for(lambda: ready(http_port) and tritonservers(supervisor.pid) not in ([], [first]), "no restart")
        wait_for(lambda: not zombies_of(supervisor.pid), f"zombies left: {zombies_of(supervisor.pid)}", 30)
        assert not any(Path(f"/proc/{stub}").exists() for stub in stubs)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGTERM)
            supervisor.wait(60)


def listeners(port: int) -> set[str]:
    """The addresses TCP sockets listen on at `port` on this machine (its network namespace), read from
    the kernel's tables."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        if not Path(table).is_file():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # LISTEN
                raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
                found.add(socket.inet_ntop(family, raw))
    return found


def loopback(address: str) -> bool:
    """127.0.0.0/8 or ::1, also as an IPv4-mapped IPv6 address (gRPC's socket is IPv6)."""
    ip = ipaddress.ip_address(address)
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def outward_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet is sent: the route picks the address
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if loopback(address) or address == "0.0.0.0" else address


def connects(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


def test_the_wheels_tritonserver_takes_the_address_flags():
    """Triton 2.51 from the nvidia-pytriton wheel has a listening address per endpoint, and the launcher
    sets all three to loopback unless told otherwise."""
    from serving.tritonserver import command, environment, workspace

    result = run(workspace() / "bin" / "tritonserver", "--help", env=environment())
    flags = ("--http-address", "--grpc-address", "--metrics-address")
    assert all(flag in result.stdout + result.stderr for flag in flags), result.stdout[-3000:] + result.stderr
    argv = command(ROOT / "model_repository")
    assert {f"{flag}=127.0.0.1" for flag in flags} <= set(argv)
    assert {f"{flag}=0.0.0.0" for flag in flags} <= set(command(ROOT / "model_repository", address="0.0.0.0"))


def test_make_serve_triton_is_reachable_from_this_machine_alone(tiny_repository, tmp_path):
    """`make serve` (python -m serving.stack) for real: its Triton's HTTP, gRPC and metrics ports listen on
    loopback only, and refuse connections to this machine's outward address, which a listener on every
    address (the control) accepts."""
    ports = {"TRITON_HTTP_PORT": free_port(), "TRITON_GRPC_PORT": free_port(), "TRITON_METRICS_PORT": free_port()}
    env = {key: value for key, value in os.environ.items() if key != "TRITON_URL"}
    env.update({key: str(port) for key, port in ports.items()}, MODEL_REPOSITORY=str(tiny_repository),
               HOST="127.0.0.1", PORT=str(free_port()), API_KEYS="")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        stack = subprocess.Popen([sys.executable, "-m", "serving.stack"], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while not ready(ports["TRITON_HTTP_PORT"]):
            assert stack.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        bound = {name: listeners(port) for name, port in ports.items()}
        assert all(bound.values()), f"every endpoint listens: {bound}"
        assert all(loopback(a) for addresses in bound.values() for a in addresses), bound
        outward = outward_address()
        if outward:
            with socket.create_server(("0.0.0.0", 0)) as control:
                assert connects(outward, control.getsockname()[1]), "the control listener is reachable"
            assert not any(connects(outward, port) for port in ports.values()), f"Triton answers on {outward}"
    finally:
        if stack.poll() is None:
            stack.send_signal(signal.SIGINT)
            stack.wait(120)
