# The two set-up commands are `make run` and `make test`; everything else is a piece of them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app app

.PHONY: install translations messages run worker simulator test browser clean

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

install: $(BIN)/.installed translations

translations: $(BIN)/.installed
	$(BIN)/pybabel -q compile -d webapp/translations

# After changing interface strings: collect them into the catalogs, then translate the new
# entries in webapp/translations/tr/LC_MESSAGES/messages.po.
messages: $(BIN)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ --no-location --sort-output -o webapp/translations/messages.pot webapp templates
	$(BIN)/pybabel -q update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching

# The portal on its embedded defaults: SQLite in instance/, jobs in-process, no Redis. Served
# by gunicorn in ONE process with several threads, so the in-process jobs and the periodic
# ones stay single (docs/architecture.md, Processes); THREADS requests at once.
THREADS ?= 8
run: install
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Open http://127.0.0.1:$(PORT) and log in as above (Ctrl+C stops the portal)."
	@$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 1 --threads $(THREADS) --access-logfile - --logger-class webapp.access_log.AccessLogger app:app

# An RQ worker, for when REDIS_URL is set.
worker: install
	$(BIN)/python worker.py

# The Jira Cloud simulator on http://127.0.0.1:8089, for trying the portal without Jira.
simulator: install
	$(BIN)/python -m tests.jirasim --port 8089

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium; install it when missing and we may.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "Chromium is missing (sudo apt-get install chromium); browser tests will be skipped."; fi; }

# Every benchmark in bench/ (about twenty minutes on two cores; needs PostgreSQL and Redis,
# see docs/benchmarks.md); writes docs/benchmarks.md.
.PHONY: bench
bench: install browser
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache
