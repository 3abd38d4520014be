"""Padding, un-padding, chunk/tile planning and blend weights (fastvsr.ops.pad, fastvsr.ops.tiling)."""

import pytest
import torch

from fastvsr.ops.pad import pad_to_multiple, padded_frame_count, unpad
from fastvsr.ops.resize import resize_video, upscale_lr
from fastvsr.ops.tiling import (
    Span,
    blend_weights,
    even_span_count,
    fit_tile_sizes,
    plan_even_spans,
    plan_spans,
    plan_tiles,
    ramp_weights,
    tile_weights,
)


@pytest.mark.parametrize("shape", [(1, 3, 5, 13, 30), (2, 3, 1, 1, 1), (1, 3, 9, 32, 16), (1, 3, 2, 3, 40)])
@pytest.mark.parametrize("multiple,frame_multiple", [(16, 4), ((8, 32), 1), (1, 8)])
def test_pad_then_unpad_is_identity(shape, multiple, frame_multiple):
    x = torch.rand(shape)
    padded, info = pad_to_multiple(x, multiple, frame_multiple)
    mh, mw = (multiple, multiple) if isinstance(multiple, int) else multiple
    assert padded.shape[-2] % mh == 0 and padded.shape[-1] % mw == 0
    assert (padded.shape[2] - 1) % frame_multiple == 0 and padded.shape[2] >= shape[2]
    assert torch.equal(unpad(padded, info, scale=1), x)
    assert torch.equal(padded[..., : shape[2], : shape[3], : shape[4]], x)  # content first, padding after


def test_padding_reflects_and_repeats_last_frame():
    x = torch.arange(4.0).view(1, 1, 1, 1, 4).expand(1, 1, 2, 3, 4) + torch.tensor([0.0, 10.0]).view(1, 1, 2, 1, 1)
    padded, info = pad_to_multiple(x, (3, 6), frame_multiple=4)
    assert padded[0, 0, 0, 0].tolist() == [0, 1, 2, 3, 2, 1]  # reflected about the last column
    assert info.frames == 3 and padded.shape == (1, 1, 5, 3, 6)
    assert torch.equal(padded[:, :, 2:], padded[:, :, 1:2].expand(1, 1, 3, 3, 6))  # last frame repeated
    wide, _ = pad_to_multiple(x, (1, 8))  # a pad as large as the frame cannot reflect: replicate
    assert wide[0, 0, 0, 0].tolist() == [0, 1, 2, 3, 3, 3, 3, 3]


def test_one_pixel_frames_fall_back_to_replicate():
    x = torch.rand(1, 3, 1, 1, 1)
    padded, _ = pad_to_multiple(x, 8)
    assert padded.shape == (1, 3, 1, 8, 8) and torch.all(padded == x.view(1, 3, 1, 1, 1))


def test_unpad_uses_the_explicit_scale():
    x = torch.rand(1, 3, 5, 10, 14)
    padded, info = pad_to_multiple(x, 16, frame_multiple=4)
    up = padded.repeat_interleave(4, dim=-1).repeat_interleave(4, dim=-2)
    out = unpad(up, info, scale=4)
    assert out.shape == (1, 3, 5, 40, 56)
    assert torch.equal(out[..., ::4, ::4], x)
    with pytest.raises(ValueError, match="scale 2"):
        unpad(up, info, scale=2)


def test_padded_frame_count():
    assert [padded_frame_count(t, 4) for t in (1, 2, 5, 6, 17, 18)] == [1, 5, 5, 9, 17, 21]
    assert padded_frame_count(7, 1) == 7


