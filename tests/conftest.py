"""Hermetic test setup: no network, no wandb, a private TORCH_HOME, 2 threads, fixed seeds."""

import os
import tempfile
from pathlib import Path

# Before torch / diffusers / pyiqa are imported anywhere: pyiqa computes its weight folder at import time.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "disabled"
os.environ.setdefault("TORCH_HOME", tempfile.mkdtemp(prefix="fastvsr-torch-home-"))
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


def pytest_collection_modifyitems(config, items):
    import torch

    if not torch.cuda.is_available():
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed():
    import numpy as np
    import torch

    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)


@pytest.fixture
def sample_clip() -> Path:
    """Real 17-frame 320x180 25 fps H.264 clip with AAC audio (Big Buck Bunny, CC-BY)."""
    return DATA / "bbb_320x180_17f.mp4"


@pytest.fixture
def repo_root() -> Path:
    return REPO


def load_script(name: str):
    """``scripts/<name>.py`` as a module (its ``main`` is what the command line runs)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"script_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def script():
    """``script("infer").main(argv)``: load a command-line script of ``scripts/`` (cached per name)."""
    loaded: dict = {}

    def get(name: str):
        if name not in loaded:
            loaded[name] = load_script(name)
        return loaded[name]

    return get
