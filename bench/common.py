"""Shared pieces of the benchmark: servers on 127.0.0.1, wrk runs, medians and machine facts."""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
SECRET_KEY = "bench-secret-key-0123456789abcdef0123456789abcdef"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def pg_database_url(dbname: str) -> str:
    """The app's URL for a database on the PG_ADMIN server."""
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + dbname


def app_env(folder: Path, database_url: str) -> dict[str, str]:
    """The app's environment under bench: a fixed key, no Redis or mail, its instance in `folder`."""
    return {"SURVEY_APP_ENV": "development", "INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET_KEY, "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": "", "MAIL_SERVER": ""}


def write_tokens(path: Path, info: dict, tokens: list[str]) -> Path:
    """The file bench/lua/save.lua reads: a line per fellow, the link's token and the CSRF token its page carries."""
    path.write_text("".join(f"{t} {info['csrf'][t]}\n" for t in tokens))
    return path


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


@dataclass
class Server:
    """A gunicorn serving one app on 127.0.0.1 with the production config file, 2 sync workers."""

    name: str
    app: str
    env: dict[str, str]
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def command(self) -> list[str]:
        return [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "-w", str(self.workers), "-k", "sync", "-b", f"{HOST}:{self.port}", self.app]

    def start(self, out_dir: Path, ready_path: str = "/", timeout: float = 30) -> "Server":
        self.log = out_dir / f"gunicorn-{self.name}.log"
        env = {**os.environ, **self.env, "GUNICORN_ACCESS_LOG": "", "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=self.log.open("wb"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited; see {self.log}")
            try:
                urllib.request.urlopen(self.url(ready_path), timeout=2).read()
                return self
            except urllib.error.HTTPError:
                return self  # it answers, which is all we wait for
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name}: not ready after {timeout} s; see {self.log}")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None


@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx_3xx: int
    counts: dict | None
    command: str

    def redirects_per_second(self) -> float:
        """Requests answered with a redirect (a stored save, submit or insert) per second of the run."""
        # wrk's Requests/sec is completed requests over the whole run time.
        c3xx = (self.counts or {}).get("c3xx", 0)
        return self.requests_per_second * c3xx / self.requests if self.requests else 0.0


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_TOTAL = re.compile(r"(\d+) requests in")
_NON = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def wrk(url: str, seconds: float, threads: int = 2, connections: int = 8, script: Path | None = None,
        env: dict[str, str] | None = None) -> WrkResult:
    """Run wrk against 127.0.0.1 for a bounded time and parse its summary."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError("bench targets 127.0.0.1 only")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(url)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30,
                          env={**os.environ, "BENCH_THREADS": str(threads), **(env or {})})
    out = done.stdout
    match = _RPS.search(out)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed: {done.stderr or out}")
    counts = None
    for line in out.splitlines():
        if line.startswith("BENCH_COUNTS "):
            counts = json.loads(line.split(" ", 1)[1])
    non = _NON.search(out)
    total = _TOTAL.search(out)
    return WrkResult(float(match.group(1)), int(total.group(1)), int(non.group(1)) if non else 0, counts,
                     " ".join(cmd))


def tool_version(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except OSError:
        return "not installed"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else "?"


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: on a shared machine, how much else was running."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def machine() -> dict[str, str]:
    """The facts a reader needs to compare this run with theirs."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "memory": memory,
        "load average at start": load_average(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "gunicorn": tool_version([str(BIN / "gunicorn"), "--version"]),
        "wrk": tool_version(["wrk", "--version"]) if shutil.which("wrk") else "not installed",
        "PostgreSQL": tool_version(["psql", "--version"]) if shutil.which("psql") else "server on 127.0.0.1:5432",
    }

