"""Losses: per-sample pixel terms, frame differences, KL, offline perceptual wrappers, lower-bound objective."""

import math

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.losses import (
    BackboneWeights,
    LowerBoundConfig,
    LowerBoundMode,
    LPIPSLoss,
    ReconstructionLoss,
    ReconstructionLossConfig,
    build_perceptual,
    floor_needed,
    frame_difference_l1,
    gaussian_kl_per_sample,
    interpolation_floor,
    l1_per_sample,
    lower_bound_lambda,
    lower_bound_objective,
    mse_per_sample,
)
from fastvsr.ops.resize import bicubic_rescale


def _video(b=2, t=3, h=16, w=16, seed=0):
    return torch.rand(b, 3, t, h, w, generator=torch.Generator().manual_seed(seed))


def test_pixel_losses_are_per_sample():
    x = torch.zeros(2, 3, 2, 4, 4)
    y = x.clone()
    y[1] += 0.5
    assert torch.equal(l1_per_sample(x, y), torch.tensor([0.0, 0.5]))
    assert torch.allclose(mse_per_sample(x, y), torch.tensor([0.0, 0.25]))


def test_frame_difference_ignores_constant_offset_but_sees_flicker():
    gt = _video()
    assert frame_difference_l1(gt + 0.1, gt).abs().max() < 1e-6
    flicker = gt.clone()
    flicker[:, :, 1] += 0.2
    assert (frame_difference_l1(flicker, gt) > 0.05).all()
    assert torch.equal(frame_difference_l1(gt[:, :, :1], gt[:, :, :1] + 1), torch.zeros(2))


def test_kl_is_zero_only_at_the_prior():
    zero = torch.zeros(2, 4, 1, 2, 2)
    assert torch.equal(gaussian_kl_per_sample(zero, zero), torch.zeros(2))
    mean = zero.clone()
    mean[0] = 1.0
    kl = gaussian_kl_per_sample(mean, zero)
    assert kl[0] == pytest.approx(0.5) and kl[1] == 0


def test_lpips_requires_local_backbone_unless_random_is_explicit():
    # conftest points TORCH_HOME at an empty private folder: nothing to load, nothing may be downloaded
    with pytest.raises(WeightsMissingError, match="alexnet-owt-7be5be79.pth"):
        LPIPSLoss(net="alex")
    with pytest.raises(WeightsMissingError, match="vgg16"):
        build_perceptual("dists")
    with pytest.raises(ConfigError, match="random"):
        build_perceptual("dists", BackboneWeights.RANDOM)
    assert build_perceptual("none") is None


def test_random_lpips_is_a_frozen_distance_with_gradients():
    loss = LPIPSLoss(net="alex", weights=BackboneWeights.RANDOM)
    gt = _video(h=64, w=64)
    pred = (gt + 0.2 * torch.randn_like(gt)).clamp(0, 1).requires_grad_(True)
    dist = loss(pred, gt)
    assert dist.shape == (2,) and (dist > 0).all()
    assert loss(gt, gt).abs().max() < 1e-6
    dist.sum().backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in loss.parameters())
    assert not loss.train().training


def test_reconstruction_terms_are_named_and_weighted():
    cfg = ReconstructionLossConfig(l1=2.0, mse=1.0, frame_diff=0.5)
    loss = ReconstructionLoss(cfg)
    gt = _video()
    pred = _video(seed=1)
    terms = loss.terms(pred, gt)
    assert set(terms) == {"l1", "mse", "frame_diff"}
    assert torch.allclose(terms["l1"], 2.0 * l1_per_sample(pred, gt))
    assert torch.allclose(loss(pred, gt), sum(terms.values()))
    with pytest.raises(ConfigError, match="every term has weight 0"):
        load_config(ReconstructionLossConfig, overrides=["l1=0"])
    with pytest.raises(ConfigError):
        load_config(ReconstructionLossConfig, overrides=["perceptual=vgg_features"])


