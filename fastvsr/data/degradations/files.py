"""Degrade a whole video file, image or folder of frames on disk (what ``scripts/degrade.py`` runs).

The video is streamed in chunks (memory stays flat in its length); the degradation parameters are drawn once
for the whole video and each chunk gets its frames' share of them, so the video codec restarts per chunk but
blur, resize, noise level and JPEG quality are continuous.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from tqdm import tqdm

from fastvsr.atomic import check_output_path, resolve_output
from fastvsr.data.degradations.config import DegradationConfig, DegradationMode
from fastvsr.data.degradations.params import sample_degradation, slice_params
from fastvsr.data.degradations.pipeline import apply_degradation, bicubic_downscale
from fastvsr.data.video import iter_video_chunks, probe_video, write_video
from fastvsr.data.writer import VideoWriter
from fastvsr.errors import InputError

PREVIEW_FRAMES = 3


def preview_grid(hr: list[torch.Tensor], lr: list[torch.Tensor]) -> torch.Tensor:
    """Rows ``HR | LR upscaled (nearest)``, one row per frame. ``(3, H, W)`` and ``(3, h, w)`` frames with
    ``H / h`` whole -> ``(3, 1, rows * H, 2 * W)`` in ``[0, 1]``."""
    rows = [torch.cat([h, F.interpolate(low[None], size=h.shape[-2:], mode="nearest")[0]], dim=-1)
            for h, low in zip(hr, lr)]
    return torch.cat(rows, dim=-2)[:, None]


def compare_path(output: Path) -> Path:
    """The side-by-side PNG written beside ``output``: ``<stem>_compare.png``."""
    return output.with_name(f"{output.stem}_compare.png")


def default_lr_name(source: Path, is_image_sequence: bool) -> str:
    """The LR output's name inside a destination folder: ``clip.mp4 -> clip_lr.mp4``, ``photo.jpg ->
    photo_lr.png``, ``frames/ -> frames_lr`` (a folder of PNG frames)."""
    if source.is_dir():
        return f"{source.name}_lr"
    return f"{source.stem}_lr{'.png' if is_image_sequence else '.mp4'}"


def degrade_file(input_path: str | Path, output_path: str | Path, cfg: DegradationConfig, seed: int = 0,
                 chunk_frames: int = 32, overwrite: bool = False, progress: bool = True,
                 compare: bool = False) -> tuple[Path, Path | None, str]:
    """Write an LR version of a video (same fps, audio copied) and, with ``compare``, a side-by-side PNG of a
    few frames (:func:`compare_path`).

    ``output_path`` names the LR file or folder; an existing folder that fastvsr did not write is a
    destination and the LR goes inside it (:func:`default_lr_name`).

    Sizes that are not multiples of ``cfg.scale`` are cropped at the bottom/right to the nearest multiple
    (the usual "mod-crop" of SR benchmarks) so the LR is exactly ``1 / scale``.

    Returns:
        ``(lr_path, compare_png or None, note)``; ``note`` says what was cropped (empty when nothing).

    Raises:
        InputError: unreadable input, or frames smaller than the scale. OutputError: output exists or is the input.
    """
    source = Path(input_path)
    info = probe_video(source)
    out = resolve_output(output_path, default_lr_name(source, info.is_image_sequence))
    check_output_path(out, overwrite, inputs=(source,))
    if compare:
        check_output_path(compare_path(out), overwrite, inputs=(source,))
    h, w = info.height // cfg.scale * cfg.scale, info.width // cfg.scale * cfg.scale
    note = f"cropped {info.width}x{info.height} to {w}x{h} (multiple of {cfg.scale})" if (h, w) != (
        info.height, info.width) else ""
    if h == 0 or w == 0:
        raise InputError(f"{source}: {info.width}x{info.height} frames are smaller than the scale {cfg.scale}")
    realworld = cfg.mode == DegradationMode.REALWORLD
    params = sample_degradation(np.random.default_rng(seed), cfg, info.num_frames, (h, w)) if realworld else None
    wanted = set(np.linspace(0, info.num_frames - 1, min(PREVIEW_FRAMES, info.num_frames)).round().astype(int))
    hr_preview, lr_preview = [], []
    streams = None if info.is_image_sequence else source  # audio and subtitles carried as infer.py does
    with VideoWriter(out, info.fps, source=info, streams_from=streams, overwrite=overwrite,
                     inputs=(source,)) as writer:
        bar = tqdm(total=info.num_frames, desc="degrading", unit="frame", disable=not progress)
        for start, chunk in iter_video_chunks(source, chunk_frames):
            frames = rearrange(chunk[:, :, :h, :w], "c t h w -> t c h w")
            stop = start + frames.shape[0]
            lr = (apply_degradation(frames, slice_params(params, start, stop)) if realworld
                  else bicubic_downscale(frames, cfg.scale))
            writer.write(rearrange(lr, "t c h w -> c t h w"))
            for index in sorted(i for i in wanted if start <= i < stop):
                hr_preview.append(frames[index - start])
                lr_preview.append(lr[index - start])
            bar.update(frames.shape[0])
        bar.close()
    if not compare:
        return out, None, note
    png = write_video(compare_path(out), preview_grid(hr_preview, lr_preview), info.fps, overwrite=overwrite)
    return out, png, note
