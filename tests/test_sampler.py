"""Schedules and samplers: v <-> x0 identities, oracle one-step restore, exact Euler on a straight flow."""

import pytest
import torch

from fastvsr.diffusion import (
    FlowSchedule,
    SamplerConfig,
    ScheduleConfig,
    VPredictionSchedule,
    add_noise,
    build_schedule,
    restore_latent,
    v_target,
    v_to_noise,
    v_to_x0,
)
from fastvsr.errors import ConfigError


@pytest.fixture(scope="module")
def vsched() -> VPredictionSchedule:
    return VPredictionSchedule()


def _pair(shape=(2, 4, 3, 6, 8), dtype=torch.float64):
    g = torch.Generator().manual_seed(1)
    return torch.randn(shape, generator=g, dtype=dtype), torch.randn(shape, generator=g, dtype=dtype)


def zero_snr_scaled_linear(num_steps=1000, beta_start=0.00085, beta_end=0.012, snr_shift=1.0) -> torch.Tensor:
    """``abar_t`` written out from the definitions (float64): scaled-linear betas, CogVideoX's SNR shift
    ``abar / (s + (1 - s) abar)``, then Lin et al. 2024's zero terminal SNR rescale (Algorithm 1: shift
    ``sqrt(abar)`` so the last is 0, scale so the first is kept)."""
    betas = torch.linspace(beta_start ** 0.5, beta_end ** 0.5, num_steps, dtype=torch.float64) ** 2
    abar = torch.cumprod(1 - betas, dim=0)
    root = (abar / (snr_shift + (1 - snr_shift) * abar)).sqrt()
    first, last = root[0].clone(), root[-1].clone()
    return ((root - last) * first / (first - last)) ** 2


@pytest.mark.parametrize("snr_shift", [1.0, 3.0])  # 1.0: CogVideoX(1.5)-5B, 3.0: CogVideoX-2B
def test_cogvideox_schedule_is_the_zero_snr_scaled_linear_formula(snr_shift):
    sched = VPredictionSchedule(ScheduleConfig(snr_shift_scale=snr_shift))
    expected = zero_snr_scaled_linear(snr_shift=snr_shift)
    t = torch.tensor([0.0, 1.0, 250.0, 399.0, 998.0, 999.0])
    torch.testing.assert_close(sched.abar(t), expected[t.long()], atol=2e-6, rtol=1e-5)
    assert sched.abar(torch.tensor([999.0])).item() == 0.0  # zero terminal SNR
    assert (sched.alphas_cumprod.diff() < 0).all()
    mid = sched.abar(torch.tensor([399.5])).item()  # fractional timesteps interpolate linearly
    assert mid == pytest.approx((expected[399] + expected[400]).item() / 2, abs=2e-6)


def test_doves_start_timestep_value(vsched):
    assert vsched.abar(torch.tensor([399.0])).item() == pytest.approx(0.3935, abs=1e-4)


def test_v_identities(vsched):
    x0, noise = _pair()
    t = torch.tensor([17.0, 733.0])
    z_t = add_noise(vsched, x0, noise, t)
    v = v_target(vsched, x0, noise, t)
    assert torch.allclose(v_to_x0(vsched, v, z_t, t), x0, atol=1e-10)
    assert torch.allclose(v_to_noise(vsched, v, z_t, t), noise, atol=1e-10)
    # per-sample timesteps really are per sample: swapping t changes the result
    assert not torch.allclose(v_to_x0(vsched, v, z_t, t.flip(0)), x0, atol=1e-3)


def _oracle_v(vsched, x0, noise, calls):
    def denoiser(z_t, t, cond=None, step_size=None):
        calls.append((t.clone(), step_size))
        assert t.shape == (z_t.shape[0],) and t.dtype == torch.float32
        return v_target(vsched, x0, noise, t).to(z_t.dtype)
    return denoiser


@pytest.mark.parametrize("steps", [1, 3])
def test_restore_with_oracle_denoiser_recovers_x0(vsched, steps):
    x0, noise = _pair(dtype=torch.float32)
    z_lq = add_noise(vsched, x0, noise, 399.0)
    calls = []
    out = restore_latent(_oracle_v(vsched, x0, noise, calls), z_lq, schedule=vsched, steps=steps, t_star=399)
    assert out.shape == z_lq.shape and out.dtype == z_lq.dtype
    assert torch.allclose(out, x0, atol=1e-5)
    assert len(calls) == steps and calls[0][0].tolist() == [399.0, 399.0] and calls[0][1] is None
    # a wrong prediction does not recover x0 (the test can fail)
    bad = restore_latent(lambda z, t, cond=None, step_size=None: torch.zeros_like(z), z_lq, schedule=vsched)
    assert not torch.allclose(bad, x0, atol=1e-2)


