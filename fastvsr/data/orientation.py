"""Display orientation of a video: the display matrix (side data) phones write instead of rotating pixels.

Frames are read and restored as stored; a video output carries the orientation on as its display matrix,
and an image or PNG-folder output (which cannot carry one) is turned upright (docs/video_io.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_ONE = 1 << 16  # 1.0 in the matrix's 16.16 fixed point


def _quarter_turns_of(matrix: Sequence[int]) -> tuple[int, bool]:
    """``(quarter_turns, flip)`` of a display matrix, decided as FFmpeg's ``autorotate`` does (fftools)."""
    a, b, c, d = (matrix[i] / _ONE for i in (0, 1, 3, 4))
    if not (math.hypot(a, c) and math.hypot(b, d)):
        return 0, False
    counter_clockwise = -math.degrees(math.atan2(b / math.hypot(b, d), a / math.hypot(a, c)))
    clockwise = -round(counter_clockwise) % 360
    if clockwise == 90:
        return (1, True) if c > 0 else (3, False)
    if clockwise == 270:
        return (3, True) if c < 0 else (1, False)
    if clockwise == 180:
        return {(True, True): (2, False), (True, False): (2, True), (False, True): (0, True),
                (False, False): (0, False)}[(a < 0, d < 0)]
    if clockwise == 0:
        return 0, d < 0
    return round(counter_clockwise / 90) % 4, False  # not a right angle: the nearest quarter turn


@dataclass(frozen=True)
class Orientation:
    """How stored frames are displayed: turned counter-clockwise by ``quarter_turns`` x 90 degrees, then
    flipped top to bottom when ``flip``. ``Orientation()`` is upright."""

    quarter_turns: int = 0
    flip: bool = False

    @classmethod
    def from_display_matrix(cls, matrix: Sequence[int] | None) -> Orientation:
        """From FFmpeg's 3x3 display matrix (9 int32, 16.16 fixed point); ``None`` -> upright."""
        return cls(*_quarter_turns_of(matrix)) if matrix is not None else cls()

    @property
    def is_upright(self) -> bool:
        return self.quarter_turns == 0 and not self.flip

    @property
    def rotation(self) -> int:
        """Counter-clockwise degrees (0, 90, 180, 270), as PyAV's ``VideoFrame.rotation`` reports them."""
        return 90 * self.quarter_turns

    def display_matrix(self) -> list[int]:
        """The display matrix to write (no translation, so it holds at any frame size)."""
        cos, sin = ((1, 0), (0, 1), (-1, 0), (0, -1))[self.quarter_turns % 4]
        sign = -1 if self.flip else 1
        return [cos * _ONE, -sin * _ONE * sign, 0, sin * _ONE, cos * _ONE * sign, 0, 0, 0, 1 << 30]

    def displayed_size(self, height: int, width: int) -> tuple[int, int]:
        """``(height, width)`` on display of frames stored ``height`` x ``width``."""
        return (width, height) if self.quarter_turns % 2 else (height, width)

    def upright(self, array: np.ndarray) -> np.ndarray:
        """``(H, W, ...)`` stored frame -> the frame as displayed, ``(H', W', ...)`` (same dtype, contiguous)."""
        turned = np.rot90(array, self.quarter_turns % 4, axes=(0, 1))
        return np.ascontiguousarray(turned[::-1] if self.flip else turned)
