"""The shape of every app (ARCHITECTURE.md, "Inside an app"), checked from the
source so it cannot drift:

- interfaces (`<app>/api/`, `<app>/views/`) read only through selectors and
  write only through services: no queryset method, manager or
  `get_object_or_404` in them, and no `django.db.models` expressions;
- selectors never write: no save, create, delete, bulk write, row lock or
  transaction in `<app>/selectors/`;
- every app keeps its interfaces and reads in packages named for the layer
  (no `api_*.py`, `views_*.py`, `forms_*.py`, `selectors_*.py` at an app's top).

The import-linter contracts in pyproject.toml cover what imports can show
(selectors never import services, the origination chain, the rails doorway);
these checks cover calls, which imports cannot show.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "users", "customers", "origination", "servicing", "arrears", "reporting")

# Methods that only a queryset or a manager has (or that run a query when
# called on one). `get`, `update`, `count` and `first` are left out: dicts,
# lists and forms have them too, and the other names catch every query that
# would reach them.
QUERY_METHODS = {
    "all",
    "filter",
    "exclude",
    "select_related",
    "prefetch_related",
    "annotate",
    "aggregate",
    "values",
    "values_list",
    "order_by",
    "only",
    "defer",
    "select_for_update",
    "in_bulk",
    "exists",
    "raw",
    "extra",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "distinct",
    "latest",
    "earliest",
}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
WRITES = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create"}
WRITES |= {"update_or_create", "select_for_update", "atomic", "on_commit"}


def modules_under(layer: str) -> list[Path]:
    found = []
    for app in APPS:
        base = ROOT / app / layer
        if base.is_dir():
            found += sorted(base.rglob("*.py"))
    return found


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                yield node, func.attr, func.value
            elif isinstance(func, ast.Name):
                yield node, func.id, None


def orm_uses(path: Path) -> list[str]:
    """Lines of `path` that query the database or build ORM expressions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            found.append(f"{node.lineno}: .objects")
        if isinstance(node, ast.ImportFrom) and node.module in {"django.db.models", "django.db"}:
            found.append(f"{node.lineno}: from {node.module} import ...")
    for node, name, receiver in _calls(tree):
        if name in SHORTCUTS and receiver is None:
            found.append(f"{node.lineno}: {name}()")
        elif (
            receiver is not None and name in QUERY_METHODS and not _look_alike(node, name, receiver)
        ):
            found.append(f"{node.lineno}: .{name}()")
    return _one_per_line(found)


def _look_alike(node: ast.Call, name: str, receiver: ast.AST) -> bool:
    """A dict's `values()` or a literal's method, not a queryset's."""
    if isinstance(receiver, ast.Constant):
        return True
    return name in {"values", "values_list"} and not node.args and not node.keywords


def _one_per_line(found: list[str]) -> list[str]:
    """One finding a line (a chain `X.objects.filter().order_by()` is one query)."""
    seen: dict[int, str] = {}
    for item in found:
        seen.setdefault(int(item.split(":", 1)[0]), item)
    return [seen[line] for line in sorted(seen)]


def writes(path: Path) -> list[str]:
    """Lines of `path` that write rows, lock them or open a transaction."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node, name, receiver in _calls(tree):
        if receiver is not None and name in WRITES:
            found.append(f"{node.lineno}: .{name}()")
        # `qs.update(...)`: a queryset's update is called on a call chain
        # (`X.objects.filter(...).update(...)`); a dict's on a name.
        if name == "update" and isinstance(receiver, ast.Call):
            found.append(f"{node.lineno}: .update() on a queryset")
    return _one_per_line(found)


def report(problems: dict[Path, list[str]]) -> str:
    return "\n".join(
        f"{path.relative_to(ROOT)}:{line}" for path, lines in problems.items() for line in lines
    )


def test_the_checks_see_what_they_look_for(tmp_path):
    # The checker itself: each kind of query and write it must catch, and
    # look-alikes it must leave (a dict's update, str.join, a form's get).
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from django.db.models import Q\n"
        "from django.shortcuts import get_object_or_404\n"
        "def view(request, pk):\n"
        "    loan = get_object_or_404(Loan, pk=pk)\n"
        "    rows = Loan.objects.filter(pk=pk)\n"
        "    loan.payments.all()\n"
        "    ctx = {}\n"
        "    ctx.update(a=1)\n"
        "    list(ctx.values())\n"
        "    ', '.join(['a'])\n"
        "    request.GET.get('q')\n"
        "    loan.save()\n"
        "    Loan.objects.filter(pk=pk).update(state='x')\n"
    )
    assert orm_uses(sample) == [
        "1: from django.db.models import ...",
        "4: get_object_or_404()",
        "5: .objects",
        "6: .all()",
        "13: .objects",
    ]
    assert writes(sample) == ["12: .save()", "13: .update() on a queryset"]


@pytest.mark.parametrize("layer", ["api", "views"])
def test_interfaces_read_only_through_selectors(layer):
    problems = {p: uses for p in modules_under(layer) if (uses := orm_uses(p))}
    assert not problems, (
        f"ORM use in {layer}/ (move the read into the app's selectors/ and call it):\n"
        + report(problems)
    )


def test_selectors_never_write():
    problems = {p: found for p in modules_under("selectors") if (found := writes(p))}
    assert not problems, "Writes in selectors/ (a write belongs in services/):\n" + report(problems)


def test_every_app_uses_the_layer_packages():
    stray = []
    for app in APPS:
        for path in sorted((ROOT / app).glob("*.py")):
            stem = path.stem
            if stem in {"api", "views", "forms", "selectors", "services", "portal_views"} or any(
                stem.startswith(f"{layer}_") for layer in ("api", "views", "forms", "selectors")
            ):
                stray.append(str(path.relative_to(ROOT)))
    assert not stray, (
        "Modules that belong in a layer package (api/, views/, forms/, selectors/):\n"
        + "\n".join(stray)
    )
