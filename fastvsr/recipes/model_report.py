"""A model's report: x4 on held-out clips for several kinds of LR (clean bicubic, mild real-world, DOVE's
second-order real-world), against bicubic and Lanczos interpolation and, when given, its f8 twin (what
``scripts/model_report.py`` runs; any model folder, any clips).

It writes metrics.json and metrics.md (PSNR / SSIM / E*warp[dis] per clip, LR kind and method, with means and
the gain over bicubic, and the f8/f16 CPU latency when a twin is given), crops_<clip>_<lr>.png (middle-frame
crops) and, when training runs are found, curves.png. With a reference CNN (``reference``, trained by
``scripts/train_reference.py``) its rows stand beside the model's: what the same data allows a plain x4 CNN.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from einops import rearrange
from tqdm import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.bench.timing import time_stages
from fastvsr.config import load_config
from fastvsr.data.clips import clip_name, is_clip, list_clips
from fastvsr.data.degradations import DegradationConfig, degrade_clip
from fastvsr.data.video import read_video
from fastvsr.errors import InputError
from fastvsr.metrics.ewarp import EWarp
from fastvsr.metrics.flow import DISFlow
from fastvsr.metrics.fullref import psnr, ssim
from fastvsr.ops.resize import resize_video
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.loading import DEFAULT_MODEL_DIR
from fastvsr.pipeline.upscale import upscale_video
from fastvsr.train.plots import plot_runs
from fastvsr.train.runlog import METRICS_FILE, read_metrics
from fastvsr.train.validation import save_comparison_png

SCALE = 4
STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "stage2_f8_twin", "reference_cnn")
LR_KINDS = {  # name -> degradation config
    "bicubic": "configs/degradation/bicubic.yaml",
    "realworld_mild": "configs/default_model/degradation_realworld_mild.yaml",
    "realworld_dove": "configs/degradation/realbasicvsr_dove.yaml",
}
FALLBACK_CLIPS = ("tests/data/carphone_176x144_9f.mp4",)  # held out, and in every checkout
Upscaler = Callable[[torch.Tensor], torch.Tensor]  # (1, 3, T, h, w) LR -> (1, 3, T, 4h, 4w), all in [0, 1]


def lanczos_upscale(lr: torch.Tensor) -> torch.Tensor:
    """OpenCV Lanczos-4 x4 of every frame; ``(1, 3, T, h, w)`` -> ``(1, 3, T, 4h, 4w)`` in ``[0, 1]``."""
    frames = rearrange(lr[0], "c t h w -> t h w c").numpy()
    size = (lr.shape[-1] * SCALE, lr.shape[-2] * SCALE)
    up = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_LANCZOS4) for f in frames])
    return rearrange(torch.from_numpy(up).clamp(0, 1), "t h w c -> 1 c t h w")


def model_upscaler(folder: Path, frames: int) -> Upscaler:
    """The pipeline's x4 restoration with a saved model (CPU, fp32, whole clip in one chunk, no tiling)."""
    from fastvsr.pipeline.loading import load_inference_model

    cfg = InferConfig(scale=SCALE, device="cpu", chunk_frames=frames, chunk_overlap=0, tile=0)
    model = load_inference_model(folder, cfg)
    return lambda lr: upscale_video(model, lr, cfg)


def reference_upscaler(folder: Path) -> Upscaler:
    """A trained reference CNN (:mod:`fastvsr.models.reference_cnn`) restoring each frame, CPU, fp32."""
    from fastvsr.models.reference_cnn import load_reference_cnn

    return load_reference_cnn(folder)


def degraded_inputs(gt: torch.Tensor, kinds: dict[str, DegradationConfig], seed: int) -> dict[str, torch.Tensor]:
    """x4 LR clips ``(1, 3, T, H/4, W/4)`` of ``gt`` ``(1, 3, T, H, W)``, one per LR kind, each drawn with its own
    generator ``(seed, kind index)`` (so a kind's LR does not depend on the others)."""
    return {name: degrade_clip(gt[0], cfg, np.random.default_rng([seed, i]))[None]
            for i, (name, cfg) in enumerate(kinds.items())}


def find_clips(paths: list[Path]) -> list[Path]:
    """The clips of ``paths``: each a clip (a video or a frame folder), a folder of clips, or a folder of such
    folders (the recipe's ``data/heldout``). Raises :class:`InputError` when a path holds none."""
    found = []
    for path in paths:
        if not path.exists():
            raise InputError(f"clip path {path} does not exist")
        if is_clip(path):
            found.append(path)
            continue
        clips = list(list_clips(path).values()) or [c for sub in sorted(path.iterdir()) if sub.is_dir()
                                                    for c in list_clips(sub).values()]
        if not clips:
            raise InputError(f"{path} holds no video or frame folder")
        found += clips
    return found


