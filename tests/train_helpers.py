"""Shared bits of the training tests: tiny configs pointed at the sample clip, metric-log readers."""

from pathlib import Path

import pytest
import torch
from accelerate.state import AcceleratorState

from fastvsr.config import load_config
from fastvsr.train.runlog import read_metrics

CONFIGS = Path(__file__).parent.parent / "configs" / "train"


@pytest.fixture(autouse=True)
def _one_thread_fresh_accelerator():
    """One thread (tiny convs thrash under OpenMP contention) and a fresh accelerate state per test."""
    torch.set_num_threads(1)
    yield
    AcceleratorState._reset_state(True)


def tiny_config(schema, name, clip, out, *overrides):
    """``configs/train/<name>.yaml`` with the sample clip as data and validation clip, output in ``out``."""
    return load_config(schema, [CONFIGS / f"{name}.yaml"],
                       [f"data.sources=[{clip}]", f"val.path={clip}", f"train.output_dir={out}", *overrides])


def train_scalars(run_dir, key):
    """``[(step, value), ...]`` of a training scalar from a run's metrics.jsonl."""
    return [(r["step"], r[key]) for r in read_metrics(Path(run_dir) / "metrics.jsonl") if r.get(key) is not None]


def mean(values):
    values = list(values)
    return sum(values) / len(values)
