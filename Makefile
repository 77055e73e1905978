# The course's commands. On a fresh machine `make book` and `make test` are all you need:
# each creates .venv from requirements.lock first (and again whenever the lock changes).
#
#   make book      build the website into _build/html (strict: any warning fails)
#   make test      unit tests, notebook hygiene, nbval on every notebook, strict book build
#   make lab       open the chapters in JupyterLab with the course's environment
#   make execute   re-execute every notebook in place (or one: make execute NB=path.ipynb)
#   make lock      regenerate requirements.lock from requirements.in
#   make clean     remove _build

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     ?= $(shell find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
JOBS   ?= 2

# Keep Jupyter's paths inside the venv, so the python3 kernel is the venv's interpreter.
export JUPYTER_PLATFORM_DIRS := 1
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYTHONHASHSEED := 0

.PHONY: book test unit nbval book-strict lab execute lock clean course-check

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# Build matplotlib's font cache now, not inside a notebook (it would print to stderr).
	$(PY) -c "import matplotlib.pyplot"
	@touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: $(STAMP)
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval
	$(MAKE) --no-print-directory book-strict
	$(MAKE) --no-print-directory course-check

unit: $(STAMP)
	$(PY) -m pytest tests -n $(JOBS) -q

nbval: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with sanitize.cfg \
	    -n $(JOBS) --dist loadscope -q $(NB)

book-strict: $(STAMP)
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

course-check:
	@if [ -f ../shared/tools/course_check.py ]; then python3 ../shared/tools/course_check.py; \
	else echo "course check: ../shared/tools/course_check.py not found, skipped"; fi

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=.

execute: $(STAMP)
	$(PY) tools/execute.py $(NB)

lock:
	PYTHON=$(PYTHON) tools/lock.sh

clean:
	rm -rf _build
