# Two commands do all the set-up on a fresh machine that has python3 (with venv and pip):
#   make run    – the main job on the embedded default (Prefect server + worker, local SMTP, SQLite)
#   make test   – the test suite
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: install run test lint docs-templates docs-preview bench audit clean mutation

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

run: install
	$(VENV)/bin/council init
	$(VENV)/bin/council run $(ARGS)

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check council flows models tests benchmarks templates/src
	$(VENV)/bin/lint-imports

docs-templates: install
	$(VENV)/bin/python templates/src/build_templates.py

clean:
	rm -rf $(VENV) $(TOOLS) state outputs/*/ outputs/*.eml

# Documents of every body at every stage, then the Prefect forms' screenshots for the README
# (the browser test against a real stack; several minutes, needs Chromium).
docs-preview: install
	$(VENV)/bin/council init
	$(VENV)/bin/council docs-preview
	CI=true $(VENV)/bin/pytest tests/browser/test_prefect_ui.py tests/browser/test_many_proposals_ui.py -q
	mkdir -p docs/forms
	cp outputs/forms/*.png outputs/prefect-ui-empty-form.png outputs/prefect-ui-refused-run.png docs/forms/

bench: install
	$(VENV)/bin/python -m benchmarks.run

# Mutation testing (mutmut) of the outbox, calendar, transitions and reminder rules, each against its
# own test files; prints caught/total per module. On demand, not in CI (several minutes).
mutation: install
	$(VENV)/bin/python tools/mutation.py

audit: install
	$(UV) export --frozen --no-hashes --no-emit-project --format requirements-txt > .tools/requirements.txt
	$(TOOLS)/bin/pip install --quiet pip-audit
	$(TOOLS)/bin/pip-audit -r .tools/requirements.txt
