# The course's commands. On a fresh machine `make book` and `make test` are all you need:
# each creates .venv from requirements.lock first (and again whenever the lock changes).
#
#   make book      build the website into _build/html (strict: any warning fails)
#   make test      ruff, unit tests, notebook hygiene, nbval on every notebook, strict book
#                  build, the browser test of the built site, actionlint on the CI workflows
#   make serve     serve _build/html on http://127.0.0.1:8000 (PORT=... to change)
#   make site-test drive every page of _build/html in headless Chromium (tests_site/)
#   make actionlint  check .github/workflows (actionlint with shellcheck, set -eo pipefail)
#   make lab       open the chapters in JupyterLab with the course's environment
#   make execute   re-execute every notebook in place (or one: make execute NB=path.ipynb)
#   make bench     time dlnotes kernels against torch, and the course's build and validation
#                  (BENCH_ARGS=--publish updates reference/bench/, shown on the book's page)
#   make lock      regenerate requirements.lock (and environment.yml) from requirements.in
#   make lint      ruff on dlnotes/, tests/, tools/ and reference/_ext/ (pyproject.toml)
#   make pdf       the book as one PDF, _build/pdf/deep-learning-verified.pdf (XeLaTeX;
#                  installs Debian's TeX Live packages when missing and running as root)
#   make pdf-check the PDF's smoke test: it exists, has every chapter, no LaTeX errors
#   make test-python-versions  dlnotes with NumPy only on Python 3.11, 3.12 and 3.13: a venv
#                  each under _build/, the NumPy-only tests (pytest --numpy-only)
#   make clean     remove _build

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     ?= $(shell find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
JOBS   ?= 2
PORT   ?= 8000

# Keep Jupyter's paths inside the venv, so the python3 kernel is the venv's interpreter.
export JUPYTER_PLATFORM_DIRS := 1
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PYTHONHASHSEED := 0

.PHONY: bench book test unit nbval book-strict lab execute lock clean course-check serve site-test \
        chromium actionlint lint pdf pdf-check tex test-python-versions

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# The distribution was called "dlnotes" before it became "dlnotes-course".
	@$(PY) -m pip uninstall --quiet --yes dlnotes >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# Build matplotlib's font cache now, not inside a notebook (it would print to stderr).
	$(PY) -c "import matplotlib.pyplot"
	@touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval
	$(MAKE) --no-print-directory book-strict
	$(MAKE) --no-print-directory site-test
	$(MAKE) --no-print-directory actionlint
	$(MAKE) --no-print-directory course-check

unit: $(STAMP)
	$(PY) -m pytest tests -n $(JOBS) -q

# One BLAS/OpenMP thread per kernel while notebooks run: nbval runs $(JOBS) kernels at once,
# and two-thread BLAS kernels on a 2-core machine slow small matrix products down by 10-30x.
# `make execute` uses the same setting, so stored outputs come from the same arithmetic.
nbval execute: export OPENBLAS_NUM_THREADS := 1
nbval execute: export OMP_NUM_THREADS := 1
nbval execute: export MKL_NUM_THREADS := 1

nbval: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with sanitize.cfg \
	    -n $(JOBS) --dist loadscope -q $(NB)

book-strict: $(STAMP)
	rm -rf _build/html
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The browser test: every page of the built site in headless Chromium, offline (tests_site/).
site-test: $(STAMP) chromium
	@test -f _build/html/index.html || $(MAKE) --no-print-directory book
	$(PY) -m pytest tests_site -q

# Debian's chromium-headless-shell, which Playwright drives (its own browser download is not
# used). Installed here with apt-get when missing and running as root; otherwise explained.
chromium:
	@if [ -n "$$CHROMIUM" ] || command -v chromium-headless-shell >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium-headless-shell (Debian) for the browser test"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	       chromium-headless-shell >/dev/null; }; \
	else \
	  echo "The browser test needs headless Chromium. On Debian 12 or later install it with" >&2; \
	  echo "  sudo apt-get install chromium-headless-shell" >&2; \
	  echo "or point CHROMIUM=/path/to/chromium at another build of Chromium." >&2; \
	  exit 1; \
	fi

# The CI workflows: actionlint (with shellcheck on every run: script) and our own rule that
# each run: script starts with `set -eo pipefail`.
actionlint: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint .github/workflows/*.yml
	$(PY) tools/check_workflows.py .github/workflows/*.yml

# ruff, configured in pyproject.toml ([tool.ruff]); .pre-commit-config.yaml runs the same.
lint: $(STAMP)
	$(VENV)/bin/ruff check dlnotes tests tools reference/_ext

# The PDF: Jupyter Book's LaTeX builder, XeLaTeX through latexmk (see `latex:` in _config.yml).
# A separate output folder (_build/pdf) keeps it apart from the website's build.
PDF := _build/pdf/deep-learning-verified.pdf
pdf: $(STAMP) tex
	rm -rf _build/pdf/_build/latex
	$(VENV)/bin/jupyter-book build . --builder pdflatex --path-output _build/pdf
	cp _build/pdf/_build/latex/book.pdf $(PDF)
	@echo "wrote $(PDF)"

pdf-check:
	@test -f $(PDF) || $(MAKE) --no-print-directory pdf
	$(PY) tools/check_pdf.py $(PDF) _build/pdf/_build/latex/book.log

# Debian's TeX Live for `make pdf`: XeLaTeX, latexmk, xindy, the LaTeX packages of Sphinx and
# jupyterbook-latex, xeCJK and fonts for Chinese text and emoji, and poppler (pdf-check).
TEX_PACKAGES := latexmk texlive-xetex texlive-latex-recommended texlive-latex-extra \
        texlive-fonts-recommended tex-gyre texlive-lang-cjk texlive-lang-chinese xindy \
        fonts-freefont-otf fonts-wqy-microhei fonts-symbola poppler-utils
tex:
	@if (for c in xelatex latexmk xindy pdfinfo pdftotext; do command -v $$c || exit 1; done) \
	     >/dev/null 2>&1 && kpsewhich xeCJK.sty ctexhook.sty pgfplots.sty fncychap.sty >/dev/null 2>&1 \
	   && fc-list | grep -q "WenQuanYi Micro Hei Mono" && fc-list | grep -q Symbola \
	   && fc-list | grep -q FreeSerif; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing TeX Live (Debian) for the PDF: $(TEX_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	       $(TEX_PACKAGES) >/dev/null; }; \
	else \
	  echo "The PDF needs Debian's TeX Live. Install it with" >&2; \
	  echo "  sudo apt-get install --no-install-recommends $(TEX_PACKAGES)" >&2; \
	  exit 1; \
	fi

# Not part of `make test`: each venv takes a minute or two to build.
test-python-versions:
	tools/test_python_versions.sh

serve:
	@test -f _build/html/index.html || $(MAKE) --no-print-directory book
	@echo "serving _build/html on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

course-check:
	@if [ -f ../shared/tools/course_check.py ]; then python3 ../shared/tools/course_check.py; \
	else echo "course check: ../shared/tools/course_check.py not found, skipped"; fi

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=.

execute: $(STAMP)
	$(PY) tools/execute.py $(NB)

# Not part of `make test`: timings depend on the machine and on what else it is doing.
bench: $(STAMP)
	$(PY) tools/bench.py $(BENCH_ARGS)

lock:
	PYTHON=$(PYTHON) tools/lock.sh
	$(PYTHON) tools/write_environment.py

clean:
	rm -rf _build
