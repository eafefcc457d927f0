# auxdet — make setup | make test | make test-lab | make notebooks | make lint | make bench | make gpu-check
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.auxdet-setup
NB_TIMEOUT ?= 420

.PHONY: setup test test-lab pytest nbsmoke notebooks lint bench gpu-check clean-build

setup: $(STAMP)

# Re-run the (idempotent) install whenever the pins or the script change.
$(STAMP): scripts/setup.sh requirements.txt pyproject.toml
	bash scripts/setup.sh
	touch $@

# CI entry point (.ci/run): lint, pytest, then every notebook in SMOKE mode. Times each phase.
test:
	@mkdir -p build && : > build/phase-times.txt
	@bash scripts/timed.sh "setup" $(MAKE) --no-print-directory setup
	@bash scripts/timed.sh "lint" $(MAKE) --no-print-directory lint
	@bash scripts/timed.sh "pytest" $(MAKE) --no-print-directory pytest
	@bash scripts/timed.sh "notebooks (SMOKE)" $(MAKE) --no-print-directory nbsmoke
	@cat build/phase-times.txt

pytest: setup
	$(PY) -m pytest -q -p no:cacheprovider tests

nbsmoke: setup
	SMOKE=1 $(PY) scripts/run_notebooks.py --smoke --timeout $(NB_TIMEOUT)

# Main job: every notebook at full size on the embedded synthetic data; figures → figures/.
notebooks: setup
	SMOKE=0 $(PY) scripts/run_notebooks.py --timeout 7200

lint: setup
	$(VENV)/bin/ruff check auxdet tests benchmarks scripts notebooks

bench: setup
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

# On a CUDA machine: mmcv's CUDA ops, then the paper's two detectors with AMP at 1024² (img/s, memory, the
# AuxDet / baseline step-time ratio). Without CUDA it says so and exits 0.
gpu-check: setup
	$(PY) benchmarks/gpu_check.py $(GPU_CHECK_ARGS)

clean-build:
	rm -rf build/notebooks build/figures build/pytest build/lab

# JupyterLab itself, in headless Chromium (scripts/lab_check.py): opens every notebook, checks the kernel is
# 'auxdet', saves (no diff allowed), runs 00 and 01 with Run All (SMOKE), screenshots → build/lab/.
test-lab: setup
	@mkdir -p build
	@bash scripts/timed.sh "lab (Chromium)" $(PY) scripts/lab_check.py
