"""Process helpers for the benchmark harness: peak RSS of a process tree, a Prefect server.

Why /proc polling and not ``getrusage``: ``RUSAGE_CHILDREN``/``wait4`` report the largest
single process, including the harness's own memory inherited by the fork before ``exec``,
and miss that Prefect's ephemeral server is a separate child whose memory counts too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int) -> float | None:
    """utime + stime of ``pid`` so far, in seconds (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_rss_kb(root: int, cpu: dict[int, float] | None = None) -> tuple[int, int]:
    """(RSS of root, RSS of root + all descendants), in KiB; ``cpu``: last CPU s per pid.

    The cleaning workers are grandchildren (children of the forkserver) that the harness
    never waits for, so ``wait4``'s rusage misses their CPU: it is sampled here instead.
    """
    kids = _children_map()
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kb(pid)
        if cpu is not None and (used := _cpu_s(pid)) is not None:
            cpu[pid] = used
        stack.extend(kids.get(pid, []))
    return _rss_kb(root), total


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> dict:
    """Run ``cmd`` to completion; wall time, peak RSS (main, tree) and its exit code."""
    peak = {"main_kb": 0, "tree_kb": 0}
    cpu: dict[int, float] = {}
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                main, tree = _tree_rss_kb(proc.pid, cpu)
                peak["main_kb"] = max(peak["main_kb"], main)
                peak["tree_kb"] = max(peak["tree_kb"], tree)
                done.wait(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        poller.join()
    return {
        "wall_s": round(wall, 3),
        "exit": proc.returncode,
        "peak_rss_mb": round(peak["tree_kb"] / 1024, 1),
        "peak_rss_main_mb": round(peak["main_kb"] / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        # + descendants not waited for (cleaning workers), sampled every 50 ms: a lower bound
        "cpu_tree_s": round(sum(v for pid, v in cpu.items() if pid != proc.pid)
                            + usage.ru_utime + usage.ru_stime, 2),
        "log": str(log),
    }


def start_prefect_server(home: Path) -> tuple[subprocess.Popen, str]:
    """A long-lived local Prefect server (as scheduled runs use), in its own process group."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = open(home.parent / "prefect-server.log", "wb")  # noqa: SIM115 (lives with the server)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(api + "/health", timeout=2) as resp:
                if resp.status == 200:
                    _warm(api)
                    return proc, api
        except OSError:
            time.sleep(0.5)
    stop_group(proc)
    raise SystemExit("prefect server did not start in 120 s")


def _warm(api: str) -> None:
    """One request of the kind a client starts with, as a long-lived server has long served.

    A just-started server answers its first API request (not ``/health``) after ~0.6 s of
    lazy start-up; later ones in ~3 ms. Without this, whichever run came first (B0, or B
    with ``--only B``) would pay it, and B would depend on what else was measured.
    """
    with urllib.request.urlopen(api + "/admin/version", timeout=60) as resp:
        resp.read()


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True and its children (its own group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


