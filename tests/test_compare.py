"""Comparison outputs: captioned side-by-side frames and the still picture with zoomed crops."""

import torch
import torch.nn.functional as F

from fastvsr.ops.resize import resize_video
from fastvsr.pipeline.compare import NUM_CROPS, compare_figure, detailed_squares, side_by_side


def test_side_by_side_is_bicubic_then_restored_with_captions_only_at_the_top():
    lr, sr = torch.rand(3, 2, 12, 16), torch.rand(3, 2, 48, 64)
    both = side_by_side(lr, sr, ("bicubic x4", "FastVSR x4"))
    assert both.shape == (3, 2, 48, 128)
    plain = torch.cat([resize_video(lr[None], (48, 64), "bicubic")[0], sr], dim=-1)
    assert torch.equal(both[..., 24:, :], plain[..., 24:, :])  # below the captions: the frames themselves
    assert not torch.equal(both[..., :12, :40], plain[..., :12, :40])  # the left caption is there
    assert not torch.equal(both[..., :12, 64:104], plain[..., :12, 64:104])  # and the right one


def test_detailed_squares_finds_the_textured_region_first():
    frame = torch.full((3, 64, 96), 0.5)
    frame[:, 40:56, 8:24] = torch.rand(3, 16, 16)  # the only detail
    frame[:, 4:20, 70:86] = torch.rand(3, 16, 16) * 0.2 + 0.4  # weaker detail
    (top, left), (top2, left2) = detailed_squares(frame, 16, 2)
    assert abs(top - 40) <= 1 and abs(left - 8) <= 1
    assert abs(top2 - 4) <= 1 and abs(left2 - 70) <= 1  # not overlapping the first


def test_compare_figure_adds_a_row_of_magnified_crops_of_both_panels():
    lr, sr = torch.rand(3, 1, 16, 24), torch.full((3, 1, 64, 96), 0.5)
    sr[:, :, 40:56, 8:24] = torch.rand(3, 1, 16, 16)
    figure = compare_figure(lr, sr)
    tile = 96 // NUM_CROPS
    assert figure.shape == (3, 1, 64 + tile, 192)
    top, left = detailed_squares(sr[:, 0], 16, 1)[0]
    zoomed = F.interpolate(sr[:, :, top:top + 16, left:left + 16], size=(tile, tile), mode="nearest")
    restored_tile = figure[:, :, 64:, tile:2 * tile]  # crop 1: bicubic, then restored
    torch.testing.assert_close(restored_tile[..., 4:-4, 4:-4], zoomed[..., 4:-4, 4:-4])  # inside its frame
    assert figure.min() >= 0 and figure.max() <= 1
