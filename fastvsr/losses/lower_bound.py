"""FastVSR's lower-bound-guided objective for the f16 decoder (papers.md section 2.5, reading A).

The f16 decoder ``D16`` maps an f8 latent ``z`` to twice the resolution the f8 decoder ``D8`` gives. The obvious
way to get that resolution from the same latent is to decode with ``D8`` and upsample x2 (bicubic): the
*interpolation floor* ``y_lb = Up_x2(D8(z))``, a detail-free target ``D16`` can reach from its initialisation
(``F16Decoder.from_f8`` copies every ``D8`` weight) and must beat. Two ways to use it:

* ``annealed``: ``L = L_rec(D16(z), x_HR) + lambda(step) * L_rec(D16(z), y_lb)``, ``lambda`` decaying from
  ``weight`` to 0 on a half cosine over the first ``anneal_fraction`` of the steps;
* ``hinge``: ``L = L_rec(D16(z), x_HR) + weight * mean_b max(0, l_b(D16(z), x_HR) - l_b(y_lb, x_HR))``,
  penalising only the samples where ``D16`` is worse than the floor;
* ``off``: plain ``L_rec(D16(z), x_HR)``.

Whatever the mode, the floor's own error ``l(y_lb, x_HR)`` and ``l(D16(z), y_lb)`` are reported so the bound
is visible in the curves. Where the loss does not need the floor (:func:`floor_needed`), the trainer computes it
only on the steps it logs, which saves an f8 decode per step for most of an annealed run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import torch
import torch.nn.functional as F

from fastvsr.config import require
from fastvsr.losses.reconstruction import ReconstructionLoss
from fastvsr.ops.resize import bicubic_rescale


class LowerBoundMode(str, Enum):
    OFF = "off"
    ANNEALED = "annealed"
    HINGE = "hinge"


@dataclass
class LowerBoundConfig:
    """``weight`` is ``lambda`` at step 0 (annealed) or the constant hinge weight."""

    mode: LowerBoundMode = LowerBoundMode.ANNEALED
    weight: float = 1.0
    anneal_fraction: float = 0.3

    def __post_init__(self) -> None:
        require(self.weight >= 0, f"lower_bound.weight must be >= 0, got {self.weight}")
        require(0 < self.anneal_fraction <= 1, f"lower_bound.anneal_fraction must be in (0, 1], "
                f"got {self.anneal_fraction}")


def lower_bound_lambda(cfg: LowerBoundConfig, step: int, max_steps: int) -> float:
    """Weight of the lower-bound term at ``step`` (0-based) of ``max_steps``.

    ``annealed``: ``weight * (1 + cos(pi * step / horizon)) / 2`` for ``step < horizon = anneal_fraction *
    max_steps``, then 0. ``hinge``: ``weight``. ``off``: 0.
    """
    mode = LowerBoundMode(cfg.mode)
    if mode is LowerBoundMode.OFF:
        return 0.0
    if mode is LowerBoundMode.HINGE:
        return cfg.weight
    horizon = cfg.anneal_fraction * max_steps
    if step >= horizon:
        return 0.0
    return cfg.weight * 0.5 * (1.0 + math.cos(math.pi * step / horizon))


def floor_needed(mode: LowerBoundMode | str, lam: float) -> bool:
    """Whether the loss at weight ``lam`` depends on the floor (else it is only reported)."""
    mode = LowerBoundMode(mode)
    return mode is LowerBoundMode.HINGE or (mode is LowerBoundMode.ANNEALED and lam > 0)


def interpolation_floor(f8_output: torch.Tensor) -> torch.Tensor:
    """``y_lb = Up_x2(D8(z))``: the f8 decoder's output upsampled x2 (bicubic), without gradient.

    Shapes: ``(B, 3, T, H, W)`` -> ``(B, 3, T, 2H, 2W)``, float in ``[0, 1]``.
    """
    return bicubic_rescale(f8_output.detach().float(), 2.0)


def lower_bound_objective(loss_fn: ReconstructionLoss, pred: torch.Tensor, target: torch.Tensor,
                          floor: torch.Tensor | None, mode: LowerBoundMode | str, lam: float
                          ) -> tuple[torch.Tensor, dict[str, float]]:
    """The f16 decoder's loss and what to log.

    Args:
        loss_fn: the reconstruction loss ``l`` (per sample).
        pred: ``D16(z)``, ``(B, 3, T, H, W)`` in ``[0, 1]``.
        target: ``x_HR``, same shape.
        floor: ``y_lb``, same shape (see :func:`interpolation_floor`); may be ``None`` where
            :func:`floor_needed` is false, and the floor's two reported terms are then left out of ``logs``.
        mode: ``off`` / ``annealed`` / ``hinge``.
        lam: the current weight (:func:`lower_bound_lambda`).
    Returns:
        ``(loss, logs)``: the scalar loss to minimise; ``logs`` holds ``rec`` (and each weighted ``rec/<term>``),
        ``lower_bound`` (the unweighted guidance term of this mode; for ``off`` the ``annealed`` term, for
        reference) and ``floor_err`` (``l(y_lb, x_HR)``) when ``floor`` is given, ``lambda`` and ``total``.

    Raises:
        ValueError: ``floor`` is ``None`` but the loss needs it.
    """
    mode = LowerBoundMode(mode)
    terms = loss_fn.terms(pred, target)
    rec = torch.stack(list(terms.values())).sum(dim=0)  # (B,)
    total = rec.mean()
    logs = {"rec": total.item(), "lambda": lam}
    if floor is None:
        if floor_needed(mode, lam):
            raise ValueError(f"the {mode.value} lower bound at lambda {lam} needs the floor")
    else:
        with torch.no_grad():
            floor_err = loss_fn(floor, target)  # (B,)
        if mode is LowerBoundMode.HINGE:
            guide = F.relu(rec - floor_err)
        elif floor_needed(mode, lam):
            guide = loss_fn(pred, floor)
        else:
            with torch.no_grad():
                guide = loss_fn(pred, floor)
        total = total + lam * guide.mean()
        logs.update({"lower_bound": guide.mean().item(), "floor_err": floor_err.mean().item()})
    logs["total"] = total.item()
    logs.update({f"rec/{name}": value.mean().item() for name, value in terms.items()})
    return total, logs
