"""E*warp: zero on a static video, grows with flicker, motion-compensated, RAFT/DIS selection."""

import math

import pytest
import torch
from kornia.filters import gaussian_blur2d

from fastvsr.metrics import EvalConfig, build_metrics
from fastvsr.metrics.ewarp import EWarp, backward_warp, valid_mask
from fastvsr.metrics.flow import DISFlow

SIZE = 128


def texture(size=SIZE + 40, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = gaussian_blur2d(torch.rand(1, 3, size, size, generator=g), (7, 7), (2.0, 2.0))[0]
    return (x - x.min()) / (x.max() - x.min())


def panning_video(step=4, frames=4):
    """``(3, T, SIZE, SIZE)``: a window moving ``step`` px right and down per frame over a texture."""
    tex = texture()
    return torch.stack([tex[:, i * step:i * step + SIZE, i * step:i * step + SIZE] for i in range(frames)], dim=1)


class ConstantFlow:
    """A flow 'estimator' that returns a fixed displacement (forward ``d``, backward ``-d``)."""

    def __init__(self, dx, dy, label="const"):
        self.d, self.label, self.calls = torch.tensor([dx, dy]), label, 0

    def __call__(self, a, b):
        sign = 1 if self.calls % 2 == 0 else -1  # warp_errors asks forward first, then backward
        self.calls += 1
        return (sign * self.d).view(1, 2, 1, 1).expand(a.shape[0], 2, *a.shape[-2:]).float()


def test_static_video_has_zero_warp_error():
    static = texture()[:, None, :SIZE, :SIZE].repeat(1, 4, 1, 1)
    assert EWarp(DISFlow()).score(static) < 1e-6


def test_warp_error_grows_with_flicker():
    static = texture()[:, None, :SIZE, :SIZE].repeat(1, 6, 1, 1)
    scores = [EWarp(DISFlow()).score(static * torch.tensor([1.0, 1 - a] * 3).view(1, 6, 1, 1)) for a in (0.05, 0.2)]
    assert 0.1 < scores[0] < scores[1]


def test_exact_flow_compensates_motion_and_wrong_flow_does_not():
    video = panning_video(step=4)  # frame t+1 at x shows frame t at x + 4, i.e. 2 px after the x0.5 downsampling
    exact = EWarp(ConstantFlow(-2.0, -2.0)).score(video)  # a(x) = b(x + flow): flow = -2
    none = EWarp(ConstantFlow(0.0, 0.0)).score(video)
    wrong_sign = EWarp(ConstantFlow(2.0, 2.0)).score(video)
    assert exact < 1e-6 < none
    assert wrong_sign > none
    assert EWarp(DISFlow()).score(video) < 0.25 * none  # DIS finds most of the motion


def test_backward_warp_and_occlusion_mask():
    image = torch.arange(20.0).view(1, 1, 4, 5)
    shift = torch.zeros(1, 2, 4, 5)
    shift[:, 0] = 1.0  # sample one pixel to the right
    warped, inside = backward_warp(image, shift)
    assert torch.equal(warped[..., :4], image[..., 1:]) and not inside[..., 4].any() and inside[..., :4].all()
    assert valid_mask(shift, -shift)[..., :4].all()  # consistent flows: kept (except outside)
    assert not valid_mask(shift * 3, shift * 3).any()  # forward and backward disagree: all excluded


def test_dis_fallback_when_raft_weights_are_missing(tmp_path):
    auto = build_metrics(EvalConfig(metrics=["ewarp"], weights_dir=str(tmp_path)), with_gt=False)
    assert auto.names == ["ewarp[dis]"] and "DIS" in auto.notes[0]
    assert "weights not found" in auto.notes[0] and "raft_large_C_T_V1-22a6c225.pth" in auto.notes[0]
    forced = build_metrics(EvalConfig(metrics=["ewarp[raft]"], weights_dir=str(tmp_path)), with_gt=False)
    assert forced.names == [] and "raft_large_C_T_V1-22a6c225.pth" in forced.missing["ewarp[raft]"]
    broken = tmp_path / "hub" / "checkpoints" / "raft_large_C_T_V1-22a6c225.pth"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a checkpoint")
    forced = build_metrics(EvalConfig(metrics=["ewarp[raft]"], weights_dir=str(tmp_path)), with_gt=False)
    assert "ewarp[raft]: could not load" in forced.missing["ewarp[raft]"]


def test_raft_is_used_when_its_weights_file_is_present(tmp_path):
    from torchvision.models.optical_flow import raft_large

    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    # a stand-in file with the exact name checks the loading path only (random weights, meaningless flow)
    torch.save(raft_large(weights=None, progress=False).state_dict(), checkpoints / "raft_large_C_T_V1-22a6c225.pth")
    metrics = build_metrics(EvalConfig(metrics=["ewarp"], weights_dir=str(tmp_path), raft_iters=1), with_gt=False)
    assert metrics.names == ["ewarp[raft]"] and not metrics.notes
    assert math.isfinite(metrics.metrics[0].score(panning_video(frames=2)[:, :, :64, :64]))


@pytest.mark.parametrize("frames", [1])
def test_single_frame_video_has_no_warp_error(frames):
    assert math.isnan(EWarp(DISFlow()).score(torch.rand(3, frames, 32, 32)))
