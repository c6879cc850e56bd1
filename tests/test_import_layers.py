"""The import graph of the code (issue 13): no cycle among modules, and no import from a lower
layer to a higher one (building_blocks < dafl_baseline < gas < reproduce), read from the source
with ``ast`` (no module is imported). ./run_tests.sh also checks the layers with import-linter
(.importlinter)."""
import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("building_blocks", "dafl_baseline", "gas", "reproduce")  # lowest first

# Framework-level (no TensorFlow needed): runs in both lanes.
pytestmark = pytest.mark.tf2


def _modules(root):
    found = {}
    for package in LAYERS:
        for folder, _, files in os.walk(os.path.join(root, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    module = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                    found[module[:-len(".__init__")] if module.endswith(".__init__")
                          else module] = path
    return found


def import_graph(root):
    """{module: set of project modules it imports} (function-level imports included)."""
    modules = _modules(root)
    graph = {m: set() for m in modules}
    for module, path in modules.items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module + "." + a.name for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def upward_imports(graph):
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    return sorted((m, t) for m, targets in graph.items() for t in targets
                  if rank[t.split(".")[0]] > rank[m.split(".")[0]])


def test_no_import_cycle_and_no_upward_import():
    graph = import_graph(REPO)
    assert len(graph) > 50 and "reproduce.registry" in graph
    assert cycles(graph) == []
    assert upward_imports(graph) == []


def test_the_checks_see_a_cycle_and_an_upward_import(tmp_path):
    """The checks themselves: a base module importing a method is an upward import, and two
    modules importing each other (inside a function too) a cycle."""
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "building_blocks" / "a.py").write_text(
        "def f():\n    from gas import g\n")
    (tmp_path / "building_blocks" / "b.py").write_text("from building_blocks import c\n")
    (tmp_path / "building_blocks" / "c.py").write_text("import building_blocks.b\n")
    (tmp_path / "gas" / "g.py").write_text("from building_blocks.a import f\n")
    graph = import_graph(str(tmp_path))
    assert upward_imports(graph) == [("building_blocks.a", "gas.g")]
    assert sorted(cycles(graph)) == [["building_blocks.a", "gas.g"],
                                     ["building_blocks.b", "building_blocks.c"]]
