"""The inference pipeline (fastvsr.pipeline) on small stand-in models that follow the model contract.

The stand-in is a :class:`VSRModel` kind whose VAE encodes by space-to-depth (pixel unshuffle by f_enc, frames
packed k_t per latent frame, first frame alone), whose restore is the identity and whose decoder is the inverse
plus a nearest upsample f_dec / f_enc. It has no spatial or temporal context, so chunked and tiled restoration
must equal whole-video restoration exactly, and the pipeline output must be nearest(bilinear(lr)).
"""

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange
from kornia.filters import box_blur
from torch import nn

from fastvsr.config import load_config
from fastvsr.errors import ConfigError, InputError
from fastvsr.models import RestoreContext, VSRModel
from fastvsr.ops.resize import resize_video, upscale_lr
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.upscale import upscale_stream, upscale_video


class SpaceToDepthVAE(nn.Module):
    """``encode``: space-to-depth by ``spatial_factor`` with ``temporal_factor`` frames per latent frame."""

    def __init__(self, spatial_factor: int, temporal_factor: int) -> None:
        super().__init__()
        self.spatial_factor, self.temporal_factor, self.frame_multiple = spatial_factor, temporal_factor, temporal_factor
        self.scale_param = nn.Parameter(torch.ones(()))  # so .to(dtype) has something to cast

    def encode(self, video: torch.Tensor, sample: bool = False, generator=None) -> torch.Tensor:
        b, c, t, h, w = video.shape
        k, f = self.temporal_factor, self.spatial_factor
        assert (t - 1) % k == 0 and h % f == 0 and w % f == 0, video.shape
        frames = torch.cat([video[:, :, :1].expand(-1, -1, k - 1, -1, -1), video], dim=2)  # (b, c, k*(n+1), h, w)
        z = rearrange(frames, "b c (n k) (h f1) (w f2) -> b (c k f1 f2) n h w", k=k, f1=f, f2=f)
        return z * self.scale_param


class DepthToSpaceDecoder(nn.Module):
    """The inverse of :class:`SpaceToDepthVAE` plus a nearest upsample to ``spatial_factor``."""

    def __init__(self, vae: SpaceToDepthVAE, spatial_factor: int) -> None:
        super().__init__()
        self.vae_factor, self.temporal_factor, self.spatial_factor = vae.spatial_factor, vae.temporal_factor, spatial_factor

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        k, f = self.temporal_factor, self.vae_factor
        frames = rearrange(z, "b (c k f1 f2) n h w -> b c (n k) (h f1) (w f2)", k=k, f1=f, f2=f)[:, :, k - 1:]
        b = frames.shape[0]
        up = F.interpolate(rearrange(frames, "b c t h w -> (b t) c h w"), scale_factor=self.spatial_factor // f,
                           mode="nearest")
        return rearrange(up, "(b t) c h w -> b c t h w", b=b)


class LatentGrid(nn.Module):
    """A denoiser stand-in that only states the latent grid's multiples (restore never calls it)."""

    def __init__(self, latent_multiple: int) -> None:
        super().__init__()
        self.latent_multiple, self.temporal_latent_multiple = latent_multiple, 1


class SpaceToDepthModel(VSRModel):
    """Contract-following stand-in: decode(restore(encode(x))) == nearest upsample of x by f_dec / f_enc."""

    kind = "space_to_depth_test"

    def __init__(self, f_enc: int = 8, f_dec: int = 16, latent_multiple: int = 2, frame_multiple: int = 4,
                 offset_per_call: float = 0.0, noise: float = 0.0):
        vae = SpaceToDepthVAE(f_enc, frame_multiple)
        super().__init__(vae, LatentGrid(latent_multiple), DepthToSpaceDecoder(vae, f_dec))
        self.offset_per_call, self.noise, self.calls = offset_per_call, noise, 0

    def restore(self, z: torch.Tensor, steps: int | None = None, context: RestoreContext | None = None) -> torch.Tensor:
        self.calls += 1
        return z + self.offset_per_call * self.calls + self.noise * torch.randn_like(z)


