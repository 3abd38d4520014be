"""TurboVSR sampling: factorised conditioning through the shared sampler, shortcut targets, bundle, pipeline."""

from pathlib import Path

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.diffusion import FlowSchedule, ScheduleConfig, shortcut_sample
from fastvsr.diffusion.factorized import FirstFrameConditioned, factorized_restore, first_frame_condition
from fastvsr.diffusion.sampler import SamplerConfig
from fastvsr.errors import WeightsMissingError
from fastvsr.models import DecoderConfig, ModelConfig, VAEConfig, build_model, load_model
from fastvsr.models.denoisers import DenoiserConfig, UNetDenoiserConfig, add_step_size_embedding, uses_step_size
from fastvsr.models.kinds.fastvsr import FastVSRModel
from fastvsr.models.kinds.turbovsr import TurboVSRModel
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.upscale import upscale_video
from fastvsr.train.turbo import bootstrap_targets, shortcut_times

SCHEDULE = FlowSchedule(ScheduleConfig(kind="flow"))
TINY = ModelConfig(
    kind="turbovsr", decoder=DecoderConfig(kind="vae"),
    vae=VAEConfig(kind="patchified", block_out_channels=(4, 4, 8, 8), layers_per_block=1, latent_channels=4,
                  temporal_factor=8, patch_size=4, norm_num_groups=2),
    denoiser=DenoiserConfig(unet=UNetDenoiserConfig(block_out_channels=(8, 16), norm_num_groups=4)),
    sampler=SamplerConfig(schedule=ScheduleConfig(kind="flow"), steps=4, t_star=1000.0),
)


class Recorder:
    """Wraps a denoiser and records every call (state, timestep, condition, step size)."""

    def __init__(self, denoiser):
        self.denoiser, self.calls = denoiser, []

    def __call__(self, z_t, t, cond=None, step_size=None):
        self.calls.append(dict(z_t=z_t.clone(), t=t.clone(), cond=cond.clone(),
                               d=None if step_size is None else step_size.clone()))
        return self.denoiser(z_t, t, cond=cond, step_size=step_size)


@pytest.fixture(scope="module")
def model() -> TurboVSRModel:
    torch.manual_seed(0)
    m = build_model(TINY).eval()
    m.denoiser = add_step_size_embedding(m.denoiser).eval()
    torch.nn.init.normal_(m.denoiser.embedding.step_embedding.linear_2.weight, std=0.1)  # d matters
    return m


@pytest.mark.parametrize("steps", [1, 4])
def test_factorised_restore_runs_both_tasks_through_the_shared_sampler(model, steps):
    z_lr = torch.randn(2, 4, 3, 2, 2)
    rec = Recorder(model.denoiser)
    z = factorized_restore(rec, z_lr, schedule=SCHEDULE, steps=steps, t_star=1000.0, generator=torch.Generator().manual_seed(0))
    assert z.shape == z_lr.shape and len(rec.calls) == 2 * steps
    first, clip = rec.calls[:steps], rec.calls[steps:]
    for i, call in enumerate(rec.calls):
        assert torch.allclose(call["d"], torch.full((2,), 1 / steps))
        assert torch.allclose(call["t"], torch.full((2,), 1000.0 * (1 - (i % steps) / steps)))
    for call in first:  # task (a): latent frame 0 as a one-frame video, no first-frame mask
        assert call["z_t"].shape[2] == 1 and torch.equal(call["cond"], first_frame_condition(z_lr[:, :, :1], False))
    for call in clip:  # task (b): frame 0 pinned to the restored first frame in every call, mask on frame 0
        assert torch.equal(call["z_t"][:, :, :1], z[:, :, :1])
        assert torch.equal(call["cond"][:, :4], z_lr) and call["cond"][:, 4].sum(dim=(-1, -2)).tolist() == [[1 * 4, 0, 0]] * 2
    assert not torch.allclose(z[:, :, 1:], clip[0]["z_t"][:, :, 1:])  # the other frames were denoised


def test_first_frame_can_be_given(model):
    z_lr, z_first = torch.randn(1, 4, 2, 2, 2), torch.randn(1, 4, 1, 2, 2)
    rec = Recorder(model.denoiser)
    z = factorized_restore(rec, z_lr, schedule=SCHEDULE, steps=2, t_star=1000.0, z_first=z_first)
    assert len(rec.calls) == 2 and torch.equal(z[:, :, :1], z_first)  # only task (b) ran


def test_image_sr_is_the_first_task_and_equals_the_videos_first_frame(model):
    """A one-frame video takes only task (a); with the causal AE it restores frame 0 of a clip exactly."""
    video = torch.rand(1, 3, 9, 64, 64)
    image = video[:, :, :1]
    with torch.no_grad():
        torch.manual_seed(3)
        sr_video = model(video, 1, steps=2)
        torch.manual_seed(3)
        sr_image = model(image, 1, steps=2)
    assert sr_image.shape == (1, 3, 1, 64, 64) and sr_video.shape == video.shape
    torch.testing.assert_close(sr_image[:, :, 0], sr_video[:, :, 0], atol=1e-5, rtol=1e-5)


