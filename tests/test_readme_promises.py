"""Each promise of README's "Privacy", "Security" and "Delivery guarantee" names the test that
guards it, and every test it names exists: a promise whose test is renamed or deleted, or a new
promise written without one, fails here."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = re.compile(r"`(test_\w+\.py)::(test_\w+)`")


def _section(heading: str) -> str:
    start = README.index(f"\n## {heading}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _items(text: str, starts: tuple[str, ...]) -> list[str]:
    """The list items (or table rows) of ``text`` beginning with one of ``starts``, each with
    the lines that continue it."""
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith(starts):
            items.append(line)
        elif items and line.startswith("  ") and not line.lstrip().startswith(("- ", "| ")):
            items[-1] += "\n" + line
        elif items and not line.strip():
            items.append("")
    return [item for item in items if item]


def promises() -> list[tuple[str, str]]:
    """(where, text) of every promise: a Privacy bullet, a Security table row, the Delivery
    guarantee and each of its sub-bullets."""
    found = [("Privacy", item) for item in _items(_section("Privacy"), ("- **",))]
    rows = _items(_section("Security"), ("| ",))
    found += [("Security", row) for row in rows if not row.startswith(("| where", "| ---"))]
    built = _section("How it is built")
    delivery = built[built.index("- **Delivery guarantee.**") : built.index("- **Scheduled posts**")]
    items = _items(delivery, ("- **", "  - "))
    found += [("Delivery guarantee", item) for item in items if not item.startswith("  - [docs/")]
    return found


@cache
def _tests_in(file: str) -> frozenset[str]:
    path = ROOT / "tests" / file
    if not path.exists():
        return frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def test_the_three_sections_are_found():
    kinds = [where for where, _ in promises()]
    assert kinds.count("Privacy") >= 5 and kinds.count("Security") >= 6 and kinds.count("Delivery guarantee") >= 5


def test_every_promise_names_its_test():
    unnamed = [f"{where}: {text[:80]}" for where, text in promises() if not REFERENCE.search(text)]
    assert not unnamed, "promises that name no test:\n" + "\n".join(unnamed)


def test_every_test_a_promise_names_exists():
    missing = [
        f"{file}::{name}"
        for _, text in promises()
        for file, name in REFERENCE.findall(text)
        if name not in _tests_in(file)
    ]
    assert not missing, "README names tests that do not exist:\n" + "\n".join(missing)