def expected_output(model: SpaceToDepthModel, lr: torch.Tensor, scale: int) -> torch.Tensor:
    r = model.decoder.spatial_factor // model.vae.spatial_factor
    up = upscale_lr(lr, model.input_upscale(scale))
    return up.repeat_interleave(r, dim=-2).repeat_interleave(r, dim=-1)


def cfg_with(**kw) -> InferConfig:
    return InferConfig(device="cpu", **kw)


@pytest.mark.parametrize("f_enc,f_dec,scale", [(8, 16, 4), (8, 8, 4), (4, 8, 2)])
def test_identity_like_model_returns_the_upscaled_input(f_enc, f_dec, scale):
    model = SpaceToDepthModel(f_enc, f_dec)
    lr = torch.rand(1, 3, 7, 18, 22)  # odd sizes: spatial and temporal padding are exercised
    out = upscale_video(model, lr, cfg_with(scale=scale, tile=0, chunk_frames=64))
    assert out.shape == (1, 3, 7, 18 * scale, 22 * scale)
    torch.testing.assert_close(out, expected_output(model, lr, scale).clamp(0, 1), atol=1e-6, rtol=0)


def test_tiled_and_chunked_equals_whole_video():
    model = SpaceToDepthModel(8, 16, latent_multiple=2)
    lr = torch.rand(2, 3, 23, 40, 72)  # x2 -> 80x144 -> latent 10x18: several tiles per axis
    whole = upscale_video(model, lr, cfg_with(tile=0, chunk_frames=64))
    pieces = upscale_video(model, lr, cfg_with(tile=4, tile_overlap=2, chunk_frames=9, chunk_overlap=3))
    assert model.calls > 2 * 3 * 6  # really tiled (per chunk, >= 3x6 tiles) and chunked
    torch.testing.assert_close(pieces, whole, atol=1e-5, rtol=0)


class ContextModel(SpaceToDepthModel):
    """Stand-in with spatial context: a 5x5 box blur (zero padding) before encoding, so a tile's border pixels
    differ from the whole-frame result the way a real encoder's receptive field makes them differ."""

    def encode(self, video: torch.Tensor, sample: bool = False, generator=None) -> torch.Tensor:
        b = video.shape[0]
        frames = rearrange(video, "b c t h w -> (b t) c h w")
        blurred = box_blur(frames, 5, border_type="constant")
        return super().encode(rearrange(blurred, "(b t) c h w -> b c t h w", b=b))


def test_overlap_feathering_hides_tile_borders_of_a_model_with_context():
    model = ContextModel(8, 16, latent_multiple=1)
    lr = resize_video(torch.rand(1, 3, 1, 12, 20), (48, 80))  # smooth content, 96x160 output
    whole = upscale_video(model, lr, cfg_with(scale=2, tile=0))
    hard_cut = upscale_video(model, lr, cfg_with(scale=2, tile=2, tile_overlap=0))
    feathered = upscale_video(model, lr, cfg_with(scale=2, tile=4, tile_overlap=2))
    hard_err, soft_err = (hard_cut - whole).abs(), (feathered - whole).abs()
    assert hard_err.max() > 0.05  # the blur really sees the tile borders
    assert soft_err.mean() < hard_err.mean() / 2 and soft_err.max() < hard_err.max()
    assert soft_err.mean() < 0.01


def test_chunks_are_cross_faded_not_cut():
    # Each restore call adds a different offset: frames shared by two chunks must be a linear mix of both.
    model = SpaceToDepthModel(8, 8, latent_multiple=1, frame_multiple=1, offset_per_call=0.1)
    lr = torch.full((1, 3, 10, 8, 8), 0.2)
    out = upscale_video(model, lr, cfg_with(scale=1, tile=0, chunk_frames=6, chunk_overlap=4))
    per_frame = out[0, 0, :, 0, 0]
    # chunk 1 covers 0..5 (+0.1), chunk 2 covers 2..7 (+0.2), chunk 3 covers 4..9 (+0.3)
    assert per_frame[0].item() == pytest.approx(0.3) and per_frame[-1].item() == pytest.approx(0.5)
    steps = per_frame.diff()
    assert torch.all(steps >= -1e-6) and steps.max() < 0.05  # monotone ramp, no jump of 0.1 at a cut


