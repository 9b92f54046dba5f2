"""The floor plan holds: sessions_app's packages import only downwards along the data path, and
no modules import each other in a circle. Read from the source (every import, including those
inside functions, which hide an edge as well as any), so it needs no database."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "sessions_app"

# Low to high. A module may import from its own layer or any below it, never from above.
LAYERS = [
    # the vocabulary and the storage every layer shares
    {
        "models",
        "codes",
        "waiting",
        "crypto",
        "timezones",
        "db",
        "outbound",
        "http",
        "staticfinders",
        "queueing",
    },
    {"glance", "accounts"},  # talking to Glance; who may see what, and the audit trail
    {"rollups"},  # the per-day sums kept beside the sessions
    {"sync"},  # pulling sessions in, checking them, retention
    {"figures"},  # every number, from rollups or raw rows
    {"exports", "api", "notify"},  # what leaves: files, API answers, mail, webhooks, wallboard
    # the web and the worker: thin layers over all the above
    {"views", "forms", "admin", "tasks", "urls", "context_processors", "templatetags"},
    {"management", "apps"},  # commands, and the app's wiring
]


def modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The sessions_app modules a module imports: `from pkg import mod` names mod itself, not the
    package (every submodule's package runs first anyway, which is no edge of its own)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        edges |= {target for target in targets if target in known and target != name}
    return edges


def layer_of(name: str) -> int:
    top = name.split(".")[1] if "." in name else ""
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(f"{name} sits in no layer: add its package to LAYERS in {__file__}")


GRAPH = {name: imports_of(name, path, set(modules())) for name, path in modules().items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if n != "sessions_app"))
def test_a_module_imports_only_from_its_own_layer_or_below(name):
    upward = sorted(other for other in GRAPH[name] if layer_of(other) > layer_of(name))
    assert upward == [], f"{name} (layer {layer_of(name)}) imports from above: {upward}"


def test_the_checks_see_a_cycle_and_an_upward_import():
    """The checks themselves: a planted circle is found, and so is a low module reaching up."""
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert cycles(planted) == [["a", "b", "c"]]
    assert layer_of("sessions_app.views.dashboard") > layer_of("sessions_app.figures.kpis")
    assert layer_of("sessions_app.sync.run") < layer_of("sessions_app.notify.alerts")
