"""The README's "Roles and access" tables say what the code does: the area
table is the staff navigation (users.roles.AREAS, shown by the permission
each role holds), the action table's checkmarks follow from the
permissions its rows name, and every permission a role holds is in one of
them. Change a role, an area or a permission and this test names the row."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from users.roles import AREAS, ROLES

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ROLE_LIST = list(ROLES.values())

# Declared on roles for areas whose pages have not landed: no view checks
# them yet, so they open nothing (test_unlisted_permissions_open_nothing).
NOT_CHECKED_YET = {"users.access_origination", "users.access_collections", "users.access_reporting"}


def _section() -> str:
    text = README.read_text()
    start = text.index("\n## Roles and access\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _tables() -> dict[str, list[list[str]]]:
    """{first header cell: [header, row, ...]} for each table of the section."""
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in _section().splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            continue  # the alignment row
        if current is None:
            current = tables.setdefault(cells[0], [])
        current.append(cells)
    return tables


def _permissions(cell: str) -> list[str]:
    perms = re.findall(r"`([a-z_]+\.[a-z_]+)`", cell)
    assert perms and cell == " + ".join(f"`{p}`" for p in perms), cell
    return perms


def _expected_marks(holds) -> list[str]:
    return ["✓" if holds(role) else "" for role in ROLE_LIST]


def test_both_tables_have_a_column_per_role_in_order():
    tables = _tables()
    assert set(tables) == {"area", "action"}
    for table in tables.values():
        assert table[0][2:] == [role.label for role in ROLE_LIST]
        assert all(len(row) == 2 + len(ROLE_LIST) for row in table)


def test_area_table_is_the_navigation():
    rows = _tables()["area"][1:]
    assert [row[0] for row in rows] == [
        f"{area.label} (`{reverse(area.url_name)}`)" for area in AREAS
    ], "one row per users.roles.AREAS entry, in navigation order, with its page"
    for row, area in zip(rows, AREAS, strict=True):
        assert row[1] == f"`{area.permission}`", area.key
        expected = _expected_marks(lambda role, p=area.permission: p in role.permissions)
        assert row[2:] == expected, f"README row {area.label!r}: who sees it"


def test_action_table_checkmarks_follow_the_permissions():
    for row in _tables()["action"][1:]:
        label, cell, marks = row[0], row[1], row[2:]
        if label == "Two-factor":
            expected = ["required" if r.requires_two_factor else "optional" for r in ROLE_LIST]
        elif cell == "administrator role":
            # users.admin.LendingAdminSite admits the administrator role only
            assert "/admin/" in label
            expected = _expected_marks(lambda role: role.key == "administrator")
        else:
            perms = _permissions(cell)
            expected = _expected_marks(
                lambda role, perms=perms: all(p in role.permissions for p in perms)
            )
        assert marks == expected, f"README row {label!r}"


@pytest.mark.django_db
def test_every_permission_named_exists():
    named = {p for row in _tables()["area"][1:] for p in _permissions(row[1])}
    named |= {
        p for row in _tables()["action"][1:] if row[1].startswith("`") for p in _permissions(row[1])
    }
    for label in sorted(named):
        app_label, codename = label.split(".")
        assert Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).exists(), label


def test_every_role_permission_is_in_a_table():
    named = {row[1].strip("`") for row in _tables()["area"][1:]}
    named |= {
        p for row in _tables()["action"][1:] if row[1].startswith("`") for p in _permissions(row[1])
    }
    held = {p for role in ROLE_LIST for p in role.permissions}
    missing = held - named - NOT_CHECKED_YET
    assert not missing, f"add a README row for {sorted(missing)}"


def test_unlisted_permissions_open_nothing():
    """The permissions left out of the tables are checked nowhere in the code
    (only declared): once a view checks one, it needs its README row."""
    sources = [
        path
        for app in (
            "core",
            "customers",
            "origination",
            "servicing",
            "arrears",
            "reporting",
            "users",
        )
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path.relative_to(ROOT).as_posix() != "users/roles.py"
    ]
    text = "\n".join(path.read_text() for path in sources)
    for label in sorted(NOT_CHECKED_YET):
        codename = label.split(".")[1]
        assert label not in text, label
        # users/models.py declares the codename in Meta.permissions, as ("codename", ...)
        assert text.count(f'"{codename}"') == 1, codename
