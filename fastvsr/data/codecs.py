"""Video codecs and pixel formats the writer offers, which containers hold them, and how each is encoded.

Checked against the FFmpeg bundled with PyAV (encoders ``libx264``, ``libx265``, ``ffv1``, ``prores_ks``):
every codec / pixel format / container combination allowed here encodes and decodes back; the others are
refused with one line before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".mov"})
PRESET = "medium"  # x264 / x265 speed-quality preset
PIX_FMTS = ("yuv420p", "yuv444p", "yuv420p10le", "yuv422p10le", "yuv444p10le")
_FULL_CHROMA = {"yuv420p": "yuv444p", "yuv420p10le": "yuv444p10le", "yuv422p10le": "yuv444p10le"}
_X265_QUIET = "log-level=error"


@dataclass(frozen=True)
class VideoCodec:
    """How one codec of the table :data:`CODECS` is written.

    Attributes:
        encoder: FFmpeg encoder.
        pix_fmts: pixel formats it stores (``*10le``: 10 bits per sample).
        suffixes: containers (file suffixes) that hold it.
        uses_crf: ``crf`` sets its quality (else ``crf`` is ignored).
        lossless: ``(encoder, pix_fmt, options)`` that store 8-bit RGB bit-exactly; ``None``: never lossless.
        options: encoder options besides ``crf``.
        min_width: narrowest frame it encodes (x265 in the bundled FFmpeg corrupts memory on frames narrower
            than one 64-pixel CTU, e.g. 48 x 32; measured, under CPU load it crashes every time).
        default_pix_fmt: the pixel format written when none is asked for.
        default_suffix: the container of an output whose name is not given (or whose input's does not hold it).
    """

    encoder: str
    pix_fmts: tuple[str, ...]
    suffixes: frozenset[str]
    uses_crf: bool
    lossless: tuple[str, str, dict[str, str]] | None
    options: dict[str, str] = field(default_factory=dict)
    min_width: int = 1
    default_pix_fmt: str = "yuv420p"
    default_suffix: str = ".mp4"

    def encoder_options(self, crf: int, pix_fmt: str) -> dict[str, str]:
        """Options of a lossy encode at ``crf`` (when the codec uses it) in ``pix_fmt``."""
        options = dict(self.options)
        if self.uses_crf:
            options["crf"] = str(crf)
        if self.encoder == "prores_ks":
            options["profile"] = "4444" if pix_fmt.startswith("yuv444") else "hq"
        return options


CODECS = {
    "h264": VideoCodec("libx264", PIX_FMTS, VIDEO_SUFFIXES, True, ("libx264rgb", "rgb24", {"qp": "0", "preset": PRESET}),
                       {"preset": PRESET}),
    "h265": VideoCodec("libx265", PIX_FMTS, VIDEO_SUFFIXES, True,
                       ("libx265", "gbrp", {"preset": PRESET, "x265-params": f"lossless=1:{_X265_QUIET}"}),
                       {"preset": PRESET, "x265-params": _X265_QUIET}, min_width=64),
    "ffv1": VideoCodec("ffv1", PIX_FMTS, frozenset({".mkv", ".mp4"}), False, ("ffv1", "bgr0", {})),
    "prores": VideoCodec("prores_ks", ("yuv422p10le", "yuv444p10le"), frozenset({".mov", ".mkv"}), False, None,
                         default_pix_fmt="yuv422p10le", default_suffix=".mov"),  # ProRes 422 HQ in QuickTime
}


def default_pix_fmt(codec: str) -> str:
    """The pixel format ``codec`` writes when none is asked for (``yuv420p``; prores: ``yuv422p10le``)."""
    return CODECS[codec].default_pix_fmt if codec in CODECS else PIX_FMTS[0]


def video_suffix(codec: str, preferred: str = ".mp4") -> str:
    """``preferred`` (a video suffix) when that container holds ``codec``, else the codec's default one."""
    spec = CODECS.get(codec)
    return preferred if spec is None or preferred in spec.suffixes else spec.default_suffix


def bit_depth(pix_fmt: str) -> int:
    """Bits per sample of one of :data:`PIX_FMTS` (8 or 10)."""
    return 10 if pix_fmt.endswith("10le") else 8


def full_chroma(pix_fmt: str) -> str:
    """The 4:4:4 format of ``pix_fmt``'s depth (for odd frame sizes, which subsampled chroma cannot hold)."""
    return _FULL_CHROMA.get(pix_fmt, pix_fmt)


def codec_problem(codec: str, pix_fmt: str, lossless: bool) -> str | None:
    """Why ``codec`` cannot write ``pix_fmt`` (``lossless`` or not), or ``None`` when it can."""
    if codec not in CODECS:
        return f"codec must be one of {', '.join(CODECS)}, got {codec!r}"
    if pix_fmt not in PIX_FMTS:
        return f"pix_fmt must be one of {', '.join(PIX_FMTS)}, got {pix_fmt!r}"
    spec = CODECS[codec]
    if lossless and spec.lossless is None:
        return f"{codec} is never lossless; use codec h264, h265 or ffv1 for lossless output"
    if lossless and bit_depth(pix_fmt) > 8:
        return (f"lossless output is 8-bit RGB, not {pix_fmt}; for 10 bits without loss in YUV use codec ffv1 "
                f"with pix_fmt {pix_fmt} and lossless off")
    if not lossless and pix_fmt not in spec.pix_fmts:
        return f"{codec} stores pix_fmt {', '.join(spec.pix_fmts)}, not {pix_fmt}"
    return None


def size_problem(codec: str, height: int, width: int) -> str | None:
    """Why ``codec`` cannot encode ``height`` x ``width`` frames, or ``None`` when it can."""
    narrowest = CODECS[codec].min_width
    if width >= narrowest:
        return None
    return f"{codec} needs frames at least {narrowest} pixels wide, got {width}x{height}; use codec h264 or ffv1"


def container_problem(codec: str, suffix: str) -> str | None:
    """Why a ``suffix`` file cannot hold ``codec``, or ``None`` when it can."""
    suffixes = CODECS[codec].suffixes
    if suffix in suffixes:
        return None
    return f"{suffix} cannot hold {codec}; use {' or '.join(sorted(suffixes))}"
