"""Each module of `webapp` imports on its own, and no two modules import each other in a
circle, even through imports written inside functions (which hide a cycle until the
wrong module happens to be imported first)."""
import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import webapp

ROOT = Path(webapp.__file__).resolve().parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(ROOT)], prefix="webapp."))


# One interpreter imports the libraries webapp uses (none of webapp), then forks a child per
# module to import it: as alone as a fresh interpreter each, without paying ~1 s a module.
_FORKING_IMPORTER = """
import json, os, sys, traceback
for library in sys.argv[2].split():
    try:
        __import__(library)
    except Exception:
        pass
assert not [m for m in sys.modules if m == "webapp" or m.startswith("webapp.")]
failures = {}
for name in sys.argv[1].split():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            __import__(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        told = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failures[name] = told or f"exit status {status}"
print(json.dumps(failures))
"""


def _libraries():
    """The top-level packages, outside webapp, that webapp's modules import."""
    found = set()
    for name in MODULES:
        for node in ast.walk(ast.parse(_path_of(name).read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                found.add(node.module.split(".")[0])
    return sorted(found - {"webapp"})


@pytest.fixture(scope="module")
def import_failures():
    result = subprocess.run([sys.executable, "-c", _FORKING_IMPORTER, " ".join(MODULES), " ".join(_libraries())],
                            capture_output=True, text=True, cwd=ROOT.parent, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(name, import_failures):
    assert name not in import_failures, import_failures.get(name)


def test_a_module_that_cannot_import_alone_is_caught(tmp_path):
    # The forking importer reports a failing import (here: one that exists only in a cycle).
    (tmp_path / "cycle_a.py").write_text("from cycle_b import B\nA = 1\n")
    (tmp_path / "cycle_b.py").write_text("from cycle_a import A\nB = 2\n")
    result = subprocess.run([sys.executable, "-c", _FORKING_IMPORTER, "cycle_a json", "os"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(failures) == ["cycle_a"] and "ImportError" in failures["cycle_a"]


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
