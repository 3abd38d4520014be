"""Bad and unusual inputs: each gives a one-line InputError or correct frames, never a library traceback.

The odd inputs are made here, in tmp_path, with PyAV and PIL (tiny, lossless codecs where values are checked).
"""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from fastvsr.data.video import iter_video_chunks, probe_video, read_video, write_video
from fastvsr.errors import InputError

BBB = Path(__file__).parent / "data" / "bbb_320x180_17f.mp4"


def encode(path: Path, arrays: list[np.ndarray], codec: str, pix_fmt: str, array_format: str,
           pts: list[int] | None = None, rate: int = 25, options: dict[str, str] | None = None) -> Path:
    """Encode arrays (format ``array_format``) into ``path``; ``pts`` in units of 1/``rate`` s (default 0, 1, ...)."""
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, options=options or {})
        stream.pix_fmt, stream.height, stream.width = pix_fmt, arrays[0].shape[0], arrays[0].shape[1]
        stream.codec_context.time_base = Fraction(1, rate)
        for index, array in enumerate(arrays):
            frame = av.VideoFrame.from_ndarray(array, format=array_format)
            frame.pts, frame.time_base = (pts[index] if pts else index), Fraction(1, rate)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def assert_one_line_input_error(path: Path, match: str) -> None:
    with pytest.raises(InputError, match=match) as caught:
        read_video(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_missing_file(tmp_path):
    assert_one_line_input_error(tmp_path / "nope.mp4", "does not exist")


@pytest.mark.parametrize("name", ["notes.txt", "notes.mp4"])
def test_text_file_is_not_a_video(tmp_path, name):
    (tmp_path / name).write_text("this is not a video\n" * 20)
    assert_one_line_input_error(tmp_path / name, "cannot open")


def test_text_file_with_image_suffix(tmp_path):
    (tmp_path / "fake.png").write_text("not an image")
    assert_one_line_input_error(tmp_path / "fake.png", "cannot read image")


@pytest.mark.parametrize("keep", [0.2, 0.9])
def test_truncated_mp4(tmp_path, keep):
    data = BBB.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: int(len(data) * keep)])
    assert_one_line_input_error(tmp_path / "cut.mp4", "corrupt|truncated")


def test_corrupt_payload(tmp_path):
    """6 kB of noise in the middle of the H.264 payload: the decoder refuses the stream (a one-line error
    naming the file), it does not return frames built from garbage."""
    data = bytearray(BBB.read_bytes())
    data[20_000:26_000] = np.random.default_rng(0).integers(0, 256, 6000, dtype=np.uint8).tobytes()
    (tmp_path / "noise.mp4").write_bytes(bytes(data))
    assert_one_line_input_error(tmp_path / "noise.mp4", "cannot decode .*corrupt/truncated")


def test_truncated_mkv_reads_the_frames_present(tmp_path):
    frames = torch.rand(3, 6, 16, 16)
    data = write_video(tmp_path / "whole.mkv", frames, 25, lossless=True).read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) * 2 // 3])
    partial, info = read_video(tmp_path / "cut.mkv")
    assert 1 <= info.num_frames < 6 and partial.shape[1] == info.num_frames
    assert torch.equal(partial, read_video(tmp_path / "whole.mkv")[0][:, : info.num_frames])


