"""The respondent's hot path: statements compiled once per dialect and run on the driver's own cursor.

A page, save or submit runs a handful of fixed statements. Through Session.execute each pays for
an execution context, parameter construction per row and result metadata: 40-60 µs a statement,
about as much as SQLite takes to run it (bench/profiles/SUMMARY.md). Here the statement is still
built with SQLAlchemy Core from the models' tables, compiled once per dialect, and its parameters
still go through the column types' bind processors; only the per-call machinery is skipped.

Where they run: respondent requests (respond/views.py) take one pooled connection in autocommit
mode (use_respondent_connection): reads need no BEGIN, a one-statement write commits itself, and
writes of several statements are framed by begin() and commit(). Anywhere else (staff code,
scripts, tests calling the services) they run on the session's connection, in its transaction,
and begin/commit/rollback act on the session.
"""
from __future__ import annotations

import fcntl
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from flask import Flask, g
from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from ..extensions import db

_RESPONDENT = "_respondent_connection"  # the key in flask.g


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
        connection = _current()
        compiled = self._compile(connection.dialect)
        processors = compiled.processors
        values = dict(compiled.fixed)
        for name, value in params.items():
            values[name] = processors[name](value) if name in processors else value
        order = compiled.order
        parameters = tuple(values[name] for name in order) if order is not None else values
        return _run(connection, compiled.sql, parameters), compiled

    def execute(self, params: Mapping[str, Any]):
        """Run on the request's connection (see the module's docstring); return the cursor (for rowcount)."""
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
    connection = _current()
    key = (connection.dialect.name, table.name, tuple(columns), len(rows))
    sql = _MULTI_ROW.get(key)
    if sql is None:
        names = [table.c[name].name for name in columns]  # a KeyError for a column the table lacks
        one = "(" + ", ".join([_mark(connection)] * len(names)) + ")"
        # Names from the model's Table, every value a bound parameter.
        sql = _MULTI_ROW[key] = (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "  # nosec B608
                                 + ", ".join([one] * len(rows)))
    _run(connection, sql, tuple(value for row in rows for value in row))


def delete_matching(table: Table, key: str, value: Any, column: str, values: Sequence[Any]) -> None:
    """DELETE FROM table WHERE key = value AND column IN (values), every value bound."""
    if not values:
        return
    connection = _current()
    mark = _mark(connection)
    names = (table.c[key].name, table.c[column].name)  # a KeyError for a column the table lacks
    sql = (f"DELETE FROM {table.name} WHERE {names[0]} = {mark} "  # nosec B608
           f"AND {names[1]} IN ({', '.join([mark] * len(values))})")
    _run(connection, sql, (value, *values))


def _mark(connection) -> str:
    """The driver's positional placeholder."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


class RespondentConnection:
    """One pooled DBAPI connection in autocommit mode, for one respondent request.

    Checking out a session and its connection, and closing them, costs 52 µs a request; a pooled
    connection 7 µs. In autocommit a read needs no BEGIN and a one-statement write no COMMIT: on
    PostgreSQL a first save is two round trips (the link, the save) instead of four.
    """

    def __init__(self) -> None:
        self.dialect = db.engine.dialect
        self.sqlite = self.dialect.name == "sqlite"
        self.connection = db.engine.raw_connection()  # the pool's proxy: cursor(), commit(), rollback()
        database = db.engine.url.database
        # SQLite writers to a file queue on a lock file beside it (see _WriterQueue).
        self._queue_path = database if self.sqlite and database and database != ":memory:" else None
        self._queue: _WriterQueue | None = None
        driver = self.connection.driver_connection
        if self.sqlite:
            driver.isolation_level = None
        else:
            driver.autocommit = True

    def begin(self) -> None:
        """Open a transaction for several writes; on SQLite take the write lock at once."""
        if self._queue_path is not None:
            self._queue = _writer_queue(self._queue_path)
            self._queue.acquire()
        _run(self, "BEGIN IMMEDIATE" if self.sqlite else "BEGIN", ())

    def commit(self) -> None:
        try:
            self.connection.commit()  # a no-op when no transaction was begun (autocommit)
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            self.connection.rollback()
        finally:
            self._leave_queue()

    def _leave_queue(self) -> None:
        queue, self._queue = self._queue, None
        if queue is not None:
            queue.release()

    def release(self) -> None:
        """Roll back anything left open, restore the usual mode and give the connection back to the pool."""
        try:
            self.connection.rollback()
            driver = self.connection.driver_connection
            if self.sqlite:
                driver.isolation_level = ""
            else:
                driver.autocommit = False
        except Exception:
            self.connection.invalidate()  # a broken connection must not go back to the pool
            raise
        finally:
            self._leave_queue()
            self.connection.close()


class _WriterQueue:
    """Respondent writers on one SQLite file wait their turn on a lock file, not in SQLite's busy loop.

    SQLite's busy handler sleeps 1, 2, 5, 10 ms... between tries, while a respondent transaction
    holds the write lock for a fraction of a millisecond: a waiting worker sleeps past its turn and
    the core idles. flock() wakes the next writer as soon as the lock is released. SQLite's own
    locking still decides; this only orders the writers that use it (staff writes do not).
    """

    def __init__(self, path: str) -> None:
        self._file = open(path, "a+b")  # noqa: SIM115 - held for the life of the process
        self._threads = threading.Lock()  # flock is per open file: threads of one process need this too

    def acquire(self) -> None:
        self._threads.acquire()
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()


_WRITER_QUEUES: dict[str, _WriterQueue] = {}


def _writer_queue(database: str) -> _WriterQueue:
    queue = _WRITER_QUEUES.get(database)
    if queue is None:
        queue = _WRITER_QUEUES[database] = _WriterQueue(database + "-writers.lock")
    return queue


def use_respondent_connection() -> None:
    """Run this request's respondent statements on their own autocommit connection (see RespondentConnection)."""
    if _RESPONDENT not in g:
        setattr(g, _RESPONDENT, RespondentConnection())


def _current():
    """The respondent connection of this request if it has one, else the session's connection."""
    return g.get(_RESPONDENT) or db.session.connection()


def dialect_name() -> str:
    return _current().dialect.name


def begin() -> None:
    """Start a transaction for several writes (under the session one is always open)."""
    respondent = g.get(_RESPONDENT)
    if respondent is not None:
        respondent.begin()


def commit() -> None:
    """Commit on the respondent connection if the request has one, else the session."""
    (g.get(_RESPONDENT) or db.session).commit()


def rollback() -> None:
    (g.get(_RESPONDENT) or db.session).rollback()


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def _release_respondent_connection(_exc: BaseException | None) -> None:
        respondent = g.pop(_RESPONDENT, None)
        if respondent is not None:
            respondent.release()


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
