"""The model kinds: one name -> one :class:`~fastvsr.models.bundle.VSRModel` subclass.

Built-in kinds live in :mod:`fastvsr.models.kinds` (``fastvsr``, ``turbovsr``) and are imported the first time
they are asked for. A kind defined anywhere else is named by its import path, ``"package.module:ClassName"``
(what such a class's ``kind`` is by default), so a saved folder of it loads wherever that module imports.
Adding a kind is one module with one :class:`VSRModel` subclass plus one YAML (docs/design.md, "Adding a
model kind").
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from fastvsr.errors import ConfigError
from fastvsr.models.bundle import PartBuilder, VSRModel
from fastvsr.models.config import ModelConfig

BUILTIN_KINDS = {"fastvsr": "fastvsr.models.kinds.fastvsr", "turbovsr": "fastvsr.models.kinds.turbovsr"}


def model_class(kind: str) -> type[VSRModel]:
    """The bundle class of ``kind`` (a built-in name or ``package.module:ClassName``).

    Raises:
        ConfigError: unknown name, a module that does not import, or a class that is not a ``VSRModel``.
    """
    if kind in BUILTIN_KINDS:
        module, name = BUILTIN_KINDS[kind], None
    elif ":" in kind:
        module, name = kind.split(":", 1)
    else:
        raise ConfigError(f"unknown model kind '{kind}' (built-in: {', '.join(BUILTIN_KINDS)}; or name a class as "
                          "package.module:ClassName)")
    try:
        loaded = importlib.import_module(module)
    except ImportError as err:
        raise ConfigError(f"model kind '{kind}': cannot import {module} ({err})") from None
    cls = getattr(loaded, name, None) if name else next(
        (c for c in vars(loaded).values() if isinstance(c, type) and issubclass(c, VSRModel)
         and c.__dict__.get("kind") == kind), None)
    if not (isinstance(cls, type) and issubclass(cls, VSRModel)):
        raise ConfigError(f"model kind '{kind}': {module} has no VSRModel subclass {name or kind}")
    return cls


def build_model(cfg: ModelConfig, device: str | torch.device | None = None,
                parts: PartBuilder | None = None) -> VSRModel:
    """The model ``cfg`` describes (random init, or local ``pretrained`` folders where given); ``device="meta"``
    builds the architecture without allocating memory; ``parts`` as for ``VSRModel.from_config``."""
    return model_class(cfg.kind).from_config(cfg, device=device, parts=parts)


def load_model(folder: str | Path, torch_dtype: torch.dtype | None = None) -> VSRModel:
    """Load any saved model folder as the kind it records (``VSRModel.from_pretrained``)."""
    return VSRModel.from_pretrained(folder, torch_dtype=torch_dtype)
