"""``tile: auto`` (fastvsr.pipeline.upscale.plan_clip_tiles, fastvsr.pipeline.memory): no tiles when the chunk
fits the memory budget, tiles that fit when it does not, and tiled output close to untiled output; the
allocator setting and its opt-out."""

import pytest
import torch

from fastvsr.config import load_config
from fastvsr.errors import ConfigError
from fastvsr.models.bundle import MODEL_FILE
from fastvsr.pipeline import memory
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.loading import DEFAULT_MODEL_DIR, load_inference_model
from fastvsr.pipeline.upscale import chunk_footprint, plan_clip_tiles, upscale_video
from tests.test_pipeline import ContextModel, SpaceToDepthModel

SHIPPED = pytest.mark.skipif(not (DEFAULT_MODEL_DIR / MODEL_FILE).is_file(), reason="no shipped model")
TINY_BUDGET = {"memory_budget_gb": 1e-6}  # nothing fits: the smallest automatic tiles


def _encoder_input(model, lr, scale):
    return model.prepare_input(lr, scale)[0]


def test_auto_is_the_default_and_ints_and_auto_load_from_overrides():
    cfg = InferConfig()
    assert (cfg.tile, cfg.tile_overlap, cfg.memory_budget_gb) == ("auto", 8, 0.0)
    assert load_config(InferConfig, overrides=["tile=auto"]).tile == "auto"
    assert load_config(InferConfig, overrides=["tile=32"]).tile == 32
    assert InferConfig(tile="48").tile == 48 and InferConfig(tile=0).tile_overlap == 0
    for bad, message in ((["tile=big"], "tile must be auto or"), (["tile=-4"], "tile must be auto or >= 0"),
                         (["tile=auto", "tile_overlap=-1"], "tile_overlap must be"),
                         (["memory_budget_gb=-1"], "memory_budget_gb must be >= 0")):
        with pytest.raises(ConfigError, match=message):
            load_config(InferConfig, overrides=bad)


def test_auto_tiles_only_when_the_budget_is_too_small():
    model = SpaceToDepthModel(8, 16, latent_multiple=2)
    x = _encoder_input(model, torch.rand(1, 3, 5, 160, 288), 2)  # latent 20 x 36
    assert len(plan_clip_tiles(model, x, InferConfig(device="cpu"))) == 1  # fits the machine's memory
    widest, output = chunk_footprint(model, x, InferConfig(device="cpu"))
    assert widest > 0 and output == 3 * 5 * 320 * 576 * 4
    whole = memory.chunk_bytes(widest, 320 * 576, output)
    half = InferConfig(device="cpu", memory_budget_gb=(whole - 1) / 1e9)
    tiles = plan_clip_tiles(model, x, half)
    assert len(tiles) == 2 and all(t.rows.length == 20 for t in tiles)  # cut once, across the long axis
    assert memory.chunk_bytes(widest, max(t.cols.length for t in tiles) * 20 * 256, output) <= whole - 1
    smallest = plan_clip_tiles(model, x, InferConfig(device="cpu", **TINY_BUDGET))
    assert min(min(t.rows.length, t.cols.length) for t in smallest) >= 16  # AUTO_MIN_TILE, 4 x the overlap 8 = 32
    assert len(smallest) == 2 * 2 - 2  # 20 rows stay whole (< 32), 36 columns: 2 tiles of 22


def test_auto_tiled_output_equals_untiled_for_a_context_free_model_and_stays_close_with_context():
    lr = torch.rand(1, 3, 3, 160, 288)
    exact = SpaceToDepthModel(8, 16, latent_multiple=2)
    cfg = dict(device="cpu", scale=2, tile_overlap=4)
    torch.testing.assert_close(upscale_video(exact, lr, InferConfig(**cfg, **TINY_BUDGET)),
                               upscale_video(exact, lr, InferConfig(**cfg, tile=0)), atol=1e-6, rtol=0)
    context = ContextModel(8, 16, latent_multiple=1)
    smooth = torch.nn.functional.interpolate(lr[:, :, 0], scale_factor=0.25, mode="area")
    lr = torch.nn.functional.interpolate(smooth, scale_factor=4, mode="bilinear")[:, :, None]
    tiled = upscale_video(context, lr, InferConfig(**cfg, **TINY_BUDGET))
    untiled = upscale_video(context, lr, InferConfig(**cfg, tile=0))
    assert context.calls >= 3 and (tiled - untiled).abs().mean() < 0.01


