"""Supervision mode, service kinds (issue 13): `type = oneshot` (done gates its
stage, retries, ready_timeout bounds it), `success_exit_codes`, and
`watchdog =` for notify services (a real python3-sdnotify client and
systemd-notify keep it fed; a miss or WATCHDOG=trigger is a failure under the
restart policy). hfinit runs as PID 1 of a PID namespace when the tests run as
root. Every wait is bounded; nothing sleeps to synchronise.
"""

import calendar
import json
import os
import shutil
import subprocess
import time

import pytest

from supervise_util import HFINIT, MODES, PY, q, start_hfinit, svc, wait_for, write_config  # noqa: F401

MODE = MODES[0]


def status(h):
    with open(os.path.join(h.status_dir, "status.json")) as f:
        return json.load(f)


def wait_status(h, pred, what):
    """The first status.json for which pred holds (bounded)."""
    def check():
        try:
            doc = status(h)
        except (OSError, ValueError):
            return None
        return doc if pred(doc) else None
    return wait_for(check, what=what)


def ts(text):
    """An RFC 3339 UTC time with milliseconds -> seconds since the epoch."""
    base, ms = text.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + int(ms) / 1000.0


def sh(text):
    return q("/bin/sh", "-c", text)


def script(d, name, text):
    path = os.path.join(str(d), name)
    with open(path, "w") as f:
        f.write(text.lstrip("\n"))
    return path


def test_oneshot_done_gates_its_stage(tmp_path, start_hfinit):  # noqa: F811
    """The stage-2 service starts only after the stage-1 one-shot exited 0:
    the log says so in order, status.json has state done, finished_at, its run
    time in ready_ms and in the blame list, and the overall state is ready."""
    cfg = write_config(tmp_path, """
        [service:fetch]
        command = %s
        type = oneshot
        [service:web]
        command = %s
        stage = 2
        """ % (sh("echo fetching; sleep 0.3; echo fetched"), svc()))
    h = start_hfinit(cfg, mode=MODE)
    order = [r"^hfinit: info: \[fetch\] started pid \d+ \(attempt 1 of 3\)$",
             r"^\[fetch\] fetching$",
             r"^\[fetch\] fetched$",
             r"^hfinit: info: \[fetch\] done in (\d+) ms \(exited 0\), attempt 1$",
             r"^hfinit: info: stage 1 done after \d+ ms$",
             r"^hfinit: info: stage 2: starting$",
             r"^hfinit: info: \[web\] started pid",
             r"^hfinit: info: \[web\] ready in",
             r"^hfinit: info: all stages up"]
    at = 0
    for rx in order:
        stream = "out" if rx.startswith(r"^\[fetch\]") else "err"
        if stream == "err":
            at, _, m = h.wait_line(rx, start=at)
            if "done in" in rx:
                assert int(m.group(1)) >= 300, h.dump()
        else:
            h.wait_line(rx, stream="out")
    doc = wait_status(h, lambda d: d["state"] == "ready", "state ready")
    f, w = doc["services"]["fetch"], doc["services"]["web"]
    assert f["state"] == "done" and f["type"] == "oneshot" and f["pid"] is None, doc
    assert f["last_exit"]["code"] == 0 and f["last_error"]["text"] is None, doc
    assert f["finished_at"] == f["ready_at"] and f["finished_at"] is not None, doc
    assert f["ready_ms"] >= 300, doc
    run = ts(f["finished_at"]) - ts(f["started_at"])
    # ready_ms counts from just before the fork, started_at from after the exec
    assert -5 <= f["ready_ms"] - run * 1000 <= 250, doc
    assert ts(w["started_at"]) >= ts(f["finished_at"]), doc
    assert w["type"] == "longrun" and w["finished_at"] is None, doc
    assert doc["all_required_ready"] is True, doc
    assert {"service": "fetch", "stage": 1, "ready_ms": f["ready_ms"]} in doc["blame"], doc
    assert doc["stages"][0]["ready_ms"] >= f["ready_ms"], doc
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    # A done one-shot is not stopped again at shutdown.
    assert h.find(r"\[fetch\] (exited|stopping|SIG)") is None, h.dump()


