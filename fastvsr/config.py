"""Typed configs: dataclass schemas merged with YAML files and ``key=value`` overrides (omegaconf).

Each concern (model, data, training stage, inference, benchmark) defines its schema as nested dataclasses in
its own module; this module only loads and validates. Defaults live in the dataclasses alone.

Composition: any mapping of a YAML file, at the top or nested, may start from other files with
``_base_: other.yaml`` (or a list), resolved relative to the file; the keys beside ``_base_`` override the
base's. So each published component is written once (``vae: {_base_: vae_cogvideox15.yaml}``) and a training
config nests a whole model file (``model: {_base_: ../models/fastvsr_tiny.yaml}``).

Unknown keys, wrong types and values rejected by a schema's ``__post_init__`` raise :class:`ConfigError` with a
one-line message naming the key and the file (or "command line") it came from. A schema may list keys that
moved (``MOVED_KEYS = {"old.key": "what to write instead"}``, also on nested schemas); using one names the
new key.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, MissingMandatoryValue, OmegaConfBaseException

from fastvsr.atomic import atomic_path
from fastvsr.errors import ConfigError

T = TypeVar("T")
BASE_KEY = "_base_"


def schema_keys(schema: type, prefix: str = "") -> list[str]:
    """Every dotted key of a dataclass schema, sections included (``["model", "model.vae", "model.vae.kind",
    ...]``), in field order."""
    keys: list[str] = []
    if not dataclasses.is_dataclass(schema):
        return keys
    hints = typing.get_type_hints(schema)
    for item in dataclasses.fields(schema):
        keys.append(f"{prefix}{item.name}")
        keys.extend(schema_keys(hints.get(item.name), f"{prefix}{item.name}."))
    return keys


def nearest_key(key: str, schema: type | None) -> str | None:
    """The valid key of ``schema`` closest to a mistyped dotted ``key``: the key whose last name is most like
    ``key``'s (a key in the same section preferred, a name that ``key``'s extends counted as close), or
    ``None`` when nothing is close."""
    if schema is None:
        return None
    parent, _, name = key.rpartition(".")

    def score(candidate: str) -> float:
        section, _, last = candidate.rpartition(".")
        ratio = difflib.SequenceMatcher(None, name, last).ratio()
        if last.startswith(name) or name.startswith(last):
            ratio = max(ratio, 0.7)
        return ratio + (0.1 if section == parent else 0.0)

    best = max(schema_keys(schema), key=score, default=None)
    return best if best is not None and score(best) >= 0.7 else None


def _describe(err: OmegaConfBaseException, schema: type | None = None) -> str:
    """One line for an omegaconf error: which key, what is wrong (with the nearest valid key of ``schema``
    for an unknown one)."""
    key = getattr(err, "full_key", None) or getattr(err, "key", None)
    msg = str(getattr(err, "msg", None) or err).strip().splitlines()[0]
    if isinstance(err, (ConfigKeyError, ConfigAttributeError)):
        if not key:
            return msg
        suggestion = nearest_key(str(key), schema)
        return f"unknown key '{key}'" + (f" (did you mean '{suggestion}'?)" if suggestion else "")
    if isinstance(err, MissingMandatoryValue):
        return f"missing required key '{key}'"
    return f"key '{key}': {msg}" if key else msg


Layer = tuple[Path, dict[str, Any]]


def _nest(prefix: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any]:
    for key in reversed(prefix):
        data = {key: data}
    return data


def _resolve_bases(path: Path, data: dict[str, Any], prefix: tuple[str, ...], chain: tuple[Path, ...]
                   ) -> Iterator[Layer]:
    """Layers of the ``_base_`` files of ``data`` (a mapping of ``path`` at ``prefix``) and of its nested
    mappings, each placed at its position from the root; ``_base_`` keys are removed from ``data``."""
    bases = data.pop(BASE_KEY, [])
    for base in [bases] if isinstance(bases, str) else list(bases):
        for source, layer in _read_yaml((path.parent / base).resolve(), chain + (path,)):
            yield source, _nest(prefix, layer)
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _resolve_bases(path, value, prefix + (str(key),), chain)
        elif isinstance(value, list):
            data[key] = [_inline_bases(path, item, chain) if isinstance(item, dict) else item for item in value]


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


def _inline_bases(path: Path, item: dict[str, Any], chain: tuple[Path, ...]) -> dict[str, Any]:
    """A list entry with its ``_base_`` files merged in (lists are replaced whole, so an entry cannot be a
    layer of its own): the bases' mappings, then the entry's own keys on top."""
    merged: dict[str, Any] = {}
    for _, layer in _read_yaml_text(path, item, chain):
        merged = _deep_merge(merged, layer)
    return merged


def _skeleton(data: dict[str, Any]) -> dict[str, Any]:
    """``data``'s nested mappings with every other value left out."""
    return {key: _skeleton(value) for key, value in data.items() if isinstance(value, dict)}


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> list[Layer]:
    """Return ``[(file, mapping), ...]`` for ``path`` and its ``_base_`` files (top-level and nested), bases
    first, every mapping placed at its position from the root of ``path``."""
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
    return _read_yaml_text(path, data, chain)


