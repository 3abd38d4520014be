"""What a probe learns about a video, an image file or a folder of frames."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from fastvsr.data.colour import Colour
from fastvsr.data.orientation import Orientation

DEFAULT_IMAGE_FPS = Fraction(25)  # frame rate given to images and folders of frames (they have none)


@dataclass(frozen=True)
class VideoInfo:
    """Metadata of a readable video source.

    Attributes:
        path: the source (a video file, an image file or a folder of frames).
        num_frames: frames that :func:`fastvsr.data.video.read_video` returns for the whole source (>= 1).
        height, width: frame size in pixels (exact, odd sizes included).
        fps: exact frame rate; the average rate for variable-frame-rate videos, ``DEFAULT_IMAGE_FPS`` for
            images and folders.
        has_audio: the file has an audio stream (which :class:`~fastvsr.data.writer.VideoWriter` can copy).
        is_image_sequence: the source is an image file or a folder of images, not a video container.
        codec: video codec name (``"h264"``) or image format (``"png"``).
        pix_fmt: FFmpeg pixel format (``"yuv420p"``) or PIL mode (``"RGB"``).
        bit_depth: bits per colour sample of the source (8, 10, 16, ...); frames keep this precision.
        audio_codec: codec of the first audio stream, ``""`` without audio.
        colour: the video's colour tags (:class:`~fastvsr.data.colour.Colour`; fields ``None`` where untagged,
            all ``None`` for images and folders).
        orientation: how stored frames are displayed (a phone video's display matrix); frames are read as
            stored, ``height`` and ``width`` are the stored size.
    """

    path: Path
    num_frames: int
    height: int
    width: int
    fps: Fraction
    has_audio: bool
    is_image_sequence: bool
    codec: str = ""
    pix_fmt: str = ""
    bit_depth: int = 8
    audio_codec: str = ""
    colour: Colour = Colour()
    orientation: Orientation = Orientation()
