"""Shared helpers for the thin scripts in ``scripts/``: config arguments, help texts and error handling.

Nothing here imports torch, so a script that imports its heavy modules inside ``main`` answers ``--help`` at
once.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import textwrap
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from fastvsr.config import config_to_dict
from fastvsr.errors import FastVSRError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like SIGINT's KeyboardInterrupt so every ``finally`` (temporary outputs) runs."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> None:
    """Run a script's ``main`` and turn user errors into one line on stderr and exit code 2.

    SIGINT and SIGTERM stop the run the same way (temporary outputs removed, one line ``interrupted``, exit
    130 or 143). ``FASTVSR_DEBUG=1`` re-raises a user error instead (full traceback) for debugging.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        code = main(argv)
    except FastVSRError as err:
        if os.environ.get("FASTVSR_DEBUG"):
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt as err:
        print("interrupted", file=sys.stderr)
        sys.exit(143 if isinstance(err, Terminated) else 130)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    sys.exit(code or 0)


class _ConfigFiles(argparse.Action):
    """``--config a.yaml b.yaml key=value``: files go to ``config``; ``key=value`` words that argparse hands to
    ``--config`` (it takes every following word) go to ``overrides``, so both orders work."""

    def __call__(self, parser, namespace, values, option_string=None):
        files = [v for v in values if "=" not in v or v.endswith((".yaml", ".yml"))]
        moved = [v for v in values if v not in files]
        setattr(namespace, self.dest, (getattr(namespace, self.dest, None) or []) + files)
        setattr(namespace, "_moved_overrides", getattr(namespace, "_moved_overrides", []) + moved)


class _Overrides(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, list(values))


def add_config_arguments(parser: argparse.ArgumentParser, required: bool = True,
                         files_help: str = "one or more YAML files, merged left to right",
                         overrides_help: str = "config overrides, e.g. train.max_steps=100 train.batch_size=2"
                         ) -> None:
    """Add ``--config FILE [FILE ...]``, ``key=value`` overrides (omegaconf dotlist, in either order) and
    ``--print-config``.

    Read the overrides with :func:`config_overrides` (it also collects those typed right after ``--config``);
    after loading, :func:`print_config` answers ``--print-config``.
    """
    parser.add_argument("--config", nargs="+", required=required, default=[], metavar="YAML", action=_ConfigFiles,
                        help=files_help)
    parser.add_argument("overrides", nargs="*", metavar="key=value", action=_Overrides, help=overrides_help)
    parser.add_argument("--print-config", action="store_true",
                        help="print the resolved config (every key, YAML) and exit")


def config_overrides(args: argparse.Namespace) -> list[str]:
    """All ``key=value`` overrides of a parsed command line, in the order typed."""
    return [*getattr(args, "_moved_overrides", []), *(getattr(args, "overrides", None) or [])]


def print_config(cfg: Any) -> None:
    """Print a resolved config dataclass as YAML: every key, defaults included, enums as their values."""
    print(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), end="")


def show_defaults(parser: argparse.ArgumentParser, defaults: Mapping[str, Any]) -> None:
    """Append ``(default: X)`` to the help of each option whose ``dest`` is in ``defaults``.

    Options whose argparse default is ``None`` (so that a config file can set the value) still show the
    value they end up with: the schema's.
    """
    for action in parser._actions:
        if action.dest in defaults and action.help and "(default" not in action.help:
            value = defaults[action.dest]
            action.help += f" (default: {getattr(value, 'value', value)})"


def schema_epilog(schema: type, note: str = "") -> str:
    """``--help`` epilog listing every top-level key of a flat config schema with its default."""
    items = [f"{f.name}={_default_text(f)}" for f in dataclasses.fields(schema)]
    keys = textwrap.fill(", ".join(items), width=100, initial_indent="  ", subsequent_indent="  ")
    return "\n".join(filter(None, [note, "config keys (key=value overrides; --print-config shows them resolved):",
                                    keys]))


def _default_text(item: dataclasses.Field) -> str:
    if item.default is not dataclasses.MISSING:
        value = item.default
    elif item.default_factory is not dataclasses.MISSING:
        return "{...}"
    else:
        return "<required>"
    return str(getattr(value, "value", value))
