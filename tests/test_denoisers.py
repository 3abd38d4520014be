"""Denoisers: one interface, shapes, zero-initialised conditioning branches, DiT adapter semantics, save/load."""

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.models.denoisers import (
    CogVideoXDiTConfig,
    CogVideoXDiTDenoiser,
    DenoiserConfig,
    SpatioTemporalUNet,
    build_denoiser,
    load_denoiser,
)

TINY_DIT = CogVideoXDiTConfig(num_attention_heads=2, attention_head_dim=16, num_layers=1, time_embed_dim=8,
                              text_embed_dim=16, max_text_seq_length=8, sample_height=16, sample_width=16,
                              sample_frames=9)


def _unet(**kw) -> SpatioTemporalUNet:
    kw = {"in_channels": 4, "block_out_channels": (8, 16), "norm_num_groups": 4, **kw}
    return SpatioTemporalUNet(**kw).eval()


def _t(b=2):
    return torch.tensor([399.0, 20.0][:b])


@pytest.mark.parametrize("widths,frames", [((8,), 1), ((8, 16), 3), ((8, 16, 16), 2)])
def test_unet_shapes_and_multiples(widths, frames):
    model = _unet(block_out_channels=widths, out_channels=6)
    m = model.latent_multiple
    assert m == 2 ** (len(widths) - 1) and model.temporal_latent_multiple == 1
    z = torch.randn(2, 4, frames, 2 * m, 3 * m)
    with torch.no_grad():
        assert model(z, _t()).shape == (2, 6, frames, 2 * m, 3 * m)
    if m > 1:
        with pytest.raises(ValueError, match="multiples of"):
            model(torch.randn(1, 4, 1, m + 1, m), _t(1))


def test_unet_mixes_time_and_uses_timestep():
    model = _unet()
    z = torch.randn(1, 4, 5, 8, 8)
    with torch.no_grad():
        base = model(z, _t(1))
        z2 = z.clone()
        z2[:, :, 0] += 1.0
        moved = model(z2, _t(1))
        other_t = model(z, torch.tensor([900.0]))
    assert not torch.allclose(base[:, :, 1], moved[:, :, 1])  # frame 0 reaches frame 1 via temporal convs
    assert not torch.allclose(base, other_t)


def test_step_size_and_cond_branches_are_zero_initialised():
    plain = _unet()
    full = _unet(use_step_size_embedding=True, cond_channels=3)
    missing, unexpected = full.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith(("embedding.step_embedding", "cond_in")) for k in missing)
    z, cond = torch.randn(2, 4, 2, 8, 8), torch.randn(2, 3, 2, 8, 8)
    with torch.no_grad():
        ref = plain(z, _t())
        assert torch.allclose(full(z, _t(), cond=cond, step_size=torch.tensor([1.0, 0.25])), ref, atol=1e-6)
        with pytest.raises(ValueError, match="step-size"):
            plain(z, _t(), step_size=torch.tensor([1.0, 1.0]))
        with pytest.raises(ValueError, match="cond"):
            full(z, _t())
    # once trained (here: perturbed), both branches change the output
    full.train()
    out = full(z, _t(), cond=cond, step_size=torch.tensor([1.0, 0.25]))
    out.square().mean().backward()
    assert full.cond_in.weight.grad.abs().sum() > 0
    assert full.embedding.step_embedding.linear_2.weight.grad.abs().sum() > 0


def test_unet_gradient_checkpointing_gives_same_gradients():
    model = _unet().train()
    z = torch.randn(1, 4, 2, 8, 8)
    model(z, _t(1)).square().mean().backward()
    ref = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.enable_gradient_checkpointing()
    model(z, _t(1)).square().mean().backward()
    assert all(torch.allclose(a, p.grad, atol=1e-6) for a, p in zip(ref, model.parameters()))


@pytest.fixture
def dit() -> CogVideoXDiTDenoiser:
    torch.manual_seed(0)
    return CogVideoXDiTDenoiser.from_config(TINY_DIT, latent_channels=4, prompt_embeds=torch.randn(1, 8, 16)).eval()


def _reference_dit(dit, x_btchw, t):
    """The raw transformer call, as DOVE makes it, on an already (B, t, c, h, w) input."""
    f, h, w = x_btchw.shape[1], x_btchw.shape[3], x_btchw.shape[4]
    rope = dit._rotary_embedding(f, h, w, x_btchw.device)
    prompt = dit.prompt_embeds.expand(x_btchw.shape[0], -1, -1)
    return dit.transformer(hidden_states=x_btchw, encoder_hidden_states=prompt, timestep=t,
                           image_rotary_emb=rope, return_dict=False)[0]


