"""Shared helpers for the thin scripts in ``scripts/``: config arguments and error handling."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from fastvsr.errors import FastVSRError


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> None:
    """Run a script's ``main`` and turn user errors into one line on stderr and exit code 2.

    ``FASTVSR_DEBUG=1`` re-raises the error instead (full traceback) for debugging.
    """
    try:
        code = main(argv)
    except FastVSRError as err:
        if os.environ.get("FASTVSR_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def add_config_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add ``--config FILE [FILE ...]`` and trailing ``key=value`` overrides (omegaconf dotlist)."""
    parser.add_argument("--config", nargs="+", required=required, metavar="YAML",
                        help="one or more YAML files, merged left to right")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. train.max_steps=100 data.batch_size=2")
