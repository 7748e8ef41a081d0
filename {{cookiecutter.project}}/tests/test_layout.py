"""The package's shape, checked against its real imports: every stage's deps in dvc.yaml are complete,
libraries never import a stage or a command, and no import goes in a circle."""

import ast
import re
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
PIPELINE = yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
PACKAGE = next(path for path in (PROJECT / "src").iterdir() if (path / "__init__.py").is_file())
TOP = ("stages", "commands")  # what dvc.yaml, people and CI run; everything else is a library


def module_file(name: str) -> Path | None:
    """The file of a dotted module name inside the package, or None when it is outside it (or a name in a module)."""
    if name.split(".")[0] != PACKAGE.name:
        return None
    path = PACKAGE.joinpath(*name.split(".")[1:])
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[Path]:
    """The package's files that `path` imports, anywhere in it (inside functions too), with the packages
    they belong to."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
            module = ".".join(filter(None, [base, node.module]))
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    files = set()
    for name in names:
        parts = name.split(".")
        files |= {module_file(".".join(parts[:end])) for end in range(1, len(parts) + 1)}
    return files - {None, path}


def reached(start: Path) -> set[Path]:
    """Every file of the package that running `start` executes: its imports, followed to the end."""
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += imported(path)
    return seen


def runs_code(path: Path) -> bool:
    """False for a package's `__init__.py` that holds only its docstring: importing it runs nothing."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body)


@pytest.mark.parametrize("stage", PIPELINE)
def test_each_stage_depends_on_every_module_it_runs(stage):
    spec = PIPELINE[stage]
    module = re.search(r"python -m (\S+)", spec["cmd"])[1]
    start = module_file(module)
    assert start is not None and start.parent.name == "stages", f"{stage}: runs {module}, not a module of stages/"
    needed = {str(path.relative_to(PROJECT)) for path in reached(start) if runs_code(path)}
    listed = {dep for dep in spec.get("deps", []) if dep.startswith("src/")}
    missing, unused = sorted(needed - listed), sorted(listed - needed)
    assert not missing, f"dvc.yaml: stage '{stage}' runs {', '.join(missing)}, missing from its deps"
    assert not unused, f"dvc.yaml: stage '{stage}' never runs {', '.join(unused)}, listed in its deps"


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_nothing_imports_a_stage_or_a_command(path):
    """Stages and commands sit on top: libraries never import them, nor do they import each other."""
    for target in imported(path):
        if layer(target) in TOP and target.name != "__init__.py":
            pytest.fail(f"{path.relative_to(PROJECT)} imports {target.relative_to(PROJECT)}: "
                        f"only dvc.yaml, make and people run the modules of {layer(target)}/")


def test_no_module_imports_itself_through_others():
    graph = {path: imported(path) for path in modules()}
    for path in graph:
        circle = _circle(graph, path)
        assert circle is None, "import circle: " + " -> ".join(str(p.relative_to(PACKAGE)) for p in circle)


def _circle(graph: dict, start: Path) -> list[Path] | None:
    """A chain of imports from `start` back to itself, if there is one."""
    todo = [(start, [start])]
    seen = set()
    while todo:
        path, chain = todo.pop()
        for target in graph[path]:
            if target == start:
                return [*chain, start]
            # Importing a submodule imports its package's __init__; that is no circle of ours.
            if target not in seen and target.name != "__init__.py":
                seen.add(target)
                todo.append((target, [*chain, target]))
    return None
