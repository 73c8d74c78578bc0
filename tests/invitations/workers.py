"""Real Huey consumer processes for the worker tests and the invitations bench."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

CONSUMER = str(Path(sys.executable).parent / "huey_consumer")
ROOT = Path(__file__).resolve().parents[2]


def worker_env(app, smtp, **extra) -> dict:
    """The environment a worker of `app` gets in production, sending to `smtp` (anything with a port)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "REDIS_", "DATABASE_"))}
    env.update({
        "SURVEY_APP_ENV": "development", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"], "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
        "MAIL_DEFAULT_SENDER": app.config["MAIL_DEFAULT_SENDER"], "INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "HUEY_SQLITE_PATH": app.config["HUEY_SQLITE_PATH"], "BASE_URL": app.config["BASE_URL"],
        "MAIL_RETRY_BASE_SECONDS": "0", "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def start_worker(env: dict, log: Path, *options: str) -> subprocess.Popen:
    """A consumer with one worker thread, polling a SQLite queue every 0.1 s; its output goes to `log`."""
    handle = log.open("ab")
    return subprocess.Popen([CONSUMER, "survey_app.worker.huey", "--workers", "1", "--delay", "0.1", *options],
                            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def stop_worker(proc: subprocess.Popen) -> None:
    """Stop gracefully (SIGINT), or kill a worker that does not stop within 20 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
