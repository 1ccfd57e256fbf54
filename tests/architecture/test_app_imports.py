"""The apps form a layered graph: no import cycle between them, and identity (accounts)
depends on no other domain app. Imports are read from the source with ast, including
imports inside functions, so a lazy import cannot hide a cycle."""

import ast
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"
SHARED = {"core"}  # shared mechanisms every app may use


def imported_apps(path):
    """The apps (apps.<name>) a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("apps.") and n.count(".") >= 1}
    return found


def app_graph():
    """{app: {imported app: a module that imports it}}."""
    graph = {}
    for app in sorted(p for p in APPS.iterdir() if (p / "apps.py").exists()):
        edges = graph.setdefault(app.name, {})
        for module in sorted(app.rglob("*.py")):
            for other in sorted(imported_apps(module) - {app.name}):
                edges.setdefault(other, str(module.relative_to(APPS.parent)))
    return graph


def test_the_graph_is_read():
    graph = app_graph()
    assert {"accounts", "core", "properties", "repairs"} <= set(graph)
    assert "properties" in graph["repairs"]


def test_no_import_cycle_between_apps():
    graph = app_graph()
    try:
        TopologicalSorter({app: set(edges) for app, edges in graph.items()}).prepare()
    except CycleError as exc:
        cycle = exc.args[1]  # [a, b, ..., a], each importing the one before it
        steps = [f"{b} imports {a} in {graph[b][a]}" for a, b in pairwise(cycle)]
        pytest.fail("import cycle between apps:\n" + "\n".join(steps))


@pytest.mark.parametrize("app", ["accounts", "core"])
def test_identity_and_core_import_no_domain_app(app):
    allowed = SHARED if app != "core" else set()
    imports = app_graph()[app]
    assert set(imports) <= allowed, imports
