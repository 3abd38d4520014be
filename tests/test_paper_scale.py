"""Paper-scale denoiser builds on the meta device with CogVideoX1.5-5B's size, allocating nothing."""

import torch

from fastvsr.config import load_config
from fastvsr.models.denoisers import CogVideoXDiTDenoiser, DenoiserConfig
from fastvsr.models.paper import PAPER_DENOISER, PAPER_SAMPLER, build_paper_denoiser


def test_paper_dit_builds_on_meta_with_5_57b_parameters():
    dit = build_paper_denoiser()
    assert isinstance(dit, CogVideoXDiTDenoiser)
    params = list(dit.parameters())
    assert all(p.is_meta for p in params) and dit.prompt_embeds.is_meta
    count = sum(p.numel() for p in params)
    assert abs(count - 5.57e9) / 5.57e9 < 0.005, count
    cfg = dit.transformer.config
    assert (cfg.num_layers, cfg.num_attention_heads, cfg.attention_head_dim) == (42, 48, 64)
    assert (cfg.in_channels, cfg.out_channels, cfg.patch_size, cfg.patch_size_t) == (16, 16, 2, 2)
    assert cfg.use_rotary_positional_embeddings and tuple(dit.prompt_embeds.shape) == (1, 226, 4096)
    # a forward on meta tensors checks every shape of the DOVE one-step call at the paper's latent grid
    z = torch.empty(1, 16, 9, 46, 80, device="meta")  # 33 frames, 368x640 encoder input (pad of 360x640)
    with torch.no_grad():
        assert dit(z, torch.full((1,), 399.0, device="meta")).shape == z.shape


def test_paper_yaml_matches_paper_module(repo_root):
    cfg = load_config(DenoiserConfig, [repo_root / "configs/models/denoiser_cogvideox15_5b.yaml"])
    assert cfg == PAPER_DENOISER
    assert PAPER_SAMPLER.t_star == 399 and PAPER_SAMPLER.steps == 1 and PAPER_SAMPLER.schedule.kind == "cogvideox_v"


def test_paper_vsr_bundle_on_meta(repo_root):
    from fastvsr.models.paper import build_paper_vsr_model, paper_vsr_config
    from fastvsr.models.vsr import VSRModelConfig

    for decoder, yaml in (("f16", "fastvsr_paper.yaml"), ("vae", "fastvsr_paper_f8.yaml")):
        assert load_config(VSRModelConfig, [repo_root / "configs/models" / yaml]) == paper_vsr_config(decoder)
    model = build_paper_vsr_model("f16")
    assert all(p.is_meta for p in model.parameters())
    # CogVideoX decodes 2 latent frames per batch, so clips are 8k+1 frames (as DOVE pads them)
    assert model.input_upscale(4) == 2 and model.pixel_multiple == 16 and model.frame_multiple == 8
    assert build_paper_vsr_model("vae").input_upscale(4) == 4