@SHIPPED
def test_shipped_model_auto_keeps_the_test_clip_whole_and_small_budgets_stay_close(sample_clip):
    from fastvsr.data.video import read_video

    cfg = InferConfig(device="cpu")
    model = load_inference_model(None, cfg)
    frames, _ = read_video(sample_clip, num_frames=3)
    assert len(plan_clip_tiles(model, _encoder_input(model, frames[None], 4), cfg)) == 1  # 46 x 80 latent: fits
    lr = frames[None, :, :, 40:104, 32:224]  # 64 x 192 -> latent 16 x 48
    tiled_cfg = InferConfig(device="cpu", **TINY_BUDGET)
    assert len(plan_clip_tiles(model, _encoder_input(model, lr, 4), tiled_cfg)) == 2
    with torch.no_grad():
        diff = (upscale_video(model, lr, tiled_cfg) - upscale_video(model, lr, cfg)).abs()
    assert diff.mean() < 1 / 255 and diff.max() < 0.1  # measured: mean 0.0006, max 0.03 (8-latent overlap)


@SHIPPED
def test_shipped_model_default_output_against_the_untiled_and_the_fixed_stride_tiled_paths(sample_clip):
    """The default path (tile auto: one tile here) is the untiled restoration bit for bit; the fixed-stride
    tile-64 plan (two 46x64 latent tiles for 46x80) differs from it along its seam, by more than 1/255 at the
    worst pixel (measured on all 17 frames: max 2.81/255, mean 0.08/255; docs/benchmarks.md)."""
    from fastvsr.data.video import read_video
    from fastvsr.ops.tiling import plan_tiles
    from fastvsr.pipeline.upscale import upscale_clip

    frames, _ = read_video(sample_clip, num_frames=1)
    model = load_inference_model(None, InferConfig(device="cpu"))
    with torch.no_grad():
        default = upscale_video(model, frames[None], InferConfig(device="cpu"))
        untiled = upscale_video(model, frames[None], InferConfig(device="cpu", tile=0))
        fixed = upscale_clip(model, frames[None], InferConfig(device="cpu", tile=64),
                             tiles=plan_tiles(46, 80, 64, 8, model.latent_multiple, even=False))
    assert torch.equal(default, untiled)
    diff = (fixed.cpu() - default).abs()
    assert diff.max() < 4 / 255 and diff.mean() < 0.2 / 255


def test_probe_leaves_the_random_stream_alone_and_is_cached():
    calls = []

    def run(piece):
        calls.append(piece.shape)
        torch.rand(10)  # a sampler's draw
        return torch.zeros(1, 3, 2, 4, 4).repeat(1, 5, 1, 1, 1)  # widest: 15 x 2 x 4 x 4 floats

    model, x = torch.nn.Linear(1, 1), torch.rand(1, 3, 2, 64, 64)
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    widest = memory.widest_activation_per_pixel(model, x, 16, run)
    assert torch.equal(torch.rand(3), expected)
    assert widest == 15 * 2 * 4 * 4 * 4 / (4 * 4) and calls == [(1, 3, 2, 16, 16)]
    assert memory.widest_activation_per_pixel(model, x, 16, run) == widest and len(calls) == 1


def test_budget_and_estimate():
    cpu = torch.device("cpu")
    assert memory.memory_budget_bytes(InferConfig(memory_budget_gb=2.5), cpu) == 2_500_000_000
    assert 0 < memory.memory_budget_bytes(InferConfig(), cpu) < memory.available_memory_bytes(cpu)
    pixels = memory.max_tile_pixels(10**9, 300.0, 10**6)
    assert memory.chunk_bytes(300.0, pixels, 10**6) <= 10**9 < memory.chunk_bytes(300.0, pixels + 10, 10**6)
    assert memory.max_tile_pixels(10**3, 300.0, 10**6) == 0


@pytest.mark.parametrize("environ, wanted", [({}, True), ({"FASTVSR_KEEP_MEMORY": "0"}, False),
                                             ({"FASTVSR_KEEP_MEMORY": "off"}, False),
                                             ({"FASTVSR_KEEP_MEMORY": "1"}, True),
                                             ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}, False)])
def test_keep_memory_opt_out(environ, wanted):
    assert memory.keep_memory_wanted(environ) is wanted


def test_keep_freed_memory_acts_once_and_only_on_glibc():
    first = memory.keep_freed_memory()
    assert memory.keep_freed_memory() is first
    assert first is (memory._libc() is not None and memory.keep_memory_wanted())
