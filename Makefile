# Two commands for a new user: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/followup demo

# The tests need a PostgreSQL server: FOLLOWUP_TEST_POSTGRES_URL, or (unset) a throw-away
# cluster that scripts/with_postgres.sh starts and stops (it fails clearly without PostgreSQL).
WITH_POSTGRES := $(if $(FOLLOWUP_TEST_POSTGRES_URL),,scripts/with_postgres.sh)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(WITH_POSTGRES) $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Extract code and survey strings into locales/messages.pot, then merge into every catalog.
# Default keywords stay (gettext, ngettext, ...); -k only adds ours. No .mo: bot/text/i18n.py reads .po.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k pgettext:1c,2 -k nformat:1,2 --add-comments=Translators: \
		--no-location --sort-output --project partner-followup \
		--copyright-holder partner-followup --msgid-bugs-address "" -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete

# Benchmarks: plain scripts that print figures (not timed tests). Each bench/*.py runs in turn.
# common.py and plain_ptb_bot.py (telegram_load's comparison bot) are helpers; every other
# bench/*.py is a script, run as a module from the root.
bench: $(STAMP)
	@for script in bench/*.py; do \
		name=$$(basename $$script .py); \
		case $$name in __init__|common|plain_ptb_bot) continue;; esac; \
		echo "== bench/$$name.py"; $(BIN)/python -m bench.$$name || exit 1; \
	done

clean:
	rm -rf $(VENV) build dist *.egg-info
