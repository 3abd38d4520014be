"""Noise schedules, defined only by how a noisy latent mixes data and noise.

Two schedules share one small interface (``kind``, ``num_train_timesteps``, ``signal_noise(t)``):

* :class:`VPredictionSchedule` -- the CogVideoX DDPM schedule DOVE and FastVSR use (1000 steps, scaled-linear
  betas, zero terminal SNR, SNR shift 1.0 for the 5B models, v-prediction).  ``z_t = a_t x0 + s_t noise`` with
  ``a_t = sqrt(abar_t)`` and ``s_t = sqrt(1 - abar_t)``.  ``abar`` is taken from diffusers'
  ``CogVideoXDPMScheduler`` built from the same keyword arguments as the model's ``scheduler_config.json``, so
  the numbers are the library's, not a re-derivation.
* :class:`FlowSchedule` -- the straight (rectified-flow / shortcut-model) path ``z = (1 - tau) noise + tau x0``
  with flow time ``tau`` in ``[0, 1]`` (0 = noise, 1 = data, as in Frans et al. 2024). With ``shift > 1`` the
  time is warped as LTX-Video / SD3 shift their rectified-flow schedule: a uniform time ``u`` (the grid that
  training draws from and the sampler steps on, and the step sizes a shortcut model is told) maps to
  ``tau = warp(u)`` with noise level ``sigma = 1 - tau = shift * s / (1 + (shift - 1) * s)``, ``s = 1 - u``, so
  more of both is spent at high noise. ``shift = 1`` is the plain (uniform) schedule.

Timesteps ``t`` are always in schedule units ``[0, num_train_timesteps]`` with larger = noisier, for both
kinds; the flow schedule maps them with ``tau = 1 - t / num_train_timesteps``.  Non-integer ``t`` interpolates
``abar`` linearly between table entries (exact at integers).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fastvsr.config import require

SCHEDULE_KINDS = ("cogvideox_v", "flow")


@dataclass
class ScheduleConfig:
    """Which schedule and its parameters (defaults: CogVideoX1.5-5B ``scheduler_config.json``)."""

    kind: str = "cogvideox_v"  # "cogvideox_v" (DDPM, v-prediction) or "flow" (straight path, velocity)
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"
    rescale_betas_zero_snr: bool = True
    snr_shift_scale: float = 1.0  # 1.0 for CogVideoX-5B / 1.5-5B, 3.0 for CogVideoX-2B
    shift: float = 1.0  # flow only: the time warp of the shifted rectified-flow schedule (1 = uniform)

    def __post_init__(self) -> None:
        require(self.kind in SCHEDULE_KINDS, f"schedule.kind must be one of {SCHEDULE_KINDS}, got '{self.kind}'")
        require(self.num_train_timesteps > 0, "schedule.num_train_timesteps must be positive")
        require(self.shift > 0, f"schedule.shift must be > 0, got {self.shift}")
        require(self.kind == "flow" or self.shift == 1.0, "schedule.shift applies to the flow schedule only")


def _broadcast(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, 1, ...) matching ``like``'s rank, dtype and device."""
    return values.to(device=like.device, dtype=like.dtype).reshape(-1, *([1] * (like.ndim - 1)))


def _as_timesteps(t: torch.Tensor | float, batch: int) -> torch.Tensor:
    """Scalar or (B,) timesteps -> (B,) float64."""
    t = torch.as_tensor(t, dtype=torch.float64)
    return t.expand(batch).clone() if t.ndim == 0 else t.to(torch.float64)


