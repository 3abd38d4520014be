"""Video I/O on real clips: probe, read (slices), streaming chunks, writing (containers, audio copy, PNG
frames, lossless, odd sizes), atomic outputs."""

import os
from fractions import Fraction
from itertools import islice
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

import fastvsr.data.container as container_module
import fastvsr.data.video as video_module
from fastvsr.atomic import MANIFEST
from fastvsr.data.video import (
    VideoWriter,
    iter_video_chunks,
    planes_to_float,
    probe_video,
    read_video,
    read_video_planes,
    write_video,
)
from fastvsr.data.writer import to_uint8_frames
from fastvsr.errors import InputError, OutputError

CARPHONE = Path(__file__).parent / "data" / "carphone_176x144_9f.mp4"  # 9 frames, 176x144, 30000/1001 fps
BBB = Path(__file__).parent / "data" / "bbb_320x180_17f.mp4"  # the conftest sample clip


@pytest.fixture(scope="module")
def bbb_frames() -> torch.Tensor:
    return read_video(BBB)[0]


@pytest.fixture(scope="module")
def carphone_frames() -> torch.Tensor:
    return read_video(CARPHONE)[0]


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(((a - b) ** 2).mean()))


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def quantized(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Random frames on the 8-bit grid, so lossless paths can be checked for equality."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, generator=gen).float() / 255


def test_probe_sample_clip(sample_clip):
    info = probe_video(sample_clip)
    assert (info.num_frames, info.height, info.width) == (17, 180, 320)
    assert info.fps == Fraction(25) and isinstance(info.fps, Fraction)
    assert info.has_audio and info.audio_codec == "aac" and not info.is_image_sequence
    assert (info.codec, info.pix_fmt, info.bit_depth) == ("h264", "yuv420p", 8)


def test_probe_keeps_ntsc_rate_exact():
    info = probe_video(CARPHONE)
    assert info.fps == Fraction(30000, 1001)
    assert (info.num_frames, info.width, info.height, info.has_audio) == (9, 176, 144, False)


def test_read_video_shape_range_and_slices(sample_clip, bbb_frames):
    frames = bbb_frames
    assert frames.shape == (3, 17, 180, 320) and frames.dtype == torch.float32
    assert 0 <= frames.min() and frames.max() <= 1 and frames.std() > 0.05
    assert torch.equal(read_video(sample_clip, start=3, num_frames=4)[0], frames[:, 3:7])
    assert torch.equal(read_video(sample_clip, start=1, stride=5)[0], frames[:, 1::5])
    assert torch.equal(read_video(sample_clip, start=15, num_frames=10)[0], frames[:, 15:])
    # distinct frames really come out in order (not one frame repeated)
    assert (frames[:, 1:] - frames[:, :-1]).abs().mean() > 1e-3
    planes, info = read_video_planes(sample_clip)
    assert planes.dtype == np.uint8 and planes.shape == (3, 17, 180, 320) and info.num_frames == 17
    assert torch.equal(planes_to_float(planes), frames)


@pytest.mark.parametrize("chunk, overlap", [(4, 0), (4, 3), (9, 0), (5, 2), (20, 1)])
def test_iter_video_chunks_reconstructs_read_video(carphone_frames, chunk, overlap):
    full = carphone_frames
    pieces = list(iter_video_chunks(CARPHONE, chunk, overlap))
    starts = [start for start, _ in pieces]
    assert starts == list(range(0, len(starts) * (chunk - overlap), chunk - overlap))
    for start, clip in pieces:
        assert clip.shape[1] <= chunk and torch.equal(clip, full[:, start:start + clip.shape[1]])
    rebuilt = torch.cat([pieces[0][1]] + [clip[:, overlap:] for _, clip in pieces[1:]], dim=1)
    assert torch.equal(rebuilt, full)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_read_from_start_seeks_and_matches_sequential_decode(tmp_path, monkeypatch, suffix):
    frames = quantized((3, 20, 16, 16))
    path = tmp_path / f"gop{suffix}"
    with av.open(str(path), mode="w") as out:  # keyframe every 4 frames, B-frames: seeking has work to do
        stream = out.add_stream("libx264", rate=25, options={"g": "4", "bf": "2", "crf": "30"})
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        for index, array in enumerate(to_uint8_frames(frames)):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    full, _ = read_video(path)

    def no_sequential_skip(iterable, start, stop):
        assert start == 0, "fell back to decoding from the first frame"
        return islice(iterable, start, stop)

    monkeypatch.setattr(container_module, "islice", no_sequential_skip)
    for start in range(1, 20):
        assert torch.equal(read_video(path, start=start, num_frames=3)[0], full[:, start:start + 3]), start


def test_iter_video_chunks_decodes_lazily(sample_clip, monkeypatch):
    pulled = []
    original = video_module.iter_container_frames

    def counting(info, start=0):
        for array in original(info, start):
            pulled.append(1)
            yield array

    monkeypatch.setattr(video_module, "iter_container_frames", counting)
    chunks = iter_video_chunks(sample_clip, 4)
    next(chunks)
    assert len(pulled) == 4  # the first chunk comes before the rest of the video is decoded


def test_round_trip_keeps_frames_size_fps_and_audio(sample_clip, tmp_path, bbb_frames):
    frames, info = bbb_frames, probe_video(sample_clip)
    out = write_video(tmp_path / "out.mp4", frames, info.fps, audio_from=sample_clip, inputs=(sample_clip,))
    back, back_info = read_video(out)
    assert back.shape == frames.shape
    assert (back_info.fps, back_info.has_audio, back_info.audio_codec) == (info.fps, True, "aac")
    assert psnr(back, frames) > 38  # crf 18
    assert audio_packets(out) == audio_packets(sample_clip)  # copied bit-exactly, not re-encoded


@pytest.mark.parametrize("suffix", [".mkv", ".mov"])
def test_other_containers_with_audio(sample_clip, tmp_path, suffix, carphone_frames):
    frames = carphone_frames[:, :3]
    out = write_video(tmp_path / f"out{suffix}", frames, Fraction(30000, 1001), audio_from=sample_clip)
    info = probe_video(out)
    assert (info.num_frames, info.fps, info.audio_codec) == (3, Fraction(30000, 1001), "aac")
    copied, source = audio_packets(out), audio_packets(sample_clip)
    # audio starting after the 3 frames' end (0.1 s) is cut: AAC packets are 1024 / 48000 s
    assert copied == source[: len(copied)] and len(copied) == 6


def test_streaming_writes_equal_one_write(tmp_path, carphone_frames):
    frames = carphone_frames
    with VideoWriter(tmp_path / "parts.mkv", Fraction(30000, 1001), lossless=True) as out:
        for first in range(0, 9, 4):
            out.write(frames[:, first:first + 4])
    assert out.frames_written == 9
    back, info = read_video(tmp_path / "parts.mkv")
    assert info.fps == Fraction(30000, 1001)
    assert torch.equal(back, frames)  # lossless RGB: bit-exact


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_lossless_is_bit_exact(tmp_path, suffix):
    frames = quantized((3, 3, 24, 32))
    back, _ = read_video(write_video(tmp_path / f"x{suffix}", frames, 25, lossless=True))
    assert torch.equal(back, frames)


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
def test_pix_fmt_and_crf(tmp_path, pix_fmt, carphone_frames):
    frames = carphone_frames[:, :2]
    good = write_video(tmp_path / "good.mp4", frames, 25, pix_fmt=pix_fmt, crf=10)
    poor = write_video(tmp_path / "poor.mp4", frames, 25, pix_fmt=pix_fmt, crf=40)
    assert probe_video(good).pix_fmt == pix_fmt
    assert psnr(read_video(good)[0], frames) > psnr(read_video(poor)[0], frames) + 5
    assert good.stat().st_size > poor.stat().st_size


@pytest.mark.parametrize("height, width", [(33, 47), (32, 47), (33, 48)])
def test_odd_sizes_are_written_exactly(tmp_path, height, width):
    frames = torch.rand(3, 2, height, width).mul(0.6).add(0.2)
    frames[:, :, : height // 2] = 0.1  # structure to compare against
    info = probe_video(write_video(tmp_path / "odd.mp4", frames, 25))
    assert (info.height, info.width, info.num_frames) == (height, width, 2)
    assert info.pix_fmt == "yuv444p"
    assert (read_video(tmp_path / "odd.mp4")[0][:, :, : height // 2] - 0.1).abs().mean() < 0.01


def test_png_folder_and_single_image_round_trip(tmp_path):
    frames = quantized((3, 12, 9, 11))
    folder = write_video(tmp_path / "frames", frames, 25)
    assert sorted(p.name for p in folder.iterdir())[:3] == [MANIFEST, "000000.png", "000001.png"]
    back, info = read_video(folder)
    assert info.is_image_sequence and info.num_frames == 12 and torch.equal(back, frames)
    image = write_video(tmp_path / "one.png", frames[:, :1], 25)
    assert torch.equal(read_video(image)[0], frames[:, :1])
    with pytest.raises(OutputError, match="one frame"):
        write_video(tmp_path / "two.png", frames[:, :2], 25)
    assert not (tmp_path / "two.png").exists()


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".bmp", ".tiff"])
def test_image_files_read_as_one_frame_videos(tmp_path, suffix):
    array = np.zeros((10, 14, 3), np.uint8)
    array[:, 7:] = (200, 40, 90)
    Image.fromarray(array).save(tmp_path / f"img{suffix}")
    frames, info = read_video(tmp_path / f"img{suffix}")
    assert frames.shape == (3, 1, 10, 14) and info.is_image_sequence and info.num_frames == 1
    assert (frames[:, 0, :, -1] * 255 - torch.tensor([200.0, 40, 90])[:, None]).abs().max() < 8


def test_folder_frames_are_naturally_sorted(tmp_path):
    for index in (1, 2, 10, 11):
        Image.fromarray(np.full((4, 6, 3), index * 10, np.uint8)).save(tmp_path / f"frame{index}.png")
    (tmp_path / "notes.txt").write_text("not a frame")
    frames, _ = read_video(tmp_path)
    assert (frames[0, :, 0, 0] * 255).round().tolist() == [10, 20, 100, 110]


def test_existing_output_needs_overwrite_and_input_is_never_replaced(sample_clip, tmp_path):
    frames = quantized((3, 2, 8, 8))
    target = write_video(tmp_path / "a.mp4", frames, 25)
    with pytest.raises(OutputError, match="already exists"):
        write_video(target, frames, 25)
    write_video(target, frames[:, :1], 25, overwrite=True)
    assert probe_video(target).num_frames == 1
    with pytest.raises(OutputError, match="is the input"):
        write_video(target, frames, 25, overwrite=True, inputs=(target,))
    with pytest.raises(OutputError, match="is the input"):
        write_video(target, frames, 25, overwrite=True, audio_from=target)
    assert probe_video(target).num_frames == 1


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(tmp_path / "half.mp4", 25) as out:
            out.write(quantized((3, 2, 8, 8)))
            raise RuntimeError("boom")
    with pytest.raises(InputError, match="frame size changed"):
        with VideoWriter(tmp_path / "frames", 25) as out:
            out.write(quantized((3, 2, 8, 8)))
            out.write(quantized((3, 1, 8, 10)))
    with pytest.raises(OutputError, match="nothing was written"):
        with VideoWriter(tmp_path / "empty.mp4", 25):
            pass
    assert list(tmp_path.iterdir()) == []


def test_writer_argument_errors(tmp_path):
    with pytest.raises(OutputError, match="video suffix"):
        VideoWriter(tmp_path / "x.avi", 25)
    for kwargs, message in [(dict(crf=60), "crf"), (dict(pix_fmt="yuv422p"), "pix_fmt"),
                            (dict(audio_from=tmp_path / "missing.mp4"), "stream source"),
                            (dict(streams_from=tmp_path / "missing.mp4"), "stream source")]:
        with pytest.raises(InputError, match=message):
            VideoWriter(tmp_path / "x.mp4", 25, **kwargs)
    with pytest.raises(InputError, match="fps"):
        VideoWriter(tmp_path / "x.mp4", 0)
    assert list(tmp_path.iterdir()) == []


def test_bad_frame_tensors_are_input_errors(tmp_path):
    for bad in (torch.rand(4, 2, 8, 8), torch.rand(3, 8, 8), np.zeros((3, 1, 8, 8))):
        with pytest.raises(InputError, match=r"\(3, T, H, W\)"):
            write_video(tmp_path / "bad.mp4", bad, 25)
    assert list(tmp_path.iterdir()) == []


def test_frame_folder_probe_is_cached_until_a_frame_changes(tmp_path):
    for i in range(3):
        Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(tmp_path / f"{i}.png")
    assert probe_video(tmp_path).width == 6
    Image.fromarray(np.zeros((4, 8, 3), np.uint8)).save(tmp_path / "1.png")
    os.utime(tmp_path / "1.png", ns=(1, 1))  # a new modification time, whatever the clock resolution
    with pytest.raises(InputError, match="same size"):
        probe_video(tmp_path)