def _read_yaml_text(path: Path, data: dict[str, Any], chain: tuple[Path, ...]) -> list[Layer]:
    """:func:`_read_yaml` of a mapping ``data`` read from ``path``."""
    data = copy.deepcopy(data)  # YAML aliases share objects; resolving removes _base_ keys from each occurrence
    layers = list(_resolve_bases(path, data, (), chain))
    # the file's mappings, empty, first: keys keep the order the file writes them in (nested bases merge first)
    return [(path, _skeleton(data))] + layers + [(path, data)] if layers else [(path, data)]


def moved_keys(schema: type, prefix: str = "") -> dict[str, str]:
    """``MOVED_KEYS`` of ``schema`` and of its nested dataclass fields, with full dotted keys."""
    found = {f"{prefix}{key}": hint for key, hint in getattr(schema, "MOVED_KEYS", {}).items()}
    if dataclasses.is_dataclass(schema):
        hints = typing.get_type_hints(schema)
        for item in dataclasses.fields(schema):
            kind = hints.get(item.name)
            if dataclasses.is_dataclass(kind):
                found.update(moved_keys(kind, f"{prefix}{item.name}."))
    return found


def _schema_has(schema: type, dotted: str) -> bool:
    """Whether ``dotted`` names a field of ``schema`` (through nested dataclass fields)."""
    for name in dotted.split("."):
        if not dataclasses.is_dataclass(schema) or name not in {f.name for f in dataclasses.fields(schema)}:
            return False
        schema = typing.get_type_hints(schema)[name]
    return True


def _schema_type(schema: type, dotted: str) -> Any:
    for name in dotted.split("."):
        schema = typing.get_type_hints(schema)[name]
    return schema


def _lookup(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    for name in dotted.split("."):
        if not isinstance(data, dict) or name not in data:
            return False, None
        data = data[name]
    return True, data


def _check_moved(data: dict[str, Any], schema: type, moved: dict[str, str]) -> str | None:
    """The hint of a moved key that ``data`` (one YAML layer) still uses: a key the schema no longer has, or a
    plain value where the schema now has a section."""
    for old, hint in moved.items():
        present, value = _lookup(data, old)
        if not present:
            continue
        if not _schema_has(schema, old) or (dataclasses.is_dataclass(_schema_type(schema, old))
                                            and not isinstance(value, dict)):
            return f"key '{old}' moved: {hint}"
    return None


def _moved_hint(err: OmegaConfBaseException, schema: type, moved: dict[str, str]) -> str | None:
    """``"key 'x' moved: <hint>"`` when the failing key is listed in ``moved``, or sits under a listed key that
    the schema no longer has (a whole section that moved)."""
    key = str(getattr(err, "full_key", None) or getattr(err, "key", None) or "")
    parts = key.split(".")
    for depth in range(len(parts), 0, -1):
        old = ".".join(parts[:depth])
        if old in moved and (depth == len(parts) or not _schema_has(schema, old)):
            return f"key '{old}' moved: {moved[old]}"
    return None


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
    moved = moved_keys(schema)
    for path in paths:
        for source, data in _read_yaml(Path(path).resolve()):
            if hint := _check_moved(data, schema, moved):
                raise ConfigError(f"{source}: {hint}")
            try:
                merged = OmegaConf.merge(merged, data)
            except OmegaConfBaseException as err:
                raise ConfigError(f"{source}: {_moved_hint(err, schema, moved) or _describe(err, schema)}") from None
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
                raise ConfigError(f"command line: {_moved_hint(err, schema, moved) or _describe(err, schema)}") from None
            except (TypeError, IndexError, ValueError) as err:
                raise ConfigError(f"command line: cannot set '{key}': {err}") from None
    try:
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except OmegaConfBaseException as err:
        cause = err.__cause__ or err.__context__
        if isinstance(cause, (ValueError, TypeError)):
            raise ConfigError(f"invalid config: {cause}") from None
        raise ConfigError(_describe(err, schema)) from None
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
