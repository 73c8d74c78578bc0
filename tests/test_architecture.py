"""The shape of the code: no import cycles, and dependencies that point one way (docs/architecture.md)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("survey_app", "forms")
BLUEPRINTS = ("respond", "auth", "staff", "invitations", "participants", "results", "privacy", "admin")
# The factory registers the blueprints; survey_app/cli.py adds their command groups.
WIRING = {"survey_app", "survey_app.cli"}

pytestmark = pytest.mark.database_independent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import that runs: at module level or inside functions, but not under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of survey_app/ and forms/ it imports (a `from package import module` names the module)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                base = package.split(".")
                if node.level:
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                              for alias in node.names]
            for candidate in candidates:
                while candidate and candidate not in modules:  # `import a.b.c` of a name inside a module
                    candidate = candidate.rpartition(".")[0]
                if candidate and candidate != name:
                    targets.add(candidate)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_import_graph_is_read_whole():
    graph = import_graph()
    # The check below is only as good as the graph: these edges exist and must be seen.
    assert "survey_app.services.invitations.batches" in graph["survey_app.services.invitations"]
    assert "survey_app.jobs" in graph["survey_app.services.invitations.batches"]
    assert "survey_app.services.invitations" in graph["survey_app.tasks"]
    assert "forms.respond" in graph["survey_app.respond.views"]


def test_no_import_cycles():
    """Lazy imports inside functions count too: they only hide a cycle until the call."""
    assert _cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _blueprint_of(module: str) -> str | None:
    return next((name for name in BLUEPRINTS if _within(module, f"survey_app.{name}")), None)


def _blueprint_offences(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items() if module not in WIRING
        for target in targets
        if _blueprint_of(target) is not None and _blueprint_of(target) != _blueprint_of(module))


# What each layer must not import: blueprints -> forms and services -> question types and models.
FORBIDDEN = {
    "forms": ("survey_app.services", "survey_app.tasks", "survey_app.jobs"),
    "survey_app.services": ("forms", "survey_app.tasks", "survey_app.lookups", "survey_app.security"),
    "survey_app.questions": ("forms", "survey_app.services", "survey_app.tasks", "survey_app.jobs"),
    "survey_app.models": ("forms", "survey_app.services", "survey_app.questions", "survey_app.tasks",
                          "survey_app.jobs"),
    "survey_app.pdf": ("forms", "survey_app.services", "survey_app.tasks", "survey_app.jobs"),
    "survey_app.figures": ("forms", "survey_app.services", "survey_app.questions", "survey_app.models"),
    "survey_app.jobs": ("forms", "survey_app.services", "survey_app.tasks"),
}


def _layer_offences(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for layer, forbidden in FORBIDDEN.items() if _within(module, layer)
        for target in targets if any(_within(target, package) for package in forbidden))


def test_no_module_outside_a_blueprint_package_imports_it():
    """Blueprints sit on top: forms, services, questions and models never reach up into them, nor one into another."""
    assert _blueprint_offences(import_graph()) == []


def test_dependencies_point_one_way():
    assert _layer_offences(import_graph()) == []


def test_only_the_factory_and_the_worker_import_the_tasks():
    """Services ask for jobs through survey_app/jobs.py; tasks.py is wiring, like a blueprint."""
    importers = {module for module, targets in import_graph().items() if "survey_app.tasks" in targets}
    assert importers <= {"survey_app", "survey_app.worker"}


def test_the_layering_checks_see_offences():
    graph = {"survey_app.services.staff": {"survey_app.auth.sessions", "forms.auth"},
             "forms.privacy": {"survey_app.services.privacy"},
             "survey_app.invitations.public": {"survey_app.respond.throttle"},
             "survey_app.respond.views": {"survey_app.respond.throttle", "forms.respond"},
             "survey_app": {"survey_app.auth.views"}}
    assert _layer_offences(graph) == ["forms.privacy imports survey_app.services.privacy",
                                      "survey_app.services.staff imports forms.auth"]
    assert _blueprint_offences(graph) == ["survey_app.invitations.public imports survey_app.respond.throttle",
                                          "survey_app.services.staff imports survey_app.auth.sessions"]


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return imported | attributes


def test_services_are_told_who_acts():
    """The acting staff member is an argument (views pass current_user, commands None), never looked up."""
    offenders = sorted(name for name, path in _modules().items()
                       if _blueprint_of(name) is None and name != "survey_app.security"
                       and "current_user" in _names_used(path))
    assert offenders == []


def _commits(path: Path) -> list[int]:
    """Lines that call .commit() on anything (db.session.commit(), a connection, a transaction)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def test_views_never_commit():
    """One rule: the service a view calls commits; blueprint modules (views, pages, commands) never do."""
    offences = {name: lines for name, path in _modules().items()
                if _blueprint_of(name) is not None and (lines := _commits(path))}
    assert offences == {}


def test_the_commit_check_sees_a_commit(tmp_path):
    view = tmp_path / "views.py"
    view.write_text("def sign_out():\n    revoke()\n    db.session.commit()\n", encoding="utf-8")
    assert _commits(view) == [3]