def test_memory_is_flat_in_video_length():
    """Frames read but not yet emitted stay bounded by the chunk size, whatever the video length."""
    model = SpaceToDepthModel(8, 8, latent_multiple=1, frame_multiple=4)

    def max_frames_held(num_frames: int) -> int:
        read = emitted = held = 0

        def blocks():
            nonlocal read
            for start in range(0, num_frames, 5):
                n = min(5, num_frames - start)
                read += n
                yield start, torch.rand(3, n, 8, 8)

        for piece in upscale_stream(model, blocks(), num_frames, cfg_with(scale=1, tile=0, chunk_frames=9,
                                                                          chunk_overlap=2), progress=False):
            emitted += piece.sr.shape[1]
            held = max(held, read - emitted)
        assert emitted == num_frames
        return held

    short, long = max_frames_held(30), max_frames_held(600)
    assert long == short and long <= 9 + 5


def test_restored_frames_carry_their_lr_frames():
    model = SpaceToDepthModel(8, 8, latent_multiple=1, frame_multiple=4)
    lr = torch.rand(3, 20, 8, 8)
    pieces = list(upscale_stream(model, [(0, lr[:, :7]), (7, lr[:, 7:])], 20, cfg_with(scale=1, tile=0,
                                 chunk_frames=9, chunk_overlap=2), progress=False))
    assert [p.start for p in pieces] == [0, 7, 14]
    assert torch.equal(torch.cat([p.lr for p in pieces], dim=1), lr)
    torch.testing.assert_close(torch.cat([p.sr for p in pieces], dim=1), lr, atol=1e-6, rtol=0)


def test_short_input_stream_is_an_input_error():
    model = SpaceToDepthModel(8, 8, latent_multiple=1)
    with pytest.raises(InputError, match="ended after 5 frames, expected 9"):
        list(upscale_stream(model, [(0, torch.rand(3, 5, 8, 8))], 9, cfg_with(scale=1), progress=False))


@pytest.mark.parametrize("method", ["wavelet", "adain"])
def test_color_fix_pulls_colour_back_to_the_input(method):
    model = SpaceToDepthModel(8, 8, latent_multiple=1, frame_multiple=1, offset_per_call=0.3)  # colour shift
    lr = torch.rand(1, 3, 2, 16, 16) * 0.5
    plain = upscale_video(model, lr, cfg_with(scale=2, tile=0))
    fixed = upscale_video(model, lr, cfg_with(scale=2, tile=0, color_fix=method))
    reference = resize_video(lr, (32, 32))
    assert (fixed.mean() - reference.mean()).abs() < 0.02 < (plain.mean() - reference.mean()).abs()


def test_seeded_runs_are_deterministic():
    lr = torch.rand(1, 3, 5, 16, 16)
    cfg = cfg_with(scale=2, tile=0)
    runs = [upscale_video(SpaceToDepthModel(noise=0.05), lr, cfg) for _ in range(2)]
    other = upscale_video(SpaceToDepthModel(noise=0.05), lr, cfg_with(scale=2, tile=0, seed=1))
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], other)


def test_bf16_is_close_to_fp32():
    from fastvsr.pipeline.device import prepare_model

    lr = torch.rand(1, 3, 5, 16, 16)
    ref = upscale_video(SpaceToDepthModel(), lr, cfg_with(scale=2, tile=0))
    cfg = cfg_with(scale=2, tile=0, dtype="bf16")
    out = upscale_video(prepare_model(SpaceToDepthModel(), cfg), lr, cfg)
    assert out.dtype == torch.float32 and (out - ref).abs().max() < 1e-2


def test_config_checks(tmp_path):
    with pytest.raises(ConfigError, match="chunk_overlap"):
        load_config(InferConfig, overrides=["chunk_frames=9", "chunk_overlap=9"])
    with pytest.raises(ConfigError, match="color_fix"):
        load_config(InferConfig, overrides=["color_fix=sepia"])
    with pytest.raises(ConfigError, match="latent multiple 2"):
        upscale_video(SpaceToDepthModel(latent_multiple=2), torch.rand(1, 3, 1, 8, 8),
                      cfg_with(tile=5, tile_overlap=1))


def test_device_resolution():
    from fastvsr.pipeline.device import resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="device must be"):
        load_config(InferConfig, overrides=["device=tpu"])
