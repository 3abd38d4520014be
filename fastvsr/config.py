"""Typed configs: dataclass schemas merged with YAML files and ``key=value`` overrides (omegaconf).

Each concern (model, data, training stage, inference, benchmark) defines its schema as nested dataclasses in
its own module; this module only loads and validates. Defaults live in the dataclasses alone.

A YAML file may start from other files with ``_base_: other.yaml`` (or a list), resolved relative to it.
Unknown keys, wrong types and values rejected by a schema's ``__post_init__`` raise :class:`ConfigError` with a
one-line message naming the key and the file (or "command line") it came from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, MissingMandatoryValue, OmegaConfBaseException

from fastvsr.atomic import atomic_path
from fastvsr.errors import ConfigError

T = TypeVar("T")
BASE_KEY = "_base_"


def _describe(err: OmegaConfBaseException) -> str:
    """One line for an omegaconf error: which key, what is wrong."""
    key = getattr(err, "full_key", None) or getattr(err, "key", None)
    msg = str(getattr(err, "msg", None) or err).strip().splitlines()[0]
    if isinstance(err, (ConfigKeyError, ConfigAttributeError)):
        return f"unknown key '{key}'" if key else msg
    if isinstance(err, MissingMandatoryValue):
        return f"missing required key '{key}'"
    return f"key '{key}': {msg}" if key else msg


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """Return ``[(file, mapping), ...]`` for ``path`` and its ``_base_`` files, bases first."""
    if path in chain:
        raise ConfigError(f"{path}: circular {BASE_KEY} reference")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    bases = data.pop(BASE_KEY, [])
    layers: list[tuple[Path, dict[str, Any]]] = []
    for base in [bases] if isinstance(bases, str) else list(bases):
        layers += _read_yaml((path.parent / base).resolve(), chain + (path,))
    return layers + [(path, data)]


def load_config(schema: type[T], paths: Sequence[str | Path] = (), overrides: Sequence[str] = ()) -> T:
    """Build a typed config object.

    Args:
        schema: a dataclass type; its field defaults are the base layer.
        paths: YAML files merged left to right (each after its own ``_base_`` files).
        overrides: omegaconf dotlist strings such as ``"train.max_steps=10"``.

    Returns:
        An instance of ``schema`` (nested dataclasses, enums converted, ``__post_init__`` run).

    Raises:
        ConfigError: unknown key, wrong type, invalid value, missing or malformed file.
    """
    merged: DictConfig = OmegaConf.structured(schema)
    for path in paths:
        for source, data in _read_yaml(Path(path).resolve()):
            try:
                merged = OmegaConf.merge(merged, data)
            except OmegaConfBaseException as err:
                raise ConfigError(f"{source}: {_describe(err)}") from None
    if overrides:
        bad = [o for o in overrides if "=" not in o]
        if bad:
            raise ConfigError(f"command line: override '{bad[0]}' is not of the form key=value")
        for override in overrides:
            key, _, text = override.partition("=")
            try:
                value = yaml.safe_load(text) if text.strip() else text
                OmegaConf.update(merged, key.strip(), value, merge=True)
            except yaml.YAMLError:
                raise ConfigError(f"command line: value of '{key}' is not valid YAML: {text!r}") from None
            except OmegaConfBaseException as err:
                raise ConfigError(f"command line: {_describe(err)}") from None
            except (TypeError, IndexError, ValueError) as err:
                raise ConfigError(f"command line: cannot set '{key}': {err}") from None
    try:
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as err:
        cause = err.__cause__ or err.__context__
        if isinstance(cause, (ValueError, TypeError)):
            raise ConfigError(f"invalid config: {cause}") from None
        raise ConfigError(_describe(err)) from None
    except (ValueError, TypeError) as err:
        raise ConfigError(f"invalid config: {err}") from None


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict of a config dataclass (enums as their values), for logging and JSON."""
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True, enum_to_str=True)  # type: ignore


def save_config(cfg: Any, path: str | Path) -> Path:
    """Write the resolved config as YAML (atomically) so a run or checkpoint records exactly what it used."""
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    return Path(path)


def require(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition``; for cross-field checks in ``__post_init__``."""
    if not condition:
        raise ValueError(message)


def is_config(obj: Any) -> bool:
    """True for a dataclass config instance."""
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)
