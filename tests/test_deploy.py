"""Deployment files: Dockerfiles linted (hadolint), compose files validated (docker-compose), Kubernetes
manifests rendered and validated against the Kubernetes schemas, the images' requirements resolved
against the package registry, the Triton entrypoint linted (shellcheck) and run, and one environment
shared by all of them."""
import json
import os
import re
import signal
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
