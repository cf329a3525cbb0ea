# Two commands for a new user:
#   make lab    open the course (JupyterLab on the student's own folder, my-work/)
#   make test   run the whole test suite (unit tests + every notebook under nbval)
# Both create .venv with `python3 -m venv` and `pip install -e .[dev]` when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# The student's own folder: filled from the release (chapters/) on first use,
# never overwritten afterwards (tools/workspace.py).
WORK   ?= my-work

# Offline data for tests: ../shared/data when it sits beside the checkout,
# unless the caller already set NNLIB_DATA.
SHARED_DATA := $(wildcard $(abspath ..)/shared/data)
ifneq ($(SHARED_DATA),)
export NNLIB_DATA ?= $(SHARED_DATA)
endif

.PHONY: lab test chapters solutions grade check clean-venv help

help:
	@echo "make lab      open the course in JupyterLab (your work is kept in $(WORK)/)"
	@echo "make test     run all tests and notebooks"
	@echo "make chapters regenerate chapters/ from solutions/"
	@echo "make check NB=my-work/03_xor.ipynb   which exercises pass their visible tests"
	@echo "make grade CHAPTER=03_xor SUBMISSIONS=folder/ [OUT=grades] [JOBS=2]   grade a class"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $(STAMP)

# Jupyter refuses to start as root unless told; containers and Binder often run as root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

# JupyterLab's overrides for this environment: no news pop-up, no update check.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): jupyter/overrides.json $(STAMP)
	@mkdir -p $(dir $@) && cp $< $@

lab: $(STAMP) $(LAB_SETTINGS)
	$(BIN)/python tools/workspace.py chapters $(WORK)
	$(BIN)/jupyter lab --notebook-dir=$(WORK) $(LAB_FLAGS)

# One BLAS/OpenMP thread per process: JOBS workers each run notebook kernels, and on a
# small machine multi-threaded BLAS in several processes oversubscribes the cores
# (OpenBLAS threads spin while they wait; one corpus run stalled for 5 minutes that way).
# Notebooks that compare thread counts set their own (nnlib.timing.limit_threads).
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --durations=15

# Students: check a notebook before handing it in (a copy runs; the file is not changed).
check: $(STAMP)
	@test -n "$(NB)" || (echo "usage: make check NB=my-work/03_xor.ipynb" && exit 2)
	$(BIN)/python tools/check_answers.py $(NB)

# Instructors: grade a folder of submissions of one chapter into $(OUT)/grades.csv.
OUT ?= grades
grade: $(STAMP)
	@test -n "$(CHAPTER)" -a -n "$(SUBMISSIONS)" || \
	  (echo "usage: make grade CHAPTER=03_xor SUBMISSIONS=folder/ [OUT=grades] [JOBS=2]" && exit 2)
	$(BIN)/python tools/grade.py $(CHAPTER) $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS)

chapters: $(STAMP)
	$(BIN)/python tools/make_chapters.py solutions chapters

clean-venv:
	rm -rf $(VENV)

# nnlib's training step against PyTorch's and a hand-fused NumPy step, one thread, batch 1 to 512,
# side by side in one run (not a test: timings vary; exits 1 if it disagrees with a plain loop).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python benchmarks/train_step.py

# A person with a GPU: time the notebooks' GPU experiments and measure GPU memory into
# results/ (without CUDA it runs the same code on the CPU, says so, and writes elsewhere).
.PHONY: gpu
gpu: $(STAMP)
	$(BIN)/python benchmarks/gpu.py
