# Two commands for a new user:
#   make lab    open the course (JupyterLab on the student's own folder, my-work/)
#   make test   run the whole test suite (unit tests + every notebook under nbval)
# Both create .venv with `python3 -m venv` and `pip install -e .[dev]` when needed.
# Every target is one line calling the course command, `primer` (primer/cli.py); without
# make (Windows, or by hand) run the same `primer ...` line inside the environment.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
WORK   ?= my-work

.PHONY: lab test check grade chapters doctor bench gpu clean-venv help

help:
	@echo "make lab      open the course in JupyterLab (your work is kept in $(WORK)/)"
	@echo "make test     run all tests and notebooks"
	@echo "make check NB=my-work/03_xor.ipynb   which exercises pass their visible tests"
	@echo "make doctor   what is wrong with this setup, and how to fix it"
	@echo "make grade CHAPTER=03_xor SUBMISSIONS=folder/ [OUT=grades] [JOBS=2]   grade a class"
	@echo "make chapters regenerate chapters/ from solutions/"
	@echo "everything else: $(BIN)/primer --help"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/primer lab --folder $(WORK)

test: $(STAMP)
	$(BIN)/primer test --jobs $(JOBS)

check: $(STAMP)
	$(BIN)/primer check $(NB)

doctor: $(STAMP)
	$(BIN)/primer doctor --folder $(WORK)

OUT ?= grades
grade: $(STAMP)
	$(BIN)/primer grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS)

chapters: $(STAMP)
	$(BIN)/primer release solutions chapters

# nnlib's training step against PyTorch's and a hand-fused NumPy step, one thread, batch 1 to
# 512, side by side in one run (not a test: timings vary; exits 1 if it disagrees with a plain loop).
bench: $(STAMP)
	$(BIN)/python benchmarks/train_step.py

# A person with a GPU: time the notebooks' GPU experiments and measure GPU memory into
# results/ (without CUDA it runs the same code on the CPU, says so, and writes elsewhere).
gpu: $(STAMP)
	$(BIN)/python benchmarks/gpu.py

clean-venv:
	rm -rf $(VENV)
