"""Imports point one way: core <- ops <- diffusion <- models <- pipeline <- train <- recipes (docs/design.md),
and no module imports itself back through a cycle (inside a package either, relative imports included).

diffusion is pure maths on a denoiser callable, so it sits below models (a model's restore calls restore_latent).
Imports inside functions count too (a lazy import hides a cycle, it does not remove it); imports under
``if TYPE_CHECKING:`` do not (they never run), and neither do modules loaded by name with importlib (the model
kind registry).
"""

import ast
from pathlib import Path

PKG = Path(__file__).parent.parent / "fastvsr"
ALL = {"ops", "models", "diffusion", "pipeline", "train", "data", "losses", "metrics", "bench", "recipes"}
# package -> packages it must never import
FORBIDDEN = {
    "ops": ALL - {"ops"},
    "models": {"pipeline", "train", "data", "losses", "metrics", "bench", "recipes"},
    "diffusion": {"models", "pipeline", "train", "data", "losses", "metrics", "bench", "recipes"},
    "pipeline": {"train", "losses", "metrics", "bench", "recipes"},
    "data": {"models", "diffusion", "pipeline", "train", "losses", "metrics", "bench", "recipes"},
    "losses": {"models", "diffusion", "pipeline", "train", "bench", "recipes"},
    "metrics": {"models", "diffusion", "pipeline", "train", "bench", "recipes"},
    "train": {"bench", "recipes"},
    "bench": {"train", "recipes"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    found: list[ast.AST] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def imported_modules(source: str, name: str, is_package: bool, top_level_only: bool = False) -> set[str]:
    """Modules of ``fastvsr`` that the module ``name`` (code ``source``) imports, relative imports resolved;
    ``from a import b`` counts as ``a.b`` when that is a module, else as ``a``."""
    tree = ast.parse(source)
    nodes = tree.body if top_level_only else _runtime_nodes(tree)
    here = name.split(".")
    package = here if is_package else here[:-1]
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if module_exists(candidate) else module)
    return {m for m in found if m == "fastvsr" or m.startswith("fastvsr.")}


def module_exists(name: str) -> bool:
    path = PKG.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def imports_of(path: Path, top_level_only: bool = False) -> set[str]:
    return imported_modules(path.read_text(), module_name(path), path.name == "__init__.py", top_level_only)


def test_import_direction():
    violations = []
    for name, path in all_modules().items():
        sub = name.split(".")[1] if "." in name else ""
        bad = {m.split(".")[1] for m in imports_of(path, top_level_only=False) if "." in m} & FORBIDDEN.get(sub, set())
        if bad:
            violations.append(f"{path.relative_to(PKG.parent)} imports fastvsr.{sorted(bad)}")
    assert not violations, "\n".join(violations)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycles_even_inside_packages():
    graph = {name: imports_of(path) - {name} for name, path in all_modules().items()}
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_sees_relative_imports_and_package_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    package = "from .autoencoder import SpatioTemporalVAE\nfrom . import shortcut\nimport torch\n"
    assert imported_modules(package, "fastvsr.models.vae", True, True) == {
        "fastvsr.models.vae.autoencoder", "fastvsr.models.vae.shortcut"}
    module = ("from ..denoisers import build_denoiser\nfrom . import VAEConfig\n\ndef f():\n    import fastvsr.ops\n"
              "if TYPE_CHECKING:\n    from fastvsr.train import x\n")
    found = imported_modules(module, "fastvsr.models.vae.patchified", False, True)
    assert found == {"fastvsr.models.denoisers", "fastvsr.models.vae"}  # the package itself: a cycle with it
    everything = imported_modules(module, "fastvsr.models.vae.patchified", False)
    assert "fastvsr.ops" in everything and "fastvsr.train" not in everything
