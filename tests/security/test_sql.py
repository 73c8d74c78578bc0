"""SQL is written with bound parameters: no value is ever formatted into the text of a statement."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Calls whose first argument is SQL text: SQLAlchemy's text() by its imported names, and the execute methods.
SQL_FUNCTIONS = {"text", "sql_text"}
SQL_METHODS = {"exec_driver_sql", "execute", "executemany"}
# Reviewed: text built from constants only, never from a value.
REVIEWED = {"survey_app/services/totals.py": 1}  # the "C" collation PostgreSQL needs to sort as Python does

pytestmark = pytest.mark.database_independent


def _built_at_run_time(node: ast.expr) -> bool:
    """An f-string, a % or + expression, or a .format() call: text that can carry a value."""
    return isinstance(node, ast.JoinedStr | ast.BinOp) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format")


def formatted_sql(source: str) -> list[int]:
    """Lines that pass SQL built at run time to text(), execute() or exec_driver_sql()."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        sql = ((isinstance(node.func, ast.Name) and node.func.id in SQL_FUNCTIONS)
               or (isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS))
        if sql and _built_at_run_time(node.args[0]):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_sql_is_formatted_from_values():
    found = {str(path.relative_to(ROOT)): len(lines) for package in ("survey_app", "forms")
             for path in sorted((ROOT / package).rglob("*.py"))
             if (lines := formatted_sql(path.read_text(encoding="utf-8")))}
    assert found == REVIEWED


def test_the_check_sees_formatted_sql():
    source = ('db.session.execute(text(f"DELETE FROM answers WHERE id = {answer_id}"))\n'
              'db.session.execute(text("SELECT 1 WHERE x = %s" % value))\n'
              'connection.exec_driver_sql("UPDATE t SET a = {}".format(value))\n'
              'db.session.execute(text("SELECT :value"), {"value": value})\n'
              'canvas.text(x + size / 2, y, label)\n')  # a drawing's text method, not SQL
    assert formatted_sql(source) == [1, 2, 3]
