# Every target creates .venv itself, so each works on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test lint bench chaos clean venv

venv: $(STAMP)

# pip's own output (and setuptools' editable-install notice) goes to a log, shown on failure:
# a newcomer sees what is happening and how long it takes, not a page of warnings.
$(STAMP): pyproject.toml
	@echo "== preparing $(VENV): the bridge and its test tools (first run: about a minute)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; echo "pip failed: see $(VENV)/install.log"; exit 1; }
	@$(BIN)/python -m pip install --quiet -e '.[test]' >> $(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; echo "pip failed: see $(VENV)/install.log"; exit 1; }
	@rm -f $(VENV)/.installed-*; touch $(STAMP)
	@echo "== $(VENV) ready"

demo: venv
	@$(BIN)/python -m bridge.demo

# Debian packages the tests drive: chromium + chromium-driver (the console's browser tests) and
# prometheus (its promtool checks the alert rules). Installed once, when missing.
DEBIAN_TEST_PACKAGES := chromium chromium-driver prometheus

test: venv
	@if ! { command -v chromium && command -v chromedriver && command -v promtool; } \
			> /dev/null 2>&1; then \
		echo "== installing $(DEBIAN_TEST_PACKAGES) for the browser and alert-rule tests" \
			"(first run: a minute or two)"; \
		{ apt-get update && apt-get install -y --no-install-recommends $(DEBIAN_TEST_PACKAGES); } \
			> $(VENV)/apt.log 2>&1 \
			|| { tail -n 30 $(VENV)/apt.log; echo "apt-get failed: see $(VENV)/apt.log"; exit 1; }; \
	fi
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	@$(BIN)/python -m pip install --quiet -e '.[dev]' >> $(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; exit 1; }
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

bench: venv
	@$(BIN)/python -m bench

chaos: venv
	@$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
