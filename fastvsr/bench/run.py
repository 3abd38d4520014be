"""The benchmark runner: count, time and measure every variant of a :class:`BenchConfig` side by side.

Per variant the LR clip goes through the model contract, as inference does (``fastvsr.pipeline.upscale``
without tiling): ``prepare_input`` (upscale by ``model.input_upscale(scale)`` and pad to the model's
multiples), ``encode``, ``restore`` (the denoiser), ``decode`` and ``unpad_output``.  MACs are counted on the meta device (nothing allocated); latency
and peak memory are measured on the configured device with random weights (costs do not depend on values).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import partial
from typing import Protocol

import torch
from tqdm import tqdm

from fastvsr.bench.config import BenchConfig
from fastvsr.bench.macs import StageMacs
from fastvsr.bench.memory import track_peak_memory
from fastvsr.bench.results import BenchReport, Target, VariantResult
from fastvsr.bench.timing import StageClock, time_stages
from fastvsr.bench.variants import build_variants, denoiser_tokens, pipeline_parameters, variant_label
from fastvsr.config import config_to_dict
from fastvsr.models.bundle import VSRModel
from fastvsr.pipeline.device import resolve_device, resolve_dtype
from fastvsr.pipeline.memory import keep_freed_memory

META = torch.device("meta")
NO_GPU = "n/a (no GPU)"


class StageRecorder(Protocol):
    """:class:`StageClock` or :class:`StageMacs`."""

    def stage(self, name: str) -> AbstractContextManager[None]: ...


def restore_in_stages(model: VSRModel, lr: torch.Tensor, scale: int, recorder: StageRecorder) -> torch.Tensor:
    """Restore ``lr`` ``(B, 3, T, h, w)`` in ``[0, 1]`` to ``(B, 3, T, h*scale, w*scale)`` in ``[0, 1]``, each
    stage (upscale, encode, denoise, decode) inside ``recorder.stage(name)``."""
    with recorder.stage("upscale"):
        x, pad = model.prepare_input(lr, scale)
    with recorder.stage("encode"):
        z = model.encode(x)
    with recorder.stage("denoise"):
        z = model.restore(z)
    with recorder.stage("decode"):
        return model.unpad_output(model.decode(z), pad)


def _lr_clip(cfg: BenchConfig, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The benchmark's LR input ``(B, 3, T, h, w)``: uniform noise in ``[0, 1]`` (empty on meta)."""
    c = cfg.clip
    shape = (c.batch, 3, c.frames, c.lr_height, c.lr_width)
    if device.type == "meta":
        return torch.empty(shape, device=device, dtype=dtype)
    generator = torch.Generator().manual_seed(cfg.seed)
    return torch.rand(shape, generator=generator).to(device=device, dtype=dtype)