@pytest.mark.parametrize("length,size,overlap,multiple,fit_last", [
    (17, 9, 2, 1, False), (100, 33, 8, 1, False), (16, 9, 2, 1, False), (48, 16, 4, 2, True),
    (45, 16, 4, 1, True), (10, 4, 3, 1, False), (7, 16, 4, 1, False), (30, 8, 0, 2, True),
])
def test_spans_cover_axis_and_weights_sum_to_one(length, size, overlap, multiple, fit_last):
    spans = plan_spans(length, size, overlap, multiple, fit_last)
    covered = torch.zeros(length)
    total = torch.zeros(length, dtype=torch.float64)
    for span, weight in zip(spans, blend_weights(spans)):
        assert span.start % multiple == 0 and 0 < span.length <= max(size, length if size >= length else size)
        assert weight.shape == (span.length,) and torch.all(weight > 0)
        covered[span.slice] += 1
        total[span.slice] += weight.double()
    assert torch.all(covered >= 1)
    assert torch.allclose(total, torch.ones(length, dtype=torch.float64), atol=1e-6)
    assert [s.start for s in spans] == sorted({s.start for s in spans})
    if len(spans) > 1:  # neighbours overlap by at least `overlap`: a cross-fade, not a hard cut
        assert all(a.stop - b.start >= overlap for a, b in zip(spans, spans[1:]))


def test_fixed_stride_plan_and_short_last_span():
    assert plan_spans(17, 9, 2) == [Span(0, 9), Span(7, 16), Span(14, 17)]
    assert plan_spans(16, 9, 2) == [Span(0, 9), Span(7, 16)]
    assert plan_spans(45, 16, 4, fit_last=True)[-1] == Span(29, 45)
    assert plan_spans(5, 0, 0) == [Span(0, 5)]
    with pytest.raises(ValueError):
        plan_spans(20, 8, 8)
    with pytest.raises(ValueError):
        plan_spans(20, 8, 3, multiple=2)


def _even_cases():
    """Every (length, size, overlap, multiple) with length <= 48, size < length, overlap < size, all on the
    multiple (the pipeline's latent frames are padded to it), and a few lengths off the multiple."""
    for multiple in (1, 2, 4):
        for length in range(1, 49):
            for size in range(multiple, length, multiple):
                for overlap in range(0, size, multiple):
                    yield length, size, overlap, multiple


def test_even_spans_cover_with_the_fewest_equal_spans_of_at_most_size():
    for length, size, overlap, multiple in _even_cases():
        spans = plan_even_spans(length, size, overlap, multiple)
        case = (length, size, overlap, multiple)
        assert spans[0].start == 0 and spans[-1].stop == length, case
        assert all(b.start <= a.stop for a, b in zip(spans, spans[1:])), case  # no gap: the union is the axis
        assert all(a.start < b.start and a.stop < b.stop for a, b in zip(spans, spans[1:])), case
        assert all(s.start % multiple == 0 and s.length <= size for s in spans), case
        assert len({s.length for s in spans[:-1]}) <= 1 and spans[-1].length <= spans[0].length, case
        if length % multiple == 0:
            assert len({s.length for s in spans}) == 1, case  # all of one size
        assert all(a.stop - b.start >= overlap for a, b in zip(spans, spans[1:])), case
        count = len(spans)
        assert count == even_span_count(length, size, overlap, multiple), case
        if length % multiple == 0 and count > 1:  # count - 1 spans of at most size, overlapping, fall short
            assert (count - 1) * size - (count - 2) * overlap < length, case


def test_even_plan_of_the_issue_and_its_weights_sum_to_one():
    assert plan_even_spans(80, 64, 8, 2) == [Span(0, 44), Span(36, 80)]  # not 2 x 64 for 80 columns
    assert plan_even_spans(80, 64, 8, 2) != plan_spans(80, 64, 8, 2, fit_last=True)
    assert plan_even_spans(40, 64, 8, 2) == [Span(0, 40)] and plan_even_spans(40, 0, 0) == [Span(0, 40)]
    for length, size, overlap, multiple in [(80, 64, 8, 2), (46, 20, 4, 2), (37, 8, 6, 2), (9, 4, 2, 2),
                                            (100, 9, 3, 3)]:
        spans = plan_even_spans(length, size, overlap, multiple)
        total = torch.zeros(length, dtype=torch.float64)
        for span, weight in zip(spans, blend_weights(spans)):
            assert weight.shape == (span.length,) and torch.all(weight > 0)
            total[span.slice] += weight.double()
        assert torch.allclose(total, torch.ones_like(total), atol=1e-6)
    with pytest.raises(ValueError):
        plan_even_spans(20, 8, 8)
    with pytest.raises(ValueError):
        plan_even_spans(20, 8, 3, multiple=2)


