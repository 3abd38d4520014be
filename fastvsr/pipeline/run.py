"""What ``scripts/infer.py`` runs once its settings are loaded: one input or a batch, on one process or on the
processes of ``accelerate launch``, with one line per written output (or per batch file) and an exit code."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from fastvsr.errors import ConfigError
from fastvsr.pipeline.batch import batch_targets, resolve_inputs, run_batch
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.device import resolve_device
from fastvsr.pipeline.files import plan_outputs, super_resolve_path, write_outputs_split
from fastvsr.pipeline.loading import load_inference_model
from fastvsr.pipeline.profile import StageClock, print_profile, profiling
from fastvsr.pipeline.workers import launched_workers


@dataclass(frozen=True)
class InferRequest:
    """The command line's files and switches (the settings are an :class:`InferConfig`).

    ``input``: a video, image, frame folder, folder of clips or a glob (:func:`resolve_inputs`); ``output``:
    the target (a folder for a batch; ``None``: beside the input); ``model``: a model folder (``None``: the
    shipped default model)."""

    input: str
    output: str | None = None
    model: str | None = None
    compare: bool = False
    overwrite: bool = False
    skip_existing: bool = False
    quiet: bool = False
    profile: bool = False  # print seconds per stage (fastvsr.pipeline.profile) to stderr at the end


def run_infer(request: InferRequest, cfg: InferConfig) -> int:
    """Super-resolve ``request.input`` with ``cfg``; prints what was written (and with ``request.profile`` a
    table of seconds per stage, to stderr); returns the exit code (1 when a file of a batch failed, else 0).

    Raises:
        ConfigError / InputError / OutputError: bad settings, inputs or outputs (one line each), before any work
            where they can be known before it.
    """
    if not request.profile:
        return _run(request, cfg)
    clock, start = StageClock(resolve_device(cfg.device)), time.perf_counter()
    try:
        with profiling(clock):
            return _run(request, cfg)
    finally:
        print_profile(clock, time.perf_counter() - start)


def _run(request: InferRequest, cfg: InferConfig) -> int:
    if request.overwrite and request.skip_existing:
        raise ConfigError("--overwrite and --skip-existing contradict each other; choose one")
    inputs = resolve_inputs(request.input)
    workers = launched_workers()
    cfg = replace(cfg, device=workers.device(cfg.device))
    progress = not request.quiet and workers.main
    if inputs.batch:
        targets = batch_targets(inputs, request.output, cfg.scale, cfg.codec)
        model = load_inference_model(request.model, cfg)
        result = run_batch(inputs.clips, targets, model, cfg, workers, compare=request.compare,
                           overwrite=request.overwrite, skip_existing=request.skip_existing, progress=progress)
        if workers.main:
            print(result.summary())
        return 1 if result.failed else 0
    written: list[Path]
    if workers.count > 1:  # one video, frame ranges over the processes
        plan = plan_outputs(inputs.clips[0], request.output, cfg, request.compare, request.overwrite)
        written = write_outputs_split(plan, load_inference_model(request.model, cfg), cfg, workers, progress)
    else:
        written = super_resolve_path(inputs.clips[0], request.output, cfg, model_dir=request.model,
                                     compare=request.compare, overwrite=request.overwrite, progress=progress)
    for path in written:
        print(f"wrote {path}")
    return 0
