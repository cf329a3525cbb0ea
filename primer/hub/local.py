"""A real JupyterHub on this machine, for a class of Unix users, on 127.0.0.1 only.

`LocalHub` starts JupyterHub (from PyPI) with its configurable-http-proxy (the Python
implementation, PyPI package `configurable-http-proxy`), DummyAuthenticator limited to
an allowed-users list, and LocalProcessSpawner: each user's server is this course's
environment (`jupyterhub-singleuser` of the running Python) started under that user's
own Unix id, in a home folder only that user can read. Distinct Unix users are what
nbgrader's exchange permissions rely on (the inbound folder is write-only for students),
so the class is created with `useradd` (root only) and removed with `userdel` at the end.

This machine's Python may live where other users cannot go (pyenv under /root, mode
700). Then each class process starts in its own mount namespace where each such folder
is an empty tmpfs with only this environment's own folders bound back, read-only
(`class_view`, applied before the process takes the user's id): the student runs the
very same interpreter and packages, and still cannot look into /root.

Everything the hub writes lies in one temporary folder. `stop()` always ends every
process the hub started (the hub's process group, its proxy, each user's server and
kernels) by their process ids, within a bounded time, and says which survived.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
HUB_USER_PREFIX = "dlp"
STOP_TIMEOUT_S = 15.0
REPO = Path(__file__).resolve().parents[2]
# linux/sched.h and linux/mount.h
CLONE_NEWNS, MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    0x20000, 1, 32, 4096, 16384, 1 << 18)


def needed_paths(extra: list[str] = ()) -> list[Path]:
    """What a class member's processes must reach: the interpreter, the venv, the course."""
    paths = [Path(sys.base_prefix), Path(sys.prefix), REPO, *map(Path, extra)]
    return [p.resolve() for p in paths if p.exists()]


def class_view(extra: list[str] = ()) -> dict[str, list[str]]:
    """{folder others cannot traverse: [needed paths under it]}; empty when all is reachable."""
    view: dict[str, list[str]] = {}
    for path in needed_paths(extra):
        for ancestor in [*reversed(path.parents), path][1:]:
            if not os.stat(ancestor).st_mode & 0o001:
                inside = view.setdefault(str(ancestor), [])
                if str(path) not in inside and not any(
                        str(path).startswith(p + os.sep) for p in inside):
                    inside[:] = [p for p in inside if not p.startswith(str(path) + os.sep)]
                    inside.append(str(path))
                break
    return view


def enter_class_view(view: dict[str, list[str]]) -> None:
    """In a child about to exec (still root): a private mount namespace in which each hidden
    folder is an empty tmpfs with only the needed paths bound back, read-only."""
    if not view:
        return
    libc = ctypes.CDLL(None, use_errno=True)

    def check(result, what):
        if result != 0:
            raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")

    check(libc.unshare(CLONE_NEWNS), "unshare")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    for hidden, inside in view.items():
        fds = [os.open(p, os.O_PATH) for p in inside]  # reachable after the tmpfs hides them
        check(libc.mount(b"tmpfs", hidden.encode(), b"tmpfs", 0, b"mode=0755"), f"tmpfs {hidden}")
        for path, fd in zip(inside, fds):
            os.makedirs(path, mode=0o755, exist_ok=True)
            source = f"/proc/self/fd/{fd}".encode()
            check(libc.mount(source, path.encode(), None, MS_BIND | MS_REC, None), f"bind {path}")
            check(libc.mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None),
                  f"read-only {path}")
            os.close(fd)


