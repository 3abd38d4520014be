"""Streaming helpers: regroup frame blocks into overlapping chunks, and cross-fade restored chunks.

Both hold at most about one chunk of frames, so memory does not grow with the length of the video.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from fastvsr.errors import InputError
from fastvsr.ops.tiling import Span


def rechunk(blocks: Iterable[tuple[int, torch.Tensor]], spans: list[Span]) -> Iterator[tuple[Span, torch.Tensor]]:
    """Turn consecutive frame blocks into the (overlapping) chunks ``spans``.

    Args:
        blocks: ``(start, frames)`` pairs in order, ``frames`` of shape ``(C, T, H, W)``; blocks may overlap
            (frames already seen, and frames before the first span, are skipped) but must not leave gaps.
        spans: chunks to produce, with increasing starts (from :func:`fastvsr.ops.tiling.plan_spans`).

    Yields:
        ``(span, frames)`` with ``frames`` of shape ``(C, span.length, H, W)``.

    Raises:
        InputError: the blocks end before the last span (the video is shorter than announced).
    """
    buffer: torch.Tensor | None = None  # frames [buffer_start, buffer_start + buffer.shape[1])
    buffer_start = spans[0].start if spans else 0
    pending = iter(spans)
    span = next(pending, None)
    for start, frames in blocks:
        if span is None:
            break  # a part of the video: the frames after its last span are not needed
        end = buffer_start + (0 if buffer is None else buffer.shape[1])
        if start > end:
            raise InputError(f"frames {end}..{start - 1} are missing from the input")
        frames = frames[:, max(end - start, 0):]
        if not frames.shape[1]:
            continue
        buffer = frames if buffer is None else torch.cat([buffer, frames], dim=1)
        while span is not None and buffer_start + buffer.shape[1] >= span.stop:
            yield span, buffer[:, span.start - buffer_start: span.stop - buffer_start]
            span = next(pending, None)
            drop = (span.start if span is not None else span_stop(spans)) - buffer_start
            buffer, buffer_start = buffer[:, drop:], buffer_start + drop
    if span is not None:
        got = buffer_start + (0 if buffer is None else buffer.shape[1])
        raise InputError(f"the input ended after {got} frames, expected {span_stop(spans)}")


def span_stop(spans: list[Span]) -> int:
    return max(s.stop for s in spans)


class TemporalBlender:
    """Accumulates weighted restored chunks and releases frames once no later chunk can touch them.

    The weights come from :func:`fastvsr.ops.tiling.blend_weights` and sum to 1 per frame, so a released
    frame is the finished cross-fade.
    """

    def __init__(self) -> None:
        self._acc: torch.Tensor | None = None  # (C, n, H, W): frames [self._start, self._start + n)
        self._start = 0

    def add(
        self, span: Span, frames: torch.Tensor, weights: torch.Tensor, ready_until: int
    ) -> tuple[int, torch.Tensor]:
        """Add ``frames`` (``(C, span.length, H, W)``, consumed: scaled by ``weights`` in place) times
        ``weights`` (``(span.length,)``).

        Returns:
            ``(start, finished)``: the frames ``[start, ready_until)``, complete because every later chunk
            starts at or after ``ready_until``; ``(C, 0, H, W)`` when there are none. ``finished`` is a view
            that later calls do not change (they write only to frames after it, or to a new tensor).
        """
        if not bool((weights == 1).all()):
            frames.mul_(weights.to(frames)[None, :, None, None])
        if self._acc is None:
            self._acc, self._start = frames, span.start
        else:
            have = self._start + self._acc.shape[1]
            if span.start < self._start or span.start > have:
                raise ValueError(f"chunk {span} does not continue the frames held from {self._start} to {have}")
            grow = span.stop - have
            if grow > 0:
                self._acc = torch.cat([self._acc, self._acc.new_zeros(*self._acc.shape[:1], grow,
                                                                      *self._acc.shape[2:])], dim=1)
            self._acc[:, span.start - self._start: span.stop - self._start] += frames
        done = ready_until - self._start
        start, finished = self._start, self._acc[:, :done]
        self._acc, self._start = self._acc[:, done:], ready_until
        return start, finished
