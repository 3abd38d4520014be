"""The fastvsr kind through the VSRModel contract: size relations, restore == restore_latent, folder round trip,
a real clip end to end."""

import json

import pytest
import torch
import torch.nn.functional as F

from fastvsr.atomic import MANIFEST
from fastvsr.config import load_config
from fastvsr.data.video import read_video
from fastvsr.diffusion import restore_latent
from fastvsr.errors import ConfigError, InputError, WeightsMissingError
from fastvsr.models import ModelConfig, VSRModel, build_model
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.kinds.fastvsr import FastVSRModel


@pytest.fixture(scope="module")
def tiny(request) -> VSRModel:
    cfg = load_config(ModelConfig, [request.config.rootpath / "configs/models/fastvsr_tiny.yaml"])
    torch.manual_seed(0)
    return build_model(cfg).eval()


def test_size_relations(tiny, repo_root):
    assert isinstance(tiny, FastVSRModel) and tiny.kind == "fastvsr" and isinstance(tiny.decoder, F16Decoder)
    assert tiny.decoder.spatial_factor == 16 and tiny.vae.spatial_factor == 8
    assert tiny.input_upscale(4) == 2 and tiny.input_upscale(2) == 1
    assert tiny.pixel_multiple == 8 * tiny.denoiser.latent_multiple == 16 and tiny.frame_multiple == 4
    baseline = build_model(load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny_f8.yaml"]))
    assert baseline.kind == "fastvsr" and baseline.decoder is baseline.vae and baseline.input_upscale(4) == 4
    with pytest.raises(InputError, match="multiple of 16"):
        tiny.encode(torch.rand(1, 3, 5, 24, 32))
    with pytest.raises(ConfigError, match="decoder.kind"):
        load_config(ModelConfig, overrides=["decoder.kind=f32"])
    with pytest.raises(ConfigError, match=r"key 'decoder' moved: decoder is a section"):
        load_config(ModelConfig, overrides=["decoder=vae"])


def test_restore_is_restore_latent(tiny):
    z = torch.randn(2, 4, 3, 4, 6)
    with torch.no_grad():
        out = tiny.restore(z)
        ref = restore_latent(tiny.denoiser, z, schedule=tiny.schedule, steps=1, t_star=399)
        assert torch.equal(out, ref) and out.shape == z.shape
        assert not torch.allclose(tiny.restore(z, steps=2), out)  # steps is honoured


def _clip(sample_clip, frames=5, size=(64, 96)) -> torch.Tensor:
    """First ``frames`` frames of the real sample clip, area-downscaled then cropped: (1, 3, T, H, W) in [0, 1]."""
    video, _ = read_video(sample_clip, num_frames=frames)  # (3, T, 180, 320)
    video = F.interpolate(video, scale_factor=0.5, mode="area")  # (3, T, 90, 160)
    return video[None, :, :, : size[0], : size[1]].contiguous()


def test_end_to_end_real_clip_doubles_encoder_resolution(tiny, sample_clip):
    video = _clip(sample_clip)
    with torch.no_grad():
        z = tiny.encode(video)
        assert z.shape == (1, 4, 2, 8, 12)
        z_hat = tiny.restore(z)
        sr = tiny.decode(z_hat)
    assert sr.shape == (1, 3, 5, 128, 192)  # 2x the encoder input, as FastVSR's f16 decoder does
    assert sr.min() >= 0 and sr.max() <= 1 and torch.isfinite(sr).all()
    assert not torch.equal(z_hat, z)
    lr = F.interpolate(video[0], scale_factor=0.5, mode="area")[None]  # what upscales x2 to the encoder input
    with torch.no_grad():
        z_lr, pad = tiny.encode_lr(lr, 4)
        x, _ = tiny.prepare_input(lr, 4)
        assert torch.equal(z_lr, tiny.encode(x)) and (pad.height, pad.width) == (64, 96)
        assert torch.equal(tiny(lr, 4), tiny.unpad_output(tiny.decode(tiny.restore(z_lr)), pad))


def test_save_load_round_trip_is_bit_exact(tiny, tmp_path, sample_clip):
    folder = tmp_path / "model"
    tiny.save_pretrained(folder)
    meta = json.loads((folder / "fastvsr_model.json").read_text())
    assert meta["kind"] == "fastvsr" and meta["decoder_kind"] == "f16" and meta["denoiser_kind"] == "unet"
    assert meta["format"] == 2 and meta["sampler"]["t_star"] == 399
    assert {p.name for p in folder.iterdir()} == {"vae", "decoder", "denoiser", "fastvsr_model.json",
                                                 MANIFEST}
    loaded = VSRModel.from_pretrained(folder).eval()
    ref, new = tiny.state_dict(), loaded.state_dict()
    assert ref.keys() == new.keys() and all(torch.equal(ref[k], new[k]) for k in ref)
    assert loaded.sampler == tiny.sampler and loaded.kind == tiny.kind
    lr = _clip(sample_clip, size=(32, 48))
    with torch.no_grad():
        assert torch.allclose(loaded(lr, 4), tiny(lr, 4), atol=1e-5, rtol=0)


@pytest.mark.parametrize("missing", ["fastvsr_model.json", "denoiser/diffusion_pytorch_model.safetensors",
                                     "decoder/config.json", "vae/diffusion_pytorch_model.safetensors"])
def test_missing_files_raise_one_line_errors(tiny, tmp_path, missing):
    folder = tmp_path / "model"
    tiny.save_pretrained(folder)
    (folder / missing).unlink()
    with pytest.raises(WeightsMissingError) as err:
        VSRModel.from_pretrained(folder)
    message = str(err.value)
    assert "\n" not in message and missing.split("/")[-1] in message and str(folder) in message


def test_dove_style_bundle_tiny(tmp_path, sample_clip):
    """The paper path at toy size: CogVideoX VAE + CogVideoX DiT (odd latent frames padded) + f16 decoder."""
    overrides = ["vae.kind=cogvideox", "vae.block_out_channels=[16,16,16,16]", "vae.norm_num_groups=4",
                 "vae.latent_channels=4", "vae.scaling_factor=0.7", "denoiser.kind=cogvideox_dit",
                 "denoiser.dit.num_attention_heads=2", "denoiser.dit.attention_head_dim=16",
                 "denoiser.dit.num_layers=1",
                 "denoiser.dit.time_embed_dim=8", "denoiser.dit.text_embed_dim=16",
                 "denoiser.dit.max_text_seq_length=8", "denoiser.dit.sample_height=16", "denoiser.dit.sample_width=16"]
    model = build_model(load_config(ModelConfig, overrides=overrides)).eval()
    assert model.pixel_multiple == 16 and model.input_upscale(4) == 2
    video = _clip(sample_clip, frames=9, size=(16, 32))
    with torch.no_grad():
        z = model.encode(video)
        assert z.shape == (1, 4, 3, 2, 4)  # 3 latent frames: odd, padded inside the DiT
        sr = model.decode(model.restore(z))
    assert sr.shape == (1, 3, 9, 32, 64)
    model.save_pretrained(tmp_path / "dove")
    loaded = VSRModel.from_pretrained(tmp_path / "dove").eval()
    assert {p.name for p in (tmp_path / "dove/denoiser").iterdir()} >= {"config.json", "prompt_embeds.safetensors"}
    with torch.no_grad():
        assert torch.allclose(loaded.decode(loaded.restore(loaded.encode(video))), sr, atol=1e-5, rtol=0)


def test_input_upscale_mode_is_saved_loaded_and_validated(repo_root, tmp_path):
    cfg = load_config(ModelConfig, [repo_root / "configs/models/fastvsr_tiny.yaml"], ["input_upscale_mode=nearest"])
    model = build_model(cfg)
    model.save_pretrained(tmp_path / "m")
    assert VSRModel.from_pretrained(tmp_path / "m").input_upscale_mode == "nearest"
    meta_file = tmp_path / "m" / "fastvsr_model.json"
    meta = json.loads(meta_file.read_text())
    old = {"format": 1, "kind": "fastvsr_f16", "decoder_class": "F16Decoder",  # a folder of format 1, written
           **{k: meta[k] for k in ("vae_kind", "denoiser_kind", "sampler")}}  # before the key existed
    meta_file.write_text(json.dumps(old))
    loaded = VSRModel.from_pretrained(tmp_path / "m")
    assert loaded.input_upscale_mode == "bilinear" and isinstance(loaded, FastVSRModel)
    assert loaded.f16_decoder is not None
    meta["input_upscale_mode"] = "lanczos"
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(WeightsMissingError, match="input_upscale_mode"):
        VSRModel.from_pretrained(tmp_path / "m")
    with pytest.raises(ConfigError, match="input_upscale_mode"):
        load_config(ModelConfig, [], ["input_upscale_mode=area"])


def test_nearest_upscale_lets_a_shortcut_latent_hold_the_lr_exactly(repo_root):
    from fastvsr.models.vae.shortcut import latent_to_pixels

    model = build_model(load_config(ModelConfig, [repo_root / "configs/default_model/model.yaml"]))
    lr = torch.rand(1, 3, 2, 16, 24)
    x, _ = model.prepare_input(lr, 4)
    assert x.shape == (1, 3, 2, 32, 48)
    with torch.no_grad():
        z_raw = model.vae.posterior(x).mean  # untrained: the shortcut copy alone
    copy = latent_to_pixels(z_raw, (16, 24))
    assert torch.allclose((copy + 1) / 2, lr, atol=1e-6)
