# Two user-facing targets (see README): `make run` and `make test`.
# Setup is idempotent: each install is recorded by a stamp file inside .venv that is
# older than pyproject.toml when the dependencies may have changed.

VENV := .venv
VPY := $(VENV)/bin/python
# The bot's environment (Python 3.10, Rasa): see the Rasa section below.
RASA_VENV := .venv-rasa
RASA_VPY := $(RASA_VENV)/bin/python

.PHONY: run test system-deps compile

# The API (host and port: TSUNAGU_HOST, TSUNAGU_PORT) and the bot: scripts/run-system.
run: $(VENV)/.installed-app compile $(RASA_VENV)/.installed
	scripts/run-system

test: system-deps $(VENV)/.installed-test compile $(RASA_VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

# Debian packages the tests need (PostgreSQL's server binaries); a no-op when present.
system-deps:
	scripts/install-system-deps

# Python 3.11: python3.11 from PATH if it runs (a pyenv shim may exist without the version
# being selected), else the newest 3.11 that pyenv has installed. PYTHON=... overrides.
$(VPY):
	@py="$(PYTHON)"; \
	if [ -z "$$py" ] && python3.11 -c 'import sys' >/dev/null 2>&1; then py=python3.11; fi; \
	if [ -z "$$py" ] && command -v pyenv >/dev/null 2>&1; then \
	  v=$$(pyenv versions --bare | grep -E '^3\.11\.[0-9]+$$' | sort -V | tail -n 1); \
	  if [ -n "$$v" ]; then py="$$(pyenv root)/versions/$$v/bin/python"; fi; \
	fi; \
	if [ -z "$$py" ]; then echo "error: Python 3.11 not found (install it, or pyenv install 3.11)" >&2; exit 1; fi; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(VENV)/.installed-app: pyproject.toml | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q -e '.[compile]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q -e '.[test,compile]'
	@touch $@

# The triage engine's modules compiled by mypyc (routing_rules/compiled.py), rebuilt
# when their sources differ from the last build's; any install (run or test) has mypyc.
compile: | $(VPY)
	@test -e $(VENV)/.installed-app || test -e $(VENV)/.installed-test || $(MAKE) $(VENV)/.installed-app
	@$(VPY) scripts/compile-triage

# --- Rasa (bot) environment --------------------------------------------------------------
# Rasa 3.6.21 needs Python <3.11, so it lives in its own venv, .venv-rasa, on Python 3.10
# from pyenv (RASA_PYTHON=... overrides). rasa, rasa-sdk, SudachiPy and the bot package
# (bot/pyproject.toml, editable) are installed in ONE pip command under
# constraints/rasa.txt so that Rasa's pins hold; `pip check` must pass. About 4 min, 2.9 GB.

.PHONY: bot-env bot

bot-env: $(RASA_VENV)/.installed

# Train and run the bot (Rasa + action server) next to `make run`: see scripts/run-bot.
bot: $(RASA_VENV)/.installed
	scripts/run-bot

$(RASA_VPY):
	@py="$(RASA_PYTHON)"; \
	if [ -z "$$py" ] && command -v pyenv >/dev/null 2>&1; then \
	  v=$$(pyenv versions --bare | grep -E '^3\.10\.[0-9]+$$' | sort -V | tail -n 1); \
	  if [ -n "$$v" ]; then py="$$(pyenv root)/versions/$$v/bin/python"; fi; \
	fi; \
	if [ -z "$$py" ]; then \
	  echo "error: Python 3.10 not found for $(RASA_VENV) (Rasa 3.6 needs Python <3.11):" \
	    "run 'pyenv install 3.10' or set RASA_PYTHON=/path/to/python3.10" >&2; exit 1; fi; \
	"$$py" -c 'import sys; sys.exit(not (3, 8) <= sys.version_info[:2] < (3, 11))' || { \
	  echo "error: $$py is not Python 3.8-3.10, which Rasa 3.6 needs" >&2; exit 1; }; \
	echo "creating $(RASA_VENV) with $$py"; \
	"$$py" -m venv $(RASA_VENV) || { rm -rf $(RASA_VENV); exit 1; }

$(RASA_VENV)/.installed: constraints/rasa.txt bot/pyproject.toml | $(RASA_VPY)
	$(RASA_VPY) -m pip install --disable-pip-version-check -q -c constraints/rasa.txt \
	  rasa rasa-sdk sudachipy sudachidict-core -e ./bot
	$(RASA_VPY) -m pip check
	@touch $@
