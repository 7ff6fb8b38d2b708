"""`subops serve`: the Dagster code server, daemon and webserver and the Streamlit dashboard as
child processes of one supervisor.

Policy: **exit when a child dies.** If any child stops on its own, the supervisor stops the
others and exits 1, so systemd (`Restart=on-failure`) or the container runtime
(`restart: unless-stopped`) restarts the whole set, with their back-off and their logs. A
half-running service (a webserver without a daemon: schedules that never tick) would look
healthy while doing nothing.

Each child runs in its own process group (its own session), so Ctrl+C in a terminal reaches
the supervisor only, and stopping a child stops what it started (code servers, runs). Stop:
SIGTERM to every group, in reverse start order; SIGKILL to whatever is left after the grace
period.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.paths import PROJECT_ROOT
from pipelines.settings import Settings

#: The code location's name (as `dagster dev -m pipelines.definitions` names it, so the
#: schedule and sensor states are the same under both).
LOCATION = "pipelines.definitions"
DEFS_MODULE = "pipelines.definitions"
STOP_GRACE_SECONDS = 20.0
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # Dagster's colours: noise in journald and files
READY_TIMEOUT_SECONDS = 600.0  # the code server loads the dbt manifest (a minute on a slow disk)


@dataclass
class Child:
    """One supervised process: its command, and how to tell it is ready."""

    name: str
    argv: list[str]
    ready: Callable[[], bool] | None = None
    url: str | None = None  # printed once ready
    wait: bool = False  # start the next child only when this one is ready
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    is_ready: bool = False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1.0).close()
    except OSError:
        return False
    return True


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:
            return 200 <= resp.status < 300
    except (OSError, ValueError):
        return False


def _local(host: str) -> str:
    """Where to probe a server listening on `host` (all interfaces: this machine)."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _bin(name: str) -> str:
    """A console script of this environment (next to this Python), else from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def write_workspace(dagster_home: Path, port: int) -> Path:
    """The workspace the daemon and webserver share: one code server (definitions load once)."""
    path = dagster_home / "serve-workspace.yaml"
    path.write_text(
        "load_from:\n"
        "  - grpc_server:\n"
        "      host: 127.0.0.1\n"
        f"      port: {port}\n"
        f"      location_name: {LOCATION}\n"
    )
    return path


def service_children(
    settings: Settings,
    dagster_home: Path,
    *,
    defs_module: str = DEFS_MODULE,
    code_port: int | None = None,
) -> list[Child]:
    """The four processes of `subops serve`, in start order (stopped in reverse)."""
    code_port = code_port or free_port()
    workspace = write_workspace(dagster_home, code_port)
    host, probe = settings.serve_host, _local(settings.serve_host)
    web, dash = settings.dagster_port, settings.dashboard_port
    entry = PROJECT_ROOT / "dashboards" / "streamlit_app.py"
    code_argv = [
        _bin("dagster"), "code-server", "start", "-m", defs_module,
        "-h", "127.0.0.1", "-p", str(code_port), "--location-name", LOCATION,
    ]  # fmt: skip
    dash_argv = [
        sys.executable, "-m", "streamlit", "run", str(entry),
        "--server.port", str(dash), "--server.address", host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    dashboard = Child(
        "dashboard",
        dash_argv,
        ready=lambda: http_ok(f"http://{probe}:{dash}/_stcore/health"),
        url=f"http://{probe}:{dash}",
    )
    code = Child("code", code_argv, ready=lambda: port_open("127.0.0.1", code_port), wait=True)
    # warnings only: every sensor tick (twice a minute) would be a line; ticks, runs and their
    # logs are in the Dagster UI, outcomes come as alerts
    daemon = Child(
        "daemon", [_bin("dagster-daemon"), "run", "-w", str(workspace), "--log-level", "warning"]
    )
    webserver = Child(
        "webserver",
        [_bin("dagster-webserver"), "-w", str(workspace), "-h", host, "-p", str(web)],
        ready=lambda: http_ok(f"http://{probe}:{web}/server_info"),
        url=f"http://{probe}:{web}",
    )
    # the dashboard needs no Dagster: it starts while the code server loads. The daemon and the
    # webserver wait for the code server (started earlier, they log its absence as errors).
    return [dashboard, code, daemon, webserver]


class Supervisor:
    """Start the children, relay their output line by line (`name | line`), stop them all on
    SIGTERM/SIGINT/SIGHUP or when one of them exits."""

    def __init__(
        self,
        children: list[Child],
        *,
        env: dict[str, str],
        cwd: Path,
        say: Callable[[str], None],
        grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self.children = children
        self.env, self.cwd, self.say = env, cwd, say
        self.grace = grace_seconds
        self._stop = threading.Event()
        self._stop_reason = ""
        self._relays: list[threading.Thread] = []
        self._width = max(len(c.name) for c in children)

    # signals --------------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: object) -> None:
        if not self._stop.is_set():
            self._stop_reason = signal.Signals(signum).name
        self._stop.set()

    def _install(self) -> dict[int, object]:
        old = {}
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            old[sig] = signal.signal(sig, self._on_signal)
        return old

    # children -------------------------------------------------------------------------------
    def _relay(self, child: Child) -> None:
        assert child.proc is not None and child.proc.stdout is not None
        for raw in iter(child.proc.stdout.readline, b""):
            line = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip()
            if line:
                self.say(f"{child.name:<{self._width}} | {line}")

    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            child.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, no Ctrl+C
        )
        t = threading.Thread(target=self._relay, args=(child,), daemon=True)
        t.start()
        self._relays.append(t)
        self.say(f"serve: started {child.name} (pid {child.proc.pid})")

    def _dead(self) -> Child | None:
        return next((c for c in self.children if c.proc and c.proc.poll() is not None), None)

    def _check_ready(self, child: Child) -> None:
        if child.is_ready or child.ready is None or not child.ready():
            return
        child.is_ready = True
        self.say(f"serve: {child.name} ready" + (f" at {child.url}" if child.url else ""))

    def _wait_ready(self, child: Child, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            if self._dead() is not None:
                return False
            self._check_ready(child)
            if child.is_ready:
                return True
            self._stop.wait(0.25)
        return False

    def run(self, ready_timeout: float = READY_TIMEOUT_SECONDS) -> int:
        """Run until stopped (exit 0) or until a child exits (exit 1)."""
        old = self._install()
        code = 0
        try:
            started = True
            for child in self.children:
                if self._stop.is_set():
                    break
                self._start(child)
                if child.wait and not self._wait_ready(child, ready_timeout):
                    started = False  # died, stopped, or not ready in time
                    break
            while started and not self._stop.is_set() and self._dead() is None:
                for c in self.children:
                    self._check_ready(c)
                self._stop.wait(0.5)
            dead = self._dead()
            if not self._stop.is_set():
                code = 1
                if dead is not None and dead.proc is not None:
                    self.say(
                        f"serve: {dead.name} exited with code {dead.proc.returncode}; stopping "
                        "the others (the service manager restarts subops serve)"
                    )
                else:
                    waited = next(c.name for c in self.children if c.wait and not c.is_ready)
                    self.say(f"serve: {waited} not ready after {ready_timeout:.0f} s; stopping")
            else:
                self.say(f"serve: {self._stop_reason or 'stop'} received; stopping")
        finally:
            self.stop_all()
            for sig, handler in old.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
        return code

    def stop_all(self) -> None:
        """SIGTERM each child's process group (reverse start order), wait up to the grace
        period, SIGKILL what is left of any group. Returns with every group gone."""
        started = [c for c in reversed(self.children) if c.proc is not None]
        for c in started:
            _signal_group(c, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for c in started:
            assert c.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        for c in started:  # what the leader started may outlive it (a code server's worker)
            while time.monotonic() < deadline and group_alive(c):
                _signal_group(c, signal.SIGTERM)
                time.sleep(0.2)
            if group_alive(c):
                self.say(f"serve: {c.name} did not stop within {self.grace:.0f} s; killed")
                _signal_group(c, signal.SIGKILL)
            assert c.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=5)
        for t in self._relays:
            t.join(timeout=2)
        for c in started:
            assert c.proc is not None
            self.say(f"serve: {c.name} stopped (exit {c.proc.returncode})")


def _signal_group(child: Child, sig: int) -> None:
    if child.proc is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, sig)


def group_pids(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group: from /proc on Linux, else whether
    kill(-pgid, 0) finds anyone (then the group id itself stands for them)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    out = []
    for stat in proc.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                out.append(int(stat.parent.name))
    return sorted(out)


def group_alive(child: Child) -> bool:
    """Whether any process of the child's group still runs."""
    if child.proc is None:
        return False
    child.proc.poll()  # reap the leader if it exited
    return bool(group_pids(child.proc.pid))
