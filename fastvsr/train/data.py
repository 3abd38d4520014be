"""Training data for the stages: the training dataset (``fastvsr.data.datasets``) and the held-out validation clip.

The validation clip is read once (``fastvsr.data.video.read_video``), a centred window of ``height x width``
pixels (0 keeps the full frame) and ``num_frames`` frames; it is the HR reference. Stage 2 makes its LR input by
a bicubic downscale so validation numbers are deterministic and comparable across runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from accelerate import PartialState

from fastvsr.config import require
from fastvsr.data.datasets import VideoDatasetConfig, VideoSRDataset, fill_cache
from fastvsr.data.video import read_video
from fastvsr.errors import InputError
from fastvsr.train.config import LoopConfig


@dataclass
class ValidationClipConfig:
    """The held-out clip validation restores every ``train.validate_every`` steps."""

    path: str = "tests/data/bbb_320x180_17f.mp4"
    start: int = 0
    num_frames: int = 5
    height: int = 0  # centred window; 0: full height
    width: int = 0  # centred window; 0: full width

    def __post_init__(self) -> None:
        require(self.num_frames >= 1, f"val.num_frames must be >= 1, got {self.num_frames}")
        require(self.height >= 0 and self.width >= 0, "val.height and val.width must be >= 0")


def load_validation_clip(cfg: ValidationClipConfig) -> torch.Tensor:
    """The validation clip as ``(1, 3, T, H, W)`` float in ``[0, 1]``.

    Raises:
        InputError: unreadable file, too few frames, or a window larger than the frame.
    """
    frames, info = read_video(cfg.path, start=cfg.start, num_frames=cfg.num_frames)
    if frames.shape[1] < cfg.num_frames:
        raise InputError(f"validation clip {cfg.path} has only {frames.shape[1]} frames from {cfg.start}, "
                         f"val.num_frames={cfg.num_frames}")
    h, w = cfg.height or info.height, cfg.width or info.width
    if h > info.height or w > info.width:
        raise InputError(f"val window {h}x{w} is larger than the frames of {cfg.path} ({info.height}x{info.width})")
    top, left = (info.height - h) // 2, (info.width - w) // 2
    return frames[None, :, :, top:top + h, left:left + w].contiguous()




def build_train_dataset(cfg: VideoDatasetConfig, loop: LoopConfig | None = None) -> VideoSRDataset:
    """The training dataset: random HR clips and their degraded LR (:class:`fastvsr.data.datasets.VideoSRDataset`,
    deterministic per ``(seed, epoch, index)``; the loop calls ``set_epoch`` through ``EpochIndexed``).

    With ``cfg.cache_dir`` and the run's ``loop``, the pairs of every epoch the run reads (or of the first
    ``cache_epochs``) are degraded into the cache first, by the main process, so the steps read them instead of
    degrading on the fly."""
    dataset = VideoSRDataset(cfg)
    if cfg.cache_dir is not None and loop is not None:
        state = PartialState()
        if state.is_main_process:
            fill_cache(dataset, -(-loop.max_steps * loop.batch_size * state.num_processes // len(dataset)))
        state.wait_for_everyone()
    return dataset
