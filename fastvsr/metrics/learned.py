"""Learned image-quality metrics through pyiqa (imported lazily: it is slow), scored per frame.

LPIPS (AlexNet, v0.1), DISTS, MUSIQ (KonIQ), CLIP-IQA (RN50 prompt pair) and NIQE are pyiqa's defaults, as in
the DOVE / FastVSR evaluation. Weight files are passed explicitly (``pretrained_model_path``) or found through
torch.hub's folder, which :func:`fastvsr.metrics.weights.use_weights_dir` sets; see
:func:`fastvsr.metrics.registry.build_metric` for which files each needs.
"""

from __future__ import annotations

from typing import Any

import torch

from fastvsr.errors import WeightsMissingError
from fastvsr.metrics.base import FrameMetric


class PyiqaMetric(FrameMetric):
    """One pyiqa metric applied frame by frame.

    Args:
        name: our output name.
        pyiqa_name: pyiqa's metric name.
        needs_gt: full-reference metric.
        device: torch device string.
        frame_batch: frames per call.
        options: keyword arguments for ``pyiqa.create_metric`` (e.g. ``pretrained_model_path``).

    Raises:
        WeightsMissingError: pyiqa failed to build the metric from the local files (it would have downloaded).
    """

    def __init__(self, name: str, pyiqa_name: str, needs_gt: bool, device: str = "cpu", frame_batch: int = 4,
                 **options: Any) -> None:
        super().__init__(frame_batch)
        import pyiqa

        self.name, self.needs_gt, self.device = name, needs_gt, torch.device(device)
        try:
            self.metric = pyiqa.create_metric(pyiqa_name, device=self.device, **options)
        except (OSError, RuntimeError, ValueError, KeyError, EOFError) as err:  # URLError is an OSError
            first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise WeightsMissingError(f"{name}: could not load its local weights ({first_line})") from None
        self.higher_better = not self.metric.lower_better

    def score_frames(self, pred: torch.Tensor, gt: torch.Tensor | None) -> torch.Tensor:
        inputs = [pred] if not self.needs_gt else [pred, gt]
        return self.metric(*(x.to(self.device, torch.float32) for x in inputs)).reshape(-1)
