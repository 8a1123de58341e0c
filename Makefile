# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test test-postgres test-browser install clean serve worker bench

$(STAMP): pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The demo signs in with ORCID, and writes affiliations, against the bundled emulator; set ORCID_* to use the
# real sandbox.
demo: export ORCID_BASE_URL ?= http://127.0.0.1:8090
demo: export ORCID_API_BASE_URL ?= http://127.0.0.1:8090
demo: export ORCID_PUBLIC_API_BASE_URL ?= http://127.0.0.1:8090
demo: export ORCID_CLIENT_ID ?= APP-DEMO
demo: export ORCID_CLIENT_SECRET ?= demo-secret
demo: $(STAMP)
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	@echo "Serving http://127.0.0.1:8000 (Ctrl-C stops the server and the job worker)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py run_huey --workers 2 --worker-type thread & \
	  $(PY) manage.py run_orcid_emulator --port 8090 & \
	  $(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(PY) -m pytest -q -m "not browser and not redis" -n 2

test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PY) -m pytest -q -m "not browser" -n 2

test-browser: $(STAMP)
	$(PY) -m pytest -q -m browser

bench: $(STAMP)
	$(PY) benchmarks/organisation_list.py

clean:
	rm -rf $(VENV) var
