"""Shortcut fidelity and the LTX-Video DiT adapter: levels spread evenly, the step size embedded by its level,
untrained step counts refused, the shifted schedule shared by training and sampling, the step-size embedding
really added on every construction path, and parity of the adapter with a plain diffusers
LTXVideoTransformer3DModel built on the fly (tiny random weights, the published folder layout)."""

import pytest
import torch
from diffusers import LTXVideoTransformer3DModel
from einops import rearrange

from fastvsr.config import load_config
from fastvsr.diffusion import FlowSchedule, ScheduleConfig, shortcut_bootstrap_target, shortcut_sample
from fastvsr.diffusion.sampler import check_shortcut_steps, restore_latent, shortcut_step_counts
from fastvsr.errors import ConfigError
from fastvsr.models import ModelConfig, build_model
from fastvsr.models.denoisers import LTXDiTDenoiser, SpatioTemporalUNet, add_step_size_embedding, uses_step_size
from fastvsr.models.denoisers.embeddings import TimeStepSizeEmbedding, step_level
from fastvsr.recipes.tiny_paper import make_tiny_ltx
from fastvsr.train.turbo import bootstrap_levels, shortcut_times

LATENT = 8  # tiny LTX-Video latent channels


@pytest.fixture(scope="module")
def ltx(tmp_path_factory):
    return make_tiny_ltx(tmp_path_factory.mktemp("ltx") / "ltx", dtype=torch.float32)


def test_bootstrap_levels_are_spread_evenly_within_and_across_batches():
    u, d = shortcut_times(64, 16, 8, torch.Generator().manual_seed(0), torch.device("cpu"))
    levels = step_level(d[:16]).round().long()
    assert torch.bincount(levels, minlength=3).tolist() == [6, 5, 5]  # 16 samples over levels 0, 1, 2
    assert torch.all(torch.remainder(u, d) == 0) and torch.all(u + d <= 1) and torch.all(d[16:] == 0.125)
    one_per_step = torch.cat([bootstrap_levels(1, 3, offset=step) for step in range(9)])
    assert one_per_step.tolist() == [0, 1, 2] * 3  # a batch with one bootstrap sample still cycles the levels


def test_step_size_is_embedded_by_its_level():
    assert step_level(torch.tensor([1.0, 0.5, 0.125])).tolist() == [0.0, 1.0, 3.0]
    emb = TimeStepSizeEmbedding(16, 32, use_step_size=True)
    torch.nn.init.normal_(emb.step_embedding.linear_2.weight)
    t, d = torch.tensor([500.0]), torch.tensor([0.25])
    expected = emb.time_embedding(emb.proj(t)) + emb.step_embedding(emb.proj(torch.tensor([2.0])))
    torch.testing.assert_close(emb(t, d), expected)
    with pytest.raises(ValueError, match="needs step_size"):
        emb(t, None)


def test_step_counts_a_shortcut_model_was_not_trained_for_are_errors():
    assert shortcut_step_counts(8) == [1, 2, 4, 8]
    check_shortcut_steps(4, [1, 2, 4, 8])
    for steps, trained in ((3, [1, 2, 4, 8]), (16, [1, 2, 4, 8]), (3, [])):
        with pytest.raises(ConfigError, match=f"steps={steps}: this shortcut model was trained for"):
            check_shortcut_steps(steps, trained)
    model = build_model(load_config(ModelConfig, ["configs/models/turbovsr_tiny.yaml"]))
    model.denoiser = add_step_size_embedding(model.denoiser)
    model.sampler.trained_steps = [1, 2, 4]
    z = torch.randn(1, model.vae.latent_channels, 2, 2, 2)
    assert model.restore(z, steps=2).shape == z.shape
    with pytest.raises(ConfigError, match="steps=3"):
        model.restore(z, steps=3)


def test_the_shifted_schedule_warps_time_and_the_sampler_follows_it():
    plain, shifted = FlowSchedule(ScheduleConfig(kind="flow")), FlowSchedule(ScheduleConfig(kind="flow", shift=3.0))
    u = torch.linspace(0, 1, 11)
    assert torch.equal(plain.warp(u), u) and plain.step(0.25, 0.25) == 0.25
    tau = shifted.warp(u)
    assert tau[0] == 0 and tau[-1] == 1 and torch.all(tau[1:] > tau[:-1]) and torch.all(tau[1:-1] < u[1:-1])
    velocity = torch.randn(1, 2, 1, 2, 2)

    def constant(z, t, cond=None, step_size=None):  # a straight path: every schedule integrates it exactly
        return velocity.expand_as(z)

    x = torch.randn(1, 2, 1, 2, 2)
    for schedule in (plain, shifted):
        out = shortcut_sample(constant, x, schedule=schedule, steps=4, u_start=0.25)
        torch.testing.assert_close(out, x + velocity * (1 - schedule.warp(0.25)))
        target = shortcut_bootstrap_target(constant, x, torch.tensor([0.25]), torch.tensor([0.5]),
                                           schedule=schedule, clip=None)
        torch.testing.assert_close(target, velocity)
    seen = []

    def record(z, t, cond=None, step_size=None):
        seen.append(float(t[0]))
        return torch.zeros_like(z)

    restore_latent(record, x, schedule=shifted, steps=4, t_star=1000.0)
    assert seen == pytest.approx([1000 * (1 - float(shifted.warp(k / 4))) for k in range(4)], rel=1e-5)


