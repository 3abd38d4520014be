"""The inference pipeline benchmark: a saved model (the shipped default one unless told) restores a real clip
through :func:`fastvsr.pipeline.upscale.upscale_clip`, one variant of tiling and allocator setting per row.

    python scripts/benchmark.py --pipeline --config configs/bench/default_cpu.yaml

Every restoration runs in a fresh process (``python -m fastvsr.bench.pipeline SPEC``), because the allocator
setting (:func:`fastvsr.pipeline.memory.keep_freed_memory`) holds for a whole process; processes of the
variants alternate (A, B, C, A, B, C, ...), so they share the machine's load. Per process: the model is
loaded, the tiles are planned (``plan (s)``: for ``tile: auto`` the activation probe), ``warmup`` untimed
restorations run, then one timed; CPU seconds are user + system time of the process during the timed one
(``getrusage``), peak RSS is the process's high-water mark (``VmHWM``: torch, the model and the work).
MACs are counted on the meta device for the tiles the variant used (:mod:`fastvsr.bench.macs`); the largest
absolute difference of every output to the baseline's output is measured on the float32 frames.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from fastvsr.atomic import atomic_path, check_output_path
from fastvsr.bench.config import PipelineBenchConfig, PipelineVariantConfig
from fastvsr.bench.macs import count_macs
from fastvsr.bench.memory import current_rss_bytes, peak_rss_bytes
from fastvsr.bench.report import WIDE_CONSOLE, markdown_table
from fastvsr.config import config_to_dict
from fastvsr.errors import InputError
from fastvsr.ops.pad import pad_to_multiple
from fastvsr.ops.tiling import Tile, plan_tiles
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.memory import KEEP_MEMORY_ENV, chunk_bytes

WORKER = "fastvsr.bench.pipeline"
COLUMNS = ("variant", "tile", "planner", "keep memory", "frame batch", "fold copy", "channels last", "colour fix",
           "tiles", "latent px computed", "GMACs", "plan (s)", "CPU (s)", "of which system (s)", "wall (s)",
           "peak RSS (GB)", "added RSS (GB)", "estimate (GB)", "CPU speed-up", "max abs diff x255")


@dataclass
class PipelineRun:
    """One process: seconds of its timed restoration, its memory, and whether the allocator setting held."""

    user_s: float
    sys_s: float
    wall_s: float
    plan_s: float
    peak_rss_bytes: int
    baseline_rss_bytes: int
    kept: bool
    estimate_bytes: int  # fastvsr.pipeline.memory.chunk_bytes of the variant's largest tile

    @property
    def added_rss_bytes(self) -> int:
        """Peak RSS above the RSS before the first restoration (what the chunk needed, with allocator slack)."""
        return max(0, self.peak_rss_bytes - self.baseline_rss_bytes)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


@dataclass
class PipelineResult:
    """Every run of one variant, its tiles (latent ``(row start, row stop, col start, col stop)``) of an
    encoder input of ``input_shape`` ``(B, 3, T, H, W)``, MACs and the largest absolute output difference to
    the baseline (float32 frames in ``[0, 1]``)."""

    name: str
    variant: dict[str, Any]
    tiles: list[tuple[int, int, int, int]] = field(default_factory=list)
    input_shape: tuple[int, ...] = ()
    macs: int = 0
    runs: list[PipelineRun] = field(default_factory=list)
    max_abs_diff: float | None = None

    def median(self, what: str) -> float:
        return statistics.median(getattr(run, what) for run in self.runs)

    @property
    def computed_pixels(self) -> int:
        """Latent pixels encoded, restored and decoded (tile overlaps counted as often as computed)."""
        return sum((r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in self.tiles)


@dataclass
class PipelineReport:
    name: str
    title: str
    setting: dict[str, Any]
    device: str
    baseline: str
    results: list[PipelineResult]

    def result(self, name: str) -> PipelineResult:
        return next(r for r in self.results if r.name == name)

    def cpu_speedup(self, name: str) -> float:
        """Median over the interleaved rounds of baseline CPU seconds / this variant's."""
        base = self.result(self.baseline).runs
        return statistics.median(b.cpu_s / r.cpu_s for b, r in zip(base, self.result(name).runs))

    def to_dict(self) -> dict[str, Any]:
        results = [asdict(r) | {"cpu_speedup": self.cpu_speedup(r.name), "computed_pixels": r.computed_pixels}
                   for r in self.results]
        return {"name": self.name, "title": self.title, "setting": self.setting, "device": self.device,
                "baseline": self.baseline, "results": results}


# -- the worker (one fresh process per restoration) -------------------------------------------------------------


def _infer_config(spec: dict[str, Any]) -> InferConfig:
    variant = spec["variant"]
    return InferConfig(device="cpu", scale=spec["scale"], chunk_frames=0, tile=variant["tile"],
                       tile_overlap=variant["tile_overlap"], memory_budget_gb=variant["memory_budget_gb"],
                       frame_batch=variant["frame_batch"], fold_copy=variant["fold_copy"],
                       channels_last=variant["channels_last"], color_fix=variant["color_fix"])


