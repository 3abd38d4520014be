"""Training of the reference CNN (:mod:`fastvsr.models.reference_cnn`): a plain x4 SR network at LR
resolution, trained on the default model's data and degradation mix with the stages' loop, so the report can put
what this data and CPU budget allow beside what the f16 model reaches.

``L = L_rec(CNN(lq), gt)`` (``loss``, L1 by default) on the dataset's pairs, each frame on its own. Validation
restores the bicubic x4 LR of the held-out validation window. The export is the network's ``save_pretrained``
folder (``scripts/model_report.py --reference`` scores it).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from fastvsr.config import require
from fastvsr.data.datasets import VideoDatasetConfig
from fastvsr.losses import ReconstructionLoss, ReconstructionLossConfig, batch_total
from fastvsr.models.reference_cnn import ReferenceCNN
from fastvsr.ops.resize import bicubic_rescale
from fastvsr.train.accelerator import setup_accelerator
from fastvsr.train.config import LoopConfig, OptimConfig
from fastvsr.train.data import ValidationClipConfig, build_train_dataset, load_validation_clip
from fastvsr.train.session import start_session


@dataclass
class ReferenceCNNConfig:
    """:class:`ReferenceCNN`'s size: ``channels`` wide, ``num_blocks`` residual blocks, x``scale``."""

    channels: int = 64
    num_blocks: int = 8
    scale: int = 4

    def __post_init__(self) -> None:
        require(self.channels >= 1 and self.num_blocks >= 0 and self.scale >= 1,
                "reference model: channels and scale must be >= 1, num_blocks >= 0")


@dataclass
class ReferenceTrainConfig:
    """The reference CNN's training (``configs/default_model/reference_cnn.yaml``)."""

    model: ReferenceCNNConfig = field(default_factory=ReferenceCNNConfig)
    data: VideoDatasetConfig = field(default_factory=VideoDatasetConfig)
    val: ValidationClipConfig = field(default_factory=ValidationClipConfig)
    loss: ReconstructionLossConfig = field(default_factory=ReconstructionLossConfig)
    train: LoopConfig = field(default_factory=LoopConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        require(self.data.degradation.scale == self.model.scale,
                f"data.degradation.scale ({self.data.degradation.scale}) must equal model.scale "
                f"({self.model.scale})")


def train_reference(cfg: ReferenceTrainConfig, resume: bool = False,
                    dataset: Dataset | None = None) -> dict[str, Any]:
    """Train the reference CNN to ``cfg.train.max_steps`` (from the newest checkpoint when ``resume``).

    Returns:
        The run summary (``<output_dir>/summary.json``), as every stage's.
    """
    accelerator = setup_accelerator(cfg.train)
    network = ReferenceCNN(**asdict(cfg.model))
    loss_fn = ReconstructionLoss(cfg.loss).to(accelerator.device)
    dataset = dataset if dataset is not None else build_train_dataset(cfg.data, cfg.train)
    val_gt = load_validation_clip(cfg.val).to(accelerator.device)
    val_lq = bicubic_rescale(val_gt, 1 / cfg.model.scale)
    val_bicubic = bicubic_rescale(val_lq, cfg.model.scale)
    session = start_session(accelerator, cfg.train, cfg.optim, network, cfg, resume=resume)

    def validate_forward(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        pred = model(val_lq).float()
        return pred, val_gt, {"bicubic": val_bicubic[0], "reference CNN": pred[0], "target": val_gt[0]}

    validate = functools.partial(session.validate, validate_forward, also_score={"bicubic": "bicubic"})
    if session.validation_due():
        validate()
    for batch in session.batches(dataset):
        with accelerator.autocast():
            loss, logs = batch_total(loss_fn.terms(session.model(batch["lq"], clamp=False), batch["gt"]))
        session.advance(loss, logs, validate)

    def export(model: nn.Module, folder: Path) -> None:
        model.save_pretrained(folder)

    return session.finish(export)