def missing_tools() -> str:
    """Why a local hub cannot run here, or '' when it can."""
    if sys.platform != "linux":
        return "the local hub needs Linux (Unix users, setuid spawner)"
    for exe in ("jupyterhub", "jupyterhub-singleuser", "configurable-http-proxy"):
        if not (BIN / exe).exists():
            return (f"{exe} is not installed in {BIN} "
                    "(pip install jupyterhub configurable-http-proxy)")
    try:
        import psutil  # noqa: F401
        import requests  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed"
    if os.geteuid() != 0:
        return ("the hub's students are distinct Unix users (nbgrader's exchange permissions "
                "rely on it): creating them needs root")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        return "useradd/userdel not found (Debian: passwd package)"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_as(user: str, argv: list[str], *, env: dict | None = None, cwd: str | Path | None = None,
           timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command under a Unix user's id, with that user's HOME (as a login would)."""
    entry = pwd.getpwnam(user)
    view = class_view([v for k, v in (env or {}).items() if k == "NNLIB_DATA"])

    def preexec():
        enter_class_view(view)
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    full_env = {"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "HOME": entry.pw_dir, "USER": user,
                "LOGNAME": user, "LANG": "C.UTF-8"}
    full_env.update(env or {})
    result = subprocess.run(argv, preexec_fn=preexec, env=full_env, cwd=cwd or entry.pw_dir, capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode:
        raise RuntimeError(f"{' '.join(argv)} as {user} exited {result.returncode}:\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return result


@dataclass
class LocalHub:
    """One hub, one instructor, several students; `start()`, then `stop()` (always)."""

    students: list[str]
    instructor: str = "instructor"
    environment: dict[str, str] = field(default_factory=dict)  # passed to every server
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dlp-hub-")))
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    tag: str = field(default_factory=lambda: secrets.token_hex(2))

    def __post_init__(self):
        # Unix names unique to this run: two runs (or a crashed one) never share users.
        self.names = {n: f"{HUB_USER_PREFIX}{self.tag}-{n}"[:32]
                      for n in [self.instructor, *self.students]}
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.created_users: list[str] = []
        self.seen_pids: set[int] = set()
        self.log_path = self.root / "hub" / "jupyterhub.log"

    # -- users ---------------------------------------------------------------------------
    def user(self, name: str) -> str:
        """The Unix (and hub) name of a class member given by short name."""
        return self.names[name]

    def home(self, name: str) -> Path:
        return self.root / "home" / self.user(name)

    def remove_stale_users(self) -> list[str]:
        """Users a killed earlier run left behind (its folder gone, nothing running as them)."""
        import re

        import psutil

        stale = []
        running = {p.info["uids"].real for p in psutil.process_iter(["uids"]) if p.info["uids"]}
        for entry in pwd.getpwall():
            if (re.fullmatch(rf"{HUB_USER_PREFIX}[0-9a-f]{{4}}-.+", entry.pw_name)
                    and Path(entry.pw_dir).name == entry.pw_name
                    and Path(entry.pw_dir).parent.parent.name.startswith("dlp-hub-")
                    and not Path(entry.pw_dir).exists() and entry.pw_uid not in running):
                subprocess.run(["userdel", entry.pw_name], capture_output=True, timeout=30)
                stale.append(entry.pw_name)
        return stale

    def create_users(self) -> None:
        self.remove_stale_users()
        os.chmod(self.root, 0o755)  # users traverse it to reach their homes and the exchange
        (self.root / "home").mkdir(mode=0o755)
        for short, unix in self.names.items():
            home = self.root / "home" / unix
            subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home),
                            "--shell", "/usr/sbin/nologin", "--user-group", unix],
                           check=True, capture_output=True, timeout=30)
            self.created_users.append(unix)
            entry = pwd.getpwnam(unix)
            home.mkdir(mode=0o700)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            os.chmod(home, 0o700)  # a student's work is the student's alone

    def remove_users(self) -> None:
        for unix in self.created_users:
            subprocess.run(["userdel", unix], capture_output=True, timeout=30)
        self.created_users = []

    def user_can_run_python(self) -> str:
        """'' when a class member can run this environment's Python, else why not."""
        try:
            run_as(self.user(self.students[0]), [str(BIN / "python"), "-c", "import jupyterhub"],
                   timeout=60)
        except (RuntimeError, PermissionError, OSError) as error:
            return (f"an unprivileged user cannot run {BIN / 'python'} (a parent folder is not "
                    f"readable by others?): {str(error)[:300]}")
        return ""

    # -- the hub -------------------------------------------------------------------------
    def write_config(self) -> Path:
        hub_dir = self.root / "hub"
        hub_dir.mkdir(mode=0o700)
        env = {"PATH": f"{BIN}{os.pathsep}/usr/bin:/bin", "LANG": "C.UTF-8", **self.environment}
        users = sorted(self.names.values())
        config = f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {self.hub_port}
c.JupyterHub.db_url = "sqlite:///{hub_dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{hub_dir}/cookie_secret"
c.JupyterHub.pid_file = "{hub_dir}/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.check_running_servers = False
c.ConfigurableHTTPProxy.command = ["{BIN / 'configurable-http-proxy'}"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.api_port}"
c.ConfigurableHTTPProxy.pid_file = "{hub_dir}/proxy.pid"
c.ConfigurableHTTPProxy.debug = False
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(users)!r}
c.Authenticator.admin_users = {{{self.user(self.instructor)!r}}}
c.JupyterHub.spawner_class = "primer.hub.spawner.ClassSpawner"
c.Spawner.cmd = ["{BIN / 'jupyterhub-singleuser'}"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "course-admin", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "course-admin",
    "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"],
    "services": ["course-admin"],
}}]
"""
        path = hub_dir / "jupyterhub_config.py"
        path.write_text(config)
        return path

    def start(self, timeout: float = 90) -> None:
        import requests

        config = self.write_config()
        with open(self.log_path, "wb") as log:
            # Its own session and process group: stop() signals the group by its id.
            self.proc = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(config)], cwd=self.root / "hub",
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                     "PYTHONPATH": str(REPO)})
        self.seen_pids.add(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.api("GET", "/").status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            self.remember_processes()
            time.sleep(0.5)
        raise TimeoutError(f"the hub did not answer in {timeout} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def api(self, method: str, path: str, **kwargs):
        import requests

        return requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def server(self, name: str, method: str, path: str, **kwargs):
        """A request to a user's own server, through the hub's proxy (as the browser does)."""
        import requests

        kwargs.setdefault("timeout", 120)
        return requests.request(method, f"{self.url}/user/{self.user(name)}{path}",
                                headers={"Authorization": f"token {self.token}"}, **kwargs)

    def start_servers(self, names: list[str], timeout: float = 120) -> None:
        """Ask the hub to spawn each server, all at once, and wait until every one is ready."""
        for name in names:
            response = self.api("POST", f"/users/{self.user(name)}/server")
            if response.status_code not in (201, 202):
                raise RuntimeError(f"spawn {name}: {response.status_code} {response.text}")
        waiting = set(names)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                model = self.api("GET", f"/users/{self.user(name)}").json()
                server = model.get("servers", {}).get("", {})
                if server.get("ready"):
                    waiting.discard(name)
                elif not model.get("pending") and not server:
                    raise RuntimeError(f"{name}'s server stopped while starting:\n{self.log_tail()}")
            self.remember_processes()
            time.sleep(0.5)
        if waiting:
            raise TimeoutError(f"servers not ready in {timeout} s: {sorted(waiting)}\n{self.log_tail()}")
        self.remember_processes()

    # -- processes -----------------------------------------------------------------------
    def class_uids(self) -> set[int]:
        uids = set()
        for unix in self.created_users:
            try:
                uids.add(pwd.getpwnam(unix).pw_uid)
            except KeyError:
                pass
        return uids

    def our_processes(self) -> list:
        """Every live process this hub started: its descendants, and anything run by the class's
        own Unix users (which exist only for this run)."""
        import psutil

        found = {}
        if self.proc is not None:
            try:
                hub = psutil.Process(self.proc.pid)
                found[hub.pid] = hub
                for child in hub.children(recursive=True):
                    found[child.pid] = child
            except psutil.NoSuchProcess:
                pass
        uids = self.class_uids()
        if uids:
            for proc in psutil.process_iter(["uids"]):
                try:
                    if proc.info["uids"] and proc.info["uids"].real in uids:
                        found[proc.pid] = proc
                except psutil.Error:
                    pass
        return list(found.values())

    def remember_processes(self) -> None:
        self.seen_pids.update(p.pid for p in self.our_processes())

    def server_tree(self, name: str) -> list:
        """The user's server process and its descendants (kernels, terminals)."""
        import psutil

        uid = pwd.getpwnam(self.user(name)).pw_uid
        roots = [p for p in self.our_processes()
                 if p.uids().real == uid and p.ppid() == (self.proc.pid if self.proc else -1)]
        tree = []
        for root in roots:
            tree += [root, *root.children(recursive=True)]
        return [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    def server_rss(self, name: str) -> int:
        """Resident memory of a user's server tree in bytes (psutil RSS, summed)."""
        import psutil

        total = 0
        for proc in self.server_tree(name):
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> list[str]:
        """Stop everything by process id; returns descriptions of processes still alive after
        SIGKILL (empty when all stopped). Always removes the class's users and the folder."""
        import psutil

        survivors: list[str] = []
        try:
            self.remember_processes()
            procs = []
            for pid in self.seen_pids:
                try:
                    procs.append(psutil.Process(pid))
                except psutil.NoSuchProcess:
                    pass
            # The hub first (it stops the servers it spawned and its proxy), then the rest.
            if self.proc is not None and self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=timeout / 2)
                except subprocess.TimeoutExpired:
                    pass
            procs = [p for p in procs if p.is_running()]
            for proc in procs:
                try:
                    proc.terminate()
                except psutil.Error:
                    pass
            _, alive = psutil.wait_procs(procs, timeout=timeout / 4)
            for proc in alive:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            _, alive = psutil.wait_procs(alive, timeout=timeout / 4)
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            left = [p for p in self.our_processes() if p.is_running()
                    and p.status() != psutil.STATUS_ZOMBIE]
            for proc in {*alive, *left}:
                try:
                    survivors.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
                except psutil.Error:
                    pass
        finally:
            self.remove_users()
            shutil.rmtree(self.root, ignore_errors=True)
        return survivors
