"""The colour-correction choices (``none``, ``wavelet``, ``adain``); a module of its own so that command-line
parsers list them without importing torch (the corrections are in :mod:`fastvsr.ops.color_fix`)."""

from __future__ import annotations

from enum import Enum


class ColorFix(str, Enum):
    NONE = "none"
    WAVELET = "wavelet"
    ADAIN = "adain"
