# Two commands: `make run` and `make test`. Everything else is a helper of theirs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
export FLASK_APP := consult

.PHONY: run test test-sqlite test-postgres lint migrate demo clean messages translations

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The interface's catalogs: `make messages` extracts every marked string and updates each
# locale's .po; `make translations` compiles them (run and test do it first). A new
# locale is one `$(BIN)/pybabel init -i translations/messages.pot -d translations -l xx`.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k N_ --no-location --sort-output --project Consult --copyright-holder Consult -o translations/messages.pot .
	if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching; fi

translations: $(VENV)/.installed
	if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel compile -d translations --statistics 2>&1 | tail -n 3; fi

migrate: $(VENV)/.installed translations
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask demo --if-empty

# The worker (background jobs on a queue in instance/jobs.db, or CONSULT_JOBS) runs beside
# the server and is stopped when the server stops.
run: demo
	export CONSULT_JOBS="$${CONSULT_JOBS:-sqlite}"; \
	$(BIN)/flask worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# In CI the PostgreSQL pass runs beside the SQLite one (each on its own Redis databases);
# its output follows the SQLite pass's, and either failing fails the whole.
test: $(VENV)/.installed-test translations
ifeq ($(CI),true)
	@tmp=$$(mktemp -d); log=$$tmp/postgres.log; \
	CONSULT_TEST_DATABASE_URL=$(PG_TEST_URL) CONSULT_TEST_REDIS_DB=1 \
	  $(BIN)/python -m pytest -p no:cacheprovider --basetemp=$$tmp/base $(PYTEST_ARGS) \
	  > $$log 2>&1 & pg=$$!; \
	$(BIN)/python -m pytest $(PYTEST_ARGS); sqlite=$$?; \
	wait $$pg; postgres=$$?; \
	echo "=== the PostgreSQL pass ($(PG_TEST_URL)) ==="; cat $$log; rm -rf $$tmp; \
	echo "SQLite pass: exit $$sqlite; PostgreSQL pass: exit $$postgres"; \
	test $$sqlite -eq 0 -a $$postgres -eq 0
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

test-postgres: $(VENV)/.installed-test
	CONSULT_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check consult tests benchmarks
	$(BIN)/ruff format --check consult tests benchmarks

clean:
	rm -rf $(VENV) instance .pytest_cache
