"""Supervision mode: every readiness kind (docs/design.md "Supervisor", docs/supervise.md
"Readiness"): success, timeout, exit before ready.

Each config has the service under test in stage 1 and a marker service in
stage 2: stage 2 must start only after the service is ready. Times: hfinit's
lines carry the monotonic time they reached the test; svc.py records its own
`ready` with CLOCK_MONOTONIC, so "hfinit declared ready no earlier than the
service was ready" is checked directly.
"""

import json
import os
import re
import socket
import time

import pytest

from supervise_util import (MODES, PY, SDNOTIFY, proc_state, q, read_records,  # noqa: F401
                            start_hfinit, svc, wait_for, wait_records, write_config)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kind_cases(tmp_path):
    """name -> (ready spec, args when ready, args never ready, args exiting 3 before ready)."""
    port = free_port()
    flag = os.path.join(str(tmp_path), "ready.flag")
    return {
        "line": ("line:now serving", ["--ready-line", "ok: now serving requests"],
                 ["--ready-line", "now serv-ing"], ["--exit-before-ready", "3"]),
        "line-stderr": ("line:now serving", ["--ready-line", "now serving", "--ready-stderr"],
                        ["--ready-line", "not yet", "--ready-stderr"], ["--exit-before-ready", "3"]),
        "regex": ("regex:^listening on port [0-9]+$", ["--ready-line", "listening on port 8080"],
                  ["--ready-line", "listening on port 80x"], ["--exit-before-ready", "3"]),
        "notify": ("notify", ["--notify", "--status", "loading done"], ["--hang"],
                   ["--exit-before-ready", "3"]),
        "fd": ("fd:3", ["--fd", "3"], ["--hang"], ["--exit-before-ready", "3"]),
        "tcp": ("tcp:127.0.0.1:%d" % port, ["--tcp", str(port)], ["--hang"],
                ["--exit-before-ready", "3"]),
        "tcp-port-only": ("tcp:%d" % port, ["--tcp", str(port)], ["--hang"],
                          ["--exit-before-ready", "3"]),
        "http": ("http://127.0.0.1:%d/health" % port, ["--tcp", str(port), "--http-status", "204"],
                 ["--tcp", str(port), "--http-status", "503"], ["--exit-before-ready", "3"]),
        "file": ("file:%s" % flag, ["--touch", flag], ["--hang"], ["--exit-before-ready", "3"]),
        "exec": ("exec:test -f %s" % flag, ["--touch", flag], ["--hang"],
                 ["--exit-before-ready", "3"]),
        "started": ("started", [], None, None),
    }


KINDS = ["line", "line-stderr", "regex", "notify", "fd", "tcp", "tcp-port-only", "http", "file",
         "exec", "started"]
POLLED = ("tcp", "tcp-port-only", "http", "file", "exec")


