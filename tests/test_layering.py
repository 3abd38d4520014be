"""Imports point one way: core <- ops <- diffusion <- models <- pipeline <- train (docs/design.md).

diffusion is pure maths on a denoiser callable, so it sits below models (VSRModel.restore calls restore_latent).
"""

import ast
from pathlib import Path

PKG = Path(__file__).parent.parent / "fastvsr"
# package -> packages it must never import
FORBIDDEN = {
    "ops": {"models", "diffusion", "pipeline", "train", "data", "losses", "metrics", "bench"},
    "models": {"pipeline", "train", "data", "losses", "metrics", "bench"},
    "diffusion": {"models", "pipeline", "train", "data", "losses", "metrics", "bench"},
    "pipeline": {"train", "losses", "metrics", "bench"},
    "data": {"models", "diffusion", "pipeline", "train", "losses", "metrics", "bench"},
    "losses": {"models", "diffusion", "pipeline", "train", "bench"},
    "metrics": {"models", "diffusion", "pipeline", "train", "bench"},
}


def _imported_subpackages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fastvsr" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_import_direction():
    violations = []
    for sub, forbidden in FORBIDDEN.items():
        for path in (PKG / sub).rglob("*.py") if (PKG / sub).exists() else []:
            bad = _imported_subpackages(path) & forbidden
            if bad:
                violations.append(f"{path.relative_to(PKG.parent)} imports fastvsr.{sorted(bad)}")
    assert not violations, "\n".join(violations)
