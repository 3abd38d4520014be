"""The paper-scale model files build on the meta device at the published sizes, allocating nothing."""

import torch

from fastvsr.config import load_config
from fastvsr.models import ModelConfig, build_model
from fastvsr.models.denoisers import CogVideoXDiTDenoiser, LTXDiTDenoiser


def _paper(repo_root, name, overrides=()):
    return build_model(load_config(ModelConfig, [repo_root / "configs/models" / name], list(overrides)),
                       device="meta")


def test_fastvsr_paper_model_is_cogvideox15_vae_and_the_5_57b_dit(repo_root):
    model = _paper(repo_root, "fastvsr_paper.yaml")
    assert all(p.is_meta for p in model.parameters())
    dit = model.denoiser
    assert isinstance(dit, CogVideoXDiTDenoiser) and dit.prompt_embeds.is_meta
    count = sum(p.numel() for p in dit.parameters())
    assert abs(count - 5.57e9) / 5.57e9 < 0.005, count
    cfg = dit.transformer.config
    assert (cfg.num_layers, cfg.num_attention_heads, cfg.attention_head_dim) == (42, 48, 64)
    assert (cfg.in_channels, cfg.out_channels, cfg.patch_size, cfg.patch_size_t) == (16, 16, 2, 2)
    assert cfg.use_rotary_positional_embeddings and tuple(dit.prompt_embeds.shape) == (1, 226, 4096)
    vae = model.vae.config
    assert (tuple(vae.block_out_channels), vae.latent_channels, vae.scaling_factor) == ((128, 256, 256, 512), 16, 0.7)
    assert model.sampler.t_star == 399 and model.sampler.steps == 1 and model.schedule.kind == "cogvideox_v"
    # CogVideoX decodes 2 latent frames per batch, so clips are 8k+1 frames (as DOVE pads them)
    assert model.input_upscale(4) == 2 and model.pixel_multiple == 16 and model.frame_multiple == 8
    assert model.decoder_factor == 16


def test_dove_one_step_call_at_the_paper_latent_grid_on_meta(repo_root):
    model = _paper(repo_root, "fastvsr_paper.yaml")
    lr = torch.empty(1, 3, 33, 180, 320, device="meta")
    with torch.no_grad():
        z, pad = model.encode_lr(lr, 4)  # 360x640 encoder input, padded to 368x640 for the DiT's patch 2
        assert tuple(z.shape) == (1, 16, 9, 46, 80) and (pad.height, pad.width) == (360, 640)
        assert model.restore(z).shape == z.shape


def test_the_f8_baseline_differs_only_in_its_decoder(repo_root):
    f16, f8 = _paper(repo_root, "fastvsr_paper.yaml"), _paper(repo_root, "fastvsr_paper_f8.yaml")
    assert f8.f16_decoder is None and f8.input_upscale(4) == 4 and f8.decoder_factor == 8
    assert f8.vae.config == f16.vae.config and f8.denoiser.config == f16.denoiser.config


def test_turbovsr_paper_model_is_the_32x32x8_ae_and_the_ltx_2b_dit(repo_root):
    model = _paper(repo_root, "turbovsr_paper.yaml")
    assert model.encoder_factor == model.decoder_factor == 32 and model.vae.temporal_factor == 8
    assert model.input_upscale(4) == 4 and model.frame_multiple == 8 and model.condition_on_first_frame
    dit = model.denoiser
    assert isinstance(dit, LTXDiTDenoiser)
    cfg = dit.transformer.config
    assert (cfg.num_layers, cfg.num_attention_heads, cfg.attention_head_dim) == (28, 32, 64)
    assert (cfg.in_channels, cfg.out_channels) == (128 + 129, 128)  # z_t + LR latent + first-frame mask
    count = sum(p.numel() for p in dit.parameters())
    assert 1.8e9 < count < 2.1e9, count
