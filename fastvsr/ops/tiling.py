"""Index maths for temporal chunks and spatial tiles, and the blend weights that join them.

A long axis (frames, latent rows or columns) is covered by overlapping :class:`Span` s of a fixed size. Each
span gets a trapezoid weight (linear ramps over its overlaps with its neighbours) and the weights are
normalised so that, at every position, the weights of the spans covering it sum to 1: blending restored
pieces with these weights is a cross-fade, never a hard cut, and reproduces the input exactly when all pieces
agree. Spatial tiles are the product of a row plan and a column plan; their 2D weights are the outer products
of the 1D weights and therefore also sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Span:
    """Half-open index range ``[start, stop)`` along one axis."""

    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def scaled(self, factor: int) -> Span:
        """The same span on an axis ``factor`` times longer (e.g. latent -> pixels)."""
        return Span(self.start * factor, self.stop * factor)


def plan_spans(length: int, size: int, overlap: int, multiple: int = 1, fit_last: bool = False) -> list[Span]:
    """Cover ``[0, length)`` with spans of ``size`` whose neighbours overlap by ``overlap``.

    Spans start at multiples of ``size - overlap``. The last span ends at ``length``: it is shorter than
    ``size``, or with ``fit_last=True`` it is moved back to start at ``length - size`` (a full-size span with a
    larger overlap). ``size <= 0`` or ``size >= length`` gives one span over the whole axis.

    Args:
        length: axis length (> 0).
        size: span length; a multiple of ``multiple``.
        overlap: overlap of neighbouring spans, ``0 <= overlap < size``; a multiple of ``multiple``.
        multiple: every start is a multiple of it (so is ``length - size`` when ``fit_last``).

    Returns:
        Spans with strictly increasing starts; their union is ``[0, length)``.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if size <= 0 or size >= length:
        return [Span(0, length)]
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, size={size}), got {overlap}")
    if size % multiple or overlap % multiple:
        raise ValueError(f"size {size} and overlap {overlap} must be multiples of {multiple}")
    stride = size - overlap
    spans = []
    start = 0
    while True:
        stop = min(start + size, length)
        spans.append(Span(start, stop))
        if stop == length:
            break
        start += stride
    if fit_last and spans[-1].length < size:
        last_start = (length - size) // multiple * multiple
        spans[-1] = Span(last_start, length)
        if len(spans) > 1 and spans[-2].start >= last_start:  # the moved span covers its neighbour
            spans.pop(-2)
    return spans


def ramp_weights(length: int, rise: int, fall: int) -> torch.Tensor:
    """Trapezoid weight of a span: ramps ``(i + 1) / (rise + 1)`` up over the first ``rise`` positions and down
    symmetrically over the last ``fall``, 1 in between. Two neighbours' ramps over the same ``n`` positions
    are complementary (they sum to exactly 1). Returns a ``(length,)`` float32 tensor in ``(0, 1]``.
    """
    pos = torch.arange(length, dtype=torch.float64)
    up = (pos + 1) / (rise + 1)
    down = (length - pos) / (fall + 1)
    return torch.minimum(torch.minimum(up, down), torch.ones_like(pos)).float()


def blend_weights(spans: list[Span]) -> list[torch.Tensor]:
    """Normalised blend weights for spans from :func:`plan_spans` (sorted by start, covering the axis).

    Returns:
        One ``(span.length,)`` float32 tensor per span; at every covered position the weights of all spans
        covering it sum to 1.
    """
    raw = []
    for i, span in enumerate(spans):
        rise = max(0, spans[i - 1].stop - span.start) if i > 0 else 0
        fall = max(0, span.stop - spans[i + 1].start) if i + 1 < len(spans) else 0
        raw.append(ramp_weights(span.length, min(rise, span.length), min(fall, span.length)))
    end = max(span.stop for span in spans)
    total = torch.zeros(end, dtype=torch.float64)
    for span, weight in zip(spans, raw):
        total[span.slice] += weight.double()
    return [(weight.double() / total[span.slice]).float() for span, weight in zip(spans, raw)]


@dataclass(frozen=True)
class Tile:
    """One spatial tile: a row span and a column span (both in the same units, e.g. latent pixels)."""

    rows: Span
    cols: Span


def plan_tiles(height: int, width: int, size: int, overlap: int, multiple: int = 1) -> list[Tile]:
    """Row-major grid of tiles of ``size x size`` overlapping by ``overlap`` (edge tiles fitted inside).

    Returns:
        Tiles covering ``[0, height) x [0, width)``; see :func:`plan_spans` for the arguments.
    """
    rows = plan_spans(height, size, overlap, multiple, fit_last=True)
    cols = plan_spans(width, size, overlap, multiple, fit_last=True)
    return [Tile(r, c) for r in rows for c in cols]


def tile_weights(tiles: list[Tile], factor: int = 1) -> list[torch.Tensor]:
    """2D blend weights for ``tiles`` on a grid ``factor`` times finer (e.g. latent tiles -> output pixels).

    Returns:
        One ``(rows.length * factor, cols.length * factor)`` float32 tensor per tile; at every output pixel
        the weights of the tiles covering it sum to 1.
    """
    row_spans = sorted({t.rows for t in tiles}, key=lambda s: s.start)
    col_spans = sorted({t.cols for t in tiles}, key=lambda s: s.start)
    row_w = dict(zip(row_spans, blend_weights([s.scaled(factor) for s in row_spans])))
    col_w = dict(zip(col_spans, blend_weights([s.scaled(factor) for s in col_spans])))
    return [torch.outer(row_w[t.rows], col_w[t.cols]) for t in tiles]
