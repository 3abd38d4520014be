"""The GPU check: what the first CUDA machine should run, in one go (``scripts/gpu_check.sh``).

1. **Inference, side by side**: the Table-2 benchmark (``configs/bench/paper.yaml``) restricted to the f8 baseline
   and FastVSR's f16 pipeline, random weights at paper scale in bf16, a 33-frame 720p clip: end-to-end latency
   (median of interleaved runs), frames/s and peak memory of each, and their ratio.
2. **Training**: stage 1 (the f16 decoder on the frozen encoder) for a few steps through the real trainer
   (:func:`fastvsr.train.vae.train_vae`, accelerate, bf16, activation checkpointing) on random HR clips of the
   paper crop; median step time and peak memory come from the run's ``summary.json``.

Settings: :class:`GpuCheckConfig` (``configs/bench/gpu_check.yaml``; ``gpu_check_tiny.yaml`` runs the same code
on tiny paper-structured models on a CPU). Paths in it are relative to the repository root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from fastvsr.atomic import atomic_path
from fastvsr.bench.config import BenchConfig
from fastvsr.bench.run import device_name, run_benchmark
from fastvsr.config import load_config, require
from fastvsr.errors import ConfigError
from fastvsr.ops.resize import bicubic_rescale
from fastvsr.train.vae import VAETrainConfig, train_vae

RESULT_FILE = "gpu_check.json"
TABLE_FILE = "gpu_check.md"
COLUMNS = ("check", "what", "latency / step (s)", "frames/s", "peak memory (GiB)", "ratio f8 / f16")


@dataclass
class TrainingCheckConfig:
    """A few stage-1 steps: ``configs`` (VAETrainConfig YAMLs) plus ``overrides``, on random HR clips of
    ``frames x height x width`` (the paper crop: 25 x 320 x 640)."""

    configs: list[str] = field(default_factory=lambda: ["configs/paper/fastvsr_stage1.yaml"])
    overrides: list[str] = field(default_factory=list)
    frames: int = 25
    height: int = 320
    width: int = 640
    steps: int = 3

    def __post_init__(self) -> None:
        require(self.steps >= 2, "training.steps must be >= 2 (the first step is warm-up)")
        require(self.height % 4 == 0 and self.width % 4 == 0, "training.height and width must be multiples of 4")


@dataclass
class GpuCheckConfig:
    """Schema of ``configs/bench/gpu_check*.yaml``: the benchmark files and overrides, and the training check.
    ``require_cuda: false`` (the tiny CPU config) lets it run without a GPU."""

    bench: list[str] = field(default_factory=lambda: ["configs/bench/paper.yaml"])
    bench_overrides: list[str] = field(default_factory=list)
    training: TrainingCheckConfig = field(default_factory=TrainingCheckConfig)
    require_cuda: bool = True


class RandomClips(Dataset):
    """``n`` random HR clips ``gt`` ``(3, T, H, W)`` in ``[0, 1]`` with their bicubic x4 LR ``lq``, seeded per
    index (costs do not depend on content)."""

    def __init__(self, frames: int, height: int, width: int, n: int = 8) -> None:
        self.shape, self.n = (3, frames, height, width), n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        gt = torch.rand(self.shape, generator=torch.Generator().manual_seed(index))
        return {"gt": gt, "lq": bicubic_rescale(gt[None], 0.25)[0].clamp(0, 1)}


def _paths(root: Path, files: list[str]) -> list[Path]:
    return [p if p.is_absolute() else root / p for p in map(Path, files)]


def inference_rows(cfg: GpuCheckConfig, root: Path, progress: bool) -> tuple[list[dict[str, Any]], str, str]:
    """Benchmark rows (one per variant, the f8 baseline first), the device's name and the clip's description."""
    bench = load_config(BenchConfig, _paths(root, cfg.bench), cfg.bench_overrides)
    report = run_benchmark(bench, progress=progress)
    frames = bench.clip.frames * bench.clip.batch
    ratio = report.ratios(bench.compared).get("latency")
    rows = []
    for v in sorted(report.variants, key=lambda v: v.name != bench.baseline):
        if v.timing is None:
            raise ConfigError(f"the benchmark did not time {v.name} ({v.note or 'no timing'})")
        rows.append({"check": "inference", "what": f"{v.name}: {v.label}", "seconds": v.timing.total,
                     "frames_per_second": v.fps(frames), "peak_memory_gib": v.peak_memory_bytes / 2**30,
                     "ratio": ratio if v.name == bench.compared else None})
    c = bench.clip
    clip = f"{c.frames} frames {c.lr_height}x{c.lr_width} -> x{c.scale}, {bench.timing.dtype.value}"
    return rows, report.device, clip


def training_row(cfg: GpuCheckConfig, root: Path, out: Path) -> dict[str, Any]:
    """Run the training check into ``out / "train"`` and return its row."""
    t = cfg.training
    overrides = [*t.overrides, f"train.max_steps={t.steps}", f"train.output_dir={out / 'train'}",
                 "train.processes=1", "train.validate_every=0", "train.validate_at_start=false",
                 "train.checkpoint_every=0", "train.log_every=1", f"data.num_frames={t.frames}"]
    train_cfg = load_config(VAETrainConfig, _paths(root, t.configs), overrides)
    train_cfg.val.path = str(_paths(root, [train_cfg.val.path])[0])
    summary = train_vae(train_cfg, dataset=RandomClips(t.frames, t.height, t.width))
    precision = train_cfg.train.precision.value
    checkpointing = "activation checkpointing" if train_cfg.train.gradient_checkpointing else "no checkpointing"
    return {"check": "training", "what": f"stage 1 (f16 decoder), {t.frames}x{t.height}x{t.width} HR crop, batch "
                                         f"{train_cfg.train.batch_size}, {precision}, {checkpointing}",
            "seconds": summary["median_step_seconds"],
            "frames_per_second": t.frames * train_cfg.train.batch_size / summary["median_step_seconds"],
            "peak_memory_gib": summary["peak_memory_gib"], "ratio": None}


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_table(result: dict[str, Any]) -> str:
    """The result as a Markdown table with a caption line (device, clip)."""
    lines = [f"GPU check on {result['device']}: inference on {result['clip']}, random weights", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in result["rows"]:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        lines.append(f"| {row['check']} | {row['what']} | {_cell(row['seconds'])} | "
                     f"{_cell(row['frames_per_second'])} | {_cell(row['peak_memory_gib'])} | {ratio} |")
    return "\n".join(lines) + "\n"


def check_device(cfg: GpuCheckConfig) -> None:
    """Raise :class:`ConfigError` when the check needs CUDA and none is visible."""
    if cfg.require_cuda and not torch.cuda.is_available():
        raise ConfigError("the GPU check needs a CUDA device and torch sees none (torch.cuda.is_available() is "
                          "False); configs/bench/gpu_check_tiny.yaml runs it on a CPU at tiny scale")


def run_gpu_check(cfg: GpuCheckConfig, root: Path, out: Path, progress: bool = True) -> dict[str, Any]:
    """Run both checks; write ``gpu_check.json`` and ``gpu_check.md`` into ``out``; return the result."""
    check_device(cfg)
    rows, device, clip = inference_rows(cfg, root, progress)
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    rows.append(training_row(cfg, root, out))
    result = {"device": device if device else device_name(torch.device("cpu")), "clip": clip, "rows": rows,
              "torch": torch.__version__}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / RESULT_FILE, overwrite=True) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    with atomic_path(out / TABLE_FILE, overwrite=True) as tmp:
        tmp.write_text(render_table(result))
    return result
