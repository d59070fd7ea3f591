"""The dependency direction and module sizes that README's "Architecture" promises."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_SERVICE_LINES = 300


def _python_files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _offenders(folder: str, forbidden: str, *, in_text: bool = True) -> list[str]:
    """Files under `folder` that import `forbidden`, or (in_text) name it anywhere in their text (a string import)."""
    found = []
    for path in _python_files(folder):
        imports = _imported_modules(path)
        if (in_text and forbidden in path.read_text(encoding="utf-8")) or any(
                name == forbidden or name.startswith(forbidden + ".") for name in imports):
            found.append(str(path.relative_to(ROOT)))
    return found


def test_the_spooler_never_imports_the_webmail():
    assert _offenders("spooler", "mailsite.webmail") == []


def test_the_webmail_never_imports_the_session_library():
    assert _offenders("mailsite/webmail", "spooler.sessions") == []


def test_the_forms_that_send_mail_never_import_the_session_library():
    assert _offenders("mailsite/formmail", "spooler.sessions") == []


def test_the_api_goes_through_the_spoolers_services():
    assert _offenders("mailsite/api", "spooler.sessions") == []
    assert _offenders("mailsite/api", "mailsite.webmail") == []


def test_the_mailbox_models_import_neither_side():
    assert _offenders("mailsite/mailboxes", "spooler", in_text=False) == []
    assert _offenders("mailsite/mailboxes", "mailsite.webmail") == []


def test_the_checks_see_an_offender(tmp_path, monkeypatch):
    # The same check over a folder holding one offending import finds it (so an empty answer above means none).
    offender = tmp_path / "spooler" / "bad.py"
    offender.parent.mkdir()
    offender.write_text("from mailsite.webmail import views\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert _offenders("spooler", "mailsite.webmail") == ["spooler/bad.py"]


def test_no_module_of_the_services_is_over_300_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in _python_files("spooler/services")}
    assert len(sizes) > 20  # the walk found the package
    assert {name: n for name, n in sizes.items() if n > MAX_SERVICE_LINES} == {}