def test_lambda_anneals_on_a_half_cosine_to_zero():
    cfg = LowerBoundConfig(mode=LowerBoundMode.ANNEALED, weight=2.0, anneal_fraction=0.5)
    lams = [lower_bound_lambda(cfg, s, 100) for s in range(100)]
    assert lams[0] == 2.0 and lams[25] == pytest.approx(1.0) and lams[50] == 0.0 and lams[-1] == 0.0
    assert all(a >= b for a, b in zip(lams, lams[1:]))
    assert lower_bound_lambda(LowerBoundConfig(mode=LowerBoundMode.HINGE, weight=0.3), 99, 100) == 0.3
    assert lower_bound_lambda(LowerBoundConfig(mode=LowerBoundMode.OFF), 0, 100) == 0.0


def test_bicubic_rescale_shapes_range_and_constants():
    video = _video(h=16, w=24)
    assert bicubic_rescale(video, 0.5).shape == (2, 3, 3, 8, 12)
    up = interpolation_floor(video)
    assert up.shape == (2, 3, 3, 32, 48) and up.min() >= 0 and up.max() <= 1
    flat = torch.full((1, 3, 2, 8, 8), 0.3)
    assert torch.allclose(bicubic_rescale(flat, 2.0), torch.full((1, 3, 2, 16, 16), 0.3), atol=1e-6)
    with pytest.raises(ValueError, match="whole number"):
        bicubic_rescale(_video(h=15, w=16), 0.5)


def test_hinge_penalises_only_samples_worse_than_the_floor():
    loss = ReconstructionLoss(ReconstructionLossConfig(l1=1.0))
    gt = _video()
    floor = (gt + 0.1).clamp(0, 1)  # floor error ~0.1 per sample
    pred = (gt + 0.02).clamp(0, 1)
    pred[1] = (gt[1] + 0.3).clamp(0, 1)  # sample 0 beats the floor, sample 1 does not
    pred.requires_grad_(True)
    total, logs = lower_bound_objective(loss, pred, gt, floor, LowerBoundMode.HINGE, lam=1.0)
    rec = l1_per_sample(pred, gt).detach()
    floor_err = l1_per_sample(floor, gt)
    assert logs["lower_bound"] == pytest.approx(float((rec[1] - floor_err[1]) / 2), rel=1e-5)
    assert total.item() == pytest.approx(float(rec.mean()) + logs["lower_bound"], rel=1e-5)
    assert logs["floor_err"] == pytest.approx(float(floor_err.mean()), rel=1e-5)
    total.backward()
    rec_only = pred.detach().clone().requires_grad_(True)
    l1_per_sample(rec_only, gt).mean().backward()
    assert torch.equal(pred.grad[0], rec_only.grad[0])  # no hinge gradient where D16 beats the floor
    assert torch.allclose(pred.grad[1], 2 * rec_only.grad[1])  # rec + hinge where it does not


@pytest.mark.parametrize("mode,lam", [("annealed", 0.5), ("off", 0.0)])
def test_annealed_and_off_objectives(mode, lam):
    loss = ReconstructionLoss(ReconstructionLossConfig(l1=1.0))
    gt, floor = _video(), _video(seed=2)
    pred = floor.clone().requires_grad_(True)
    total, logs = lower_bound_objective(loss, pred, gt, floor, mode, lam=lam)
    assert logs["lower_bound"] == 0.0  # pred equals the floor
    assert total.item() == pytest.approx(logs["rec"])
    assert math.isfinite(logs["floor_err"]) and logs["lambda"] == lam


@pytest.mark.parametrize("mode,lam,needed", [("annealed", 0.5, True), ("annealed", 0.0, False), ("hinge", 1.0, True),
                                             ("off", 0.0, False)])
def test_the_floor_may_be_left_out_only_where_the_loss_does_not_use_it(mode, lam, needed):
    assert floor_needed(mode, lam) is needed
    loss = ReconstructionLoss(ReconstructionLossConfig(l1=1.0))
    gt, floor = _video(), _video(seed=2)
    pred = _video(seed=3).requires_grad_(True)
    if needed:
        with pytest.raises(ValueError, match="needs the floor"):
            lower_bound_objective(loss, pred, gt, None, mode, lam=lam)
        return
    total, logs = lower_bound_objective(loss, pred, gt, None, mode, lam=lam)
    with_floor, full_logs = lower_bound_objective(loss, pred, gt, floor, mode, lam=lam)
    assert torch.equal(total, with_floor)  # the same loss, so the same training step
    assert set(full_logs) - set(logs) == {"lower_bound", "floor_err"}
    assert all(logs[k] == full_logs[k] for k in logs)
