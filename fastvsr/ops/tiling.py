"""Index maths for temporal chunks and spatial tiles, and the blend weights that join them.

A long axis is covered by overlapping :class:`Span` s: temporal chunks by :func:`plan_spans` (a fixed size
and stride), latent rows and columns of spatial tiles by :func:`plan_even_spans` (the fewest spans of at most
a given size, all of one size, each overlapping its neighbours by at least the requested amount). Each
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
    _check_span_args(length, size, overlap, multiple)
    if size <= 0 or size >= length:
        return [Span(0, length)]
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


def even_span_count(length: int, size: int, overlap: int, multiple: int = 1) -> int:
    """The fewest spans of at most ``size`` starting on multiples of ``multiple`` that cover ``[0, length)``
    with neighbours overlapping by at least ``overlap``: ``ceil((L - O) / (S - O))`` in units of ``multiple``
    (``L = ceil(length / multiple)``); 1 when ``size <= 0`` or ``size >= length``."""
    if size <= 0 or size >= length:
        return 1
    units, size_u, overlap_u = -(-length // multiple), size // multiple, overlap // multiple
    return max(1, -(-(units - overlap_u) // (size_u - overlap_u)))


def plan_even_spans(length: int, size: int, overlap: int, multiple: int = 1) -> list[Span]:
    """Cover ``[0, length)`` with the fewest spans of at most ``size`` (:func:`even_span_count`), all of one size.

    The common size is the smallest multiple of ``multiple`` with which that many spans overlapping by
    ``overlap`` reach ``length``; the starts are spread evenly over ``[0, length - size]`` (rounded to
    multiples), so every overlap is at least ``overlap`` and the overlaps differ by at most ``multiple``. The
    last span is cut at ``length`` when ``length`` is not a multiple of ``multiple``. E.g. 80 columns, size
    64, overlap 8 -> ``[0, 44), [36, 80)``.

    Args:
        length: axis length (> 0).
        size: largest span length; a multiple of ``multiple``; ``<= 0`` or ``>= length``: one span.
        overlap: least overlap of neighbouring spans, ``0 <= overlap < size``; a multiple of ``multiple``.
        multiple: every start (and every span length but a cut last one) is a multiple of it.

    Returns:
        Spans with strictly increasing starts; their union is ``[0, length)``.
    """
    _check_span_args(length, size, overlap, multiple)
    count = even_span_count(length, size, overlap, multiple)
    if count == 1:
        return [Span(0, length)]
    common = even_span_size(length, count, overlap, multiple)
    spread = -(-length // multiple) - common // multiple  # starts (in units) go from 0 to spread, rounded half up
    starts = [(2 * i * spread + count - 1) // (2 * (count - 1)) * multiple for i in range(count)]
    return [Span(start, min(start + common, length)) for start in starts]


def even_span_size(length: int, count: int, overlap: int, multiple: int = 1) -> int:
    """The common length of ``count`` spans of :func:`plan_even_spans`: the smallest multiple of ``multiple``
    with which ``count`` spans overlapping by ``overlap`` reach ``length`` (``length`` itself for one span)."""
    if count <= 1:
        return length
    units, overlap_u = -(-length // multiple), overlap // multiple
    return -(-(units + (count - 1) * overlap_u) // count) * multiple


def _check_span_args(length: int, size: int, overlap: int, multiple: int) -> None:
    """ValueError unless ``length >= 1`` and, when ``0 < size < length``, ``0 <= overlap < size`` and both are
    multiples of ``multiple``."""
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if size <= 0 or size >= length:
        return
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, size={size}), got {overlap}")
    if size % multiple or overlap % multiple:
        raise ValueError(f"size {size} and overlap {overlap} must be multiples of {multiple}")


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
    """Normalised blend weights for spans from :func:`plan_spans` or :func:`plan_even_spans` (sorted by start,
    covering the axis).

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


def plan_tiles(height: int, width: int, size: int | tuple[int, int], overlap: int, multiple: int = 1,
               even: bool = True) -> list[Tile]:
    """Row-major grid of tiles at most ``size`` (or ``(rows, cols)``) long per axis, neighbours overlapping by at
    least ``overlap``.

    With ``even`` (the default) each axis gets the fewest tiles, all of one size (:func:`plan_even_spans`);
    with ``even=False`` full-size tiles at a fixed stride, the last one moved back inside the frame
    (:func:`plan_spans` with ``fit_last``), which computes more pixels whenever the axis is not a whole number
    of strides.

    Returns:
        Tiles covering ``[0, height) x [0, width)``; see :func:`plan_even_spans` for the arguments.
    """
    row_size, col_size = (size, size) if isinstance(size, int) else size
    if even:
        rows = plan_even_spans(height, row_size, overlap, multiple)
        cols = plan_even_spans(width, col_size, overlap, multiple)
    else:
        rows = plan_spans(height, row_size, overlap, multiple, fit_last=True)
        cols = plan_spans(width, col_size, overlap, multiple, fit_last=True)
    return [Tile(r, c) for r in rows for c in cols]


def _axis_options(length: int, overlap: int, multiple: int, min_size: int) -> list[tuple[int, int, int]]:
    """``(size cap, span length, covered total)`` of the even plans of an axis with 1, 2, ... spans down to
    spans of ``min_size`` (one span, the whole axis, when ``length <= min_size``)."""
    options = []
    for count in range(1, even_span_count(length, min_size, overlap, multiple) + 1):
        cap = even_span_size(length, count, overlap, multiple)
        spans = plan_even_spans(length, cap, overlap, multiple)
        options.append((cap, max(s.length for s in spans), sum(s.length for s in spans)))
    return options


def fit_tile_sizes(height: int, width: int, max_area: int, overlap: int, multiple: int = 1,
                   min_size: int = 1) -> tuple[int, int]:
    """``(rows, cols)`` tile sizes for :func:`plan_tiles`: the even grid that computes the fewest pixels among
    those whose largest tile has at most ``max_area`` pixels and whose tiles are at least ``min_size`` long
    (or the whole axis). ``(height, width)`` (no tiling) when the frame fits; the grid of the smallest tiles
    when nothing fits.

    Args:
        height, width: the axis lengths (> 0), e.g. of the latent frame.
        max_area: pixels one tile may have.
        overlap: least overlap of neighbouring tiles; ``min_size > overlap``; both multiples of ``multiple``.
        multiple: tile starts are multiples of it.
        min_size: the shortest tile side to consider.
    """
    if min_size <= overlap:
        raise ValueError(f"min_size {min_size} must be larger than the overlap {overlap}")
    rows, cols = (_axis_options(n, overlap, multiple, min_size) for n in (height, width))
    grids = [(r, c) for r in rows for c in cols]
    fitting = [(r[2] * c[2], r, c) for r, c in grids if r[1] * c[1] <= max_area]
    if not fitting:
        return rows[-1][0], cols[-1][0]
    _, row, col = min(fitting)
    return row[0], col[0]


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
