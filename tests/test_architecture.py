"""The package's floors (docs/architecture.md), held against its imports."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "django_deploykit"

# Top-level names of the package by floor (docs/architecture.md); a module imports only from its floor or below.
FLOORS = {
    1: {
        "__init__",
        "conf",
        "exit_codes",
        "durations",
        "interrupts",
        "redact",
        "text",
        "project_code",
        "atomic_files",
        "processes",
    },
    2: {"deploy_root", "servers", "slots", "gunicorn_launcher"},
    3: {
        "settings",
        "migrate_safe",
        "maintenance",
        "cache_clearing",
        "deploy_pull",
        "swap_live",
        "server_config",
        "notifications",
    },
    4: {"deploy", "deploy_check", "demo", "console"},
    5: {"management", "checks", "apps", "urls", "views", "console_urls", "console_views", "models"},
}
FLOOR_OF = {name: floor for floor, names in FLOORS.items() for name in names}
CAPABILITIES = FLOORS[3]
COMMAND_LINES_AT_MOST = 120


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every django_deploykit module ``path`` imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "django_deploykit"}


def top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {
    name: {target for target in imports_of(path) if target in MODULES and target != name}
    for name, path in MODULES.items()
}


class FloorTests:
    def test_every_top_level_name_has_a_floor(self) -> None:
        assert {top(name) for name in MODULES} <= set(FLOOR_OF)

    def test_no_module_imports_from_a_floor_above_its_own(self) -> None:
        upward = [
            f"{name} -> {target}"
            for name, targets in GRAPH.items()
            for target in targets
            if FLOOR_OF[top(target)] > FLOOR_OF[top(name)]
        ]
        assert upward == []

    def test_capabilities_never_import_each_other(self) -> None:
        across = [
            f"{name} -> {target}"
            for name, targets in GRAPH.items()
            for target in targets
            if top(name) in CAPABILITIES and top(target) in CAPABILITIES and top(name) != top(target)
        ]
        assert across == []

    def test_no_import_circles(self) -> None:
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        circles = []

        def visit(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            for target in sorted(GRAPH[node]):
                if target not in index:
                    visit(target)
                    low[node] = min(low[node], low[target])
                elif target in stack:
                    low[node] = min(low[node], index[target])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))

        for node in sorted(GRAPH):
            if node not in index:
                visit(node)
        assert circles == []


class CommandTests:
    def test_commands_are_thin(self) -> None:
        long = {
            path.name: lines
            for path in (PACKAGE / "management" / "commands").glob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > COMMAND_LINES_AT_MOST
        }
        assert long == {}
