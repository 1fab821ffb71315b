"""Deployment files: Dockerfiles linted (hadolint), compose files validated (docker-compose), Kubernetes
manifests validated against the Kubernetes schemas, and one environment shared by all of them."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, deployment_env

DOCKERFILES = sorted((ROOT / "docker").glob("*.Dockerfile"))
COMPOSE_FILES = sorted((ROOT / "docker").glob("compose*.yaml"))
KUSTOMIZATION = ROOT / "k8s" / "kustomization.yaml"
BIN = Path(sys.executable).parent


def run(*args, cwd=ROOT):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)


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
    assert listed == set((ROOT / "k8s").glob("*.yaml")) - {KUSTOMIZATION}, "every manifest is in the kustomization"
    result = run(BIN / "kubernetes-validate", "--strict", *sorted(listed))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "did not validate" not in result.stdout + result.stderr


def test_kubernetes_validation_does_reject_a_bad_manifest(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "k8s" / "frontend.yaml").read_text().replace("containerPort: 8880", "containerPortt: 8880"))
    result = run(BIN / "kubernetes-validate", "--strict", bad)
    assert result.returncode != 0 or "did not validate" in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_renders_a_valid_whole(tmp_path):
    rendered = run("kubectl", "kustomize", ROOT / "k8s")
    assert rendered.returncode == 0, rendered.stderr
    path = tmp_path / "rendered.yaml"
    path.write_text(rendered.stdout)
    result = run(BIN / "kubernetes-validate", "--strict", path)
    assert result.returncode == 0 and "did not validate" not in result.stdout + result.stderr


def test_kubernetes_config_map_is_the_shared_env():
    config_map = yaml.safe_load((ROOT / "k8s" / "frontend-config.yaml").read_text())
    assert config_map["data"] == deployment_env()


def test_hpa_scales_triton_on_the_adapter_metric():
    hpa = yaml.safe_load((ROOT / "k8s" / "triton-hpa.yaml").read_text())
    rules = yaml.safe_load((ROOT / "k8s" / "prometheus-adapter-rules.yaml").read_text())["data"]["rules.yaml"]
    metric = hpa["spec"]["metrics"][0]["pods"]["metric"]["name"]
    assert yaml.safe_load(rules)["rules"][0]["name"]["as"] == metric
    assert hpa["spec"]["scaleTargetRef"]["name"] == "kokoro-triton"


def test_the_shared_env_is_a_valid_settings_object(monkeypatch):
    from frontend.settings import Settings

    for key, value in deployment_env().items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.port == 8880 and settings.triton_model == "kokoro"
