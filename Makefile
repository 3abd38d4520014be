# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Both create ./.venv and install the project into it first (once; re-run when pyproject.toml changes).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export WANDB_MODE ?= disabled

.PHONY: install demo test clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip>=23'
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[log,test]'
	$(BIN)/pip install -q --no-deps pyiqa==0.1.16
	touch $(STAMP)

install: $(STAMP)

# Super-resolve the bundled sample clip x4 with the default model (writes demo/ outputs).
demo: $(STAMP)
	$(BIN)/python scripts/infer.py --input tests/data/bbb_320x180_17f.mp4 --output demo/bbb_x4.mp4 --compare --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo
