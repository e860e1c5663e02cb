# motcua task runner. `make help` lists the targets.
# The two commands of the README: `make run` (set up + main job) and `make test` (set up + tests).
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1

.PHONY: help setup browser nginx run serve test lint eval bench bench-cluster clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## create .venv with Python 3.10 and install pinned dependencies (idempotent)
	@scripts/bootstrap.sh

run: setup ## the main job on embedded defaults (SQLite, bundled model and sample catalogue)
	$(BIN)/motcua run

test: setup browser nginx ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

browser: ## install Debian's chromium for the widget's browser tests (root; once)
	@scripts/install-browser.sh

nginx: ## install Debian's nginx, the load balancer of `motcua serve` (root; once)
	@scripts/install-nginx.sh

serve: setup nginx ## production: N Rasa + M action servers behind nginx (docs/deployment.md)
	$(BIN)/motcua serve

lint: setup ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

eval: setup ## retrieval quality on the dev questions over the full national catalogue
	$(BIN)/motcua eval retrieval --questions $(SHARED)/eval/dev_questions.jsonl \
		--catalogue $(SHARED)/data/dichvucong/procedures.jsonl.gz

bench: setup ## import + index + query latency benchmark over the full catalogue
	$(BIN)/python benchmarks/bench_knowledge.py --catalogue $(SHARED)/data/dichvucong/procedures.jsonl.gz

bench-cluster: setup nginx ## 50 simulated citizens for 60 s over the balancer, 1+1 vs 2+2 replicas
	$(BIN)/python benchmarks/bench_cluster.py

clean: ## remove local state (database, index); keeps .venv
	rm -rf var
