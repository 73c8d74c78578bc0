# survey_app: `make run` serves the demo, `make test` passes the suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := survey_app
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test test-sqlite test-postgres bench bench-smoke install translations extract-messages update-messages lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if ls survey_app/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -f -d survey_app/translations >/dev/null; fi

# Links in e-mails (sent by the worker) and on pages follow the port served on, unless BASE_URL is set.
run: export BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo setup
	@echo "Starting the background worker and the web server on http://127.0.0.1:$(PORT)/ (links: $$BASE_URL)"
	@$(BIN)/huey_consumer survey_app.worker.huey --workers 2 --logfile instance/worker.log & \
	  WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install
	bash scripts/run-tests.sh

test-sqlite: install
	TEST_DATABASE=sqlite $(BIN)/pytest

test-postgres: install
	TEST_DATABASE=postgres $(BIN)/pytest

bench: install
	$(BIN)/python -m bench

# One round of every bench stage on tiny sizes (about a minute): fails when the harness is broken.
bench-smoke: install
	$(BIN)/python -m bench --quick

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o survey_app/translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i survey_app/translations/messages.pot -d survey_app/translations --no-fuzzy-matching

lint: $(STAMP)
	$(BIN)/bandit -q -c pyproject.toml -r survey_app forms config.py --severity-level medium
	$(BIN)/ruff check survey_app forms config.py tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache
