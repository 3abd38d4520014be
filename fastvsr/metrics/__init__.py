"""Evaluation metrics and the DOVE / FastVSR protocol (per-frame scores, averaged per video, then over videos).

Heavy or optional dependencies (pyiqa, torchvision RAFT) are imported only when a metric that needs them is
built. Entry points: :func:`build_metrics`, :func:`evaluate_pairs`, :func:`evaluate_paths`.
"""

from fastvsr.metrics.config import DEFAULT_METRICS, CropMode, EvalConfig, FlowKind
from fastvsr.metrics.evaluate import evaluate_paths
from fastvsr.metrics.info import METRIC_INFO
from fastvsr.metrics.protocol import VideoPair, align_pair, evaluate_batch, evaluate_pairs, evaluate_video
from fastvsr.metrics.registry import MetricSet, build_metrics
from fastvsr.metrics.results import EvalResults, result_paths, write_results

__all__ = [
    "DEFAULT_METRICS", "CropMode", "EvalConfig", "FlowKind", "evaluate_paths", "VideoPair", "align_pair",
    "evaluate_batch", "evaluate_pairs", "evaluate_video", "METRIC_INFO", "MetricSet", "build_metrics",
    "EvalResults", "result_paths", "write_results",
]
