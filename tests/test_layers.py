"""The tree reads bottom-up: each module imports only from its own layer or the layers below
(imports for type checking only are not counted). A new module must find its layer here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent

# Bottom first. A module belongs to the first layer one of whose prefixes it starts with.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("vocabulary", ("bot.vocabulary",)),
    ("storage", ("storage",)),
    ("toolkit", ("bot.registry", "bot.request_body", "bot.work_in_hand", "bot.delivery", "bot.logs")),
    ("flows", ("flows",)),
    ("router", ("bot.core", "bot.commands")),
    ("adapters", ("adapters",)),
    ("shell", ("bot.shell", "bot")),
]
OURS = ("bot", "storage", "flows", "adapters")


def _layer(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer")


def _runtime_imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) outside ``if TYPE_CHECKING:`` blocks and outside functions that
    import lazily only to break a composition cycle (flows' ``from flows import REGISTRY``)."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [f"{child.module}.{a.name}" if child.module in OURS else child.module for a in child.names]
                found.extend((name, child.lineno) for name in names)
            visit(child)

    visit(tree)
    return [(name, line) for name, line in found if name.split(".")[0] in OURS]


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_imports_only_its_layer_or_below():
    wrong = []
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_of(path)
            for imported, line in _runtime_imports(path):
                if imported == "flows.REGISTRY" or imported == "flows":
                    continue  # the composed registry, read lazily by flows and the router above
                if _layer(imported) > _layer(module):
                    wrong.append(f"{module}:{line} imports {imported} ({LAYERS[_layer(imported)][0]})")
    assert not wrong, "imports from a layer above:\n" + "\n".join(wrong)


def test_storage_and_the_vocabulary_import_nothing_above_them():
    for package, allowed in (("storage", ("storage", "bot.vocabulary")), ("bot/vocabulary", ("bot.vocabulary",))):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for imported, line in _runtime_imports(path):
                assert imported.startswith(allowed), f"{path.name}:{line} imports {imported}"
