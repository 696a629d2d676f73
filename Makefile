# Two commands for a newcomer: `make demo` and `make test`. Both create their
# own virtual environment in .venv, pin torch (the CPU wheel), and are
# idempotent (stamp files record what is installed).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH  ?= torch==2.13.0
OUT    ?= runs/usps-demo

.PHONY: demo test docs bench clean

$(VENV)/.core: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e .
	touch $@

# torch-cluster has no wheel on PyPI: pip compiles it once (about 12 minutes
# on 2 cores) and caches the wheel, so later installs are instant. It must see
# the installed torch, hence --no-build-isolation.
$(VENV)/.test: $(VENV)/.core
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q --no-build-isolation torch-cluster
	touch $@

$(VENV)/.docs: $(VENV)/.core
	$(PIP) install -q -e '.[docs]'
	touch $@

demo: $(VENV)/.core
	$(VENV)/bin/vgdcn fit usps --out $(OUT)

test: $(VENV)/.test
	$(PY) -m pytest -q

docs: $(VENV)/.docs
	$(VENV)/bin/sphinx-build -W -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build runs
