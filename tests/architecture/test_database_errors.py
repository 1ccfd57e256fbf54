"""Every database error a consumer meets is Django's, so that the base task knows a lost
connection for one and retries it (tasks/base.py). psycopg2's own cursor under a Django
connection bypasses Django's error wrapper; only `apps/core/sql.py` reaches it, inside
`wrap_database_errors`. Read from the source with ast."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"apps/core/sql.py"}


def raw_cursor_uses(path):
    """Lines where a module takes psycopg2's cursor out of a Django cursor (`x.cursor` used
    as a value, not called) or imports psycopg2.extras, whose helpers need that cursor."""
    tree = ast.parse(path.read_text(), filename=str(path))
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "cursor" and id(node) not in called:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in ("psycopg2.extras", "psycopg2"):
            if node.module == "psycopg2.extras" or any(a.name == "extras" for a in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name == "psycopg2.extras" for a in node.names):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_a_raw_cursor(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from psycopg2.extras import execute_values\n"
        "with connection.cursor() as cursor:\n"
        "    execute_values(cursor.cursor, 'sql', [])\n"
    )
    assert raw_cursor_uses(module) == [1, 3]


def test_only_core_sql_reaches_psycopg2s_own_cursor():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("apps", "tasks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in ALLOWED
        for line in raw_cursor_uses(path)
    ]
    assert not found, f"use apps.core.sql.values_execute instead: {found}"