def config(tmp_path, spec, args, ready_timeout="5s", retries=1):
    rec = os.path.join(str(tmp_path), "rec")
    return rec, write_config(tmp_path, """
        [hfinit]
        stop_timeout = 2s
        probe_interval = 50ms

        [service:s]
        stage = 1
        command = %s
        ready = %s
        ready_timeout = %s
        retries = %d
        retry_delay = 100ms

        [service:marker]
        stage = 2
        command = %s
        """ % (svc("--name", "s", "--record", rec, "--ready-delay", "0.3", *args), spec,
               ready_timeout, retries, svc("--name", "marker", "--record", rec)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_ready_success(tmp_path, start_hfinit, kind, mode):  # noqa: F811
    spec, ok, _, _ = kind_cases(tmp_path)[kind]
    rec, cfg = config(tmp_path, spec, ok)
    h = start_hfinit(cfg, mode=mode)
    i, t_ready, m = h.wait_line(r"^hfinit: info: \[s\] ready in (\d+) ms \((.*)\), attempt 1$")
    j, _, _ = h.wait_line(r"^hfinit: info: stage 2: starting$")
    assert j > i
    h.wait_line(r"^hfinit: info: \[marker\] started pid")
    recs = wait_records(rec, lambda r: any(x["name"] == "marker" and x["event"] == "start"
                                           for x in r), what="marker start")
    s_ready = [r for r in recs if r["name"] == "s" and r["event"] == "ready"]
    if kind != "started":
        # Ready no earlier than the service could be (its ready actions come at
        # least 0.3 s after its start record), and soon after it was (polls are 50 ms
        # apart; svc.py records "ready" just after its ready actions).
        assert len(s_ready) == 1, recs
        s_start = [r for r in recs if r["name"] == "s" and r["event"] == "start"][0]
        assert t_ready >= s_start["mono"] + 0.3, (t_ready, s_start)
        assert t_ready - s_ready[0]["mono"] < 1.5
        assert int(m.group(1)) >= 250  # the service took 0.3 s to be ready
    else:
        assert int(m.group(1)) < 250  # exec confirmed, long before the service's own "ready"
    marker_start = [r for r in recs if r["name"] == "marker" and r["event"] == "start"][0]
    if kind != "started":
        assert marker_start["mono"] > s_ready[0]["mono"]
    if kind == "http":
        assert any(r["event"] == "http" and r["detail"] == "/health" for r in recs), recs
    if kind == "line-stderr":
        assert m.group(2) == "ready line on stderr"
        h.wait_line(r"^\[s\] now serving$", stream="err")
    if kind == "line":
        assert m.group(2) == "ready line on stdout"
    if kind == "notify":
        assert m.group(2) == "READY=1"
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "started"])
def test_ready_timeout(tmp_path, start_hfinit, kind):  # noqa: F811
    spec, _, never, _ = kind_cases(tmp_path)[kind]
    rec, cfg = config(tmp_path, spec, never, ready_timeout="600ms")
    h = start_hfinit(cfg)
    _, t_start, _ = h.wait_line(r"^hfinit: info: \[s\] started pid \d+ \(attempt 1 of 1\)$")
    _, t_fail, _ = h.wait_line(r"^hfinit: error: \[s\] attempt 1 of 1 failed: not ready within "
                               r"600ms \(ready = %s\); no attempts left$" % re.escape(spec))
    assert 0.5 <= t_fail - t_start < 2.5, t_fail - t_start
    h.wait_line(r"required service failed: stopping everything")
    assert h.wait_exit() == 1, h.dump()
    assert h.find(r"stage 2: starting") is None, h.dump()
    assert h.find(r"\[s\] ready in") is None, h.dump()
    assert not any(r["name"] == "marker" for r in read_records(rec))
    if kind == "http":  # the probe did reach the server: it answered 503, not ready
        assert any(r["event"] == "http" and r["detail"] == "/health" for r in read_records(rec))


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "started"])
def test_ready_exit_before(tmp_path, start_hfinit, kind):  # noqa: F811
    spec, _, _, gone = kind_cases(tmp_path)[kind]
    rec, cfg = config(tmp_path, spec, gone, ready_timeout="20s")
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: error: \[s\] attempt 1 of 1 failed: exited 3 before it was ready",
                timeout=5)
    assert h.wait_exit(timeout=8) == 1, h.dump()
    assert h.find(r"stage 2: starting") is None, h.dump()
    assert h.find(r"\[s\] ready in") is None, h.dump()
    recs = read_records(rec)
    assert [r["event"] for r in recs if r["name"] == "s"] == ["start", "exit"], recs


def test_started_exec_failure(tmp_path, start_hfinit):  # noqa: F811
    """`started`: a command that cannot be executed is an attempt that failed."""
    cfg = write_config(tmp_path, """
        [service:s]
        command = /nonexistent/bin/server --flag
        ready = started
        retries = 2
        retry_delay = 100ms
        [service:marker]
        stage = 2
        command = %s
        """ % svc("--name", "marker"))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: error: \[s\] cannot start: .*/nonexistent/bin/server.*No such file")
    h.wait_line(r"^hfinit: warn: \[s\] attempt 1 of 2 failed: .*next attempt in 100ms$")
    h.wait_line(r"^hfinit: error: \[s\] attempt 2 of 2 failed: .*no attempts left$")
    assert h.wait_exit() == 1, h.dump()
    assert h.find(r"stage 2: starting") is None, h.dump()


