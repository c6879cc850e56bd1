"""The import graph of the code (issue 13): no cycle among modules, and no import from a lower
layer to a higher one (building_blocks < dafl_baseline < gas < reproduce; inside the base common <
distill < image, rl, and image and rl never import each other; inside reproduce core < table1,
rl < fig2 < verdicts < grid < bench < __main__, and table1 and rl never import each other),
read from the source with ``ast`` (no module is imported). ./run_tests.sh also checks the layers
with import-linter (.importlinter)."""
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


# Inside building_blocks (lowest first); image and rl share a rank and never import each other.
BASE_LAYERS = {"common": 0, "distill": 1, "image": 2, "rl": 2}
# Inside reproduce (lowest first); table1 and rl share a rank and never import each other.
REPRODUCE_LAYERS = {"core": 0, "table1": 1, "rl": 1, "fig2": 2, "verdicts": 3, "grid": 4,
                    "bench": 5, "__main__": 6}
INNER_LAYERS = {"building_blocks": BASE_LAYERS, "reproduce": REPRODUCE_LAYERS}


def _rank(module):
    parts = module.split(".")
    top = LAYERS.index(parts[0])
    sub = INNER_LAYERS.get(parts[0], {}).get(parts[1], -1) if len(parts) > 1 else -1
    return top, sub


def upward_imports(graph):
    """(importer, imported) pairs that go up a layer, or across between two packages of one
    rank (image and rl in the base, table1 and rl in reproduce)."""
    found = []
    for module, targets in graph.items():
        for target in targets:
            sideways = (_rank(module) == _rank(target) and _rank(module)[1] >= 0
                        and module.split(".")[1] != target.split(".")[1])
            if _rank(target) > _rank(module) or sideways:
                found.append((module, target))
    return sorted(found)


def test_no_import_cycle_and_no_upward_import():
    graph = import_graph(REPO)
    assert len(graph) > 50 and "reproduce.grid.registry" in graph
    assert "building_blocks.rl.teacher_runner" in graph and "building_blocks.common.config" in graph
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
    for sub in ("common", "image", "rl"):
        (tmp_path / "building_blocks" / sub).mkdir()
        (tmp_path / "building_blocks" / sub / "__init__.py").write_text("")
    (tmp_path / "building_blocks" / "common" / "x.py").write_text(
        "from building_blocks.image import y\n")
    (tmp_path / "building_blocks" / "image" / "y.py").write_text("")
    (tmp_path / "building_blocks" / "rl" / "z.py").write_text("import building_blocks.image.y\n")
    for sub in ("core", "table1", "rl", "grid"):
        (tmp_path / "reproduce" / sub).mkdir()
        (tmp_path / "reproduce" / sub / "__init__.py").write_text("")
    (tmp_path / "reproduce" / "core" / "c.py").write_text("from reproduce.grid import r\n")
    (tmp_path / "reproduce" / "grid" / "r.py").write_text("from reproduce.table1 import t\n")
    (tmp_path / "reproduce" / "table1" / "t.py").write_text("")
    (tmp_path / "reproduce" / "rl" / "p.py").write_text("from reproduce.table1 import t\n")
    graph = import_graph(str(tmp_path))
    assert upward_imports(graph) == [("building_blocks.a", "gas.g"),
                                     ("building_blocks.common.x", "building_blocks.image.y"),
                                     ("building_blocks.rl.z", "building_blocks.image.y"),
                                     ("reproduce.core.c", "reproduce.grid.r"),
                                     ("reproduce.rl.p", "reproduce.table1.t")]
    assert sorted(cycles(graph)) == [["building_blocks.a", "gas.g"],
                                     ["building_blocks.b", "building_blocks.c"]]
