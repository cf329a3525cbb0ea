"""Start a JupyterLab server for a test, on a free loopback port, and always stop it.

    with lab_server(command, root=folder) as lab:
        lab.get("/api/contents")          # JSON, authenticated with the temporary token
        lab.url("/lab/tree/00_welcome.ipynb")

The server gets its own Jupyter configuration, runtime and settings folders, so a
test never reads or changes the user's settings and never reopens their tabs, and it
runs in its own process group, so stopping it stops every kernel it started.
Used by primer/quality/lab_check.py (the README's `make lab`, on a fresh clone) and by
tests/quality/test_browser_*.py.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What `make lab` installs as JupyterLab's overrides (no news pop-up, no update check).
OVERRIDES = REPO / "jupyter" / "overrides.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    base: str
    token: str
    log: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def get(self, path: str, *, timeout: float = 10, method: str = "GET"):
        """(status, body) of an authenticated request; body is parsed JSON when it is JSON."""
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body


def server_config(folder: Path, *, port: int, token: str, settings_extra: dict | None = None) -> dict[str, str]:
    """Environment that points Jupyter at private folders, with a config for this port and token.
    settings_extra: more user settings, {"package:plugin": {key: value}}."""
    config, runtime, settings = (folder / name for name in ("config", "runtime", "settings"))
    for path in (config, runtime, settings):
        path.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False},
        "IdentityProvider": {"token": token},
    }))
    plugins = json.loads(OVERRIDES.read_text()) if OVERRIDES.is_file() else {}  # what `make lab` sets
    for plugin, values in {**plugins, **(settings_extra or {})}.items():
        package, name = plugin.split(":")
        target = settings / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    return {"JUPYTER_CONFIG_DIR": str(config), "JUPYTER_RUNTIME_DIR": str(runtime),
            "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(runtime)}


@contextmanager
def lab_server(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, start_timeout: float = 120,
               settings_extra: dict | None = None):
    """Run `command` (a JupyterLab start, e.g. `make lab`) until the server answers; stop it afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    folder = Path(tempfile.mkdtemp(prefix="lab-"))
    log = folder / "server.log"
    environment = {**os.environ, **(env or {}), **server_config(folder, port=port, token=token,
                                                                     settings_extra=settings_extra)}
    environment.pop("JUPYTER_TOKEN", None)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, log)
    try:
        wait_until_up(lab, process, start_timeout)
        yield lab
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def wait_until_up(lab: Lab, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}:\n{tail(lab.log)}")
        try:
            if lab.get("/api/status", timeout=2)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"no answer from the server within {timeout:.0f} s:\n{tail(lab.log)}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the whole group (server, kernels, make), then SIGKILL what is left after 10 s."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