def _grid_cost(height, width, sizes, overlap, multiple):
    tiles = plan_tiles(height, width, sizes, overlap, multiple)
    return sum(t.rows.length * t.cols.length for t in tiles), max(t.rows.length * t.cols.length for t in tiles)


@pytest.mark.parametrize("height,width,overlap,multiple,min_size", [(46, 80, 8, 2, 32), (23, 40, 2, 1, 6),
                                                                     (12, 30, 2, 2, 4)])
def test_fitted_tile_sizes_compute_the_fewest_pixels_that_fit(height, width, overlap, multiple, min_size):
    assert fit_tile_sizes(height, width, height * width, overlap, multiple, min_size) == (height, width)
    caps = [range(max(min_size, overlap + multiple), n + 1, multiple) for n in (height, width)]
    for max_area in (height * width - 1, height * width // 2, height * width // 5, 1):
        sizes = fit_tile_sizes(height, width, max_area, overlap, multiple, min_size)
        cost, largest = _grid_cost(height, width, sizes, overlap, multiple)
        options = [_grid_cost(height, width, (r, c), overlap, multiple) for r in [*caps[0], height]
                   for c in [*caps[1], width]]
        fitting = [o for o in options if o[1] <= max_area]
        if fitting:  # the cheapest fitting grid among all tile sizes of at least min_size
            assert largest <= max_area and cost == min(o[0] for o in fitting)
        else:  # nothing fits: the smallest tiles allowed
            assert largest == min(o[1] for o in options)


def test_ramps_are_complementary_over_an_overlap():
    a, b = ramp_weights(10, rise=0, fall=4), ramp_weights(10, rise=4, fall=0)
    assert torch.allclose(a[-4:] + b[:4], torch.ones(4))
    assert torch.allclose(b[:4], torch.tensor([0.2, 0.4, 0.6, 0.8]))


@pytest.mark.parametrize("factor", [1, 8, 16])
@pytest.mark.parametrize("size,even", [(4, True), ((6, 4), True), (4, False)])
def test_tile_weights_sum_to_one_on_the_output_grid(factor, size, even):
    tiles = plan_tiles(12, 10, size=size, overlap=2, multiple=2, even=even)
    total = torch.zeros(12 * factor, 10 * factor)
    for tile, weight in zip(tiles, tile_weights(tiles, factor)):
        assert weight.shape == (tile.rows.length * factor, tile.cols.length * factor)
        total[tile.rows.scaled(factor).slice, tile.cols.scaled(factor).slice] += weight
    assert torch.allclose(total, torch.ones_like(total), atol=1e-6)


def test_upscale_lr_is_bilinear_without_corner_alignment():
    x = torch.rand(1, 3, 2, 5, 7)
    up = upscale_lr(x, 2)
    ref = torch.nn.functional.interpolate(x[:, :, 1], scale_factor=2, mode="bilinear", align_corners=False)
    assert up.shape == (1, 3, 2, 10, 14) and torch.allclose(up[:, :, 1], ref)
    assert upscale_lr(x, 1) is x
    assert resize_video(x, (3, 3), "bicubic").max() <= 1
    with pytest.raises(ValueError, match="whole number"):
        upscale_lr(x, 0.5)


def test_scaled_size_tolerates_float_error_but_not_fractional_pixels():
    from fastvsr.ops.resize import scaled_size

    assert scaled_size(90, 60, 1 / 3) == (30, 20)
    with pytest.raises(ValueError, match="whole number"):
        scaled_size(45, 80, 0.5)
