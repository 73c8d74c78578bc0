"""Background jobs that services ask for, handed to the worker only once the transaction commits.

A service calls `after_commit("send_batch", batch.id)` before it commits. When the session's
outermost transaction commits, each job goes to the task of that name that create_app() installed
from survey_app/tasks.py, which puts it on the Huey queue; when the transaction (or the savepoint
the job was asked for in) rolls back or is closed without committing, its jobs are dropped.
Services never import tasks.py, whose tasks call the services, so nothing imports in a circle.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db

_PENDING = "survey_app.jobs"  # session.info key: the jobs waiting for each open transaction


class Job(NamedTuple):
    """A task of survey_app/tasks.py by name, with its arguments (ids and strings, never ORM objects)."""

    task: str
    args: tuple[int | str, ...]


def init_app(app: Flask, tasks: Mapping[str, Callable[..., Any]]) -> None:
    """Name the tasks services may ask for, and what queues each one."""
    app.extensions["survey_app.jobs"] = dict(tasks)


def _waiting(session: Session) -> dict[SessionTransaction, list[Job]]:
    return session.info.setdefault(_PENDING, {})


def after_commit(task: str, *args: int | str) -> None:
    """Queue a task once the current transaction commits; nothing is queued if it rolls back."""
    if task not in current_app.extensions["survey_app.jobs"]:
        raise LookupError(f"no task named {task!r}")
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    _waiting(session).setdefault(transaction, []).append(Job(task, args))


@event.listens_for(db.session, "after_commit")
def _queue_committed(session: Session) -> None:
    waiting = _waiting(session)
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        return
    jobs = waiting.pop(transaction, [])
    if transaction.parent is not None:  # a savepoint was released: wait for the outer transaction
        waiting.setdefault(transaction.parent, []).extend(jobs)
        return
    tasks = current_app.extensions["survey_app.jobs"]
    for job in jobs:
        tasks[job.task](*job.args)


@event.listens_for(db.session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # Jobs of a committed transaction were queued or handed to its parent above; any left belong
    # to a transaction (or savepoint) that rolled back or was closed.
    waiting = session.info.get(_PENDING)
    if waiting:
        waiting.pop(transaction, None)
