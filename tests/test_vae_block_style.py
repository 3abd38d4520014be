"""The VAE's block styles: the default GroupNorm/SiLU/nearest blocks and the plain norm-free PixelShuffle ones."""

import json

import pytest
import torch
import torch.nn.functional as F

from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import SpatioTemporalVAE, VAEConfig, build_vae, load_vae
from fastvsr.models.vae.blocks import Upsample3D
from fastvsr.models.vae.causal_conv import FrameGroupNorm

PLAIN = ["norm_type=none", "act_fn=relu", "upsample_mode=pixel_shuffle"]


def plain_vae(temporal: int = 4) -> SpatioTemporalVAE:
    torch.manual_seed(0)
    cfg = load_config(VAEConfig, [], ["block_out_channels=[4,4,8,8]", "latent_channels=3", "norm_num_groups=2",
                                      f"temporal_factor={temporal}", *PLAIN])
    return build_vae(cfg).eval()


def test_plain_style_has_no_norms_and_pixel_shuffle_upsamplers():
    vae = plain_vae()
    assert not any(isinstance(m, FrameGroupNorm) for m in vae.modules())
    ups = [m for m in vae.decoder.modules() if isinstance(m, Upsample3D)]
    assert len(ups) == 3 and all(u.conv.out_channels == 4 * u.conv.in_channels for u in ups)
    default = SpatioTemporalVAE(block_out_channels=(4, 4, 8, 8), latent_channels=3, norm_num_groups=2)
    assert sum(isinstance(m, FrameGroupNorm) for m in default.modules()) > 0


def test_pixel_shuffle_upsampler_is_a_conv_then_a_per_frame_pixel_shuffle():
    torch.manual_seed(0)
    up = Upsample3D(2, compress_time=False, mode="pixel_shuffle").eval()
    x = torch.randn(1, 2, 3, 4, 5)
    with torch.no_grad():
        y = up(x)
        expected = torch.stack([F.pixel_shuffle(F.conv2d(x[:, :, t], up.conv.weight[:, :, 0], up.conv.bias,
                                                         padding=1), 2) for t in range(3)], dim=2)
    assert y.shape == (1, 2, 3, 8, 10)
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=0)


def test_plain_style_keeps_shapes_range_and_causality():
    vae = plain_vae(temporal=4)
    video = torch.rand(1, 3, 9, 16, 16)
    changed = video.clone()
    changed[:, :, 5:] = torch.rand(1, 3, 4, 16, 16)
    with torch.no_grad():
        z, z_changed = vae.encode(video), vae.encode(changed)
        out = vae.decode(z)
    assert z.shape == (1, 3, 3, 2, 2) and out.shape == video.shape and 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(z_changed[:, :, :2], z[:, :, :2], atol=1e-5, rtol=0)


def test_style_survives_save_load_and_the_f16_decoder(tmp_path):
    vae = plain_vae(temporal=1)
    vae.save_pretrained(tmp_path / "vae")
    saved = json.loads((tmp_path / "vae" / "config.json").read_text())
    assert (saved["norm_type"], saved["act_fn"], saved["upsample_mode"]) == ("none", "relu", "pixel_shuffle")
    loaded = load_vae("spatiotemporal", tmp_path / "vae").eval()
    z = torch.randn(1, 3, 2, 2, 2)
    with torch.no_grad():
        assert torch.equal(loaded.decode(z), vae.decode(z))
    f16 = F16Decoder.from_f8(vae).eval()
    assert f16.decoder.style == vae.decoder.style
    assert all(torch.equal(f16.state_dict()[f"decoder.{k}"], v) for k, v in vae.decoder.state_dict().items())
    with torch.no_grad():
        assert f16.decode(z).shape == (1, 3, 2, 32, 32)


def test_a_saved_config_without_style_keys_loads_the_default_blocks(tmp_path):
    vae = SpatioTemporalVAE(block_out_channels=(4, 4, 8, 8), latent_channels=3, norm_num_groups=2).eval()
    vae.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    for key in ("norm_type", "act_fn", "upsample_mode"):
        del config[key]
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded = load_vae("spatiotemporal", tmp_path).eval()
    z = torch.randn(1, 3, 2, 2, 2)
    with torch.no_grad():
        assert torch.equal(loaded.decode(z), vae.decode(z))


@pytest.mark.parametrize("override, key", [("norm_type=batch", "norm_type"), ("act_fn=gelu", "act_fn"),
                                           ("upsample_mode=bilinear", "upsample_mode")])
def test_bad_style_values_raise_config_errors(override, key):
    with pytest.raises(ConfigError, match=key):
        load_config(VAEConfig, [], [override])


def test_styles_are_only_for_our_spatiotemporal_vae():
    with pytest.raises(ConfigError, match="only for kind=spatiotemporal"):
        load_config(VAEConfig, [], ["kind=cogvideox", "norm_type=none"])
