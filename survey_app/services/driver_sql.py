"""The respondent's hot-path writes, compiled once per dialect and run on the driver's own cursor.

A save or submit runs a handful of fixed statements. Through Session.execute each pays for an
execution context, parameter construction per row and result metadata: 40-60 µs a statement,
about as much as SQLite takes to run it (bench/profiles/SUMMARY.md). Here the statement is
still built with SQLAlchemy Core from the models' tables, compiled once per dialect, and its
parameters still go through the column types' bind processors; only the per-call machinery is
skipped. It runs on the session's connection, inside the session's transaction, so the caller
commits or rolls back as usual.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from ..extensions import db


class _Compiled(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # parameter names in placeholder order, for positional drivers (SQLite)
    processors: dict[str, Callable[[Any], Any]]
    fixed: dict[str, Any]  # values the statement itself carries, already processed
    results: tuple[Callable[[Any], Any] | None, ...]  # per selected or returned column; () when none converts


class DriverStatement:
    """One Core statement with named bound parameters (no expanding IN), run straight on the cursor."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            processors, fixed = {}, {}
            for name, bind in compiled.binds.items():
                processor = bind.type._cached_bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
                if not bind.required:  # a value written into the statement, such as status='started'
                    value = bind.effective_value
                    fixed[name] = processor(value) if processor is not None else value
            order = tuple(compiled.positiontup) if compiled.positional else None
            results = tuple(column.type._cached_result_processor(dialect, None)
                            for column in compiled._result_columns)
            if not any(results):  # plain integers and strings: rows as the driver gives them
                results = ()
            found = self._compiled[dialect.name] = _Compiled(compiled.string, order, processors, fixed, results)
        return found

    def _run(self, params: Mapping[str, Any]):
        connection = db.session.connection()
        compiled = self._compile(connection.dialect)
        processors = compiled.processors
        values = dict(compiled.fixed)
        for name, value in params.items():
            values[name] = processors[name](value) if name in processors else value
        order = compiled.order
        return _run(connection, compiled.sql, tuple(values[name] for name in order) if order is not None else values), compiled

    def execute(self, params: Mapping[str, Any]):
        """Run on the session's connection, in its transaction; return the cursor (for rowcount)."""
        return self._run(params)[0]

    def first(self, params: Mapping[str, Any]) -> tuple | None:
        """The first row, its values converted by the column types (datetimes, booleans), or None."""
        cursor, compiled = self._run(params)
        row = cursor.fetchone()
        return None if row is None else _processed(row, compiled.results)

    def all(self, params: Mapping[str, Any]) -> list[tuple]:
        """Every row, converted by the column types."""
        cursor, compiled = self._run(params)
        if not compiled.results:
            return cursor.fetchall()
        return [_processed(row, compiled.results) for row in cursor.fetchall()]


_MULTI_ROW: dict[tuple, str] = {}


def insert_rows(table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT several rows in one multi-row VALUES statement (plain columns: no bind processing).

    One statement instead of an executemany: on SQLite one B-tree pass per index, on PostgreSQL one
    round trip.
    """
    if not rows:
        return
    connection = db.session.connection()
    key = (connection.dialect.name, table.name, tuple(columns), len(rows))
    sql = _MULTI_ROW.get(key)
    if sql is None:
        names = [table.c[name].name for name in columns]  # a KeyError for a column the table lacks
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        one = "(" + ", ".join([mark] * len(names)) + ")"
        # Names from the model's Table, every value a bound parameter.
        sql = _MULTI_ROW[key] = (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "  # nosec B608
                                 + ", ".join([one] * len(rows)))
    _run(connection, sql, tuple(value for row in rows for value in row))


def _processed(row, results: tuple) -> tuple:
    if not results:  # nothing to convert, or a text() statement, which declares no result columns
        return tuple(row)
    return tuple(value if process is None or value is None else process(value)
                 for process, value in zip(results, row))


def _run(connection, sql: str, parameters):
    """Execute on a DBAPI cursor; driver errors become SQLAlchemy's (IntegrityError, ...), values hidden."""
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
    except dbapi.Error as error:
        # hide_parameters: answers and e-mail addresses must not reach a log through the message.
        raise DBAPIError.instance(sql, parameters, error, dbapi.Error, hide_parameters=True,
                                  dialect=connection.dialect) from error
    return cursor
