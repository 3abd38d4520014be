"""JPEG compression per frame through OpenCV's libjpeg.

OpenCV rather than ``kornia.enhance.jpeg_codec_differentiable``: degradations run in data-loader workers without
gradients, and the real codec (integer DCT, true rounding, 4:2:0 chroma subsampling) is what the artefacts of
real videos come from; kornia's version replaces rounding with a smooth approximation so that it can be
differentiated. OpenCV is also faster on CPU for single frames (measured in docs/data.md).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from fastvsr.data.writer import to_uint8_frames as video_frames_to_uint8


def to_uint8_frames(frames: torch.Tensor) -> np.ndarray:
    """``(T, 3, H, W)`` float ``[0, 1]`` -> ``(T, H, W, 3)`` uint8 RGB (rounded, as the video writer does)."""
    return video_frames_to_uint8(frames.transpose(0, 1))


def from_uint8_frames(frames: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``(T, H, W, 3)`` uint8 RGB -> ``(T, 3, H, W)`` float ``[0, 1]`` with the dtype/device of ``like``."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).to(like.device, like.dtype) / 255.0


def jpeg(frames: torch.Tensor, quality: np.ndarray) -> torch.Tensor:
    """Encode and decode every frame as JPEG.

    Args:
        frames: ``(T, 3, H, W)`` float in ``[0, 1]``.
        quality: ``(T,)`` integer qualities in ``[1, 100]`` (one per frame).

    Returns:
        ``(T, 3, H, W)`` float in ``[0, 1]``, quantised to 8 bits.
    """
    decoded = []
    for rgb, q in zip(to_uint8_frames(frames), np.broadcast_to(quality, (frames.shape[0],))):
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(q)])
        if not ok:
            raise RuntimeError("OpenCV failed to encode a JPEG frame")
        decoded.append(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    return from_uint8_frames(np.stack(decoded), frames)