def test_oneshot_retries_then_fails(tmp_path, start_hfinit):  # noqa: F811
    """A required one-shot that keeps failing: retried retry_delay apart, then
    the container stops with 1; its output is logged like any service's."""
    cfg = write_config(tmp_path, """
        [service:migrate]
        command = %s
        type = oneshot
        retries = 2
        retry_delay = 100ms
        [service:web]
        command = %s
        stage = 2
        """ % (sh("echo 'Error: database locked' >&2; exit 2"), svc()))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: warn: \[migrate\] attempt 1 of 2 failed: exited 2(: .*)?; next "
                r"attempt in 100ms$")
    h.wait_line(r"^hfinit: error: \[migrate\] attempt 2 of 2 failed: exited 2(: .*)?; no "
                r"attempts left$")
    h.wait_line(r"^hfinit: error: \[migrate\] required service failed: stopping everything$")
    assert h.wait_exit() == 1, h.dump()
    assert len(h.find_all(r"^\[migrate\] Error: database locked$")) == 2, h.dump()
    assert h.find(r"\[web\] started") is None, h.dump()
    doc = status(h)
    m = doc["services"]["migrate"]
    assert m["state"] == "failed" and m["attempt"] == 2 and m["last_exit"]["code"] == 2, doc


def test_optional_oneshot_failure_degrades(tmp_path, start_hfinit):  # noqa: F811
    """An optional one-shot that fails: the next stage starts, state degraded."""
    cfg = write_config(tmp_path, """
        [service:warm]
        command = %s
        type = oneshot
        required = no
        retries = 1
        [service:web]
        command = %s
        stage = 2
        """ % (sh("exit 1"), svc()))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: warn: \[warm\] optional service failed: continuing degraded$")
    h.wait_line(r"^hfinit: info: \[web\] ready in")
    doc = wait_status(h, lambda d: d["state"] == "degraded", "state degraded")
    assert doc["services"]["warm"]["state"] == "failed", doc
    assert doc["all_required_ready"] is True, doc
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_oneshot_ready_timeout_stops_it(tmp_path, start_hfinit):  # noqa: F811
    """ready_timeout bounds a one-shot's run: a failed attempt, the process
    group stopped (stop_signal), category ready-timeout."""
    cfg = write_config(tmp_path, """
        [service:slow]
        command = %s
        type = oneshot
        retries = 1
        ready_timeout = 300ms
        """ % sh("exec sleep 30"))
    h = start_hfinit(cfg, mode=MODE)
    _, t0, _ = h.wait_line(r"^hfinit: info: \[slow\] started pid")
    _, t1, _ = h.wait_line(r"^hfinit: error: \[slow\] attempt 1 of 1 failed: not done within "
                           r"300ms \(type = oneshot\); no attempts left$")
    assert 0.25 <= t1 - t0 < 3, h.dump()
    h.wait_line(r"^hfinit: info: \[slow\] killed by SIGTERM$")
    assert h.wait_exit() == 1, h.dump()
    s = status(h)["services"]["slow"]
    assert s["state"] == "failed" and s["last_error"]["category"] == "ready-timeout", s
    assert s["last_exit"]["signal_name"] == "SIGTERM", s


def test_success_exit_code_3_is_clean(tmp_path, start_hfinit):  # noqa: F811
    """success_exit_codes = 0 3: a longrun with restart = on-failure that exits 3
    is not restarted (last_exit 3, state stopped), a one-shot that exits 3 is
    done; exit 0 without 0 in the list is a failure."""
    cfg = write_config(tmp_path, """
        [service:job]
        command = %s
        type = oneshot
        success_exit_codes = 0 3
        [service:batch]
        command = %s
        stage = 2
        success_exit_codes = 0, 3
        restart_delay = 100ms
        [service:strict]
        command = %s
        stage = 2
        type = oneshot
        required = no
        retries = 1
        success_exit_codes = 3
        """ % (sh("exit 3"), sh("sleep 0.2; exit 3"), sh("exit 0")))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: info: \[job\] done in \d+ ms \(exited 3\), attempt 1$")
    h.wait_line(r"^hfinit: error: \[strict\] attempt 1 of 1 failed: exited 0; no attempts left$")
    h.wait_line(r"^hfinit: info: \[batch\] exited 3: done \(restart = on-failure\)$")
    h.wait_line(r"^hfinit: info: every service has ended$")
    assert h.wait_exit() == 0, h.dump()
    assert h.find(r"\[batch\] restarting") is None, h.dump()
    doc = status(h)["services"]
    assert doc["job"]["state"] == "done" and doc["job"]["last_exit"]["code"] == 3, doc
    assert doc["batch"]["state"] == "stopped" and doc["batch"]["restarts"] == 0, doc
    assert doc["batch"]["last_exit"]["code"] == 3 and doc["batch"]["last_error"]["text"] is None
    assert doc["strict"]["state"] == "failed", doc