def _geometry(model: VSRModel, lr: torch.Tensor, scale: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(T, H, W) of the padded encoder input and (c, t, h, w) of its latent (the model contract)."""
    t, h, w = model.prepare_input(lr, scale)[0].shape[2:]
    vae = model.vae
    return (t, h, w), (vae.latent_channels, (t - 1) // vae.temporal_factor + 1, h // vae.spatial_factor,
                       w // vae.spatial_factor)


def count_variants(cfg: BenchConfig, progress: bool = False) -> dict[str, VariantResult]:
    """Build every variant on the meta device; count its parameters and per-stage MACs (``cfg.count_macs``)."""
    with META:
        models = build_variants(cfg)
    lr = _lr_clip(cfg, META, torch.float32)
    weight_size = torch.empty((), dtype=resolve_dtype(cfg.timing.dtype, resolve_device(cfg.timing.device))
                              ).element_size()
    results: dict[str, VariantResult] = {}
    for name, model in tqdm(models.items(), desc="counting MACs", disable=not progress, leave=False):
        stages = StageMacs()
        out = restore_in_stages(model, lr, cfg.clip.scale, stages) if cfg.count_macs else None
        encoder_input, latent = _geometry(model, lr, cfg.clip.scale)
        params = sum(p.numel() for p in pipeline_parameters(model))
        results[name] = VariantResult(
            name=name, label=variant_label(model, cfg.clip.scale), params=params, weight_bytes=params * weight_size,
            macs=stages.macs, encoder_input=encoder_input, latent=latent,
            tokens=denoiser_tokens(model.denoiser, latent),
            output=tuple(out.shape[2:]) if out is not None else ())
    return results


def latency_note(cfg: BenchConfig) -> str:
    """Why latency is not measured ("" when it is): a CPU run with ``timing.cpu: false``."""
    device = resolve_device(cfg.timing.device)
    return NO_GPU if device.type == "cpu" and not cfg.timing.cpu else ""


def measure_variants(cfg: BenchConfig, results: dict[str, VariantResult], progress: bool = False) -> None:
    """Time (interleaved, medians) and measure the peak memory of every built variant; fills ``results``.

    Models are built on the device with random weights in ``timing.dtype``. On CPU the process keeps freed
    memory first (:func:`fastvsr.pipeline.memory.keep_freed_memory`, as inference does), so feature maps
    above glibc's mmap threshold do not cost fresh zeroed pages on every run.  Peak memory of a variant is its
    own weights plus the peak its run adds over the memory in use before it (so the shared VAE/denoiser and
    the other variants' decoders resident at the same time do not count twice).
    """
    device = resolve_device(cfg.timing.device)
    dtype = resolve_dtype(cfg.timing.dtype, device)
    if cfg.timing.threads and device.type == "cpu":
        torch.set_num_threads(cfg.timing.threads)
    if device.type == "cpu":  # time the models, not page faults: freed memory is reused, as in the pipeline
        keep_freed_memory()
    torch.manual_seed(cfg.seed)
    with device:
        built = build_variants(cfg)
    models = {n: m.eval().requires_grad_(False).to(dtype=dtype) for n, m in built.items()}
    lr = _lr_clip(cfg, device, dtype)
    runs = {name: partial(restore_in_stages, model, lr, cfg.clip.scale) for name, model in models.items()}
    with torch.inference_mode():
        timings = time_stages(runs, device, repeats=cfg.timing.repeats, warmup=cfg.timing.warmup,
                              progress=progress)
        for name, run in runs.items():
            with track_peak_memory(device) as memory:
                run(StageClock(device))
            results[name].timing, results[name].memory = timings[name], memory
    del models, built, runs
    if device.type == "cuda":
        torch.cuda.empty_cache()


def build_targets(cfg: BenchConfig, results: dict[str, VariantResult],
                  ratio: float | None) -> list[Target]:
    """The configured targets with the measured figures (MACs in T, paper convention; latency ratio)."""
    targets = []
    for name, reference in cfg.targets.macs_t.items():
        variant = results.get(name)
        measured = None if variant is None else variant.total_macs.without_attention / 1e12
        targets.append(Target(what=f"{name} MACs (T, w/o attention)", reference=reference, measured=measured,
                              tolerance=cfg.targets.macs_tolerance))
    if cfg.targets.min_latency_ratio:
        targets.append(Target(what=f"latency ratio {cfg.baseline}/{cfg.compared}", reference=cfg.targets.min_latency_ratio,
                              measured=ratio, kind="at_least"))
    return targets


def device_name(device: torch.device) -> str:
    """Human-readable device, e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 threads)"."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'' if threads == 1 else 's'})"


def run_benchmark(cfg: BenchConfig, progress: bool = False) -> BenchReport:
    """Count every variant on meta, then time and measure it on the device unless latency is n/a there."""
    results = count_variants(cfg, progress)
    note = latency_note(cfg)
    if note:
        for result in results.values():
            result.note = result.note or note
    else:
        measure_variants(cfg, results, progress)
    report = BenchReport(name=cfg.name, title=cfg.title or cfg.name,
                         device=device_name(resolve_device(cfg.timing.device)), dtype=str(cfg.timing.dtype.value),
                         clip=config_to_dict(cfg.clip), variants=list(results.values()), baseline=cfg.baseline)
    ratio = report.ratios(cfg.compared).get("latency")
    report.targets = build_targets(cfg, results, ratio)
    return report
