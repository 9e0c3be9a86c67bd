"""The architecture, enforced: imports run one way (see docs/architecture.rst).

Every module of ``bea`` belongs to a *unit* (a top-level module, or a sub-package as a whole) with
a rank in :data:`LAYERS`. A unit may import only units of strictly lower rank, so units on one
rank (the three derivation routes and the numeric back-end, for instance) never import each
other. Parsed with :mod:`ast`, nothing is imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "bea"

#: Unit → rank. A unit imports only units of lower rank.
LAYERS = {
    "bea._version": 0,
    "bea.errors": 0,
    "bea._checks": 1,
    "bea._progress": 1,
    "bea.functions": 1,
    "bea.io": 1,
    "bea.codegen": 2,
    "bea.diffring": 2,
    "bea.parsing": 2,
    "bea.reporting": 2,
    "bea.flow": 3,
    "bea.step": 3,
    "bea.models": 3,
    "bea.plots": 3,
    "bea.regularization": 4,
    "bea.taylor": 4,
    "bea.relation": 4,
    "bea.bseries": 4,
    "bea.numeric": 4,
    "bea.routes": 5,
    "bea.optim": 6,
    "bea.derive": 7,
    "bea.hamiltonian": 7,
    "bea.splitting": 7,
    "bea.verification": 7,
    "bea.precise": 5,
    "bea.sme": 8,
    "bea.transient": 8,
    "bea.study": 8,
    "bea.deep": 8,
    "bea.series": 8,  # deprecated alias of bea.derive/bea.taylor names
    "bea.report": 9,  # deprecated alias of bea.study.report
    "bea": 9,
    "bea.cli": 9,
}

#: Modules that belong to another module's unit (``python -m bea`` is the command line).
SAME_UNIT = {"bea.__main__": "bea.cli"}

#: Function-local imports of bea modules, where start-up time or an optional dependency needs
#: them: (importing module, imported module).
LOCAL_IMPORTS_ALLOWED = {
    # the command line loads the API only for the command that runs
    ("bea.cli", "*"),
    # matplotlib is loaded only when a figure is drawn
    ("bea.verification", "bea.plots.convergence"),
    ("bea.sme", "bea.plots.convergence"),
    ("bea.transient", "bea.plots.convergence"),
    ("bea.study.figures", "bea.study.plots"),
    ("bea.study.figures", "bea.plots.convergence"),
}

MAX_LEVELS = 10


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _unit(module: str) -> str:
    module = SAME_UNIT.get(module, module)
    parts = module.split(".")
    return module if len(parts) == 1 else ".".join(parts[:2])


def _target(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def _imports(module: str) -> tuple[tuple[str, tuple[str, ...], bool], ...]:
    """(imported bea module, names imported from it, function-local?) for each import."""
    tree = ast.parse(MODULES[module].read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bea":
                    found.append((alias.name, (), id(node) not in top))
        elif isinstance(node, ast.ImportFrom):
            target = _target(module, node)
            if target.split(".")[0] != "bea":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # "from . import x": the module x
                    found.append((sub, (), id(node) not in top))
                else:
                    found.append((target, (alias.name,), id(node) not in top))
    return tuple(found)


def test_every_module_belongs_to_a_layer():
    missing = sorted({_unit(m) for m in MODULES} - set(LAYERS))
    assert not missing, f"place these units in LAYERS (tests/test_layers.py): {missing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    here = _unit(module)
    for target, _, _ in _imports(module):
        there = _unit(target)
        if there == here:
            continue
        assert LAYERS[there] < LAYERS[here], (
            f"{module} imports {target}: rank {LAYERS[there]} is not below {here}'s {LAYERS[here]}"
        )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_is_imported_from_another_module(module):
    for target, names, _ in _imports(module):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module} imports private {private} from {target}"
        assert not target.split(".")[-1].startswith("_") or target in (
            "bea._version",
            "bea._checks",
            "bea._progress",
        ), f"{module} imports the private module {target}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_function_local_imports_only_where_allowed(module):
    for target, _, local in _imports(module):
        if local:
            ok = (module, "*") in LOCAL_IMPORTS_ALLOWED or (module, target) in (
                LOCAL_IMPORTS_ALLOWED
            )
            ok = ok or any(
                module == m and (target == t or target.startswith(t + "."))
                for m, t in LOCAL_IMPORTS_ALLOWED
            )
            assert ok, f"{module} imports {target} inside a function (not in the allow-list)"


def _graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}


def test_no_circular_imports():
    graph, state, stack = _graph(), {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == 1:
                cycle = stack[stack.index(n) :] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_unit_graph_is_at_most_ten_levels_deep():
    graph = {}
    for m, targets in _graph().items():
        graph.setdefault(_unit(m), set()).update(_unit(t) for t in targets if _unit(t) != _unit(m))

    @cache
    def depth(u):
        return 1 + max((depth(v) for v in graph.get(u, ())), default=0)

    deepest = max(graph, key=depth)
    assert depth(deepest) <= MAX_LEVELS, f"{deepest} sits {depth(deepest)} levels deep"


def test_layer_test_catches_an_upward_import(tmp_path, monkeypatch):
    # the checks above must be able to fail: an upward import in a fake module is found
    fake = tmp_path / "flow_up.py"
    fake.write_text("from .study import figures\n")
    monkeypatch.setitem(MODULES, "bea.flow_up", fake)
    monkeypatch.setitem(LAYERS, "bea.flow_up", 3)
    _imports.cache_clear()
    with pytest.raises(AssertionError, match="is not below"):
        test_imports_point_down("bea.flow_up")
    _imports.cache_clear()


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_import_bea_loads_neither_the_numeric_stack_nor_plotting_nor_extras():
    loaded = _imported_after("import bea")
    assert not loaded & {"sympy", "numpy", "scipy", "matplotlib", "jax", "sklearn", "dask"}


def test_the_command_line_parser_loads_no_api():
    loaded = _imported_after("import bea.cli; bea.cli.build_parser()")
    assert not loaded & {"sympy", "numpy", "scipy", "matplotlib", "jax"}


def test_derive_loads_no_numeric_back_end():
    loaded = _imported_after("import bea; bea.modified_flow('a**2', ['a'])")
    assert "sympy" in loaded and not loaded & {"scipy", "matplotlib", "jax"}


@pytest.mark.parametrize(
    ("module", "names"),
    [("bea.series", ["modified_equation", "step_coefficients"]), ("bea.report", ["reproduce"])],
)
def test_old_module_paths_still_import_with_a_deprecation_warning(module, names):
    code = (
        "import warnings, importlib\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    m = importlib.import_module({module!r})\n"
        f"print(all(callable(getattr(m, n)) for n in {names!r}),"
        " any(issubclass(x.category, DeprecationWarning) for x in w))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
