"""Real servers for the tests that need them: gunicorn with the deploy config, nginx in front of it."""
from __future__ import annotations

import functools
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NGINX_SAMPLE = ROOT / "deploy" / "nginx" / "survey_app.conf"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 20, name: str = "gunicorn") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{name} exited early"
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{name} did not answer")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@contextmanager
def gunicorn(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[str]:
    """Serve survey_app.wsgi:app with deploy/gunicorn.conf.py on 127.0.0.1; yield its base URL.

    env is added to this process's environment; everything gunicorn prints goes to log.
    """
    port = port or closed_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}",
             "survey_app.wsgi:app"], cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/health", process)
            yield base
        finally:
            _stop(process)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def sample_proxy_headers() -> list[str]:
    """The proxy_set_header lines of the documented nginx server block, as written there."""
    lines = re.findall(r"^\s*(proxy_set_header\s+[^;]+;)", NGINX_SAMPLE.read_text(), flags=re.MULTILINE)
    assert lines, f"no proxy_set_header in {NGINX_SAMPLE}"
    return lines


@contextmanager
def nginx(upstream: str, directory: Path, port: int | None = None) -> Iterator[str]:
    """Run nginx on 127.0.0.1 in front of upstream with the sample's proxy headers; yield its base URL.

    Its own prefix, configuration, pid, logs and temporary files all live in directory: nothing of
    the system's nginx (paths owned by root, the default site) is read or written.
    """
    binary = nginx_binary()
    assert binary, "nginx not installed"
    port = port or closed_port()
    directory.mkdir(parents=True, exist_ok=True)
    headers = "\n            ".join(sample_proxy_headers())
    temp = {name: directory / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    config = directory / "nginx.conf"
    config.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} info;
events {{ worker_connections 64; }}
http {{
    access_log {directory / 'access.log'};
    client_body_temp_path {temp['client_body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            {headers}
        }}
    }}
}}
""")
    log = directory / "nginx.out"
    with log.open("wb") as out:
        # -e: the error log before the configuration is read, else nginx tries /var/log/nginx/.
        process = subprocess.Popen(
            [binary, "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/health", process, name="nginx")
            yield base
        finally:
            _stop(process)


class _FromAddress(urllib.request.HTTPHandler):
    """Open every HTTP connection from one local (loopback) source address."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.source, 0)), req)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class LoopbackClient:
    """A browser-like client (keeps cookies, shows redirects) whose requests leave from one address."""

    def __init__(self, base: str, source: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(_FromAddress(source), _NoRedirects(),
                                                  urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        """Return the status and body; errors and redirects are answers too, not exceptions."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def sign_in(self, email: str, password: str, headers: dict[str, str] | None = None) -> int:
        """Sign in through the real form (CSRF token from the page, as a browser sends it)."""
        status, page = self.request("/staff/login")
        assert status == 200, status
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "no csrf_token on the sign-in page"
        return self.request("/staff/login", {"email": email, "password": password, "csrf_token": token.group(1)},
                            headers=headers)[0]