def test_zero_frames(tmp_path):
    with av.open(str(tmp_path / "empty.mp4"), mode="w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        out.start_encoding()
    assert_one_line_input_error(tmp_path / "empty.mp4", "no video")
    (tmp_path / "folder").mkdir()
    assert_one_line_input_error(tmp_path / "folder", "no image files")


def test_audio_only_file(tmp_path):
    with av.open(str(tmp_path / "sound.m4a"), mode="w") as out:
        stream = out.add_stream("aac", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert_one_line_input_error(tmp_path / "sound.m4a", "no video stream")


def test_single_frame_video(tmp_path):
    frame = torch.rand(3, 1, 20, 30)
    frames, info = read_video(write_video(tmp_path / "one.mkv", frame, 25, lossless=True))
    assert info.num_frames == 1 and torch.allclose(frames, frame, atol=0.5 / 255)
    assert [start for start, _ in iter_video_chunks(tmp_path / "one.mkv", 4, 2)] == [0]


def test_odd_width_and_height_are_read_exactly(tmp_path):
    arrays = [np.full((15, 21, 3), 40 * k, np.uint8) for k in range(3)]
    frames, info = read_video(encode(tmp_path / "odd.mkv", arrays, "ffv1", "bgr0", "rgb24"))
    assert frames.shape == (3, 3, 15, 21) and (info.height, info.width) == (15, 21)
    assert torch.equal(frames, torch.from_numpy(np.stack(arrays)).permute(3, 0, 1, 2) / 255)


def test_grayscale_video_becomes_equal_rgb(tmp_path):
    levels = [0, 77, 128, 255]
    arrays = [np.full((8, 12), level, np.uint8) for level in levels]
    frames, info = read_video(encode(tmp_path / "gray.mkv", arrays, "ffv1", "gray", "gray"))
    assert info.pix_fmt == "gray" and frames.shape == (3, 4, 8, 12)
    assert (frames[:, :, 3, 5] * 255).round().T.tolist() == [[v] * 3 for v in levels]


@pytest.mark.parametrize("name, codec, pix_fmt", [("a.mkv", "ffv1", "bgra"), ("a.mov", "qtrle", "argb")])
def test_alpha_video_drops_alpha(tmp_path, name, codec, pix_fmt):
    colours = [(10, 50, 200, 0), (100, 60, 20, 128), (250, 5, 90, 255)]
    arrays = [np.broadcast_to(np.array(c, np.uint8), (8, 10, 4)).copy() for c in colours]
    frames, _ = read_video(encode(tmp_path / name, arrays, codec, pix_fmt, "rgba"))
    assert (frames[:, :, 2, 3] * 255).round().T.tolist() == [list(c[:3]) for c in colours]


def test_ten_bit_video_keeps_its_precision(tmp_path):
    ramp = np.repeat((np.arange(1024, dtype=np.uint16) * 64)[None, :, None], 3, axis=2)  # 10-bit grey ramp
    arrays = [np.repeat(ramp, 4, axis=0)] * 2
    frames, info = read_video(encode(tmp_path / "ten.mp4", arrays, "libx264", "yuv444p10le", "rgb48le",
                                     options={"qp": "0"}))
    assert info.bit_depth == 10 and frames.dtype == torch.float32
    row = frames[1, 0, 2]
    assert len(torch.unique(row)) > 800  # 8-bit decoding would give at most 256 levels
    assert (row - torch.linspace(0, 1023 / 1024, 1024)).abs().max() < 0.01


def test_sixteen_bit_gray_is_exact(tmp_path):
    ramp = np.repeat((np.arange(512, dtype=np.uint16) * 128)[None, :], 2, axis=0)
    frames, info = read_video(encode(tmp_path / "g16.mkv", [ramp], "ffv1", "gray16le", "gray16le"))
    assert info.bit_depth == 16
    assert torch.equal((frames[0, 0, 0] * 65535).round(), torch.from_numpy(ramp[0].astype(np.float32)))


def test_variable_frame_rate_reads_all_frames_in_order(tmp_path):
    arrays = [np.full((16, 16, 3), 40 * k, np.uint8) for k in range(6)]
    pts = [0, 1, 3, 4, 8, 9]  # gaps: 6 frames over 10/25 s
    for suffix in (".mp4", ".mkv"):
        path = encode(tmp_path / f"vfr{suffix}", arrays, "libx264rgb", "rgb24", "rgb24", pts=pts, options={"qp": "0"})
        frames, info = read_video(path)
        assert (frames[0, :, 0, 0] * 255).round().tolist() == [40.0 * k for k in range(6)]
        assert info.fps == Fraction(6 * 25, 10) and isinstance(info.fps, Fraction)


def test_image_modes_become_rgb(tmp_path):
    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(np.full((6, 8), 90, np.uint8), "L").save(tmp_path / "gray.png")
    Image.fromarray(np.full((6, 8), 40000, np.uint16)).save(tmp_path / "gray16.png")
    palette = Image.fromarray(np.full((6, 8), 1, np.uint8), "P")
    palette.putpalette([0, 0, 0, 30, 60, 90])
    palette.save(tmp_path / "palette.png")
    expected = {"rgba": [200, 0, 0], "gray": [90] * 3, "palette": [30, 60, 90]}
    for name, rgb in expected.items():
        frames, _ = read_video(tmp_path / f"{name}.png")
        assert (frames[:, 0, 1, 1] * 255).round().tolist() == rgb, name
    frames, info = read_video(tmp_path / "gray16.png")
    assert info.bit_depth == 16 and (frames[:, 0, 1, 1] * 65535).round().tolist() == [40000] * 3


def test_folder_mixing_8_and_16_bit_frames(tmp_path):
    Image.fromarray(np.full((4, 6), 40000, np.uint16)).save(tmp_path / "0.png")
    Image.fromarray(np.full((4, 6, 3), 100, np.uint8)).save(tmp_path / "1.png")
    frames, info = read_video(tmp_path)
    assert info.bit_depth == 16
    assert torch.allclose(frames[:, :, 0, 0], torch.tensor([40000 / 65535, 100 / 255]).expand(3, 2))


def test_exif_rotation_is_applied(tmp_path):
    image = Image.fromarray(np.zeros((4, 10, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    frames, info = read_video(tmp_path / "rotated.jpg")
    assert frames.shape == (3, 1, 10, 4) and (info.height, info.width) == (10, 4)


def test_truncated_image_and_mixed_sizes_in_folder(tmp_path):
    Image.fromarray(np.full((32, 32, 3), 7, np.uint8)).save(tmp_path / "good.png")
    data = (tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert_one_line_input_error(tmp_path / "cut.png", "cannot")
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(folder / "0.png")
    Image.fromarray(np.zeros((4, 8, 3), np.uint8)).save(folder / "1.png")
    with pytest.raises(InputError, match="same size"):
        probe_video(folder)


def test_bad_read_arguments(tmp_path):
    for kwargs in (dict(start=-1), dict(stride=0), dict(num_frames=0), dict(start=17)):
        with pytest.raises(InputError):
            read_video(BBB, **kwargs)
    for chunk, overlap in ((0, 0), (4, 4), (4, -1)):
        with pytest.raises(InputError, match="chunk_frames"):
            next(iter_video_chunks(BBB, chunk, overlap))


@pytest.mark.parametrize("name, codec, pix_fmt", [
    ("v.webm", "libvpx-vp9", "yuv420p"), ("v.avi", "mpeg4", "yuv420p"), ("v.avi", "mjpeg", "yuvj444p"),
    ("v.mov", "prores_ks", "yuv422p10le"), ("v.mkv", "libx265", "yuv420p"),
])
def test_other_codecs_and_containers(tmp_path, name, codec, pix_fmt):
    arrays = [np.full((16, 32, 3), level, np.uint8) for level in (30, 120, 220)]
    frames, info = read_video(encode(tmp_path / name, arrays, codec, pix_fmt, "rgb24", rate=24,
                                     options={"x265-params": "log-level=none"} if codec == "libx265" else None))
    assert (info.num_frames, info.width, info.height, info.fps) == (3, 32, 16, Fraction(24))
    assert (frames.mean(dim=(0, 2, 3)) * 255 - torch.tensor([30.0, 120, 220])).abs().max() < 6
