"""The GPU check (scripts/gpu_check.sh): a one-line error without CUDA, and its whole code path at tiny scale on
the CPU (configs/bench/gpu_check_tiny.yaml): benchmark rows side by side, real trainer steps, table and JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).parent.parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_without_cuda_the_check_is_a_one_line_error(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "scripts/gpu_check.py"), "--out", str(tmp_path / "out")],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: the GPU check needs a CUDA device")
    assert not (tmp_path / "out").exists()


def test_tiny_gpu_check_runs_inference_side_by_side_and_training_steps(tmp_path):
    out = tmp_path / "check"
    proc = subprocess.run([sys.executable, str(REPO / "scripts/gpu_check.py"), "--config",
                           str(REPO / "configs/bench/gpu_check_tiny.yaml"), "--out", str(out), "--quiet"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / "gpu_check.json").read_text())
    inference = [r for r in result["rows"] if r["check"] == "inference"]
    training = [r for r in result["rows"] if r["check"] == "training"]
    assert [r["what"].split(":")[0] for r in inference] == ["baseline_f8", "fastvsr_f16"]
    assert all(r["seconds"] > 0 and r["frames_per_second"] > 0 and r["peak_memory_gib"] > 0 for r in inference)
    assert inference[1]["ratio"] > 1  # the f16 pipeline is faster, measured in the same run
    assert len(training) == 1 and training[0]["seconds"] > 0 and "9x32x64 HR crop" in training[0]["what"]
    summary = json.loads((out / "train" / "summary.json").read_text())
    assert summary["step"] == 2 and summary["timed_steps"] == 2 and summary["median_step_seconds"] > 0
    assert (out / "gpu_check.md").read_text() in proc.stdout


def test_the_paper_check_measures_table_2s_clip_and_the_paper_crop():
    from fastvsr.bench.config import BenchConfig
    from fastvsr.config import load_config
    from fastvsr.recipes.gpu_check import GpuCheckConfig
    from fastvsr.train.vae import VAETrainConfig

    cfg = load_config(GpuCheckConfig, [REPO / "configs/bench/gpu_check.yaml"])
    bench = load_config(BenchConfig, [REPO / p for p in cfg.bench], cfg.bench_overrides)
    assert list(bench.models) == ["baseline_f8", "fastvsr_f16"] and bench.timing.dtype.value == "bf16"
    assert (bench.clip.frames, bench.clip.lr_height, bench.clip.lr_width, bench.clip.scale) == (33, 180, 320, 4)
    t = cfg.training
    train = load_config(VAETrainConfig, [REPO / p for p in t.configs], t.overrides)
    assert (t.frames, t.height, t.width) == (25, 320, 640) and cfg.require_cuda
    assert train.model.vae.kind == "cogvideox" and tuple(train.model.vae.block_out_channels) == (128, 256, 256, 512)
    assert train.train.precision.value == "bf16" and train.train.gradient_checkpointing
