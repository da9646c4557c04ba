"""The package's layers (README, Layout): each module imports only its own layer and those below,
and no two modules import each other, directly or round a cycle (imports inside functions count).

    core < engine < model < analysis < plots < api (and folders) < front-ends (cli, explorer, tools)
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import sdlib

PACKAGE = Path(sdlib.__file__).resolve().parent
LAYERS = {"core": 0, "engine": 1, "model": 2, "analysis": 3, "plots": 4, "api": 5, "folders": 5, "cli": 6,
          "explorer": 6, "tools": 6, "__main__": 6}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> nx.DiGraph:
    """module -> the sdlib modules it imports (absolute or relative, anywhere in the file)."""
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        if "data" in path.relative_to(PACKAGE).parts:
            continue
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        graph.add_node(name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # `from PACKAGE import x` of a module's own package names x, not the package
                own = name.startswith(base + ".")
                targets = ([] if own else [base]) + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                if target.startswith("sdlib"):
                    graph.add_edge(name, target)
    known = set(graph.nodes)
    graph.remove_nodes_from([n for n in list(graph.nodes) if n not in known or n not in
                             {module_name(p) for p in PACKAGE.rglob("*.py")}])
    return graph


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_no_module_imports_a_layer_above_its_own():
    upward = [(a, b) for a, b in imports().edges if layer(a) is not None and layer(b) is not None
              and layer(b) > layer(a)]
    assert upward == []


def test_no_import_cycles():
    graph = imports()
    graph.remove_node("sdlib")  # the package's lazy re-exports of the API
    assert list(nx.simple_cycles(graph)) == []
