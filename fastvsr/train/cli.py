"""The shared body of the training scripts: parse ``--config``/overrides/``--resume``, train, print a summary."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from accelerate import PartialState

from fastvsr.cli import add_config_arguments, config_overrides, print_config
from fastvsr.config import load_config


def training_main(argv: Sequence[str] | None, description: str, schema: type,
                  train: Callable[[Any, bool], dict[str, Any]]) -> int:
    """Load ``schema`` from the command line, run ``train(cfg, resume)`` and print where things went.

    Works the same under ``accelerate launch`` (every rank trains, the main rank prints).
    """
    parser = argparse.ArgumentParser(description=description)
    add_config_arguments(parser)
    parser.add_argument("--resume", action="store_true", help="continue exactly from the newest checkpoint")
    args = parser.parse_args(argv)
    cfg = load_config(schema, args.config, config_overrides(args))
    if args.print_config:
        print_config(cfg)
        return 0
    summary = train(cfg, args.resume)
    if PartialState().is_main_process:
        val = summary.get("validation") or {}
        scores = ", ".join(f"{k} {v:.4f}" for k, v in val.items())
        print(f"trained to step {summary['step']} on {summary['num_processes']} process(es); "
              f"validation (EMA): {scores or 'none'}")
        print(f"checkpoint: {summary['checkpoint']}")
        print(f"export (save_pretrained): {summary['export']}")
    return 0