class DyadicDenoiser:
    """A deterministic step-size-aware denoiser whose arithmetic is exact in float32 (dyadic numbers)."""

    def __call__(self, z_t, t, cond=None, step_size=None):
        view = (-1, 1, 1, 1, 1)
        return 0.5 * z_t - 0.25 * cond[:, :1] + (t / 1000).view(view) + step_size.view(view) * 0.125


@pytest.mark.parametrize("first_given", [False, True])
def test_self_consistency_target_is_exactly_two_half_steps(first_given):
    x = torch.randint(-16, 16, (2, 1, 3, 2, 2)).float() / 8
    z_first = torch.randint(-16, 16, (2, 1, 1, 2, 2)).float() / 8 if first_given else None
    cond = first_frame_condition(torch.randint(-8, 8, (2, 1, 3, 2, 2)).float() / 4, first_given)
    tau, d = torch.tensor([0.5, 0.75]), torch.tensor([0.5, 0.25])  # tau + d = 1: two half steps end at data
    target = bootstrap_targets(DyadicDenoiser(), x, tau, d, cond, z_first, SCHEDULE, clip=0.0)
    two_half = torch.cat([shortcut_sample(FirstFrameConditioned(DyadicDenoiser(), None if z_first is None else z_first[i:i + 1]),
                                          x[i:i + 1], schedule=SCHEDULE, steps=2, u_start=float(tau[i]),
                                          cond=cond[i:i + 1]) for i in range(2)])
    one_step = x + d.view(-1, 1, 1, 1, 1) * target
    assert torch.equal(one_step[:, :, 1:], two_half[:, :, 1:])
    if first_given:  # the pinned frame does not move
        assert torch.equal(target[:, :, :1], torch.zeros_like(target[:, :, :1]))


def test_self_consistency_target_on_the_unet_matches_two_euler_half_steps(model):
    x, z_first = torch.randn(1, 4, 2, 2, 2), torch.randn(1, 4, 1, 2, 2)
    cond = first_frame_condition(torch.randn(1, 4, 2, 2, 2), True)
    with torch.no_grad():
        target = bootstrap_targets(model.denoiser, x, torch.tensor([0.5]), torch.tensor([0.5]), cond, z_first,
                                   SCHEDULE, clip=0.0)
        two_half = shortcut_sample(FirstFrameConditioned(model.denoiser, z_first), x, schedule=SCHEDULE, steps=2,
                                   u_start=0.5, cond=cond)
    torch.testing.assert_close((x + 0.5 * target)[:, :, 1:], two_half[:, :, 1:], atol=1e-6, rtol=1e-6)


def test_shortcut_times_lie_on_their_grids():
    tau, d = shortcut_times(64, 16, 8, torch.Generator().manual_seed(0), torch.device("cpu"))
    boot_d, flow_d = d[:16], d[16:]
    assert set(boot_d.tolist()) <= {1.0, 0.5, 0.25} and torch.all(flow_d == 0.125)
    assert torch.all(torch.remainder(tau, d) == 0) and torch.all(tau + d <= 1)


def test_conversion_adds_a_zero_step_size_embedding_that_changes_nothing():
    torch.manual_seed(0)
    flow = build_model(TINY).denoiser.eval()
    assert not uses_step_size(flow)
    shortcut = add_step_size_embedding(flow).eval()
    assert uses_step_size(shortcut)
    z, cond, t = torch.randn(1, 4, 2, 2, 2), torch.randn(1, 5, 2, 2, 2), torch.tensor([300.0])
    with torch.no_grad():
        assert torch.equal(shortcut(z, t, cond=cond, step_size=torch.tensor([0.25])), flow(z, t, cond=cond))
    with pytest.raises(ValueError, match="already"):
        add_step_size_embedding(shortcut)


def test_bundle_save_load_and_loader_dispatch(model, tmp_path):
    model.save_pretrained(tmp_path / "turbo")
    loaded = load_model(tmp_path / "turbo").eval()
    assert isinstance(loaded, TurboVSRModel) and loaded.sampler == model.sampler and uses_step_size(loaded.denoiser)
    video = torch.rand(1, 3, 9, 64, 64)
    with torch.no_grad():
        torch.manual_seed(1)
        a = model(video, 1)
        torch.manual_seed(1)
        b = loaded(video, 1)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    fastvsr_cfg = load_config(ModelConfig, [Path(__file__).parent.parent / "configs/models/fastvsr_tiny.yaml"])
    build_model(fastvsr_cfg).save_pretrained(tmp_path / "fastvsr")
    assert isinstance(load_model(tmp_path / "fastvsr"), FastVSRModel)
    with pytest.raises(WeightsMissingError, match="holds a fastvsr model, not a turbovsr model"):
        TurboVSRModel.from_pretrained(tmp_path / "fastvsr")


def test_pipeline_restores_video_and_image_with_the_turbo_bundle(model):
    cfg = InferConfig(scale=4, steps=2, tile=0, chunk_frames=9, chunk_overlap=0, device="cpu")
    assert model.input_upscale(4) == 4 and model.pixel_multiple == 64 and model.frame_multiple == 8
    video = torch.rand(1, 3, 9, 12, 20)  # padded to 64 x 128 and 9 frames inside, unpadded after
    out = upscale_video(model, video, cfg)
    assert out.shape == (1, 3, 9, 48, 80) and out.isfinite().all()
    image = upscale_video(model, video[:, :, :1], cfg)
    assert image.shape == (1, 3, 1, 48, 80)
