"""The model kinds: one name -> one :class:`~fastvsr.models.bundle.VSRModel` subclass.

Built-in kinds live in :mod:`fastvsr.models.kinds` (``fastvsr``, ``turbovsr``) and are imported the first time
they are asked for. A kind defined anywhere else is named by its import path, ``"package.module:ClassName"``
(what such a class's ``kind`` is by default), so a saved folder of it loads wherever that module imports.
Adding a kind is one module with one :class:`VSRModel` subclass plus one YAML (docs/design.md, "Adding a
model kind").

Kind modules are imported by name (``importlib``), so this module imports none of them, nor the bundle:
the model description (:mod:`fastvsr.models.config`) can ask a kind to check itself without an import cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fastvsr.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from fastvsr.models.bundle import PartBuilder, VSRModel
    from fastvsr.models.config import ModelConfig

BUILTIN_KINDS = {"fastvsr": "fastvsr.models.kinds.fastvsr:FastVSRModel",
                 "turbovsr": "fastvsr.models.kinds.turbovsr:TurboVSRModel"}
CONTRACT = ("restore", "from_config", "check_config", "from_pretrained", "save_pretrained")


def model_class(kind: str) -> type[VSRModel]:
    """The bundle class of ``kind`` (a built-in name or ``package.module:ClassName``).

    Raises:
        ConfigError: unknown name, a module that does not import, or a class without the model contract.
    """
    path = BUILTIN_KINDS.get(kind, kind)
    if ":" not in path:
        raise ConfigError(f"unknown model kind '{kind}' (built-in: {', '.join(BUILTIN_KINDS)}; or name a class as "
                          "package.module:ClassName)")
    module, name = path.split(":", 1)
    try:
        loaded = importlib.import_module(module)
    except ImportError as err:
        raise ConfigError(f"model kind '{kind}': cannot import {module} ({err})") from None
    cls: Any = getattr(loaded, name, None)
    if not isinstance(cls, type) or not all(callable(getattr(cls, method, None)) for method in CONTRACT):
        raise ConfigError(f"model kind '{kind}': {module} has no VSRModel subclass {name}")
    return cls


def build_model(cfg: ModelConfig, device: str | torch.device | None = None,
                parts: PartBuilder | None = None) -> VSRModel:
    """The model ``cfg`` describes (random init, or local ``pretrained`` folders where given); ``device="meta"``
    builds the architecture without allocating memory; ``parts`` as for ``VSRModel.from_config``."""
    return model_class(cfg.kind).from_config(cfg, device=device, parts=parts)
