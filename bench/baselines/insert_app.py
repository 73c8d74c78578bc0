"""A minimal Flask app that inserts one row per POST into the same database, then commits.

No CSRF, no ORM, no templates: the floor that a form save on the same database can approach.
DATABASE_URL names the database (a SQLite file in WAL mode, or PostgreSQL), as for survey_app.
"""
import os
import sqlite3
import threading

from flask import Flask, request

app = Flask(__name__)
DATABASE_URL = os.environ["DATABASE_URL"]
_local = threading.local()

CREATE = "CREATE TABLE IF NOT EXISTS bench_rows (id {pk}, token VARCHAR(64) NOT NULL, body TEXT)"


def connection():
    """One connection per worker (like SQLAlchemy's pool), opened on first use."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        if DATABASE_URL.startswith("sqlite"):
            conn = sqlite3.connect(DATABASE_URL.split("///", 1)[1], timeout=30, isolation_level=None)
            # The same pragmas survey_app sets on every SQLite connection.
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            conn = psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))
        _local.conn = conn
    return conn


def create_table() -> None:
    conn = connection()
    pk = "INTEGER PRIMARY KEY" if DATABASE_URL.startswith("sqlite") else "SERIAL PRIMARY KEY"
    conn.execute(CREATE.format(pk=pk))
    if not DATABASE_URL.startswith("sqlite"):
        conn.commit()


@app.post("/insert")
def insert():
    conn = connection()
    token = request.form.get("token", "")
    body = "&".join(f"{k}={v}" for k, v in request.form.items(multi=True))
    if DATABASE_URL.startswith("sqlite"):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_rows (token, body) VALUES (?, ?)", (token, body))
        conn.execute("COMMIT")
    else:
        conn.execute("INSERT INTO bench_rows (token, body) VALUES (%s, %s)", (token, body))
        conn.commit()
    return "", 303, {"Location": "/done"}


if __name__ == "__main__":
    create_table()
