"""Comparison outputs: the LR input upscaled bicubically | the restored output, captioned, and a still picture
of one frame with zoomed crops of its most detailed regions, so that the difference can be seen.

* :func:`side_by_side`: the two videos next to each other, each panel captioned in its top-left corner
  (``<output>_compare.mp4``);
* :func:`compare_figure`: one frame as a picture (``<output>_compare.png``): the captioned side-by-side on
  top, below it :data:`NUM_CROPS` crops of both panels magnified (nearest neighbour, so pixels stay pixels),
  each crop framed in its own colour in the panels above.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from fastvsr.ops.resize import resize_video

NUM_CROPS = 2
CROP_COLOURS = ((255, 64, 64), (64, 160, 255), (255, 200, 0), (80, 220, 120))


def side_by_side(lr: torch.Tensor, sr: torch.Tensor, labels: tuple[str, str] = ("bicubic", "restored")
                 ) -> torch.Tensor:
    """Bicubic upscale of ``lr`` to ``sr``'s size, placed left of ``sr``, each panel captioned.

    Args:
        lr: ``(3, T, H, W)`` float in ``[0, 1]``.
        sr: ``(3, T, H', W')`` float in ``[0, 1]``.
        labels: the captions of the left and right panels.

    Returns:
        ``(3, T, H', 2 * W')`` float in ``[0, 1]``.
    """
    both = torch.cat([_bicubic_like(lr, sr), sr.float()], dim=-1)
    return _caption(both, [(0, labels[0]), (sr.shape[-1], labels[1])])


def compare_figure(lr: torch.Tensor, sr: torch.Tensor, labels: tuple[str, str] = ("bicubic", "restored")
                   ) -> torch.Tensor:
    """One frame as a comparison picture: captioned side-by-side, then zoomed crops of both panels.

    The crops are the :data:`NUM_CROPS` squares of side ``min(H', W') // 4`` where the restored frame has the
    most detail (largest mean gradient magnitude, not overlapping), magnified to fill the width.

    Args:
        lr: ``(3, 1, H, W)`` float in ``[0, 1]``.
        sr: ``(3, 1, H', W')`` float in ``[0, 1]``.
        labels: the captions of the left and right panels.

    Returns:
        ``(3, 1, H' + crop_row, 2 * W')`` float in ``[0, 1]`` (the crop row is ``W' / NUM_CROPS`` high).
    """
    bicubic = _bicubic_like(lr, sr)
    sr = sr.float()
    height, width = sr.shape[-2:]
    side = max(min(height, width) // 4, 1)
    corners = detailed_squares(sr[:, 0], side, NUM_CROPS)
    tile = width // len(corners) if corners else 0
    tiles = []
    for top, left in corners:
        for panel in (bicubic, sr):
            crop = panel[:, :, top:top + side, left:left + side]
            tiles.append(F.interpolate(crop, size=(tile, tile), mode="nearest"))
    top_row = torch.cat([_frame(bicubic, corners, side), _frame(sr, corners, side)], dim=-1)
    top_row = _caption(top_row, [(0, labels[0]), (width, labels[1])])
    if not tiles:
        return top_row
    tiles = [_frame(t, [(0, 0)], tile, colours=[CROP_COLOURS[i // 2 % len(CROP_COLOURS)]])
             for i, t in enumerate(tiles)]
    crop_row = torch.cat(tiles, dim=-1)
    crop_row = F.pad(crop_row, (0, 2 * width - crop_row.shape[-1]))
    return torch.cat([top_row, crop_row], dim=-2)


def _bicubic_like(lr: torch.Tensor, sr: torch.Tensor) -> torch.Tensor:
    """``lr`` ``(3, T, H, W)`` upscaled bicubically to ``sr``'s size, float32 in ``[0, 1]``."""
    return resize_video(lr[None].float(), tuple(sr.shape[-2:]), mode="bicubic")[0]


def detailed_squares(frame: torch.Tensor, side: int, count: int) -> list[tuple[int, int]]:
    """``(top, left)`` of up to ``count`` non-overlapping ``side x side`` squares of ``frame`` ``(3, H, W)``
    with the largest mean gradient magnitude, most detailed first."""
    gray = frame.mean(dim=0)
    grad = (gray[1:, :-1] - gray[:-1, :-1]).abs() + (gray[:-1, 1:] - gray[:-1, :-1]).abs()
    if grad.shape[0] < side or grad.shape[1] < side:
        return []
    energy = F.avg_pool2d(grad[None, None], side, stride=1)[0, 0]  # mean over each square, by top-left
    chosen: list[tuple[int, int]] = []
    for _ in range(count):
        flat = int(torch.argmax(energy))
        top, left = divmod(flat, energy.shape[1])
        if energy[top, left] < 0:
            break
        chosen.append((top, left))
        energy[max(top - side + 1, 0):top + side, max(left - side + 1, 0):left + side] = -1.0
    return chosen


def _frame(video: torch.Tensor, corners: list[tuple[int, int]], side: int,
           colours: list[tuple[int, int, int]] | None = None) -> torch.Tensor:
    """``video`` ``(3, T, H, W)`` with a 2-pixel coloured square outline at each corner (a copy)."""
    out = video.clone()
    width = max(1, min(2, side // 8))
    for i, (top, left) in enumerate(corners):
        colour = torch.tensor((colours or CROP_COLOURS)[i % len(colours or CROP_COLOURS)]).float().div(255)
        colour = colour[:, None, None, None]
        bottom, right = top + side, left + side
        out[:, :, top:top + width, left:right] = colour
        out[:, :, bottom - width:bottom, left:right] = colour
        out[:, :, top:bottom, left:left + width] = colour
        out[:, :, top:bottom, right - width:right] = colour
    return out


def _caption(video: torch.Tensor, captions: list[tuple[int, str]]) -> torch.Tensor:
    """``video`` ``(3, T, H, W)`` in ``[0, 1]`` with each ``(x, text)`` written at the top, white on a dark
    box; the text layer is drawn once and blended into every frame."""
    height, width = video.shape[-2:]
    size = max(8, min(height // 12, 32))
    font = ImageFont.load_default(size=size)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    pad = max(2, size // 4)
    for x, text in captions:
        box = draw.textbbox((x + 2 * pad, pad), text, font=font)
        draw.rectangle((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), fill=(0, 0, 0, 160))
        draw.text((x + 2 * pad, pad), text, font=font, fill=(255, 255, 255, 255))
    rgba = torch.from_numpy(np.asarray(layer, dtype=np.float32) / 255.0)  # (H, W, 4)
    colour, alpha = rgba[..., :3].permute(2, 0, 1)[:, None], rgba[..., 3][None, None]
    return video * (1 - alpha) + colour * alpha
