"""Real-world video degradations (RealBasicVSR / DOVE second-order pipeline) and the bicubic baseline.

One small function per stage (``kernels``, ``blur``, ``resize``, ``noise``, ``jpeg``, ``codec``), parameters
sampled once per clip (``params``), chained by ``pipeline``; the YAML schema is ``config``.
"""

from fastvsr.data.degradations.config import DegradationConfig, DegradationMode
from fastvsr.data.degradations.params import DegradationParams, sample_degradation
from fastvsr.data.degradations.pipeline import apply_degradation, bicubic_downscale, degrade, degrade_clip

__all__ = ["DegradationConfig", "DegradationMode", "DegradationParams", "apply_degradation", "bicubic_downscale",
           "degrade", "degrade_clip", "sample_degradation"]
