"""The VAE's parameter-free pixel <-> latent shortcut (residual autoencoding) and what the f16 decoder inherits."""

import pytest
import torch
from einops import reduce

from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models.f16_decoder import F16Decoder
from fastvsr.models.vae import SpatioTemporalVAE, VAEConfig, build_vae, load_vae
from fastvsr.models.vae.shortcut import latent_to_pixels, pixels_to_latent, shortcut_unshuffle
from fastvsr.ops.resize import resize_video


def shortcut_vae() -> SpatioTemporalVAE:
    torch.manual_seed(0)
    return build_vae(VAEConfig(block_out_channels=(8, 8, 8, 8), norm_num_groups=4, latent_channels=48,
                               temporal_factor=1, shortcut=True)).eval()


def psnr(pred: torch.Tensor, gt: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / (pred - gt).pow(2).mean()))


def smooth_clip(frames: int = 3, size: int = 64) -> torch.Tensor:
    """A random clip with little detail, ``(1, 3, frames, size, size)`` in ``[0, 1]``."""
    torch.manual_seed(1)
    return resize_video(torch.rand(1, 3, frames, size // 8, size // 8), (size, size), mode="bilinear")


def test_copy_is_the_area_downscaled_frame_unshuffled():
    x = torch.rand(2, 3, 2, 16, 24)
    z = pixels_to_latent(x, spatial_factor=8, latent_channels=48)
    assert z.shape == (2, 48, 2, 2, 3)
    half = reduce(x, "b c t (h i) (w j) -> b c t h w", "mean", i=2, j=2)
    assert torch.allclose(latent_to_pixels(z, (8, 12)), half, atol=1e-6)
    flat = torch.full((1, 3, 1, 16, 16), 0.3)
    assert torch.allclose(latent_to_pixels(pixels_to_latent(flat, 8, 48), (32, 32)), torch.full((1, 3, 1, 32, 32), 0.3))


@pytest.mark.parametrize("channels, factor, p", [(48, 8, 4), (12, 8, 2), (192, 8, 8), (3, 16, 1)])
def test_unshuffle_factor(channels, factor, p):
    assert shortcut_unshuffle(channels, factor) == p


@pytest.mark.parametrize("override", ["latent_channels=8", "latent_channels=75", "temporal_factor=4",
                                      "kind=cogvideox"])
def test_configs_the_shortcut_cannot_serve_are_rejected(override):
    base = ["shortcut=true", "latent_channels=48", "temporal_factor=1", "block_out_channels=[8,8,8,8]",
            "norm_num_groups=4"]
    with pytest.raises(ConfigError, match="shortcut"):
        load_config(VAEConfig, [], [*base, override])


def test_untrained_vae_is_the_shortcut_round_trip():
    vae, x = shortcut_vae(), smooth_clip()
    with torch.no_grad():
        z = vae.encode(x)
        assert torch.allclose(z, pixels_to_latent(x * 2 - 1, 8, 48), atol=1e-6)
        assert psnr(vae.decode(z), x) > 35  # noise-free start: a smooth clip comes back almost unchanged


def test_f16_decoder_inherits_the_shortcut_at_its_own_factor():
    vae, x = shortcut_vae(), smooth_clip()
    f16 = F16Decoder.from_f8(vae).eval()
    with torch.no_grad():
        out = f16.decode(vae.encode(x))
    assert out.shape == (1, 3, 3, 128, 128)
    target = resize_video(x, (128, 128), mode="bicubic")
    assert psnr(out, target) > 35  # untrained: the latent's copy upsampled x16 ~ the clip upsampled x2


def test_learned_part_adds_to_the_copy_and_stays_causal():
    vae, x = shortcut_vae(), smooth_clip()
    for p in vae.parameters():
        torch.nn.init.normal_(p, std=0.05)
    y = x.clone()
    y[:, :, 2] = torch.rand_like(y[:, :, 2])
    with torch.no_grad():
        zx, zy = vae.encode(x), vae.encode(y)
        assert not torch.allclose(zx, pixels_to_latent(x * 2 - 1, 8, 48), atol=1e-3)  # the learned part counts
        assert torch.allclose(zx[:, :, :2], zy[:, :, :2], atol=1e-6)  # later frames never reach earlier latents
        assert torch.allclose(vae.decode(zx)[:, :, :2], vae.decode(zy)[:, :, :2], atol=1e-6)


def test_save_load_keeps_the_shortcut(tmp_path):
    vae = shortcut_vae()
    vae.save_pretrained(tmp_path)
    loaded = load_vae("spatiotemporal", tmp_path).eval()
    assert loaded.config.shortcut and loaded.decoder.shortcut
    z = torch.randn(1, 48, 2, 2, 2)
    with torch.no_grad():
        assert torch.equal(vae.decode(z), loaded.decode(z))
