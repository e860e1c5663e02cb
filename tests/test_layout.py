"""The rooms keep their promises: no import cycles, no Rasa below the dialogue, layers hold.

Imports are read from the source (module level *and* inside functions, where a cycle used
to hide), so the check needs nothing installed and cannot be fooled by import order.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("actions", "bot", "connectors", "desk", "infra", "knowledge", "nlu", "notify", "staff")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py") if (ROOT / package).is_dir() else ():
            if "migrations" in path.parts:
                continue  # Alembic loads these by path
            found[_module_name(path)] = path
    return found


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules ``name`` imports (the longest known prefix of each import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets.add(base)
            targets |= {f"{base}.{alias.name}" for alias in node.names}
    out = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_the_scan_sees_the_project():
    graph = _graph()
    assert {"desk.dossiers", "infra.db", "knowledge.search", "actions.dossiers"} <= set(graph)
    assert "infra.db" in graph["desk.dossiers"]


def test_a_cycle_is_found_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_anywhere():
    assert _cycles(_graph()) == []


def test_no_rasa_below_the_dialogue():
    for name, path in _modules().items():
        if name.split(".")[0] in ("knowledge", "desk", "infra", "notify"):
            assert not _third_party(path) & {"rasa", "rasa_sdk"}, name


def test_lower_rooms_do_not_reach_up():
    allowed = {
        "infra": {"infra", "desk.codes"},  # privacy keeps dossier codes intact
        "knowledge": {"knowledge", "infra"},
        "desk": {"desk", "infra", "knowledge"},
    }
    for name, targets in _graph().items():
        room = name.split(".")[0]
        if room not in allowed:
            continue
        for target in targets:
            assert any(
                target == a or target.startswith(a + ".") for a in allowed[room]
            ), f"{name} imports {target}"