# Fed by Debian's python3-sdnotify: READY=1, then WATCHDOG=1 every 100ms until
# stopped; says what it was given, and "pinged" after 15 pings.
SDN_FED = r"""
import os, sys, time, sdnotify
n = sdnotify.SystemdNotifier()
print("usec=%s pid=%s me=%d" % (os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID"),
                                os.getpid()), flush=True)
n.notify("READY=1")
i = 0
while True:
    time.sleep(0.1)
    n.notify("WATCHDOG=1")
    i += 1
    if i == 15:
        print("pinged", flush=True)
"""


def test_watchdog_fed_by_sdnotify_and_systemd_notify(tmp_path, start_hfinit):  # noqa: F811
    """WATCHDOG_USEC and WATCHDOG_PID (the main pid, as systemd sets them) reach
    the service; WATCHDOG=1 every 100ms against watchdog = 400ms keeps it ready
    for 15 pings each (1.5 s and more), from sdnotify and from systemd-notify in a
    shell loop; both keep pinging until they are stopped."""
    fed = script(tmp_path, "fed.py", SDN_FED)
    sysd = shutil.which("systemd-notify")
    loop = ("systemd-notify --ready; i=0; while :; do sleep 0.1; systemd-notify WATCHDOG=1; "
            "i=$((i+1)); [ $i -ne 15 ] || echo pinged; done")
    cfg = write_config(tmp_path, """
        [service:py]
        command = %s
        ready = notify
        watchdog = 400ms
        %s
        """ % (q("/usr/bin/python3", fed),
               "" if not sysd else
               "[service:sysd]\ncommand = %s\nready = notify\nwatchdog = 1s\n" % sh(loop)))
    h = start_hfinit(cfg, mode=MODE)
    _, _, m = h.wait_line(r"^\[py\] usec=(\d+) pid=(\d+) me=(\d+)$", stream="out")
    assert m.group(1) == "400000" and m.group(2) == m.group(3), h.dump()
    h.wait_line(r"^hfinit: info: \[py\] ready in \d+ ms \(READY=1\), attempt 1$")
    h.wait_line(r"^\[py\] pinged$", stream="out")
    if sysd:
        h.wait_line(r"^\[sysd\] pinged$", stream="out")
    assert h.find(r"WATCHDOG|watchdog|restarting") is None, h.dump()
    doc = status(h)["services"]
    assert doc["py"]["state"] == "ready" and doc["py"]["restarts"] == 0, doc
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    if not sysd:
        pytest.skip("no systemd-notify: only the sdnotify client was tested")


# READY=1, two pings, then silence (stuck in a CUDA call); or WATCHDOG=trigger.
STUCK = r"""
import sys, time, sdnotify
n = sdnotify.SystemdNotifier()
n.notify("READY=1")
if sys.argv[1] == "trigger":
    time.sleep(0.1)
    n.notify("WATCHDOG=trigger")
else:
    for i in range(2):
        time.sleep(0.1)
        n.notify("WATCHDOG=1")
print("silent", flush=True)
time.sleep(600)
"""


