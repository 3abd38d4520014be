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

# Super-resolve the bundled sample clip x4 with the shipped default model (writes demo/bbb_x4.mp4 and
# demo/bbb_x4_compare.{mp4,png}). If fastvsr/weights/default is removed, the same pipeline runs with an
# untrained tiny model (geometry, fps, audio and file handling are real; the pixels are not).
DEMO_IN := tests/data/bbb_320x180_17f.mp4
demo: $(STAMP)
	@if [ -f fastvsr/weights/default/fastvsr_model.json ]; then \
	  $(BIN)/python scripts/infer.py --input $(DEMO_IN) --output demo/bbb_x4.mp4 --compare --overwrite; \
	else \
	  echo "note: no trained default model in fastvsr/weights/default yet: running the pipeline with an UNTRAINED tiny model"; \
	  $(BIN)/python scripts/build_model.py --config configs/models/fastvsr_tiny.yaml --output demo/untrained_tiny --overwrite && \
	  $(BIN)/python scripts/infer.py --input $(DEMO_IN) --model demo/untrained_tiny --output demo/bbb_x4.mp4 --compare --overwrite; \
	fi

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo
