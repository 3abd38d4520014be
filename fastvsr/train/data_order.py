"""The data order of a run: a pure function of ``(seed, step, rank)``, so the checkpointed step *is* the data
position and a resumed run sees exactly the batches it would have seen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from torch.utils.data import Dataset, Sampler

from fastvsr.errors import ConfigError


class StepBatchSampler(Sampler[list[int]]):
    """Batches of dataset positions as a pure function of ``(seed, step, rank)``.

    The global sample stream walks one random permutation of the dataset per epoch; at ``step`` process
    ``rank`` takes samples ``(step * world_size + rank) * batch_size + j``. A position encodes
    ``epoch * len(dataset) + index`` so the dataset can be told the epoch (see :class:`EpochIndexed`).
    Iteration starts at ``start_step`` (resume) and ends at ``max_steps``.
    """

    def __init__(self, dataset_len: int, batch_size: int, seed: int, rank: int, world_size: int,
                 start_step: int, max_steps: int) -> None:
        if dataset_len < 1:
            raise ConfigError("the training dataset is empty")
        self.n, self.batch_size, self.seed = dataset_len, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.start_step, self.max_steps = start_step, max_steps
        self._perm: tuple[int, list[int]] = (-1, [])

    def _permutation(self, epoch: int) -> list[int]:
        if self._perm[0] != epoch:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, epoch]))
            self._perm = (epoch, rng.permutation(self.n).tolist())
        return self._perm[1]

    def positions(self, step: int) -> list[int]:
        """Dataset positions (``epoch * n + index``) this rank trains on at ``step``."""
        out = []
        for j in range(self.batch_size):
            epoch, k = divmod((step * self.world_size + self.rank) * self.batch_size + j, self.n)
            out.append(epoch * self.n + self._permutation(epoch)[k])
        return out

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.max_steps):
            yield self.positions(step)

    def __len__(self) -> int:
        return max(self.max_steps - self.start_step, 0)


class EpochIndexed(Dataset):
    """Maps a position ``epoch * n + index`` to ``dataset[index]``, first calling ``dataset.set_epoch(epoch)``
    when the dataset has one (datasets are deterministic per ``(seed, epoch, index)``)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.n = len(dataset)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, position: int) -> Any:
        epoch, index = divmod(position, self.n)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]