def test_watchdog_missed_or_triggered_restarts(tmp_path, start_hfinit):  # noqa: F811
    """No WATCHDOG=1 within 300ms after the last one: a failure with category
    watchdog, stop_signal to the group, a restart after restart_delay;
    WATCHDOG=trigger fails at once. With restart = no the service fails."""
    stuck = script(tmp_path, "stuck.py", STUCK)
    cfg = write_config(tmp_path, """
        [service:miss]
        command = %s
        ready = notify
        watchdog = 300ms
        restart_delay = 100ms
        required = no
        [service:trig]
        command = %s
        ready = notify
        restart = no
        required = no
        """ % (q("/usr/bin/python3", stuck, "miss"), q("/usr/bin/python3", stuck, "trigger")))
    h = start_hfinit(cfg, mode=MODE)
    at, t_silent, _ = h.wait_line(r"^\[miss\] silent$", stream="out")
    _, t_miss, _ = h.wait_line(r"^hfinit: warn: \[miss\] no WATCHDOG=1 within 300ms$")
    assert 0.1 <= t_miss - t_silent < 3, h.dump()
    h.wait_line(r"^hfinit: info: \[miss\] killed by SIGTERM$")
    h.wait_line(r"^hfinit: info: \[miss\] restarting in 100ms \(restart 1\)$")
    h.wait_line(r"^hfinit: info: \[miss\] ready in \d+ ms \(READY=1\), attempt 1$",
                start=h.find(r"restarting in 100ms")[0])
    h.wait_line(r"^hfinit: warn: \[trig\] WATCHDOG=trigger$")
    h.wait_line(r"^hfinit: warn: \[trig\] optional service failed: continuing degraded$")
    doc = wait_status(h, lambda d: d["services"]["trig"]["state"] == "failed", "trig failed")
    m, t = doc["services"]["miss"], doc["services"]["trig"]
    assert m["restarts"] >= 1, doc
    assert m["last_error"]["category"] == "watchdog", doc
    assert m["last_error"]["text"] == "no WATCHDOG=1 within 300ms", doc
    assert t["last_error"]["category"] == "watchdog", doc
    assert t["last_error"]["text"] == "WATCHDOG=trigger", doc
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_restart_of_what_left_its_pipes_held(tmp_path, start_hfinit):  # noqa: F811
    """A done one-shot and a finished longrun (clean exit, restart = no,
    ready = fd:3) each leave a process holding their pipes. `hfinit restart`
    twice: each earlier run's pipes are read and closed before the new ones
    (hfinit does not spin on them, its fds do not pile up), and every run's
    lines are in the log."""
    cfg = write_config(tmp_path, """
        [service:fetch]
        command = %s
        type = oneshot
        [service:job]
        command = %s
        ready = fd:3
        restart = no
        [service:web]
        command = %s
        ready = started
        stage = 2
        """ % (sh("echo fetch-run; (echo fetch-bg; exec sleep 100) & exit 0"),
               sh("echo >&3; echo job-run; (echo job-bg; exec sleep 100) & exit 0"),
               sh("exec sleep 1000")))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: info: all stages up after")
    fds = os.path.join("/proc/%d/fd" % h.pid)

    def lines(n):
        for name in ("fetch", "job"):
            for what in ("run", "bg"):
                wait_for(lambda: len(h.find_all(r"^\[%s\] %s-%s$" % (name, name, what),
                                                stream="out")) == n,
                         what="%d %s-%s lines" % (n, name, what))
    lines(1)
    wait_status(h, lambda d: d["services"].get("job", {}).get("state") == "stopped",
                "job stopped")
    base = len(os.listdir(fds))
    env = dict(os.environ, HFINIT_STATUS_DIR=h.status_dir)
    for n in (2, 3):
        for name in ("fetch", "job"):
            # --no-wait: job may be ready and stopped again in one turn
            r = subprocess.run([HFINIT, "restart", "--no-wait", name], env=env,
                               capture_output=True, text=True, timeout=15)
            assert r.returncode == 0, r.stderr + h.dump()
        lines(n)
        wait_status(h, lambda d: d["services"].get("job", {}).get("state") == "stopped",
                    "job stopped")
        wait_for(lambda: len(os.listdir(fds)) == base, what="hfinit's fds back to %d" % base)
    before = cpu_ticks(h.pid)
    time.sleep(1.0)  # the measurement window, not a synchronisation
    assert cpu_ticks(h.pid) - before < 20, h.dump()  # a spin takes ~100 ticks a second
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