def test_notify_from_outside_the_group_is_ignored(tmp_path, start_hfinit):  # noqa: F811
    """READY=1 from a process in another session/process group does not count."""
    inner = q(PY, SDNOTIFY, "READY=1", "--wait")
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 1s
        [service:s]
        command = /bin/sh -c %s
        ready = notify
        ready_timeout = 1500ms
        retries = 1
        """ % q("setsid %s & exec %s" % (inner, svc("--hang"))))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: warn: \[s\] notify message ignored: pid \d+ is not one of the "
                r"service's processes \(at most one warning per 10 s\)$")
    h.wait_line(r"\[s\] attempt 1 of 1 failed: not ready within 1500ms")
    assert h.find(r"\[s\] ready in") is None
    assert h.wait_exit() == 1, h.dump()


def test_notify_stopping_and_sdnotify_fixture(tmp_path, start_hfinit):  # noqa: F811
    """The sdnotify-package fixture's READY=1 works; STOPPING=1 is logged."""
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = notify
        ready_timeout = 5s
        [service:b]
        command = %s
        ready = notify
        ready_timeout = 5s
        """ % (q(PY, SDNOTIFY, "--delay", "0.2", "STATUS=loading", "READY=1", "--wait"),
               svc("--notify", "--notify-stopping", "--ready-delay", "0.1")))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: \[a\] ready in \d+ ms \(READY=1\), attempt 1$")
    h.wait_line(r"^hfinit: info: \[b\] ready in \d+ ms \(READY=1\), attempt 1$")
    h.wait_line(r"^hfinit: info: all stages up")
    h.signal(15)
    h.wait_line(r"^hfinit: info: \[b\] STOPPING=1$")
    assert h.wait_exit() == 0, h.dump()


def test_notify_socket_env(tmp_path, start_hfinit):  # noqa: F811
    """NOTIFY_SOCKET is "@hfinit/PID/NAME" for notify services only; an inherited
    NOTIFY_SOCKET does not leak to the others."""
    da, db = os.path.join(str(tmp_path), "a.json"), os.path.join(str(tmp_path), "b.json")
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = notify
        [service:b]
        command = %s
        ready = line:svc-is-up
        """ % (svc("--dump", da, "--notify"), svc("--dump", db)))
    h = start_hfinit(cfg, env={"NOTIFY_SOCKET": "@outer-manager"})
    h.wait_line(r"all stages up")
    with open(da) as f:
        ea = json.load(f)["env"]
    with open(db) as f:
        eb = json.load(f)["env"]
    assert ea["NOTIFY_SOCKET"] == "@hfinit/%d/a" % h.pid, ea.get("NOTIFY_SOCKET")
    assert "NOTIFY_SOCKET" not in eb
    h.signal(15)
    assert h.wait_exit() == 0



def test_exec_probe_timeout_kills_the_probes_group(tmp_path, start_hfinit):  # noqa: F811
    """An exec probe attempt that hangs is cut at 2 s: its whole process group
    is killed, not only its main process (else every attempt leaks a child)."""
    pids = os.path.join(str(tmp_path), "probe-children")
    cfg = write_config(tmp_path, """
        [hfinit]
        probe_interval = 100ms
        [service:s]
        command = %s
        ready = exec:/bin/sh -c "sleep 30 & echo $! >> %s; wait"
        ready_timeout = 2700ms
        retries = 1
        required = no
        [service:keep]
        command = %s
        """ % (svc("--hang"), pids, svc()))
    h = start_hfinit(cfg)

    def lines():
        return open(pids).read().split() if os.path.exists(pids) else []

    wait_for(lambda: len(lines()) >= 2, timeout=6, what="a second probe attempt")
    first = int(lines()[0])
    wait_for(lambda: proc_state(first) is None, timeout=1,
             what="the first attempt's child (pid %d) to be killed and reaped" % first)
    h.wait_line(r"\[s\] optional service failed: continuing degraded")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.skipif("pid1" not in MODES, reason="needs root for PID namespaces")
