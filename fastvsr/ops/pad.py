"""Pad videos to the size multiples a model needs, and remove that padding after upscaling.

Spatial padding reflects the frame at the bottom and right edges (replicate where reflection is impossible,
e.g. a 1-pixel-high frame); temporal padding repeats the last frame until the frame count has the form
``k * frame_multiple + 1`` (causal video VAEs). :func:`unpad` takes the upscale factor explicitly, so the
padding is removed exactly and real content is never cropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class PadInfo:
    """What :func:`pad_to_multiple` added to a video of ``num_frames x height x width``.

    Padding is always appended after the content: ``frames`` at the end of the clip, ``bottom`` rows and
    ``right`` columns.
    """

    num_frames: int
    height: int
    width: int
    frames: int = 0
    bottom: int = 0
    right: int = 0


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def padded_frame_count(num_frames: int, frame_multiple: int) -> int:
    """Smallest ``k * frame_multiple + 1 >= num_frames`` (``num_frames`` itself when ``frame_multiple`` is 1)."""
    if num_frames < 1 or frame_multiple < 1:
        raise ValueError(f"need num_frames >= 1 and frame_multiple >= 1, got {num_frames}, {frame_multiple}")
    return _round_up(num_frames - 1, frame_multiple) + 1


def _pad_axis(video: torch.Tensor, amount: int, dim: int) -> torch.Tensor:
    """Pad ``amount`` at the end of spatial axis ``dim`` (-1 width, -2 height): reflect, else replicate."""
    if amount == 0:
        return video
    pad = (0, amount, 0, 0, 0, 0) if dim == -1 else (0, 0, 0, amount, 0, 0)
    mode = "reflect" if amount < video.shape[dim] else "replicate"
    return F.pad(video, pad, mode=mode)


def pad_to_multiple(
    video: torch.Tensor, multiple: int | tuple[int, int], frame_multiple: int = 1
) -> tuple[torch.Tensor, PadInfo]:
    """Pad height and width up to ``multiple`` and the frame count up to ``k * frame_multiple + 1``.

    Args:
        video: ``(B, C, T, H, W)`` float tensor (any range; values are copied, never invented).
        multiple: spatial multiple for both axes, or ``(height_multiple, width_multiple)``.
        frame_multiple: temporal factor of the model (1 leaves the frame count alone).

    Returns:
        ``(padded, info)`` with ``padded`` of shape ``(B, C, T', H', W')``, ``T' = k * frame_multiple + 1``,
        ``H' % multiple_h == 0``, ``W' % multiple_w == 0``; ``info`` records the padding for :func:`unpad`.
    """
    if video.ndim != 5:
        raise ValueError(f"expected a (B, C, T, H, W) video, got shape {tuple(video.shape)}")
    mult_h, mult_w = (multiple, multiple) if isinstance(multiple, int) else multiple
    _, _, t, h, w = video.shape
    info = PadInfo(
        num_frames=t, height=h, width=w,
        frames=padded_frame_count(t, frame_multiple) - t,
        bottom=_round_up(h, mult_h) - h,
        right=_round_up(w, mult_w) - w,
    )
    out = _pad_axis(_pad_axis(video, info.bottom, -2), info.right, -1)
    if info.frames:
        out = torch.cat([out, out[:, :, -1:].expand(-1, -1, info.frames, -1, -1)], dim=2)
    return out, info


def unpad(video: torch.Tensor, info: PadInfo, scale: int) -> torch.Tensor:
    """Remove the padding recorded in ``info`` from a video upscaled spatially by ``scale``.

    Args:
        video: ``(B, C, T', H' * scale, W' * scale)`` where ``(T', H', W')`` is the padded size.
        info: the :class:`PadInfo` returned by :func:`pad_to_multiple` for the input.
        scale: the spatial upscale factor between the padded input and ``video`` (1 when not upscaled).

    Returns:
        ``(B, C, num_frames, height * scale, width * scale)``: a view of ``video``.
    """
    _, _, t, h, w = video.shape
    expected = (
        info.num_frames + info.frames, (info.height + info.bottom) * scale, (info.width + info.right) * scale
    )
    if (t, h, w) != expected:
        raise ValueError(f"unpad: expected (T, H, W) = {expected} for scale {scale}, got {(t, h, w)}")
    return video[:, :, : info.num_frames, : info.height * scale, : info.width * scale]
