"""spooler.sessions as a package: the names the project imports from it, and how its modules import one another."""

import ast
from pathlib import Path

import spooler.sessions

PACKAGE = Path(spooler.sessions.__file__).parent


def _modules():
    return {path.stem: ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.glob("*.py"))}


def _relative_imports(tree):
    """(module imported, names taken from it, module aliases) for every `from . import` / `from .x import`,
    lazy imports inside functions included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                yield node.module.split(".")[0], [a.name for a in node.names], {}
            else:
                for alias in node.names:
                    yield alias.name, [], {alias.asname or alias.name: alias.name}


def test_the_public_names_are_there():
    for name in spooler.sessions.__all__:
        assert getattr(spooler.sessions, name) is not None, name
    from spooler.sessions.parts import Attachment
    from spooler.sessions.reading import MailReader, ReadingIMAPSession, ReadingPOP3Session
    assert spooler.sessions.Attachment is Attachment and spooler.sessions.MailReader is MailReader
    assert all(callable(f) for f in (ReadingIMAPSession, ReadingPOP3Session))


def test_no_import_circle():
    graph = {name: {dep for dep, _, _ in _relative_imports(tree)} for name, tree in _modules().items()}
    graph.pop("__init__")

    def reaches(start, goal, seen):
        for dep in graph.get(start, ()):
            if dep == goal or (dep not in seen and reaches(dep, goal, seen | {dep})):
                return True
        return False

    assert [name for name in graph if reaches(name, name, {name})] == []


def _private_names(trees):
    """Private names the package defines: functions, classes, methods and attributes (self._x = ...)."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_no_module_uses_another_ones_private_names():
    found, modules = [], _modules()
    ours = _private_names(modules.values())  # (getattr(x, "_name") on a standard library object is not ours)
    for name, tree in modules.items():
        aliases = {}
        for dep, names, more in _relative_imports(tree):
            aliases.update(more)
            found += [f"{name}: from .{dep} import {n}" for n in names if n.startswith("_")]
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{name}: {node.value.id}.{node.attr}")
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("getattr", "hasattr")
                    and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                    and node.args[1].value in ours):
                found.append(f"{name}: {node.func.id}(..., {node.args[1].value!r})")
    assert found == []


def test_no_django_here():
    imported = set()
    for tree in _modules().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert "django" not in imported and "spooler" not in imported
