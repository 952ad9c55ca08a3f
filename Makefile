# The two commands of the README: `make run` (main job on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean constraints browser docs

# Installs the exact versions CI tested (constraints.txt), not whatever is newest today.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Train tic-tac-toe into runs/default (re-running continues an interrupted run; a finished run stays as is), then
# write its report: runs/default/report.html (curves, resources, an episode viewer).
run: install
	$(BIN)/zeroforge train --config configs/default.yaml --run-dir runs/default --resume
	$(BIN)/zeroforge report --run-dir runs/default

lint: install
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy

# pytest exits 5 when it collected no test: that is a broken suite here, and says so. Two pytest-xdist workers:
# the machines this runs on have two cores (each test runs torch and numba on one thread).
test: lint
	$(BIN)/python -m pytest -n 2; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

# Debian's chromium, headless, for the browser tests of the HTML report (tests/test_html_report.py): installed when
# missing, as root or through sudo.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null; then SUDO="sudo"; \
	  else echo "make browser: chromium is missing and installing it needs root or sudo"; exit 1; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends chromium; }
	@chromium --version 2>/dev/null | grep -i chromium

# The documentation site in site/: the docs extra from constraints.txt (a stamp of its own, so that `make test` and CI's
# install stay without it), the configuration reference generated from the config schema and configs/default.yaml,
# then mkdocs with --strict (a warning, a broken link or docstring included, fails the build; NO_MKDOCS_2_WARNING
# silences mkdocs-material's banner about its end of life in 2027, which is no warning of the build).
DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[docs]'
	touch $(DOCS_STAMP)

docs: install $(DOCS_STAMP)
	$(BIN)/python docs/gen_config_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bench: install
	$(BIN)/python benchmarks/selfplay_speed.py

# Renew constraints.txt from today's releases within pyproject's ranges (then run CI before committing it).
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install -q --upgrade pip
	.venv-constraints/bin/python -m pip install -q '.[dev,docs]'
	{ sed -n '1,2p' constraints.txt; .venv-constraints/bin/python -m pip freeze --all --exclude-editable \
	  | grep -v -i -E '^(zeroforge|setuptools|wheel)[= @]' | sed 's/+cpu$$//'; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) build site docs/configuration.md src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