def _straight_flow_velocity(flow: FlowSchedule, x1: torch.Tensor, calls: list):
    """Exact velocity of the straight path ending at x1: (x1 - x_tau) / (1 - tau)."""
    def denoiser(z_t, t, cond=None, step_size=None):
        calls.append(step_size.clone())
        tau = flow.tau(t, z_t.shape[0]).to(z_t.dtype).reshape(-1, 1, 1, 1, 1)
        return (x1 - z_t) / (1 - tau)
    return denoiser


@pytest.mark.parametrize("steps", [1, 2, 4, 8])
def test_k_step_euler_is_exact_on_a_straight_flow(steps):
    flow = FlowSchedule()
    x1, noise = _pair()
    calls = []
    out = restore_latent(_straight_flow_velocity(flow, x1, calls), noise, schedule=flow, steps=steps,
                         t_star=flow.num_train_timesteps)
    assert torch.allclose(out, x1, atol=1e-10)
    assert len(calls) == steps and all(torch.allclose(d, torch.full((2,), 1.0 / steps, dtype=d.dtype)) for d in calls)


def test_flow_partial_start_uses_the_generator():
    flow = FlowSchedule()
    x1, _ = _pair()
    den = _straight_flow_velocity(flow, x1, [])
    outs = [restore_latent(den, x1 * 0.5, schedule=flow, steps=2, t_star=500,
                           generator=torch.Generator().manual_seed(s)) for s in (3, 3)]
    assert torch.equal(outs[0], outs[1]) and torch.allclose(outs[0], x1, atol=1e-10)


def test_sampler_config_validation_and_build():
    assert isinstance(build_schedule(ScheduleConfig(kind="flow")), FlowSchedule)
    assert isinstance(build_schedule(SamplerConfig().schedule), VPredictionSchedule)
    from fastvsr.config import load_config

    with pytest.raises(ConfigError, match="steps"):
        load_config(SamplerConfig, overrides=["steps=0"])
    with pytest.raises(ConfigError, match="kind"):
        load_config(SamplerConfig, overrides=["schedule.kind=ddim"])


def test_one_step_matches_doves_get_velocity_trick(vsched):
    """DOVE computes x0 as scheduler.get_velocity(v_pred, z_t, t) (arguments swapped); ours must agree."""
    from diffusers import CogVideoXDPMScheduler

    scheduler = CogVideoXDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                      rescale_betas_zero_snr=True, snr_shift_scale=1.0,
                                      prediction_type="v_prediction", timestep_spacing="trailing")
    v, z_t = _pair(dtype=torch.float32)
    t = torch.full((2,), 399, dtype=torch.long)
    dove = scheduler.get_velocity(v, z_t, t)
    assert torch.allclose(v_to_x0(vsched, v, z_t, t.float()), dove, atol=1e-6)


def test_shortcut_bootstrap_target_on_straight_flow_and_curved_field():
    from fastvsr.diffusion import flow_target, shortcut_bootstrap_target

    flow = FlowSchedule()
    x1, noise = _pair()
    tau = torch.tensor([0.25, 0.5], dtype=torch.float64)
    x = add_noise(flow, x1, noise, flow.timestep(tau, 2).double())
    assert torch.allclose(x[0], 0.25 * x1[0] + 0.75 * noise[0], atol=1e-6)
    d = torch.tensor([0.5, 0.25], dtype=torch.float64)
    # exact straight-flow velocity: two half steps agree with the one-step velocity x1 - noise
    target = shortcut_bootstrap_target(_straight_flow_velocity(flow, x1, []), x, tau, d, schedule=flow, clip=None)
    assert torch.allclose(target, flow_target(x1, noise), atol=1e-6)

    # a field that depends on the state: target = mean of the two half-step velocities, computed by hand
    def field(z, t, cond=None, step_size=None):
        return -z * step_size.reshape(-1, 1, 1, 1, 1)

    target = shortcut_bootstrap_target(field, x, tau, d, schedule=flow, clip=None)
    h = (d / 2).reshape(-1, 1, 1, 1, 1)
    s1 = -x * h
    expected = (s1 + (-(x + h * s1) * h)) / 2
    assert torch.allclose(target, expected, atol=1e-12)
    assert shortcut_bootstrap_target(field, x * 100, tau, d, schedule=flow).abs().max() <= 4.0
