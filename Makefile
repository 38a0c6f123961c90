# Two user-facing targets (see README): `make run` and `make test`.
# Setup is idempotent: each install is recorded by a stamp file inside .venv that is
# older than pyproject.toml when the dependencies may have changed.

VENV := .venv
VPY := $(VENV)/bin/python

.PHONY: run test system-deps

run: $(VENV)/.installed-app
	$(VENV)/bin/tsunagu serve  # host and port: TSUNAGU_HOST, TSUNAGU_PORT (api/settings.py)

test: system-deps $(VENV)/.installed-test
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
	$(VPY) -m pip install --disable-pip-version-check -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch $@