def test_the_step_size_embedding_is_added_on_every_construction_path(ltx, tmp_path):
    fresh = SpatioTemporalUNet(in_channels=4, block_out_channels=(16, 32), norm_num_groups=8, cond_channels=5)
    for name, unet in (("fresh", fresh), ("loaded", _saved_and_loaded(fresh, tmp_path / "unet"))):
        converted = add_step_size_embedding(unet)
        assert uses_step_size(converted) and not uses_step_size(unet), name
        reloaded = _saved_and_loaded(converted, tmp_path / f"unet_{name}_shortcut")
        assert uses_step_size(reloaded), name
    dit = LTXDiTDenoiser.from_folder(ltx["transformer"], LATENT, LATENT + 1)
    shortcut = add_step_size_embedding(dit)
    assert uses_step_size(shortcut) and not uses_step_size(dit)
    shortcut.save_pretrained(tmp_path / "ltx_shortcut")
    again = LTXDiTDenoiser.from_pretrained(tmp_path / "ltx_shortcut")
    assert uses_step_size(again)
    z, cond, t = _ltx_inputs()
    with torch.no_grad():
        torch.testing.assert_close(shortcut(z, t, cond, torch.tensor([0.5])), dit(z, t, cond), rtol=0, atol=0)
        torch.nn.init.normal_(again.step_embedding.linear_2.weight)
        moved = again(z, t, cond, torch.tensor([0.5]))
        assert not torch.allclose(moved, again(z, t, cond, torch.tensor([0.25])))  # the level reaches the output


def _saved_and_loaded(unet, folder):
    unet.save_pretrained(folder)
    return SpatioTemporalUNet.from_pretrained(folder)


def _ltx_inputs():
    g = torch.Generator().manual_seed(0)
    return (torch.randn(1, LATENT, 2, 3, 4, generator=g), torch.randn(1, LATENT + 1, 2, 3, 4, generator=g),
            torch.tensor([700.0]))


def test_the_widened_adapter_equals_the_published_transformer_on_its_channels(ltx):
    """The published folder (in_channels = latent) converted for the LR condition: with the new input columns
    zero, the adapter's prediction is the plain diffusers forward of the same tokens, prompt and timestep."""
    plain = LTXVideoTransformer3DModel.from_pretrained(ltx["transformer"])
    dit = LTXDiTDenoiser.from_folder(ltx["transformer"], LATENT, LATENT + 1)
    assert dit.transformer.config.in_channels == 2 * LATENT + 1
    assert torch.equal(dit.transformer.proj_in.weight[:, LATENT:], torch.zeros(plain.proj_in.weight.shape[0],
                                                                                LATENT + 1))
    z, cond, t = _ltx_inputs()
    prompt = dit.prompt_embeds
    with torch.no_grad():
        ours = dit(z, t, cond)
        tokens = rearrange(z, "b c t h w -> b (t h w) c")
        ref = plain(tokens, prompt, t, torch.ones(1, prompt.shape[1]), num_frames=2, height=3, width=4,
                    return_dict=False)[0]
    torch.testing.assert_close(ours, rearrange(ref, "b (t h w) c -> b c t h w", t=2, h=3, w=4), rtol=1e-5,
                               atol=1e-6)


def test_a_published_folder_without_a_prompt_needs_one(ltx, tmp_path):
    import shutil

    from fastvsr.models.denoisers.transformer import PROMPT_FILE

    bare = tmp_path / "transformer"
    shutil.copytree(ltx["transformer"], bare)
    (bare / PROMPT_FILE).rename(tmp_path / "prompt.safetensors")
    with pytest.raises(ConfigError, match="denoiser.ltx.prompt_embeds=FILE"):
        LTXDiTDenoiser.from_folder(bare, LATENT, LATENT + 1)
    dit = LTXDiTDenoiser.from_folder(bare, LATENT, LATENT + 1, prompt_file=tmp_path / "prompt.safetensors")
    assert dit.prompt_embeds.shape[-1] == 16
    with pytest.raises(ConfigError, match="takes 8 input channels"):
        LTXDiTDenoiser.from_folder(bare, 4, 5, prompt_file=tmp_path / "prompt.safetensors")


def test_the_paper_ltx_model_file_assembles_the_published_parts(ltx):
    cfg = load_config(ModelConfig, ["configs/models/turbovsr_paper_ltx.yaml"],
                      [f"vae.pretrained={ltx['vae']}", f"denoiser.pretrained={ltx['transformer']}"])
    model = build_model(cfg)
    assert model.kind == "turbovsr" and type(model.vae).__name__ == "LTXVideoVAE"
    assert isinstance(model.denoiser, LTXDiTDenoiser) and model.denoiser.transformer.config.in_channels == 17
    with pytest.raises(ConfigError, match="needs vae.pretrained"):
        build_model(load_config(ModelConfig, ["configs/models/turbovsr_paper_ltx.yaml"]), device="meta")
