# Two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# The pure core: no Flask import, type-checked strictly.
PURE := examsvc/yaml_text.py examsvc/bank/model.py examsvc/bank/yaml_format.py examsvc/bank/xlsx_format.py \
        examsvc/bank/coverage.py examsvc/catalog/standards.py examsvc/catalog/scheme_rules.py \
        examsvc/assembly/blueprint.py examsvc/assembly/pool.py examsvc/assembly/engine.py \
        examsvc/assembly/feasibility.py examsvc/assembly/verify.py \
        examsvc/registration/identity.py examsvc/registration/eligibility.py \
        examsvc/registration/fees.py examsvc/registration/roster_format.py \
        examsvc/sites/seatmap.py examsvc/plans/seating.py examsvc/plans/ticket_number.py \
        examsvc/plans/admission_ticket.py examsvc/plans/exports.py \
        examsvc/delivery/clock.py examsvc/delivery/lifecycle.py examsvc/delivery/answers.py \
        examsvc/delivery/uploads.py examsvc/proctoring/actions.py examsvc/proctoring/presence.py \
        examsvc/certificates/number.py examsvc/certificates/cose.py examsvc/certificates/keys.py \
        examsvc/certificates/keystore.py examsvc/certificates/token.py \
        examsvc/certificates/status_list.py examsvc/certificates/render.py \
        examsvc/certificates/exports.py \
        examsvc/grading/scoring.py examsvc/grading/marking.py examsvc/grading/results.py \
        examsvc/grading/statistics.py examsvc/grading/charts.py examsvc/grading/exports.py

.PHONY: run test lint install translations messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Browser libraries (socket.io client, CodeMirror) from npm, bundled into static/vendor at set-up;
# the app serves them itself, so Node.js is needed here only, never on the exam LAN. No package
# install scripts run (esbuild's binary comes from its platform package).
VENDOR := static/vendor/.built
$(VENDOR): frontend/package.json frontend/package-lock.json frontend/build.mjs $(wildcard frontend/src/*.js)
	@command -v npm >/dev/null 2>&1 || { echo "examsvc: npm not found: install Node.js 18+ and npm: apt-get install nodejs npm" >&2; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --ignore-scripts && node build.mjs
	touch $@

install: $(STAMP) translations $(VENDOR)

translations: $(STAMP)
	$(BIN)/pybabel compile -d examsvc/translations

# After changing UI text: refresh the catalog, then translate the new entries in messages.po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --width 100 -o examsvc/translations/messages.pot .
	$(BIN)/pybabel update --width 100 -i examsvc/translations/messages.pot -d examsvc/translations

run: install
	$(BIN)/examsvc db upgrade
	$(BIN)/examsvc demo load
	@echo "examsvc: http://127.0.0.1:$(PORT)  (Ctrl-C stops; staff sign-in at /auth/login)"
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PURE)

test: install lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
