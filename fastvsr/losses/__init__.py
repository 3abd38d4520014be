"""Losses on videos ``(B, C, T, H, W)`` in ``[0, 1]``: pixel, frame-difference, perceptual, KL, lower bound."""

from fastvsr.losses.kl import gaussian_kl_per_sample
from fastvsr.losses.lower_bound import (
    LowerBoundConfig,
    LowerBoundMode,
    floor_needed,
    interpolation_floor,
    lower_bound_lambda,
    lower_bound_objective,
)
from fastvsr.losses.perceptual import BackboneWeights, DISTSLoss, LPIPSLoss, Perceptual, build_perceptual
from fastvsr.losses.pixel import frame_difference_l1, l1_per_sample, mse_per_sample
from fastvsr.losses.reconstruction import ReconstructionLoss, ReconstructionLossConfig, batch_total

__all__ = [
    "gaussian_kl_per_sample", "LowerBoundConfig", "LowerBoundMode", "floor_needed",
    "interpolation_floor", "lower_bound_lambda", "lower_bound_objective", "BackboneWeights", "DISTSLoss",
    "LPIPSLoss", "Perceptual", "build_perceptual", "frame_difference_l1", "l1_per_sample", "mse_per_sample",
    "ReconstructionLoss", "ReconstructionLossConfig", "batch_total",
]
