"""Colour tags of videos (matrix, primaries, transfer, range) and the RGB <-> YUV conversions they imply.

The rule (docs/video_io.md): a tagged input keeps its tags, and its frames are converted with its matrix both
ways; an untagged one is BT.709 from 720 lines up and BT.601 below (what the standards and players assume).
Every video output is tagged. Tags are FFmpeg's names (``"bt709"``, ``"smpte170m"``, ``"tv"`` ...), which are
ITU-T H.273 code points underneath.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from av.video.reformatter import ColorRange, Colorspace

HD_LINES = 720  # frames at least this tall are HD: BT.709 unless tagged otherwise

MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco",
            9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c",
            14: "ictcp"}
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
             10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100",
             10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10",
             15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
RANGES = {1: "tv", 2: "pc"}
# YUV matrices swscale converts with (the others are kept as tags of nothing: never written)
SWS_MATRICES = {"bt709": Colorspace.ITU709, "fcc": Colorspace.FCC, "bt470bg": Colorspace.ITU601,
                "smpte170m": Colorspace.ITU601, "smpte240m": Colorspace.SMPTE240M, "bt2020nc": Colorspace.BT2020}
SWS_RANGES = {"tv": ColorRange.MPEG, "pc": ColorRange.JPEG}
_ATTRIBUTES = (("matrix", "colorspace", MATRICES), ("primaries", "color_primaries", PRIMARIES),
               ("transfer", "color_trc", TRANSFERS), ("range", "color_range", RANGES))


@dataclass(frozen=True)
class Colour:
    """Colour tags of a video; ``None``: not tagged.

    Attributes:
        matrix: YUV <-> RGB matrix (``"bt709"``, ``"smpte170m"``, ``"bt470bg"``, ``"bt2020nc"``, ``"gbr"`` for RGB).
        primaries: colour primaries (``"bt709"``, ``"smpte170m"``, ``"bt2020"`` ...).
        transfer: transfer characteristic (``"bt709"``, ``"smpte170m"``, ``"smpte2084"`` ...).
        range: ``"tv"`` (limited, 16-235 at 8 bits) or ``"pc"`` (full).
    """

    matrix: str | None = None
    primaries: str | None = None
    transfer: str | None = None
    range: str | None = None


def colour_of(tagged: object) -> Colour:
    """The tags of a decoded ``av.VideoFrame`` or a codec context (codes FFmpeg leaves unspecified -> ``None``)."""
    return Colour(**{field: table.get(int(getattr(tagged, attribute))) for field, attribute, table in _ATTRIBUTES})


def default_colour(height: int) -> Colour:
    """Tags of an untagged video ``height`` lines tall: BT.709 for HD (>= 720 lines), else BT.601 (SMPTE 170M);
    limited range."""
    name = "bt709" if height >= HD_LINES else "smpte170m"
    return Colour(matrix=name, primaries=name, transfer=name, range="tv")


def untagged_matrix(height: int) -> Colorspace | None:
    """Matrix to decode an untagged YUV frame of a video ``height`` lines tall with; ``None``: swscale's default,
    BT.601 (frames below 720 lines decode exactly as they always have)."""
    return Colorspace.ITU709 if height >= HD_LINES else None


def output_colour(source: Colour | None, height: int, rgb: bool) -> Colour:
    """Tags of a video output ``height`` lines tall: the source's tags where it has them (its matrix only where
    swscale can convert with it, its range only from a YUV source), the :func:`default_colour` elsewhere; RGB
    outputs are ``gbr``, full range."""
    tags = default_colour(height)
    if source is not None:
        fields = ("primaries", "transfer") if source.matrix == "gbr" else ("primaries", "transfer", "range")
        kept = {field: getattr(source, field) for field in fields if getattr(source, field)}
        if source.matrix in SWS_MATRICES:
            kept["matrix"] = source.matrix
        tags = replace(tags, **kept)
    return replace(tags, matrix="gbr", range="pc") if rgb else tags


def sws_matrix(colour: Colour) -> Colorspace:
    """The swscale matrix of ``colour`` (a tag without one -> BT.601)."""
    return SWS_MATRICES.get(colour.matrix or "", Colorspace.ITU601)


def sws_range(colour: Colour) -> ColorRange:
    """The swscale range of ``colour`` (untagged -> limited)."""
    return SWS_RANGES.get(colour.range or "", ColorRange.MPEG)


def apply_tags(target: object, colour: Colour) -> None:
    """Set ``colour``'s tags on an ``av.VideoFrame`` or an encoder's codec context (untagged fields stay)."""
    for field, attribute, table in _ATTRIBUTES:
        name = getattr(colour, field)
        if name is not None:
            setattr(target, attribute, next(code for code, known in table.items() if known == name))
