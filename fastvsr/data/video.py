"""Read any video FFmpeg reads, an image file or a folder of frames as a ``(3, T, H, W)`` tensor in ``[0, 1]``.

Public API (see ``docs/video_io.md``): :class:`VideoInfo`, :func:`probe_video`, :func:`read_video`,
:func:`iter_video_chunks` (streaming), :class:`VideoWriter` and :func:`write_video` (from
:mod:`fastvsr.data.writer`). Problems with an input raise :class:`~fastvsr.errors.InputError` (one line).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from fastvsr.data.container import iter_container_frames, probe_container
from fastvsr.data.frames import image_files, is_image_file, iter_image_frames, probe_images
from fastvsr.data.info import VideoInfo
from fastvsr.data.writer import VideoWriter, write_video
from fastvsr.errors import InputError

__all__ = ["VideoInfo", "VideoWriter", "iter_video_chunks", "planes_to_float", "probe_video", "read_video",
           "read_video_planes", "write_video"]


def probe_video(path: str | Path) -> VideoInfo:
    """Frame count, size, exact fps, audio and format of a video file, image file or folder of images.

    Raises:
        InputError: missing path, not a video/image, no frames, corrupt header, mixed frame sizes in a folder.
    """
    source = Path(path)
    if not source.exists():
        raise InputError(f"input {source} does not exist")
    if source.is_dir() or is_image_file(source):
        return probe_images(source, image_files(source))
    return probe_container(source)


def _iter_arrays(info: VideoInfo, start: int) -> Iterator[np.ndarray]:
    frames = iter_image_frames(info, start) if info.is_image_sequence else iter_container_frames(info, start)
    for array in frames:
        if array.shape[1:] != (info.height, info.width):
            raise InputError(f"{info.path}: frame size changes from {info.width}x{info.height} to "
                             f"{array.shape[2]}x{array.shape[1]} mid-stream; this is not supported")
        yield array


def planes_to_float(planes: np.ndarray) -> torch.Tensor:
    """``(3, ...)`` uint8/uint16 RGB planes (as :func:`read_video_planes` gives) -> float32 in ``[0, 1]``, same
    shape."""
    scale = 255.0 if planes.dtype == np.uint8 else 65535.0
    return torch.from_numpy(planes.astype(np.float32)).div_(scale)


def _stack_planes(arrays: Iterator[np.ndarray] | list[np.ndarray], count: int, info: VideoInfo) -> np.ndarray:
    """Gather ``count`` ``(3, H, W)`` integer frames into ``(3, T, H, W)`` of the same integer type."""
    buffer: np.ndarray | None = None
    received = 0
    for array in arrays:
        if buffer is None:
            buffer = np.empty((3, count, info.height, info.width), array.dtype)
        buffer[:, received] = array
        received += 1
    if buffer is None or received < count:
        raise InputError(f"{info.path}: got {received} of the {count} frames expected; the file is damaged")
    return buffer


def _stack_frames(arrays: Iterator[np.ndarray] | list[np.ndarray], count: int, info: VideoInfo) -> torch.Tensor:
    """Gather ``count`` ``(3, H, W)`` integer frames into ``(3, T, H, W)`` float32 in ``[0, 1]``."""
    return planes_to_float(_stack_planes(arrays, count, info))


def read_video_planes(path: str | Path, start: int = 0, num_frames: int | None = None
                      ) -> tuple[np.ndarray, VideoInfo]:
    """Frames ``start ..`` (at most ``num_frames``; ``None``: to the end) as stored: ``(3, T, H, W)`` uint8 RGB
    planes (uint16 for sources deeper than 8 bits), and the :class:`VideoInfo`. ``planes_to_float(planes)``
    equals ``read_video(path, start, num_frames)[0]``; a quarter of its memory for 8-bit sources (datasets that
    keep their frames in memory hold these).

    Raises:
        InputError: unreadable source, or ``start`` past the end.
    """
    info = probe_video(path)
    if not 0 <= start < info.num_frames:
        raise InputError(f"start frame {start} is outside {info.path} ({info.num_frames} frames)")
    count = info.num_frames - start if num_frames is None else min(num_frames, info.num_frames - start)
    return _stack_planes(islice(_iter_arrays(info, start), count), count, info), info


def read_video(
    path: str | Path, start: int = 0, num_frames: int | None = None, stride: int = 1
) -> tuple[torch.Tensor, VideoInfo]:
    """Read frames ``start, start + stride, ...`` (at most ``num_frames`` of them; ``None``: to the end).

    Returns:
        ``(frames, info)``: frames ``(3, T, H, W)`` float32 in ``[0, 1]`` (RGB; grayscale replicated, alpha
        dropped, 10/16-bit sources at full precision; YUV converted with the tagged matrix and range, untagged
        with BT.709 from 720 lines up and BT.601 below; as stored: ``info.orientation`` says how they are
        displayed) and the source's :class:`VideoInfo`.

    Raises:
        InputError: unreadable source, or ``start`` / ``num_frames`` / ``stride`` out of range.
    """
    info = probe_video(path)
    if stride < 1 or start < 0 or (num_frames is not None and num_frames < 1):
        raise InputError(f"need start >= 0, stride >= 1 and num_frames >= 1 or None; got start={start}, "
                         f"stride={stride}, num_frames={num_frames}")
    if start >= info.num_frames:
        raise InputError(f"start frame {start} is past the end of {info.path} ({info.num_frames} frames)")
    available = len(range(start, info.num_frames, stride))
    count = available if num_frames is None else min(num_frames, available)
    selected = islice(_iter_arrays(info, start), 0, (count - 1) * stride + 1, stride)
    return _stack_frames(selected, count, info), info


def iter_video_chunks(path: str | Path, chunk_frames: int, overlap: int = 0) -> Iterator[tuple[int, torch.Tensor]]:
    """Stream a video as chunks of ``chunk_frames`` frames, consecutive chunks sharing ``overlap`` frames.

    Frames are decoded once, sequentially; only the current chunk is held, so memory does not grow with the
    video's length. The last chunk may be shorter; a chunk is never made only of already-yielded frames.

    Yields:
        ``(start, frames)``: the index of the chunk's first frame and ``(3, T, H, W)`` float32 in ``[0, 1]``.
        ``torch.cat([c0] + [c[:, overlap:] for c in rest], dim=1)`` equals ``read_video(path)[0]``.

    Raises:
        InputError: unreadable source, or ``chunk_frames < 1`` or ``overlap`` not in ``[0, chunk_frames)``.
    """
    if chunk_frames < 1 or not 0 <= overlap < chunk_frames:
        raise InputError(f"need chunk_frames >= 1 and 0 <= overlap < chunk_frames; got {chunk_frames}, {overlap}")
    info = probe_video(path)
    start, buffer, carried = 0, [], 0
    for array in _iter_arrays(info, 0):
        buffer.append(array)
        if len(buffer) == chunk_frames:
            yield start, _stack_frames(buffer, chunk_frames, info)
            start += chunk_frames - overlap
            buffer = buffer[chunk_frames - overlap:]
            carried = len(buffer)
    if len(buffer) > carried:
        yield start, _stack_frames(buffer, len(buffer), info)