def _plan(model: torch.nn.Module, lr: torch.Tensor, cfg: InferConfig,
          planner: str) -> tuple[list[Tile], list[int], int]:
    """The latent tiles of ``lr`` ``(1, 3, T, h, w)`` (the pipeline's plan, or the fixed-stride one), the
    shape of the encoder input they cut and the memory estimate of restoring it in these tiles (bytes)."""
    from fastvsr.pipeline.upscale import chunk_footprint, plan_clip_tiles

    x, _ = model.prepare_input(pad_to_multiple(lr, cfg.lr_multiple)[0], cfg.scale)
    f = model.encoder_factor
    if planner == "even":
        tiles = plan_clip_tiles(model, x, cfg)
    else:
        tiles = plan_tiles(x.shape[-2] // f, x.shape[-1] // f, cfg.tile, cfg.tile_overlap, model.latent_multiple,
                           even=False)
    widest, output_bytes = chunk_footprint(model, x, cfg)
    largest = max(t.rows.length * t.cols.length for t in tiles) * model.decoder_factor**2
    return tiles, list(x.shape), chunk_bytes(widest, largest, output_bytes)


def restore_in_process(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the model, plan, restore ``warmup + 1`` times, time the last; saves the output to ``spec["out"]``
    (when given). Returns the :class:`PipelineRun` fields, the tiles and the encoder input shape
    ``(B, 3, T, H, W)``."""
    from fastvsr.data.video import read_video
    from fastvsr.pipeline.loading import load_inference_model
    from fastvsr.pipeline.memory import keep_freed_memory
    from fastvsr.pipeline.upscale import upscale_clip

    torch.set_num_threads(spec["threads"])
    kept = keep_freed_memory()
    cfg = _infer_config(spec)
    model = load_inference_model(spec["model"] or None, cfg)
    frames, _ = read_video(spec["clip"], num_frames=spec["frames"])
    lr = frames[None]
    start = time.perf_counter()
    tiles, shape, estimate = _plan(model, lr, cfg, spec["variant"]["planner"])
    plan_s = time.perf_counter() - start
    baseline_rss = current_rss_bytes()
    for _ in range(spec["warmup"] + 1):
        torch.manual_seed(cfg.seed)
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        sr = upscale_clip(model, lr, cfg, tiles=tiles)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    if spec.get("out"):
        torch.save(sr, spec["out"])
    return {"user_s": after.ru_utime - before.ru_utime, "sys_s": after.ru_stime - before.ru_stime, "wall_s": wall,
            "plan_s": plan_s, "peak_rss_bytes": peak_rss_bytes(), "baseline_rss_bytes": baseline_rss, "kept": kept,
            "tiles": [(t.rows.start, t.rows.stop, t.cols.start, t.cols.stop) for t in tiles], "input_shape": shape,
            "estimate_bytes": estimate}


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`restore_in_process` in a fresh Python process (``FASTVSR_KEEP_MEMORY`` from the variant)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]))
    env[KEEP_MEMORY_ENV] = "1" if spec["variant"]["keep_memory"] else "0"
    done = subprocess.run([sys.executable, "-m", WORKER, json.dumps(spec)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"benchmark worker failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the runner ---------------------------------------------------------------------------------------------------


def _tile_macs(model: torch.nn.Module, shape: tuple[int, ...], tiles: list[tuple[int, int, int, int]]) -> int:
    """MACs (all counted ops) of restoring ``tiles`` of an encoder input of ``shape`` ``(B, 3, T, H, W)``,
    counted on the meta device once per tile size."""
    f = model.encoder_factor
    per_size: dict[tuple[int, int], int] = {}
    for r0, r1, c0, c1 in tiles:
        size = ((r1 - r0) * f, (c1 - c0) * f)
        if size not in per_size:
            x = torch.empty(*shape[:3], *size, device="meta")
            per_size[size] = count_macs(lambda: model.decode(model.restore(model.encode(x))))[0].total
    return sum(per_size[((r1 - r0) * f, (c1 - c0) * f)] for r0, r1, c0, c1 in tiles)


def _count_macs(cfg: PipelineBenchConfig, results: list[PipelineResult]) -> None:
    """Each result's MACs, counted on the model as its variant runs it (the channel copy folded or not)."""
    from fastvsr.models.bundle import load_model
    from fastvsr.pipeline.device import fold_copy_where_exact
    from fastvsr.pipeline.loading import DEFAULT_MODEL_DIR

    models = {}
    for result in results:
        fold = bool(result.variant["fold_copy"])
        if fold not in models:
            models[fold] = load_model(Path(cfg.model) if cfg.model else DEFAULT_MODEL_DIR).eval().to("meta")
            if fold:
                fold_copy_where_exact(models[fold])
        result.macs = _tile_macs(models[fold], result.input_shape, result.tiles)


def _spec(cfg: PipelineBenchConfig, variant: PipelineVariantConfig, out: Path | None) -> dict[str, Any]:
    return {"model": cfg.model, "clip": str(Path(cfg.clip).resolve()), "frames": cfg.frames, "scale": cfg.scale,
            "threads": cfg.threads, "warmup": cfg.warmup, "variant": config_to_dict(variant),
            "out": str(out) if out else ""}


def run_pipeline_benchmark(cfg: PipelineBenchConfig, progress: bool = False) -> PipelineReport:
    """Run every variant ``cfg.repeats`` times, interleaved, each run in a fresh process; count MACs and
    compare every output with the baseline's.

    Raises:
        InputError: the clip is missing.
    """
    if not Path(cfg.clip).is_file():
        raise InputError(f"benchmark clip not found: {cfg.clip}")
    results = {name: PipelineResult(name, config_to_dict(v)) for name, v in cfg.variants.items()}
    with tempfile.TemporaryDirectory(prefix="fastvsr-bench-") as tmp:
        for round_ in range(cfg.repeats):
            for name, variant in cfg.variants.items():
                if progress:
                    print(f"round {round_ + 1}/{cfg.repeats}: {name}", file=sys.stderr, flush=True)
                found = run_worker(_spec(cfg, variant, Path(tmp) / f"{name}.pt" if round_ == 0 else None))
                result = results[name]
                result.tiles = [tuple(t) for t in found.pop("tiles")]
                result.input_shape = tuple(found.pop("input_shape"))
                result.runs.append(PipelineRun(**found))
        base = torch.load(Path(tmp) / f"{cfg.baseline}.pt")
        for name, result in results.items():
            result.max_abs_diff = (torch.load(Path(tmp) / f"{name}.pt") - base).abs().max().item()
    _count_macs(cfg, list(results.values()))
    setting = {"clip": cfg.clip, "frames": cfg.frames, "scale": cfg.scale, "model": cfg.model or "shipped default",
               "warmup": cfg.warmup, "repeats": cfg.repeats}
    return PipelineReport(cfg.name, cfg.title or cfg.name, setting, f"CPU ({cfg.threads} threads)", cfg.baseline,
                          list(results.values()))


# -- the report ---------------------------------------------------------------------------------------------------


def _grid(result: PipelineResult) -> str:
    rows = len({(r0, r1) for r0, r1, _, _ in result.tiles})
    cols = len({(c0, c1) for _, _, c0, c1 in result.tiles})
    sizes = sorted({(r1 - r0, c1 - c0) for r0, r1, c0, c1 in result.tiles}, reverse=True)
    return f"{rows}x{cols} of " + ", ".join(f"{h}x{w}" for h, w in sizes)


def pipeline_rows(report: PipelineReport) -> list[list[str]]:
    """One row per variant with the columns of :data:`COLUMNS`."""
    rows = []
    for r in report.results:
        v = r.variant
        diff = "-" if r.max_abs_diff is None else f"{r.max_abs_diff * 255:.2f}"
        rows.append([r.name, str(v["tile"]), v["planner"], "on" if all(x.kept for x in r.runs) else "off",
                     str(v["frame_batch"] or "whole"), "on" if v["fold_copy"] else "off",
                     "on" if v["channels_last"] else "off", str(v["color_fix"]), _grid(r),
                     f"{r.computed_pixels:,}", f"{r.macs / 1e9:.1f}",
                     f"{r.median('plan_s'):.2f}",
                     f"{r.median('cpu_s'):.2f}", f"{r.median('sys_s'):.2f}", f"{r.median('wall_s'):.2f}",
                     f"{r.median('peak_rss_bytes') / 1e9:.2f}", f"{r.median('added_rss_bytes') / 1e9:.2f}",
                     f"{r.median('estimate_bytes') / 1e9:.2f}", f"{report.cpu_speedup(r.name):.2f}x", diff])
    return rows


def _heading(report: PipelineReport) -> str:
    s = report.setting
    return (f"{s['model']} model, {s['frames']} frames of {Path(s['clip']).name} x{s['scale']} as one chunk; "
            f"{report.device}; medians of {s['repeats']} interleaved processes ({s['warmup']} warm-up "
            f"restoration each); CPU speed-up = median of baseline ({report.baseline}) / variant per round")


def render_pipeline_markdown(report: PipelineReport) -> str:
    lines = [f"## {report.title}", "", _heading(report), ""] + markdown_table(COLUMNS, pipeline_rows(report))
    return "\n".join(lines) + "\n"


def print_pipeline_report(report: PipelineReport, console: Console | None = None) -> None:
    console = console or Console(width=WIDE_CONSOLE)
    table = Table(title=report.title)
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in pipeline_rows(report):
        table.add_row(*row)
    console.print(table)
    console.print(_heading(report), markup=False, highlight=False)


def write_pipeline_report(report: PipelineReport, out_dir: str | Path) -> list[Path]:
    """``report.md`` and ``report.json`` in ``out_dir`` (atomically, replacing)."""
    md, js = (check_output_path(Path(out_dir) / name, overwrite=True) for name in ("report.md", "report.json"))
    with atomic_path(md) as tmp:
        tmp.write_text(render_pipeline_markdown(report))
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return [md, js]


if __name__ == "__main__":
    print(json.dumps(restore_in_process(json.loads(sys.argv[1]))))