def test_two_pid1_hfinits_in_one_network_namespace(tmp_path, start_hfinit):  # noqa: F811
    """Kubernetes: the containers of a pod share the network namespace but each
    has its own PID namespace; two hfinits as PID 1 with a notify service of the
    same name must both start."""
    cfg = write_config(tmp_path, """
        [service:worker]
        command = %s
        ready = notify
        """ % q(PY, SDNOTIFY, "READY=1", "--wait"))
    a = start_hfinit(cfg, mode="pid1", netns=False)
    a.wait_line(r"^hfinit: info: \[worker\] ready in \d+ ms \(READY=1\)")
    b = start_hfinit(cfg, mode="pid1", netns=False)
    b.wait_line(r"^hfinit: info: \[worker\] ready in \d+ ms \(READY=1\)")
    for h in (a, b):
        h.signal(15)
        assert h.wait_exit() == 0, h.dump()


def test_probe_interval_paces_polling(tmp_path, start_hfinit):  # noqa: F811
    """A polled probe runs every probe_interval (here 100 ms), not in a busy loop."""
    runs = os.path.join(str(tmp_path), "runs")
    cfg = write_config(tmp_path, """
        [hfinit]
        probe_interval = 100ms
        [service:s]
        command = %s
        ready = exec:/bin/sh -c "echo x >> %s; exit 1"
        ready_timeout = 1500ms
        retries = 1
        required = no
        [service:keep]
        command = %s
        """ % (svc("--hang"), runs, svc()))
    h = start_hfinit(cfg)
    h.wait_line(r"\[s\] attempt 1 of 1 failed: not ready within 1500ms")
    n = len(open(runs).read().split())
    assert 5 <= n <= 17, n  # 1 + ~1.5 s / (100 ms + a shell's run time); busy: hundreds
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.parametrize("mode", MODES)
def test_idle_hfinit_makes_no_wakeups(tmp_path, start_hfinit, mode):  # noqa: F811
    """docs/design.md "Supervisor": with only event-driven readiness and no health probes, an
    idle hfinit does not wake up (its context-switch counters stay put)."""
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = line:svc-is-up
        [service:b]
        command = %s
        ready = notify
        """ % (svc(), svc("--notify")))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"all stages up")

    def switches():
        with open("/proc/%d/status" % h.pid) as f:
            return sum(int(line.split()[1]) for line in f
                       if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))

    wait_for(lambda: h.find(r"all stages up"), what="all up")
    # b prints its ready line after READY=1: read by hfinit after "all stages up"
    h.wait_line(r"^\[b\] svc-is-up$", stream="out")
    # A line goes out in the loop turn that read it, before that turn's status
    # write: the window opens once the status shows both ready (the turn's
    # last write) and hfinit is asleep again (under load it may still be
    # finishing the turn, preempted: switches that are not idle wake-ups).
    def both_ready():
        try:
            with open(os.path.join(h.status_dir, "status.json")) as f:
                sv = json.load(f)["services"]
        except (OSError, ValueError):
            return False
        return all(sv[n]["state"] == "ready" for n in ("a", "b"))
    wait_for(both_ready, what="status.json: a and b ready")
    # ... and the rest of that turn is over: hfinit sleeps in epoll_wait (state S)
    wait_for(lambda: (proc_state(h.pid) or ("?",))[0] == "S", what="hfinit asleep")
    before = switches()
    time.sleep(1.0)  # a "nothing happens" check: idle for a second
    after = switches()
    assert after - before <= 1, (before, after)
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_http_probe_attempt_bounded(tmp_path, start_hfinit):  # noqa: F811
    """A server that accepts but never answers: each http probe attempt gives up
    after 2 s and the next one connects again."""
    port = free_port()
    acc = os.path.join(str(tmp_path), "accepts")
    server = ("import socket\n"
              "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
              "s.bind(('127.0.0.1', %d)); s.listen(16); held = []\n"
              "while True:\n"
              "    c, _ = s.accept(); held.append(c)\n"
              "    open(%r, 'a').write('x\\n')\n" % (port, acc))
    script = os.path.join(str(tmp_path), "mute_server.py")
    with open(script, "w") as f:
        f.write(server)
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = http://127.0.0.1:%d/health
        ready_timeout = 4500ms
        retries = 1
        required = no
        [service:keep]
        command = %s
        """ % (q(PY, script), port, svc()))
    h = start_hfinit(cfg)
    h.wait_line(r"\[s\] attempt 1 of 1 failed: not ready within 4500ms", timeout=8)
    n = len(open(acc).read().split())
    assert 2 <= n <= 3, n  # attempts at ~0, ~2.1, ~4.2 s
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