def test_dit_layout_and_first_frame_padding(dit):
    assert dit.latent_multiple == 2 and dit.temporal_latent_multiple == 1
    t = torch.tensor([399.0, 399.0])
    with torch.no_grad():
        even = torch.randn(2, 4, 2, 8, 12)
        assert torch.equal(dit(even, t), _reference_dit(dit, even.permute(0, 2, 1, 3, 4), t).permute(0, 2, 1, 3, 4))
        odd = torch.randn(2, 4, 3, 8, 12)
        padded = torch.cat([odd[:, :, :1], odd], dim=2).permute(0, 2, 1, 3, 4)  # first latent frame prepended
        ref = _reference_dit(dit, padded, t)[:, 1:].permute(0, 2, 1, 3, 4)
        out = dit(odd, t)
    assert out.shape == odd.shape and torch.equal(out, ref)
    rope_cos, rope_sin = dit._rotary_embedding(4, 8, 12, torch.device("cpu"))
    assert rope_cos.shape == rope_sin.shape == (2 * 4 * 6, 16)  # (t/2 * h/2 * w/2 tokens, head dim)
    with pytest.raises(ValueError, match="neither"):
        dit(even, t, step_size=torch.ones(2))


def test_dit_prompt_embedding_matters(dit):
    z, t = torch.randn(1, 4, 2, 4, 4), torch.tensor([399.0])
    with torch.no_grad():
        a = dit(z, t)
        dit.prompt_embeds.zero_()
        assert not torch.allclose(a, dit(z, t))


@pytest.mark.parametrize("kind", ["unet", "cogvideox_dit"])
def test_save_load_bit_exact(tmp_path, kind, dit):
    model = _unet(use_step_size_embedding=True, cond_channels=2) if kind == "unet" else dit
    with torch.no_grad():  # make the zero-initialised branches non-trivial so the round trip is meaningful
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    model.save_pretrained(tmp_path)
    loaded = load_denoiser(kind, tmp_path).eval()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    z = torch.randn(1, 4, 3, 8, 8)
    extra = {"cond": torch.randn(1, 2, 3, 8, 8), "step_size": torch.tensor([0.5])} if kind == "unet" else {}
    with torch.no_grad():  # weights are bit-exact; outputs may differ in the last ulp because the loaded
        # tensors live at different (mmap) alignments, which changes the CPU kernels' summation order
        assert torch.allclose(model(z, _t(1), **extra), loaded(z, _t(1), **extra), atol=1e-6, rtol=0)
    if kind == "cogvideox_dit":
        assert torch.equal(loaded.prompt_embeds, dit.prompt_embeds)
        (tmp_path / "prompt_embeds.safetensors").unlink()
        with pytest.raises(WeightsMissingError, match="prompt_embeds.safetensors"):
            load_denoiser(kind, tmp_path)
    with pytest.raises(WeightsMissingError, match="does not exist"):
        load_denoiser(kind, tmp_path / "nope")


def test_denoiser_config(repo_root):
    cfg = load_config(DenoiserConfig, [repo_root / "configs/models/denoiser_unet_tiny.yaml"])
    model = build_denoiser(cfg, latent_channels=4)
    assert isinstance(model, SpatioTemporalUNet) and model.config.in_channels == 4
    with pytest.raises(ConfigError, match="kind"):
        load_config(DenoiserConfig, overrides=["kind=mlp"])


def test_input_skip_makes_the_untrained_unet_an_identity_one_step_restore():
    from fastvsr.diffusion import VPredictionSchedule, restore_latent
    from fastvsr.diffusion.sampler import identity_input_skip

    schedule = VPredictionSchedule()
    unet = _unet(input_skip=identity_input_skip(schedule, 399.0))
    z = torch.randn(1, 4, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(restore_latent(unet, z, schedule=schedule, steps=1, t_star=399.0), z, atol=1e-5)
    out = unet(z, _t(1))
    out.square().mean().backward()
    assert unet.conv_out.weight.grad.abs().sum() > 0  # the zero-initialised output still learns
    with pytest.raises(ValueError, match="input_skip"):
        _unet(out_channels=2, input_skip=-0.5)


def test_default_model_input_skip_matches_its_schedule(repo_root):
    from fastvsr.diffusion import build_schedule
    from fastvsr.diffusion.sampler import identity_input_skip
    from fastvsr.models import ModelConfig

    cfg = load_config(ModelConfig, [repo_root / "configs/default_model/model.yaml"])
    expected = identity_input_skip(build_schedule(cfg.sampler.schedule), cfg.sampler.t_star)
    assert cfg.denoiser.unet.input_skip == pytest.approx(expected, abs=1e-9)
