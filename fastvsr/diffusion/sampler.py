"""Samplers as pure functions of a denoiser callable; ``restore_latent`` is THE restoration forward.

Training and inference both call :func:`restore_latent`, so the latent that is supervised in training is
produced by exactly the code that runs at inference (DOVE duplicated this forward three times).

A denoiser is any callable ``denoiser(z_t, t, cond=None, step_size=None) -> prediction`` with latents
``(B, c, t, h, w)`` in and out, ``t`` a (B,) float tensor in schedule units and ``step_size`` a (B,) float
tensor (flow-time step ``d``) or None.  Its prediction is ``v`` for the CogVideoX v-schedule and the flow
velocity for the flow schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch

from fastvsr.config import require
from fastvsr.diffusion.schedule import (
    FlowSchedule,
    Schedule,
    ScheduleConfig,
    VPredictionSchedule,
    add_noise,
    v_to_noise,
    v_to_x0,
)
from fastvsr.errors import ConfigError


class Denoiser(Protocol):
    """What the samplers call (structural type; the models in ``fastvsr.models.denoisers`` satisfy it)."""

    def __call__(self, z_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None,
                 step_size: torch.Tensor | None = None) -> torch.Tensor: ...


@dataclass
class SamplerConfig:
    """Sampler settings saved with a model: schedule, number of steps and the start timestep ``t_star``.

    ``trained_steps``: the step counts a shortcut model was trained for (its step sizes ``1 / n``), written by
    the shortcut stage; restoring with another count is an error (:func:`check_shortcut_steps`).
    """

    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    steps: int = 1
    t_star: float = 399.0  # DOVE / FastVSR: the LR latent is the noisy latent at t = 399
    trained_steps: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        require(self.steps >= 1, f"sampler.steps must be >= 1, got {self.steps}")
        require(all(n >= 1 for n in self.trained_steps), "sampler.trained_steps must be >= 1")
        require(0 <= self.t_star <= self.schedule.num_train_timesteps,
                f"sampler.t_star must be in [0, {self.schedule.num_train_timesteps}], got {self.t_star}")


def shortcut_step_counts(finest_steps: int) -> list[int]:
    """The step counts a shortcut model trained down to step ``1 / finest_steps`` can sample with:
    ``1, 2, 4, ..., finest_steps`` (its self-consistency levels plus the finest, flow-matching step)."""
    return [2 ** k for k in range(finest_steps.bit_length())]


def check_shortcut_steps(steps: int, trained_steps: list[int]) -> None:
    """Raise :class:`ConfigError` unless a shortcut model may sample with ``steps``: one of ``trained_steps``,
    or (nothing recorded) a power of two, the only step sizes shortcut training uses."""
    allowed = trained_steps or None
    if (allowed and steps not in allowed) or (not allowed and steps & (steps - 1)):
        counts = ", ".join(map(str, allowed)) if allowed else "powers of two"
        raise ConfigError(f"steps={steps}: this shortcut model was trained for {counts} steps; choose one of those")


def _timesteps(value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A (B,) float32 tensor on ``like``'s device."""
    return torch.as_tensor(value, dtype=torch.float32, device=like.device).expand(like.shape[0]).clone()


def identity_input_skip(schedule: VPredictionSchedule, t_star: float = 399.0) -> float:
    """``(a - 1) / s`` at ``t_star``: the ``input_skip`` of a denoiser whose zero network output makes
    :func:`one_step_restore` return its input latent unchanged (``x0 = a z - s v`` with ``v = (a - 1) / s * z``)."""
    abar = float(schedule.abar(torch.tensor([float(t_star)]))[0])
    a, s = abar ** 0.5, (1.0 - abar) ** 0.5
    return (a - 1.0) / s


def one_step_restore(denoiser: Denoiser, z_t: torch.Tensor, *, schedule: VPredictionSchedule,
                     t_star: float = 399.0, cond: torch.Tensor | None = None) -> torch.Tensor:
    """DOVE's one step: treat ``z_t`` as the noisy latent at ``t_star``; ``x0 = a z_t - s v_hat``.

    Args:
        z_t: (B, c, t, h, w) latent (the encoded LR video, no noise added).
    Returns:
        (B, c, t, h, w) estimate of the clean latent.
    """
    t = _timesteps(t_star, z_t)
    return v_to_x0(schedule, denoiser(z_t, t, cond=cond), z_t, t)


def ddim_v_sample(denoiser: Denoiser, z_t: torch.Tensor, *, schedule: VPredictionSchedule, t_start: float,
                  steps: int, cond: torch.Tensor | None = None) -> torch.Tensor:
    """Deterministic DDIM with v-prediction from ``t_start`` to 0 in ``steps`` evenly spaced steps.

    Each step re-noises the current ``x0`` estimate with the current noise estimate at the next timestep;
    ``steps=1`` equals :func:`one_step_restore`.  Returns the (B, c, t, h, w) clean-latent estimate.
    """
    grid = torch.linspace(t_start, 0.0, steps + 1).tolist()
    z = z_t
    for t_now, t_next in zip(grid[:-1], grid[1:]):
        t = _timesteps(t_now, z)
        v = denoiser(z, t, cond=cond)
        x0, noise = v_to_x0(schedule, v, z, t), v_to_noise(schedule, v, z, t)
        z = x0 if t_next == 0.0 else add_noise(schedule, x0, noise, _timesteps(t_next, z))
    return z


