"""Blur kernels, ``(N, k, k)`` float32 tensors that sum to 1 (one kernel per frame).

The isotropic Gaussian comes from kornia. Rotated anisotropic Gaussians, their generalised (``exp(-d^beta)``)
and plateau (``1 / (1 + d^beta)``) variants and the circular sinc low-pass are not in kornia and are written
here from their formulas (Wang et al., Real-ESRGAN, 2021, Sec. 3.1).
"""

from __future__ import annotations

import numpy as np
import torch
from kornia.filters import get_gaussian_kernel2d
from scipy.special import j1


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets ``(x, y)`` from the centre of an odd ``size x size`` kernel."""
    r = np.arange(size, dtype=np.float64) - size // 2
    return np.meshgrid(r, r, indexing="xy")


def _normalised(kernel: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(kernel / kernel.sum(axis=(-2, -1), keepdims=True)).float()


def isotropic_gaussian(size: int, sigma: np.ndarray) -> torch.Tensor:
    """Isotropic Gaussian kernels, one per entry of ``sigma`` (pixels). Returns ``(len(sigma), size, size)``."""
    sigmas = torch.as_tensor(np.asarray(sigma, dtype=np.float64), dtype=torch.float32)[:, None].expand(-1, 2)
    return get_gaussian_kernel2d((size, size), sigmas)


def mahalanobis(size: int, sigma_x: np.ndarray, sigma_y: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Squared distance ``d^2 = p^T C^-1 p`` of every kernel pixel ``p`` under the covariance ``C = R diag(sx^2,
    sy^2) R^T`` (``R`` rotates by ``rotation`` radians). Arrays of length N in, ``(N, size, size)`` out."""
    x, y = _grid(size)
    sx, sy, th = (np.asarray(v, dtype=np.float64)[:, None, None] for v in (sigma_x, sigma_y, rotation))
    u = np.cos(th) * x + np.sin(th) * y  # coordinates along the rotated axes
    v = -np.sin(th) * x + np.cos(th) * y
    return (u / sx) ** 2 + (v / sy) ** 2


def anisotropic_kernel(kind: str, size: int, sigma_x: np.ndarray, sigma_y: np.ndarray, rotation: np.ndarray,
                       beta: np.ndarray) -> torch.Tensor:
    """Rotated anisotropic kernels of shape family ``kind``: ``"gaussian"`` (``exp(-d^2/2)``), ``"generalized"``
    (``exp(-0.5 (d^2)^beta)``) or ``"plateau"`` (``1 / (1 + (d^2)^beta)``). Per-frame parameter arrays of
    length N; returns ``(N, size, size)``, each kernel summing to 1. ``sigma_x == sigma_y`` gives isotropic ones."""
    d2 = mahalanobis(size, sigma_x, sigma_y, rotation)
    b = np.asarray(beta, dtype=np.float64)[:, None, None]
    if kind == "gaussian":
        kernel = np.exp(-0.5 * d2)
    elif kind == "generalized":
        kernel = np.exp(-0.5 * d2**b)
    elif kind == "plateau":
        kernel = 1.0 / (1.0 + d2**b)
    else:
        raise ValueError(f"unknown kernel family {kind!r}")
    return _normalised(kernel)


def sinc_kernel(size: int, omega: np.ndarray) -> torch.Tensor:
    """Circular low-pass (2-D "sinc", Airy pattern) kernels with cut-off frequency ``omega`` (radians per pixel,
    ``pi`` = no filtering): ``omega J1(omega r) / (2 pi r)``. Returns ``(len(omega), size, size)``; ringing
    and over-shoot artefacts are what it is for."""
    x, y = _grid(size)
    r = np.hypot(x, y)[None]
    w = np.asarray(omega, dtype=np.float64)[:, None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = w * j1(w * r) / (2 * np.pi * r)
    kernel = np.where(r == 0, w**2 / (4 * np.pi), kernel)
    return _normalised(kernel)
