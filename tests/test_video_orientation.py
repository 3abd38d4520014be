"""Display orientation (a phone video's display matrix): read with the frames as stored, carried over as the
output's display matrix, applied to image / PNG-folder outputs; never sideways on display."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from fastvsr.data.orientation import Orientation
from fastvsr.data.video import probe_video, read_video, write_video
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.files import plan_outputs
from tests.video_helpers import make_clip

ALL = [Orientation(turns, flip) for turns in range(4) for flip in (False, True)]


def marked(height: int = 32, width: int = 64) -> np.ndarray:
    """``(H, W, 3)`` uint8: a white top-left quadrant on black, so any turn or flip shows."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 2] = 255
    return pixels


def displayed(path) -> tuple[int, int]:
    """``(height, width)`` of ``path``'s frames as a player shows them (display matrix applied)."""
    info = probe_video(path)
    return info.orientation.displayed_size(info.height, info.width)


@pytest.mark.parametrize("orientation", ALL, ids=str)
def test_display_matrix_round_trips(orientation):
    assert Orientation.from_display_matrix(orientation.display_matrix()) == orientation


def test_phone_matrix_is_a_clockwise_quarter_turn():
    """An iPhone portrait clip stores landscape frames with tkhd matrix (0, 1, -1, 0): shown turned clockwise
    (FFmpeg's autorotate: transpose=clock), i.e. three counter-clockwise quarter turns."""
    phone = Orientation.from_display_matrix([0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30])
    assert phone == Orientation(3) and phone.rotation == 270
    assert np.array_equal(phone.upright(np.array([[1, 2], [3, 4]])), np.array([[3, 1], [4, 2]]))


def test_rotated_input_is_probed_and_read_as_stored(tmp_path):
    clip = make_clip(tmp_path / "phone.mp4", marked(), orientation=Orientation(3))
    frames, info = read_video(clip)
    assert info.orientation == Orientation(3) and frames.shape[-2:] == (32, 64)  # stored landscape
    assert displayed(clip) == (64, 32)  # shown portrait


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_video_output_carries_the_orientation(tmp_path, suffix):
    clip = make_clip(tmp_path / "phone.mp4", marked(), orientation=Orientation(3))
    frames, info = read_video(clip)
    upscaled = frames.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    out = write_video(tmp_path / f"out{suffix}", upscaled, info.fps, source=info)
    assert probe_video(out).orientation == Orientation(3)
    assert displayed(out) == (128, 64)  # the input's displayed shape, x2: upright, not sideways
    with av.open(str(out)) as container:  # what PyAV / FFmpeg players read from the side data
        assert next(container.decode(video=0)).rotation == -90


@pytest.mark.parametrize("orientation", ALL, ids=str)
def test_image_and_frame_outputs_are_turned_upright(tmp_path, orientation):
    clip = make_clip(tmp_path / "in.mkv", marked(), frames=2, codec="ffv1", orientation=orientation)
    frames, info = read_video(clip)
    expected = torch.from_numpy(orientation.upright(marked())).permute(2, 0, 1).float() / 255
    image, _ = read_video(write_video(tmp_path / "one.png", frames[:, :1], info.fps, source=info))
    folder, _ = read_video(write_video(tmp_path / "frames", frames, info.fps, source=info))
    assert (image[:, 0] - expected).abs().max() < 0.02  # ffv1 YUV 4:2:0: edges of the quadrant blur a little
    assert folder.shape[-2:] == expected.shape[-2:] and (folder[:, 1] - expected).abs().max() < 0.02


def test_pipeline_passes_the_orientation(tmp_path):
    clip = make_clip(tmp_path / "phone.mp4", marked(), orientation=Orientation(1, True))
    plan = plan_outputs(clip, tmp_path / "out.mkv", InferConfig(scale=2))
    assert plan.writer.orientation == Orientation(1, True)