class VPredictionSchedule:
    """CogVideoX DDPM schedule with v-prediction: ``v = a_t noise - s_t x0``."""

    kind = "cogvideox_v"

    def __init__(self, cfg: ScheduleConfig | None = None) -> None:
        from diffusers import CogVideoXDPMScheduler

        cfg = cfg or ScheduleConfig()
        scheduler = CogVideoXDPMScheduler(
            num_train_timesteps=cfg.num_train_timesteps, beta_start=cfg.beta_start, beta_end=cfg.beta_end,
            beta_schedule=cfg.beta_schedule, rescale_betas_zero_snr=cfg.rescale_betas_zero_snr,
            snr_shift_scale=cfg.snr_shift_scale, prediction_type="v_prediction",
        )
        self.num_train_timesteps = cfg.num_train_timesteps
        self.alphas_cumprod = scheduler.alphas_cumprod.to(torch.float64)  # (num_train_timesteps,)

    def abar(self, t: torch.Tensor) -> torch.Tensor:
        """``abar_t`` for (B,) float timesteps in ``[0, num_train_timesteps - 1]`` (linear interpolation)."""
        t = t.to(torch.float64).clamp(0, self.num_train_timesteps - 1)
        lo = t.floor().long()
        hi = (lo + 1).clamp(max=self.num_train_timesteps - 1)
        frac = t - lo
        table = self.alphas_cumprod.to(t.device)
        return table[lo] * (1 - frac) + table[hi] * frac

    def signal_noise(self, t: torch.Tensor | float, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(a_t, s_t)`` broadcast to ``like`` (B, ...): ``z_t = a_t x0 + s_t noise``."""
        abar = self.abar(_as_timesteps(t, like.shape[0]))
        return _broadcast(abar.sqrt(), like), _broadcast((1 - abar).sqrt(), like)


class FlowSchedule:
    """Straight path ``z = (1 - tau) noise + tau x0``, ``tau = 1 - t / num_train_timesteps``; velocity target."""

    kind = "flow"

    def __init__(self, cfg: ScheduleConfig | None = None) -> None:
        cfg = cfg or ScheduleConfig(kind="flow")
        self.num_train_timesteps = cfg.num_train_timesteps
        self.shift = cfg.shift

    @property
    def uniform(self) -> bool:
        """No time warp (``shift == 1``): ``warp`` is the identity and steps are equal."""
        return self.shift == 1.0

    def warp(self, u: torch.Tensor | float) -> torch.Tensor | float:
        """Flow time ``tau`` for uniform time ``u`` (both in ``[0, 1]``, 1 = data; same type and shape)."""
        if self.uniform:
            return u
        s = 1 - u
        return 1 - self.shift * s / (1 + (self.shift - 1) * s)

    def step(self, u: torch.Tensor | float, d: torch.Tensor | float) -> torch.Tensor | float:
        """Flow-time length ``warp(u + d) - warp(u)`` of the uniform step ``d`` at ``u`` (``d`` itself when
        uniform, exactly)."""
        return d if self.uniform else self.warp(u + d) - self.warp(u)

    def tau(self, t: torch.Tensor | float, batch: int) -> torch.Tensor:
        """Flow time in ``[0, 1]`` (1 = data) for schedule-unit timesteps, (B,) float64."""
        return 1 - _as_timesteps(t, batch) / self.num_train_timesteps

    def timestep(self, tau: torch.Tensor | float, batch: int) -> torch.Tensor:
        """Schedule-unit timesteps (B,) float32 for flow time ``tau``."""
        return ((1 - _as_timesteps(tau, batch)) * self.num_train_timesteps).float()

    def signal_noise(self, t: torch.Tensor | float, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tau, 1 - tau)`` broadcast to ``like``: ``z = tau x0 + (1 - tau) noise``."""
        tau = self.tau(t, like.shape[0])
        return _broadcast(tau, like), _broadcast(1 - tau, like)


Schedule = VPredictionSchedule | FlowSchedule


def build_schedule(cfg: ScheduleConfig) -> Schedule:
    """The schedule object for a config."""
    return VPredictionSchedule(cfg) if cfg.kind == "cogvideox_v" else FlowSchedule(cfg)


def add_noise(schedule: Schedule, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Forward process: ``z_t = a_t x0 + s_t noise`` (any shape with batch first)."""
    signal, sigma = schedule.signal_noise(t, x0)
    return signal * x0 + sigma * noise


def v_target(schedule: VPredictionSchedule, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor | float
             ) -> torch.Tensor:
    """The v-prediction training target ``v = a_t noise - s_t x0``."""
    signal, sigma = schedule.signal_noise(t, x0)
    return signal * noise - sigma * x0


def v_to_x0(schedule: VPredictionSchedule, v: torch.Tensor, z_t: torch.Tensor, t: torch.Tensor | float
            ) -> torch.Tensor:
    """Clean latent from a v-prediction: ``x0 = a_t z_t - s_t v`` (uses ``a_t^2 + s_t^2 = 1``)."""
    signal, sigma = schedule.signal_noise(t, z_t)
    return signal * z_t - sigma * v


def v_to_noise(schedule: VPredictionSchedule, v: torch.Tensor, z_t: torch.Tensor, t: torch.Tensor | float
               ) -> torch.Tensor:
    """Noise from a v-prediction: ``noise = s_t z_t + a_t v``."""
    signal, sigma = schedule.signal_noise(t, z_t)
    return sigma * z_t + signal * v