def read_gt(clip: Path, frames: int) -> torch.Tensor:
    """The first ``frames`` frames of ``clip`` cropped at the bottom/right to multiples of 4: ``(1, 3, T, H, W)``."""
    video = read_video(clip, num_frames=frames)[0]
    h, w = video.shape[-2] // SCALE * SCALE, video.shape[-1] // SCALE * SCALE
    return video[None, :, :, :h, :w].contiguous()


def score(pred: torch.Tensor, gt: torch.Tensor, ewarp: EWarp) -> dict[str, float]:
    """PSNR (dB, RGB), SSIM (Y) averaged over frames and E*warp[dis] (x1e-3) of ``pred``; both ``(1, 3, T, H, W)``."""
    p, g = (rearrange(v[0], "c t h w -> t c h w") for v in (pred, gt))
    return {"psnr": psnr(p, g).mean().item(), "ssim": ssim(p, g).mean().item(), "ewarp": ewarp.score(pred[0])}


def crop_panels(gt: torch.Tensor, outputs: dict[str, torch.Tensor], lr: torch.Tensor, size: int) -> dict:
    """Centre crops (``size`` HR pixels, middle frame) of the LR (nearest x4), every output and the target."""
    t, h, w = gt.shape[2] // 2, gt.shape[-2], gt.shape[-1]
    top, left = (h - size) // 2 // SCALE * SCALE, (w - size) // 2 // SCALE * SCALE
    lr_crop = lr[0, :, t:t + 1, top // SCALE:(top + size) // SCALE, left // SCALE:(left + size) // SCALE]
    panels = {"LR (nearest)": resize_video(lr_crop[None], (size, size), mode="nearest-exact")[0]}
    panels.update({name: v[0, :, t:t + 1, top:top + size, left:left + size] for name, v in outputs.items()})
    panels["ground truth"] = gt[0, :, t:t + 1, top:top + size, left:left + size]
    return panels


def markdown_table(rows: list[dict]) -> str:
    """Rows ``{clip, lr, method, psnr, ssim, ewarp}`` -> a markdown table with per-(lr, method) means and the
    PSNR gain over bicubic."""
    lines = ["| clip | LR | method | PSNR (dB) | vs bicubic | SSIM | E*warp[dis] |", "|---|---|---|---|---|---|---|"]
    base = {(r["clip"], r["lr"]): r["psnr"] for r in rows if r["method"] == "bicubic"}
    means = []
    for lr in dict.fromkeys(r["lr"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows):
            group = [r for r in rows if r["lr"] == lr and r["method"] == method]
            mean = {k: float(np.mean([r[k] for r in group])) for k in ("psnr", "ssim", "ewarp")}
            gain = float(np.mean([r["psnr"] - base[(r["clip"], lr)] for r in group]))
            means.append({"clip": "**mean**", "lr": lr, "method": method, **mean, "gain": gain})
    for r in rows + means:
        gain = r["gain"] if "gain" in r else r["psnr"] - base[(r["clip"], r["lr"])]
        lines.append(f"| {r['clip']} | {r['lr']} | {r['method']} | {r['psnr']:.2f} | {gain:+.2f} | "
                     f"{r['ssim']:.4f} | {r['ewarp']:.3f} |")
    return "\n".join(lines) + "\n"


def measure_latency(models: dict[str, Upscaler], frames: int, repeats: int) -> dict[str, float]:
    """Median CPU seconds of a x4 restoration of a fixed random 90x160 LR clip per model, interleaved."""
    lr = torch.rand(1, 3, frames, 90, 160, generator=torch.Generator().manual_seed(0))
    runs = {name: (lambda clock, up=up: up(lr)) for name, up in models.items()}
    timings = time_stages(runs, torch.device("cpu"), repeats=repeats, warmup=1, progress=True)
    return {name: timing.total for name, timing in timings.items()}


def write_text(path: Path, text: str) -> None:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(text)


@dataclass
class ReportConfig:
    """What the report measures and where it writes (``scripts/model_report.py`` flags). ``clips``: empty uses
    the recipe's held-out clips when they exist, else the held-out test clip of the repository."""

    model: Path = DEFAULT_MODEL_DIR
    twin: Path | None = None
    reference: Path | None = None
    clips: list[Path] = field(default_factory=list)
    lr_kinds: dict[str, str] = field(default_factory=lambda: dict(LR_KINDS))
    heldout: Path = Path("runs/default_model/data/heldout")
    runs: Path = Path("runs/default_model")
    frames: int = 17
    crop: int = 96
    latency_frames: int = 5
    latency_repeats: int = 3
    seed: int = 0
    out: Path = Path("runs/model_report")  # figs/default_model holds the shipped model's: pass it to rewrite them


def summary_lines(rows: list[dict], model: str) -> list[str]:
    """Per LR kind: the model's mean PSNR gain over bicubic and its mean SSIM against bicubic's."""
    lines = []
    for lr in dict.fromkeys(r["lr"] for r in rows):
        mine = [r for r in rows if r["lr"] == lr and r["method"] == model]
        base = {r["clip"]: r for r in rows if r["lr"] == lr and r["method"] == "bicubic"}
        gain = np.mean([r["psnr"] - base[r["clip"]]["psnr"] for r in mine])
        ssim_model, ssim_bicubic = np.mean([r["ssim"] for r in mine]), np.mean([base[r["clip"]]["ssim"] for r in mine])
        lines.append(f"{lr}: {model} {gain:+.2f} dB PSNR over bicubic, SSIM {ssim_model:.4f} vs {ssim_bicubic:.4f} "
                     f"({len(mine)} clips)")
    return lines


def write_model_report(args: ReportConfig) -> str:
    """Run the report of ``args`` and write its files; returns the metrics table (markdown) and a summary."""
    paths = args.clips or ([args.heldout] if args.heldout.is_dir() else [Path(p) for p in FALLBACK_CLIPS])
    clips = find_clips(paths)
    kinds = {name: load_config(DegradationConfig, [path]) for name, path in args.lr_kinds.items()}
    methods: dict[str, Upscaler] = {"bicubic": lambda lr: resize_video(lr, (lr.shape[-2] * SCALE,
                                                                           lr.shape[-1] * SCALE), "bicubic"),
                                    "lanczos": lanczos_upscale}
    name = f"model ({args.model.name})"
    models = {name: model_upscaler(args.model, args.frames)}
    if args.twin is not None:
        models["f8 twin"] = model_upscaler(args.twin, args.frames)
    methods.update(models)
    if args.reference is not None:
        methods["reference CNN"] = reference_upscaler(args.reference)
    args.out.mkdir(parents=True, exist_ok=True)
    ewarp, rows = EWarp(DISFlow()), []
    for index, clip in enumerate(tqdm(clips, desc="clips")):
        gt = read_gt(clip, args.frames)
        for lr_kind, lr in degraded_inputs(gt, kinds, args.seed + index).items():
            outputs = {}
            for method, upscale in methods.items():
                with torch.no_grad():
                    outputs[method] = upscale(lr).float()
                rows.append({"clip": clip_name(clip), "lr": lr_kind, "method": method,
                             **score(outputs[method], gt, ewarp)})
            crop = min(args.crop, gt.shape[-2], gt.shape[-1])
            save_comparison_png(args.out / f"crops_{clip_name(clip)}_{lr_kind}.png",
                                crop_panels(gt, outputs, lr, crop),
                                title=f"{clip_name(clip)}, {lr_kind} x4 LR, middle frame, centre crop")
    summarised = [name] + (["reference CNN"] if args.reference is not None else [])
    report = {"rows": rows, "summary": [line for method in summarised for line in summary_lines(rows, method)]}
    if args.twin is not None:
        latency = measure_latency({"f16": models[name], "f8 twin": models["f8 twin"]}, args.latency_frames,
                                  args.latency_repeats)
        latency["f8_over_f16"] = latency["f8 twin"] / latency["f16"]
        report["latency_s"] = latency
        report["summary"].append(f"latency (s, {args.latency_frames} frames 90x160 -> 360x640, CPU): "
                                 + ", ".join(f"{k} {v:.3f}" for k, v in latency.items()))
    table = markdown_table(rows)
    write_text(args.out / "metrics.json", json.dumps(report, indent=2))
    write_text(args.out / "metrics.md", table + "\n" + "\n".join(f"- {line}" for line in report["summary"]) + "\n")
    runs = {stage: read_metrics(args.runs / stage / METRICS_FILE) for stage in STAGES}
    if any(runs.values()):
        plot_runs({k: v for k, v in runs.items() if v}, ["train/total", "val/psnr"], args.out / "curves.png",
                  title="default model training", log_y=["train/total"])
    return table + "\n" + "\n".join(report["summary"]) + "\n"
