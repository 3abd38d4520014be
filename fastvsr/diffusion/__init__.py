"""Schedules and samplers as pure functions of a denoiser callable (no model imports)."""

from fastvsr.diffusion.sampler import (
    Denoiser,
    SamplerConfig,
    ddim_v_sample,
    flow_target,
    one_step_restore,
    restore_latent,
    shortcut_bootstrap_target,
    shortcut_sample,
)
from fastvsr.diffusion.schedule import (
    FlowSchedule,
    Schedule,
    ScheduleConfig,
    VPredictionSchedule,
    add_noise,
    build_schedule,
    v_target,
    v_to_noise,
    v_to_x0,
)

__all__ = [
    "Denoiser", "SamplerConfig", "ddim_v_sample", "one_step_restore", "restore_latent", "shortcut_sample",
    "flow_target", "shortcut_bootstrap_target",
    "FlowSchedule", "Schedule", "ScheduleConfig", "VPredictionSchedule", "add_noise", "build_schedule",
    "v_target", "v_to_noise", "v_to_x0",
]
