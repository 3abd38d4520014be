"""Training datasets: random HR clips (video files, folders of frames, images) paired with degraded LR.

Every random choice of an item (clip start, crop, flips, degradation) comes from
``numpy.random.default_rng([seed, epoch, index])``, so a resumed run that calls ``set_epoch`` (see
``fastvsr.train.data_order.EpochIndexed``) sees exactly the batches it would have seen. Degraded pairs can be
written once to a cache folder of safetensors files (:func:`fill_cache`) and read back instead of degrading on
the fly, which keeps training compute-bound (DOVE issue #11).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch.utils.data import Dataset
from tqdm import tqdm

from fastvsr.atomic import atomic_path
from fastvsr.config import require
from fastvsr.data.clips import clip_name, is_frame_folder, list_clips, listed
from fastvsr.data.degradations import DegradationConfig, degrade_clip
from fastvsr.data.frames import list_frame_files
from fastvsr.data.info import VideoInfo
from fastvsr.data.video import planes_to_float, probe_video, read_video, read_video_planes
from fastvsr.errors import InputError
from fastvsr.prompt_file import read_prompt_embeds


def find_sources(paths: list[str], image_folders: list[str] = ()) -> list[Path]:
    """Expand the configured HR sources into clips.

    Args:
        paths: each a video file, an image (a one-frame clip), a folder of frames (one clip), or a folder whose
            entries are videos and frame folders (each a clip).
        image_folders: folders whose images are each a one-frame clip (e.g. DIV2K-HR).

    Raises:
        InputError: a path does not exist or holds no clip.
    """
    found: list[Path] = []
    for raw in list(paths) + list(image_folders):
        path = Path(raw)
        if not path.exists():
            raise InputError(f"training source {path} does not exist")
        if raw in image_folders:
            clips = list_frame_files(path) if path.is_dir() else [path]
        elif path.is_file() or is_frame_folder(path):
            clips = [path]
        else:
            clips = list(list_clips(path).values())
        if not clips:
            raise InputError(f"training source {path} holds no video, frame folder or image")
        found += clips
    return found


@dataclass
class VideoDatasetConfig:
    """Random HR clips and their degradation. ``crop_size`` (HR ``[height, width]``) must be a multiple of
    ``degradation.scale``. Images give one-frame clips whatever ``num_frames`` is, unless ``image_motion`` > 0:
    then an image gives ``num_frames`` crops moving by a random integer velocity of up to ``image_motion`` HR
    pixels per frame in each direction (a camera pan over a photo), so photos train a video model as clips.
    ``degradations``: when not empty, each item is degraded by one of these, drawn uniformly (``degradation``
    then only sets the scale, which every entry must share). ``cache_epochs`` (with ``cache_dir``): epoch ``e``
    reads the cached pairs of epoch ``e % cache_epochs``, so a slow degradation is paid for a few epochs only (0:
    every epoch its own pairs; the cache records the settings its pairs come from in ``pairs.json`` and refuses a
    config with others). ``context``: the degradation runs on a region ``context`` times the crop (DOVE: 1.5,
    limited by the frame), and the pair is then cropped from it, so blur and codec see real surroundings instead of
    the crop's borders. ``keep_in_memory``: decode each source once (on first use, in each data-loader worker) and
    hold all its frames as uint8, instead of decoding the clip again for every item; the items are identical either
    way. Only for datasets that fit in memory (the default model's 340 training frames take 190 MB): an item then
    costs about 1.5 ms instead of 9 ms.
    ``prompt_embeds_dir``: a folder of per-source text embeddings, ``<clip name>.safetensors`` each holding
    ``prompt_embeds`` ``(1, L, C)`` (e.g. T5 embeddings of a caption of the clip, computed offline, padded to one
    ``L`` for all sources); every item of that source then carries it as ``"prompt_embeds"`` ``(L, C)``."""

    sources: list[str] = field(default_factory=list)
    image_folders: list[str] = field(default_factory=list)
    num_frames: int = 5
    frame_stride: int = 1
    crop_size: list[int] = field(default_factory=lambda: [256, 256])
    flip: bool = True
    repeat: int = 1
    context: float = 1.5
    seed: int = 0
    cache_dir: str | None = None
    keep_in_memory: bool = False
    image_motion: int = 0
    degradation: DegradationConfig = field(default_factory=DegradationConfig)
    degradations: list[DegradationConfig] = field(default_factory=list)
    cache_epochs: int = 0
    prompt_embeds_dir: str | None = None

    def __post_init__(self) -> None:
        require(self.num_frames >= 1 and self.frame_stride >= 1 and self.repeat >= 1 and self.context >= 1,
                "num_frames, frame_stride, repeat and context must be >= 1")
        require(self.image_motion >= 0 and self.cache_epochs >= 0, "image_motion and cache_epochs must be >= 0")
        scale = self.degradation.scale
        require(all(d.scale == scale for d in self.degradations),
                f"every entry of data.degradations must have data.degradation.scale = {scale}")
        require(len(self.crop_size) == 2 and all(c > 0 and c % scale == 0 for c in self.crop_size),
                f"crop_size must be [height, width], positive multiples of the scale {scale}; got {self.crop_size}")


def source_prompt(folder: str | Path, source: VideoInfo) -> torch.Tensor:
    """The text embedding ``(L, C)`` of a training source: ``prompt_embeds`` of ``<folder>/<clip name>.safetensors``.

    Raises:
        InputError: the file is missing or holds no ``(1, L, C)`` ``prompt_embeds``.
    """
    path = Path(folder) / f"{clip_name(source.path)}.safetensors"
    if not path.is_file():
        raise InputError(f"no prompt embedding for training source {source.path.name}: {path} does not exist")
    return read_prompt_embeds(path)[0]


def cache_file(cache_dir: str | Path, epoch: int, index: int) -> Path:
    """Where the pair for ``(epoch, index)`` is cached."""
    return Path(cache_dir) / f"e{epoch:04d}_i{index:07d}.safetensors"


CACHE_KEY_FILE = "pairs.json"
STORAGE_FIELDS = ("cache_dir", "cache_epochs", "keep_in_memory", "prompt_embeds_dir")  # do not change a pair


def pairs_key(cfg: VideoDatasetConfig) -> dict:
    """The settings of ``cfg`` that decide its pairs (all but where and how they are stored), JSON-ready."""
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in STORAGE_FIELDS}
    return json.loads(json.dumps(fields, default=str))


def check_cache_key(cfg: VideoDatasetConfig) -> None:
    """Refuse a ``cache_dir`` whose ``pairs.json`` records another data config (its pairs would be read as this
    config's, silently). A cache without the file (none yet, or an older one) passes.

    Raises:
        InputError: naming the settings that differ.
    """
    path = Path(cfg.cache_dir) / CACHE_KEY_FILE
    if not path.is_file():
        return
    stored, mine = json.loads(path.read_text()), pairs_key(cfg)
    differ = sorted(k for k in stored.keys() | mine.keys() if stored.get(k) != mine.get(k))
    if differ:
        raise InputError(f"cache_dir {cfg.cache_dir} holds the pairs of another data config (it differs in "
                         f"{', '.join(differ)}): give this config its own data.cache_dir, or delete that folder")


def write_cache_key(cfg: VideoDatasetConfig) -> None:
    """Record in ``cache_dir`` which data config its pairs belong to (after :func:`check_cache_key`)."""
    check_cache_key(cfg)
    path = Path(cfg.cache_dir) / CACHE_KEY_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(pairs_key(cfg), indent=1, sort_keys=True))


class VideoSRDataset(Dataset):
    """Items ``{"gt": (3, T, H, W), "lq": (3, T, H / s, W / s), "name": str}`` (and ``"prompt_embeds"`` ``(L, C)``
    with ``prompt_embeds_dir``), floats in ``[0, 1]``, where
    ``(H, W) = crop_size``, ``T = num_frames`` (1 for image sources) and ``s = degradation.scale``.

    ``len`` is ``repeat * number of clips``; item ``i`` is a random clip of source ``i % clips``.

    Raises:
        InputError: a source is missing, too short for ``num_frames * frame_stride`` or smaller than the crop.
    """

    def __init__(self, cfg: VideoDatasetConfig) -> None:
        if cfg.cache_dir is not None:
            check_cache_key(cfg)
        self.cfg = cfg
        self.epoch = 0
        self._planes: dict[int, np.ndarray] = {}  # source index -> (3, T, H, W) frames (keep_in_memory)
        self.sources: list[VideoInfo] = [probe_video(p) for p in find_sources(cfg.sources, cfg.image_folders)]
        if not self.sources:
            raise InputError("no training sources configured (set data sources)")
        span = (cfg.num_frames - 1) * cfg.frame_stride + 1
        short = [i.path.name for i in self.sources if 1 < i.num_frames < span]
        if short:
            raise InputError(f"{len(short)} sources have fewer than {span} frames: {listed(short)}")
        small = [i.path.name for i in self.sources if i.height < cfg.crop_size[0] or i.width < cfg.crop_size[1]]
        if small:
            raise InputError(f"{len(small)} sources are smaller than the crop {cfg.crop_size[1]}x{cfg.crop_size[0]}: "
                             f"{listed(small)}")

    def __len__(self) -> int:
        return len(self.sources) * self.cfg.repeat

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose random draws ``__getitem__`` makes."""
        self.epoch = epoch

    def data_epoch(self, epoch: int) -> int:
        """The epoch whose random draws (and cached pairs) the training epoch ``epoch`` uses."""
        return epoch % self.cfg.cache_epochs if self.cfg.cache_epochs else epoch

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str]:
        epoch = self.data_epoch(self.epoch)
        if self.cfg.cache_dir is not None and cache_file(self.cfg.cache_dir, epoch, index).is_file():
            item = load_pair(cache_file(self.cfg.cache_dir, epoch, index))
        else:
            item = self.make_pair(epoch, index)
        if self.cfg.prompt_embeds_dir is not None:
            item["prompt_embeds"] = source_prompt(self.cfg.prompt_embeds_dir, self.sources[index % len(self.sources)])
        return item

    def make_pair(self, epoch: int, index: int) -> dict[str, torch.Tensor | str]:
        """Read, crop, flip and degrade item ``index`` of ``epoch`` (never from the cache)."""
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, epoch, index])
        source = index % len(self.sources)
        info = self.sources[source]
        moving = info.num_frames == 1 and cfg.image_motion > 0 and cfg.num_frames > 1
        count = 1 if info.num_frames == 1 else cfg.num_frames
        start = int(rng.integers(0, info.num_frames - (count - 1) * cfg.frame_stride))
        clip = self._read_clip(source, start, count)
        scale, (ch, cw), (h, w) = cfg.degradation.scale, cfg.crop_size, clip.shape[-2:]
        rh, rw = (min(full // scale, round(crop * cfg.context / scale)) * scale
                  for crop, full in ((ch, h), (cw, w)))  # the degraded region, a multiple of the scale
        if moving:
            region = self._pan(clip[:, 0], rh, rw, rng)
        else:
            top, left = int(rng.integers(0, h - rh + 1)), int(rng.integers(0, w - rw + 1))
            region = clip[:, :, top:top + rh, left:left + rw]
        flips = [dim for dim, p in ((-1, rng.uniform()), (-2, rng.uniform())) if cfg.flip and p < 0.5]
        region = region.flip(flips) if flips else region
        degradation = cfg.degradations[int(rng.integers(len(cfg.degradations)))] if cfg.degradations else (
            cfg.degradation)
        lq = degrade_clip(region.contiguous(), degradation, rng)
        top, left = int(rng.integers(0, (rh - ch) // scale + 1)), int(rng.integers(0, (rw - cw) // scale + 1))
        gt = region[:, :, top * scale:top * scale + ch, left * scale:left * scale + cw].contiguous()
        lq = lq[:, :, top:top + ch // scale, left:left + cw // scale].contiguous()
        return {"gt": gt, "lq": lq, "name": f"{clip_name(info.path)}@{start}"}

    def _pan(self, image: torch.Tensor, rh: int, rw: int, rng: np.random.Generator) -> torch.Tensor:
        """``num_frames`` crops ``(3, T, rh, rw)`` of an image ``(3, H, W)``, moving by a random integer velocity
        (at most ``image_motion`` pixels per frame and direction, and at most what the image leaves room for)."""
        frames, (h, w) = self.cfg.num_frames, image.shape[-2:]
        velocity = []
        for room in (h - rh, w - rw):
            limit = min(self.cfg.image_motion, room // (frames - 1))
            velocity.append(int(rng.integers(-limit, limit + 1)))
        travel = [abs(v) * (frames - 1) for v in velocity]
        top, left = (int(rng.integers(0, room - t + 1)) + (t if v < 0 else 0)
                     for room, t, v in zip((h - rh, w - rw), travel, velocity))
        crops = [image[:, top + i * velocity[0]: top + i * velocity[0] + rh,
                       left + i * velocity[1]: left + i * velocity[1] + rw] for i in range(frames)]
        return torch.stack(crops, dim=1)

    def _read_clip(self, source: int, start: int, count: int) -> torch.Tensor:
        """Frames ``start, start + stride, ...`` (``count`` of them) of a source: ``(3, count, H, W)`` float32
        in ``[0, 1]``, from memory when ``keep_in_memory``."""
        stride = self.cfg.frame_stride
        if not self.cfg.keep_in_memory:
            return read_video(self.sources[source].path, start=start, num_frames=count, stride=stride)[0]
        if source not in self._planes:
            self._planes[source] = read_video_planes(self.sources[source].path)[0]
        return planes_to_float(self._planes[source][:, start:start + (count - 1) * stride + 1:stride])


def save_pair(pair: dict[str, torch.Tensor | str], path: Path) -> Path:
    """Write one item atomically as safetensors (``gt``, ``lq`` float32, so a cached item equals a fresh one)."""
    with atomic_path(path) as tmp:
        save_file({"gt": pair["gt"], "lq": pair["lq"]}, str(tmp), metadata={"name": str(pair["name"])})
    return path


def load_pair(path: Path) -> dict[str, torch.Tensor | str]:
    """Read an item written by :func:`save_pair`."""
    with safe_open(str(path), framework="pt") as f:
        name = (f.metadata() or {}).get("name", path.stem)
    tensors = load_file(str(path))
    return {"gt": tensors["gt"], "lq": tensors["lq"], "name": name}


def fill_cache(dataset: VideoSRDataset, epochs: int, overwrite: bool = False) -> int:
    """Degrade every item of the training epochs ``0 .. epochs - 1`` into ``dataset.cfg.cache_dir`` (only the
    first ``cache_epochs`` of them when that is set: later epochs read those); returns files written.

    Items already cached are kept unless ``overwrite``. The cached pairs are exactly what the dataset returns
    without a cache for the same ``(seed, epoch, index)``.
    """
    if dataset.cfg.cache_dir is None:
        raise InputError("set cache_dir to fill a degradation cache")
    write_cache_key(dataset.cfg)
    written = 0
    epochs = min(epochs, dataset.cfg.cache_epochs) if dataset.cfg.cache_epochs else epochs
    jobs = [(e, i) for e in range(epochs) for i in range(len(dataset))]
    for epoch, index in tqdm(jobs, desc="degrading", unit="clip"):
        path = cache_file(dataset.cfg.cache_dir, epoch, index)
        if overwrite or not path.is_file():
            save_pair(dataset.make_pair(epoch, index), path)
            written += 1
    return written
