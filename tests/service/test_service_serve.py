"""`subops serve` as a process: it starts the code server, daemon, webserver and dashboard; the
daemon writes heartbeats, the webserver and the dashboard answer; SIGTERM stops everything and
leaves no process behind. The supervisor's policy (a dying child stops the rest) on tiny
children."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.service.supervise import Child, Supervisor, free_port, group_pids

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read()


def _wait_for(what: str, check, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def test_serve_runs_daemon_webserver_dashboard_and_stops_them_all(tmp_path: Path):
    import dagster as dg

    home = tmp_path / "dagster_home"
    web, dash = free_port(), free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
        "SUBOPS_SCHEDULE_ENABLED": "true",
    }
    for k in ("SUBOPS_ALERT_WEBHOOK_URL", "SUBOPS_SMTP_HOST", "SUBOPS_DAGSTER_PG_URL"):
        env.pop(k, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve",
         "--landing", str(tmp_path / "landing"), "--warehouse-dir", str(tmp_path / "wh"),
         "--dagster-port", str(web), "--dashboard-port", str(dash),
         "--defs-module", "serve_defs"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        _wait_for(
            "webserver and dashboard",
            lambda: (
                {"webserver", "dashboard"}
                <= {m.group(1) for ln in lines if (m := re.match(r"serve: (\w+) ready", ln))}
                or proc.poll() is not None
            ),
            timeout=180,
        )
        assert proc.poll() is None, "".join(lines)
        status, body = _get(f"http://127.0.0.1:{web}/server_info")
        assert status == 200 and "dagster_webserver_version" in json.loads(body)
        assert _get(f"http://127.0.0.1:{dash}/_stcore/health") == (200, b"ok")
        instance = dg.DagsterInstance.from_config(str(home))
        _wait_for("a daemon heartbeat", lambda: instance.get_daemon_heartbeats(), timeout=60)
        assert "SCHEDULER" in instance.get_daemon_heartbeats()
        pids = {
            m.group(1): int(m.group(2))
            for ln in lines
            if (m := re.match(r"serve: started (\w+) \(pid (\d+)\)", ln))
        }
        assert set(pids) == {"code", "daemon", "webserver", "dashboard"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, "".join(lines[-30:])
        reader.join(timeout=5)
    finally:
        if proc.poll() is None:  # only on failure: leave nothing running
            os.killpg(proc.pid, signal.SIGKILL)
    text = "".join(lines)
    assert "serve: SIGTERM received; stopping" in text
    for name, pid in pids.items():
        assert f"serve: {name} stopped" in text
        assert group_pids(pid) == [], f"{name}'s process group is still running"
    assert group_pids(proc.pid) == []
    assert "Traceback" not in text, text[-3000:]


def _child(name: str, code: str) -> Child:
    return Child(name, [sys.executable, "-c", code])


def test_a_child_that_dies_stops_the_others_and_serve_exits_1(tmp_path: Path):
    said: list[str] = []
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    children = [
        _child("sleeper", "import time; time.sleep(60)"),
        _child("stubborn", stubborn),  # ignores SIGTERM: killed after the grace period
        _child("crasher", "import time; time.sleep(0.5); raise SystemExit(3)"),
    ]
    sup = Supervisor(
        children, env=dict(os.environ), cwd=tmp_path, say=said.append, grace_seconds=1.5
    )
    t0 = time.monotonic()
    assert sup.run() == 1
    assert time.monotonic() - t0 < 15
    assert (
        "serve: crasher exited with code 3; stopping the others (the service manager restarts "
        "subops serve)"
    ) in said
    assert "serve: stubborn did not stop within 2 s; killed" in said
    for c in children:
        assert c.proc is not None and group_pids(c.proc.pid) == []


def test_a_child_never_ready_stops_serve_with_exit_1(tmp_path: Path):
    said: list[str] = []
    slow = Child("slow", [sys.executable, "-c", "import time; time.sleep(60)"], ready=lambda: False)
    slow.wait = True
    later = _child("later", "import time; time.sleep(60)")
    sup = Supervisor([slow, later], env=dict(os.environ), cwd=tmp_path, say=said.append)
    assert sup.run(ready_timeout=1.0) == 1
    assert "serve: slow not ready after 1 s; stopping" in said
    assert later.proc is None  # never started: it waits for the one before
    assert slow.proc is not None and group_pids(slow.proc.pid) == []
