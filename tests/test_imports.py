"""Each module of `webapp` imports on its own, and no two modules import each other in a
circle, even through imports written inside functions (which hide a cycle until the
wrong module happens to be imported first)."""
import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import webapp

ROOT = Path(webapp.__file__).resolve().parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(ROOT)], prefix="webapp."))


@pytest.mark.parametrize("name", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(name):
    result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True,
                            cwd=ROOT.parent, timeout=60)
    assert result.returncode == 0, result.stderr


def _path_of(name):
    parts = name.split(".")[1:]
    package = ROOT.joinpath(*parts, "__init__.py")
    return package if package.exists() else ROOT.joinpath(*parts[:-1], parts[-1] + ".py")


def _imports(name):
    """The webapp modules `name` imports anywhere in its file (top level or in a function)."""
    path = _path_of(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = f"{base}.{node.module}" if node.level and node.module else (node.module if not node.level else base)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    # Importing webapp.sync.state runs webapp/sync/__init__.py first: that counts too.
    with_packages = {".".join(m.split(".")[:n]) for m in found for n in range(2, m.count(".") + 2)}
    return {m for m in with_packages if m in MODULES}


def _depends(name, target):
    """A package's own modules importing it back (`from . import bp`) is how blueprints are
    built, not a cycle; nor is a package importing its own modules."""
    return not (target.startswith(name + ".") or name.startswith(target + "."))


def test_no_import_cycles():
    graph = {name: {t for t in _imports(name) if t != name and _depends(name, t)} for name in MODULES}
    cycles, state = [], {}

    def visit(name, trail):
        state[name] = "visiting"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "visiting":
                cycles.append(" → ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in MODULES:
        if name not in state:
            visit(name, [name])
    assert cycles == []
