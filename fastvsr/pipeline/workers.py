"""The processes of one inference run: one (plain ``python``) or several (``accelerate launch``), each with its
own device. Accelerate starts and connects them; this module only reads who is who and syncs them.

    accelerate launch --num_processes 4 scripts/infer.py --input clips/ --output out/   # files split over 4 GPUs
    accelerate launch --num_processes 4 scripts/infer.py --input long.mp4               # frame ranges of one video
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fastvsr.errors import ConfigError


@dataclass(frozen=True)
class Workers:
    """This process's ``index`` among ``count`` processes, and the device it should use (``local`` is its
    index on this machine)."""

    index: int = 0
    count: int = 1
    local: int = 0

    @property
    def main(self) -> bool:
        return self.index == 0

    def device(self, requested: str) -> str:
        """The device for ``requested`` (``InferConfig.device``): with several processes, ``auto``/``cuda`` become
        this process's GPU ``cuda:<local>``; an explicit ``cuda:N`` for every process is an error."""
        if self.count == 1 or requested == "cpu":
            return requested
        import torch

        if requested == "auto" and not torch.cuda.is_available():
            return "cpu"
        if requested in ("auto", "cuda"):
            return f"cuda:{self.local}"
        raise ConfigError(f"device={requested} would put all {self.count} processes on one GPU; use device=auto or "
                          "cuda (each process takes its own)")

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.count > 1:
            from accelerate import PartialState

            PartialState().wait_for_everyone()

    def gather(self, value: Any) -> list[Any]:
        """``value`` of every process, in process order (every process gets the list)."""
        if self.count == 1:
            return [value]
        from accelerate.utils import gather_object

        return gather_object([value])

    def broadcast(self, value: Any) -> Any:
        """The main process's ``value``, on every process."""
        return self.gather(value)[0]


def launched_workers() -> Workers:
    """The processes ``accelerate launch`` (or torchrun) started, connected into one group; one process otherwise.

    Raises:
        ConfigError: processes were launched but did not join one group (e.g. ``--num_processes 2`` without
            ``--multi_gpu``/``--multi_cpu`` would otherwise run two unrelated copies of the job).
    """
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched <= 1:
        return Workers()
    from accelerate import PartialState

    state = PartialState()
    if state.num_processes != launched:
        raise ConfigError(f"{launched} processes were launched but did not join one run (accelerate sees "
                          f"{state.num_processes}); launch with --multi_gpu, or a config from configs/accelerate/")
    return Workers(state.process_index, state.num_processes, state.local_process_index)
