"""Tiles of one size restored together as one batch (InferConfig.tile_batch): the same output as one tile at
a time, fewer model calls, and tile auto shares its budget among the batch."""

from pathlib import Path

import torch

from fastvsr.config import load_config
from fastvsr.models import ModelConfig, build_model
from fastvsr.ops.tiling import Span, Tile
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.memory import FIXED_FACTOR, chunk_bytes
from fastvsr.pipeline.upscale import chunk_footprint, plan_clip_tiles, tile_batches, upscale_video

CONFIGS = Path(__file__).parents[1] / "configs" / "models"


def _tile(rows: int, cols: int, at: int = 0) -> Tile:
    return Tile(Span(at, at + rows), Span(0, cols))


def test_tile_batches_group_consecutive_tiles_of_one_shape():
    tiles = [_tile(8, 8, 0), _tile(8, 8, 4), _tile(8, 8, 8), _tile(6, 8, 12), _tile(8, 8, 16)]
    pairs = [(t, torch.ones(1)) for t in tiles]
    groups = tile_batches(pairs, 2)
    assert [[tiles.index(t) for t, _ in g] for g in groups] == [[0, 1], [2], [3], [4]]
    assert [len(g) for g in tile_batches(pairs, 1)] == [1] * 5


def _count_encodes(model):
    batches = []
    encode = model.encode

    def recording(x, *args, **kwargs):
        batches.append(x.shape[0])
        return encode(x, *args, **kwargs)

    model.encode = recording
    return batches


def _tiny(config, *extra):
    torch.manual_seed(0)
    return build_model(load_config(ModelConfig, [CONFIGS / config], list(extra))).eval()


def test_batched_tiles_give_the_output_of_one_tile_at_a_time():
    """FastVSR's one-step restoration draws no noise: batching changes nothing but float rounding."""
    model = _tiny("fastvsr_tiny.yaml")
    video = torch.rand(1, 3, 9, 48, 64)
    settings = dict(device="cpu", scale=4, tile=8, tile_overlap=2, chunk_frames=0)
    one = upscale_video(model, video, InferConfig(**settings))
    calls = _count_encodes(model)
    batched = upscale_video(model, video, InferConfig(**settings, tile_batch=4))
    assert torch.allclose(batched, one, atol=1e-5)
    assert max(calls) == 4 and len(calls) < sum(calls)  # four tiles went through one call


def test_batched_tiles_carry_the_first_frame_condition_of_each_tile():
    """TurboVSR (first-frame conditioning, a sampler that starts from noise): every tile of a batch gets its
    own first-frame latent; the noise is drawn for the batch at once (other values, the same distribution)."""
    model = _tiny("turbovsr_tiny.yaml", "sampler.steps=1")
    video = torch.rand(1, 3, 1, 32, 64)  # one frame (image SR): latent 4x8, tiles of 4 overlapping by 2
    settings = dict(device="cpu", scale=4, tile=4, tile_overlap=2, chunk_frames=0)
    seen = []
    restore = model.restore

    def recording(z, steps=None, context=None):
        seen.append((z.shape[0], None if context.z_first is None else context.z_first.shape[0]))
        return restore(z, steps, context)

    model.restore = recording
    out = upscale_video(model, video, InferConfig(**settings, tile_batch=3))
    assert out.shape == (1, 3, 1, 128, 256) and 0 <= out.min() and out.max() <= 1
    assert max(batch for batch, _ in seen) == 3 and all(first in (None, batch) for batch, first in seen)


def test_tile_auto_shares_its_budget_among_the_batch_and_keeps_a_frame_that_fits_whole():
    model = _tiny("fastvsr_tiny.yaml")
    x, _ = model.prepare_input(torch.rand(1, 3, 5, 128, 192), 4)  # latent 32x48
    roomy = plan_clip_tiles(model, x, InferConfig(device="cpu", tile_overlap=2, memory_budget_gb=50, tile_batch=8))
    assert len(roomy) == 1
    widest, output_bytes = chunk_footprint(model, x, InferConfig(device="cpu", tile_overlap=2))
    out_pixels = x.shape[-2] * x.shape[-1] * (model.decoder_factor // model.encoder_factor) ** 2
    fixed = FIXED_FACTOR * output_bytes
    budget = fixed + 0.6 * (chunk_bytes(widest, out_pixels, output_bytes) - fixed)  # 60 % of the whole frame's
    tight = dict(device="cpu", tile_overlap=2, memory_budget_gb=budget / 1e9)
    alone = plan_clip_tiles(model, x, InferConfig(**tight))
    shared = plan_clip_tiles(model, x, InferConfig(**tight, tile_batch=4))
    assert 1 < len(alone) < len(shared)
    assert max(t.rows.length * t.cols.length for t in shared) < max(t.rows.length * t.cols.length for t in alone)
