"""The house's layout holds: every import (lazy ones included) runs down the layers docs/DESIGN.md draws,
and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS = {"forecaster.config", "textgen.config", "classifier.config", "readers.csvread"}
COMPUTE = {"core", "nn"}
# package: the packages it may import (besides itself); cli.py may import any of them
MAY_IMPORT = {
    "core": set(),
    "nn": {"core"},
    "readers": {"core"},
    "db": {"core", "readers"},
    "forecaster": COMPUTE,
    "textgen": COMPUTE,
    "classifier": COMPUTE,
    "reports": {"core"},
    "runtime": {"core", "db", "nn", "forecaster", "textgen", "classifier"},
    "pipelines": {"core", "readers", "db", "nn", "forecaster", "textgen", "classifier", "reports", "runtime"},
    "jobs": {"core", "db", "runtime", "pipelines"},
    "service": {"core", "pipelines", "reports"},
    "commands": {"core", "pipelines", "jobs", "reports", "service"},
}
# parameter definitions (configuration dataclasses and their choices) are read by the layers that parse
# options: the CLI, the scheduler's task parameters and the service's requests
MAY_IMPORT_MODULES = {"jobs": PARAMETERS, "commands": PARAMETERS, "service": PARAMETERS}
OURS = set(MAY_IMPORT) | {"cli"}


def modules() -> dict[str, Path]:
    found = {"cli": ROOT / "cli.py"}
    for package in MAY_IMPORT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                parts = path.relative_to(ROOT).with_suffix("").parts
                found[".".join(p for p in parts if p != "__init__")] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """recur's modules a file imports, anywhere in it (inside functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name.split(".")[0] not in OURS:
                continue
            while name not in known and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in known:
                out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {m: imports(p, set(found)) - {m} for m, p in found.items()}


def test_every_import_runs_down_the_layers():
    wrong = []
    for module, targets in graph().items():
        package = module.split(".")[0]
        if package == "cli":
            continue
        for target in targets:
            other = target.split(".")[0]
            allowed = other == package or other in MAY_IMPORT[package]
            if not (allowed or target in MAY_IMPORT_MODULES.get(package, ())):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_no_module_imports_itself_back():
    g = graph()
    cycles, index, low, stack, on, counter = [], {}, {}, [], set(), [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in list(g):
        if v not in index:
            visit(v)
    assert not cycles, f"import circles: {cycles}"


def test_the_checks_see_what_they_check(tmp_path):
    """The graph is read from the sources, lazy imports included: an empty result means something."""
    g = graph()
    assert "db.engine" in g["pipelines.ingest"] and "nn.layers" in g["classifier.networks"]
    assert len(g) > 80
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    from db.engine import read_session\n    from db import registry\n")
    assert imports(lazy, set(g)) == {"db.engine", "db.registry", "db"}


MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def test_modules_and_functions_stay_small():
    """A module over 400 lines holds more than one concern; a function over 60 lines does several things."""
    long = []
    for module, path in modules().items():
        source = path.read_text()
        if len(source.splitlines()) > MAX_MODULE_LINES:
            long.append(f"{module}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert not long, "\n".join(long)


MAX_PARAMETERS = 6
THIN_LAYERS = ("pipelines", "jobs", "commands")


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    named = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    count = len(named) + (a.vararg is not None) + (a.kwarg is not None)
    return count - (bool(named) and named[0].arg in ("self", "cls"))


def test_the_thin_layers_pass_typed_values_not_long_argument_lists():
    """Pipelines, jobs and commands hand configurations on as typed values: no function of theirs takes
    more than six parameters (a Click command takes its options as **options)."""
    wide = []
    for module, path in modules().items():
        if module.split(".")[0] in THIN_LAYERS:
            for node in ast.walk(ast.parse(path.read_text())):
                function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                if function and parameters(node) > MAX_PARAMETERS:
                    wide.append(f"{module}.{node.name}: {parameters(node)} parameters")
    assert not wide, "\n".join(wide)
    probe = ast.parse("def f(self, a, b, *c, d, **e): pass").body[0]
    assert parameters(probe) == 5


def test_the_scoreboard_is_read_through_its_type():
    """A stored backtest is read through forecaster.scores.Scoreboard, never by its JSON keys."""
    spelled = [
        module
        for module, path in modules().items()
        if module != "forecaster.scores" and '["overall"]' in path.read_text()
    ]
    assert not spelled, f'["overall"] outside forecaster.scores: {spelled}'
