"""The colour-correction choices (``none``, ``wavelet``, ``wavelet_full``, ``adain``); a module of its own so
that command-line parsers list them without importing torch (the corrections are in :mod:`fastvsr.ops.color_fix`)."""

from __future__ import annotations

from enum import Enum


class ColorFix(str, Enum):
    NONE = "none"
    WAVELET = "wavelet"  # computed at the input's resolution
    WAVELET_FULL = "wavelet_full"  # the same fix computed at the output's resolution (the reference; slow on CPU)
    ADAIN = "adain"