def shortcut_sample(denoiser: Denoiser, x: torch.Tensor, *, schedule: FlowSchedule, steps: int,
                    u_start: float = 0.0, cond: torch.Tensor | None = None) -> torch.Tensor:
    """Euler integration of the flow from uniform time ``u_start`` to 1 in ``steps`` equal uniform steps
    (shortcut sampling).

    The uniform step ``d = (1 - u_start) / steps`` (``1 / steps`` from pure noise) is passed to the denoiser as
    ``step_size`` so a shortcut model can jump; ``x <- x + schedule.step(u, d) * s(x, t(warp(u)), d)`` (the
    flow-time length of the step: ``d`` on the uniform schedule).  Returns the (B, c, t, h, w) state at
    ``tau = 1`` (data).
    """
    d = (1.0 - u_start) / steps
    step_size = _timesteps(d, x)
    for i in range(steps):
        u = u_start + i * d
        t = schedule.timestep(schedule.warp(u), x.shape[0]).to(x.device)
        x = x + schedule.step(u, d) * denoiser(x, t, cond=cond, step_size=step_size)
    return x


def _noise_like(z: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    device = generator.device if generator is not None else z.device
    return torch.randn(z.shape, generator=generator, device=device, dtype=z.dtype).to(z.device)


def restore_latent(denoiser: Denoiser, z_lq: torch.Tensor, *, schedule: Schedule, steps: int = 1,
                   t_star: float = 399.0, cond: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """The restoration forward shared by training and inference: LR latent -> restored latent.

    * v-schedule (DOVE / FastVSR): ``z_lq`` is taken as the noisy latent at ``t_star`` (no noise added); one
      step is ``x0 = a z_lq - s v_hat``; ``steps > 1`` runs deterministic DDIM from ``t_star`` to 0.
    * flow schedule (TurboVSR-style shortcut): start at uniform time ``u0 = 1 - t_star / T`` (flow time
      ``tau0 = warp(u0)``) from ``tau0 z_lq + (1 - tau0) noise`` (noise drawn with ``generator``; ``t_star = T``
      starts from pure noise with the LR supplied through ``cond``), then ``steps`` Euler steps of uniform size
      ``d = (1 - u0) / steps`` (:func:`shortcut_sample`).

    Args:
        denoiser: ``denoiser(z_t, t, cond=None, step_size=None)`` (see module docstring).
        z_lq: (B, c, t, h, w) latent of the (upscaled) LR video.
        schedule: a :class:`VPredictionSchedule` or :class:`FlowSchedule`.
        steps: number of denoiser evaluations (>= 1).
        t_star: start timestep in schedule units.
        cond: optional (B, c_cond, t, h, w) conditioning latent passed to every denoiser call.
        generator: randomness for the flow start noise (unused by the deterministic v-schedule).
    Returns:
        (B, c, t, h, w) restored latent, same dtype and device as ``z_lq``.
    """
    require(steps >= 1, f"steps must be >= 1, got {steps}")
    if isinstance(schedule, VPredictionSchedule):
        if steps == 1:
            return one_step_restore(denoiser, z_lq, schedule=schedule, t_star=t_star, cond=cond)
        return ddim_v_sample(denoiser, z_lq, schedule=schedule, t_start=t_star, steps=steps, cond=cond)
    u0 = float(schedule.tau(t_star, 1)[0])
    tau0 = float(schedule.warp(u0))
    x = z_lq if tau0 >= 1.0 else tau0 * z_lq + (1.0 - tau0) * _noise_like(z_lq, generator)
    return shortcut_sample(denoiser, x, schedule=schedule, steps=steps, u_start=u0, cond=cond)


def flow_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Flow-matching velocity target of the straight path ``z = tau x0 + (1 - tau) noise``: ``x0 - noise``."""
    return x0 - noise


@torch.no_grad()
def shortcut_bootstrap_target(denoiser: Denoiser, x: torch.Tensor, u: torch.Tensor, step_size: torch.Tensor, *,
                              schedule: FlowSchedule, cond: torch.Tensor | None = None,
                              clip: float | None = 4.0) -> torch.Tensor:
    """Self-consistency target of shortcut models (Frans et al. 2024): two half steps make one full step.

    With ``d' = d / 2``: ``s1 = s(x, u, d')``, ``x' = x + D1 s1``, ``s2 = s(x', u + d', d')`` and the target for
    ``s(x, u, d)`` is ``(D1 s1 + D2 s2) / (D1 + D2)``, where ``D1``, ``D2`` are the flow-time lengths of the two
    half steps (``schedule.step``; on the uniform schedule both are ``d'`` and the target is ``(s1 + s2) / 2``).
    The gradient is stopped; ``clip`` bounds ``x'`` and the target as the reference code does (None disables
    it). Pass the EMA denoiser, as the paper does.

    Args:
        x: (B, c, t, h, w) state at flow time ``warp(u)``; u, step_size: (B,) uniform times and steps ``d``.
    Returns:
        (B, c, t, h, w) target velocity.
    """
    half = step_size / 2
    view = (-1,) + (1,) * (x.ndim - 1)
    u_mid = u + half
    s1 = denoiser(x, schedule.timestep(schedule.warp(u), x.shape[0]).to(x.device), cond=cond, step_size=half)
    first, second = schedule.step(u, half), schedule.step(u_mid, half)
    x_mid = x + first.reshape(view).to(x.dtype) * s1
    if clip is not None:
        x_mid = x_mid.clamp(-clip, clip)
    s2 = denoiser(x_mid, schedule.timestep(schedule.warp(u_mid), x.shape[0]).to(x.device), cond=cond,
                  step_size=half)
    if schedule.uniform:
        target = (s1 + s2) / 2
    else:
        target = (first.reshape(view) * s1 + second.reshape(view) * s2) / (first + second).reshape(view)
    return target.clamp(-clip, clip) if clip is not None else target
