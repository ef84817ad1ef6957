"""Supervision mode: attempts, required vs optional, stages, restarts with
back-off and a burst limit, health probes (docs/design.md "Supervisor", docs/supervise.md).

Delays are shortened through the config; timing bounds are loose (a lower
bound from the configured delay, an upper bound with generous slack for
Python's start-up). Services record their events (svc.py --record) with
CLOCK_MONOTONIC times.
"""

import os
import signal

import pytest

from supervise_util import (MODES, proc_state, q, read_records, start_hfinit, svc,  # noqa: F401
                            wait_records, write_config)


def events(recs, name, event):
    return [r for r in recs if r["name"] == name and r["event"] == event]


def test_attempts_count_and_delay(tmp_path, start_hfinit):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        retries = 3
        retry_delay = 400ms
        [service:next]
        stage = 2
        command = %s
        """ % (svc("--name", "s", "--record", rec, "--exit-before-ready", "2"),
               svc("--name", "next", "--record", rec)))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: warn: \[s\] attempt 1 of 3 failed: exited 2 before it was ready.*"
                r"; next attempt in 400ms$")
    h.wait_line(r"^hfinit: warn: \[s\] attempt 2 of 3 failed: .*; next attempt in 400ms$")
    h.wait_line(r"^hfinit: error: \[s\] attempt 3 of 3 failed: exited 2 before it was ready.*"
                r"; no attempts left$")
    h.wait_line(r"^hfinit: error: \[s\] required service failed: stopping everything$")
    assert h.wait_exit() == 1, h.dump()
    recs = read_records(rec)
    starts, exits = events(recs, "s", "start"), events(recs, "s", "exit")
    assert len(starts) == 3 and len(exits) == 3, recs
    for k in range(2):
        gap = starts[k + 1]["mono"] - exits[k]["mono"]
        assert 0.38 <= gap < 1.5, (k, gap)
    assert not events(recs, "next", "start"), "stage 2 started after a required failure"
    assert len(h.find_all(r"\[s\] started pid \d+ \(attempt \d of 3\)")) == 3


@pytest.mark.parametrize("mode", MODES)
def test_failed_attempt_stops_whole_group_with_escalation(tmp_path, start_hfinit, mode):  # noqa: F811
    """Timeout: the whole process group gets SIGTERM, then SIGKILL after
    stop_timeout (everything ignores SIGTERM here); the next attempt starts
    only once the group is gone and retry_delay has passed."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        ready_timeout = 500ms
        retries = 2
        retry_delay = 200ms
        stop_timeout = 400ms
        required = no
        [service:keep]
        command = %s
        """ % (svc("--name", "s", "--record", rec, "--hang", "--children", "2", "--ignore-term"),
               svc("--name", "keep")))
    h = start_hfinit(cfg, mode=mode)
    _, t_to, _ = h.wait_line(r"^hfinit: warn: \[s\] attempt 1 of 2 failed: not ready within 500ms")
    _, t_kill, _ = h.wait_line(r"^hfinit: warn: \[s\] still running 400ms after SIGTERM: "
                               r"sending SIGKILL$")
    assert 0.3 <= t_kill - t_to < 1.5
    _, t_2, _ = h.wait_line(r"^hfinit: info: \[s\] started pid \d+ \(attempt 2 of 2\)$")
    assert 0.18 <= t_2 - t_kill < 1.5
    recs = read_records(rec)
    first = events(recs, "s", "start")[0]["pid"]
    kids = [int(r["detail"]) for r in events(recs, "s", "child") if r["pid"] == first]
    assert len(kids) == 2, recs
    assert [r for r in events(recs, "s", "signal") if r["pid"] == first][0]["detail"] == "SIGTERM"
    if mode == "plain":  # same pid namespace: the old group must be gone, reaped too
        for k in kids:
            assert proc_state(k) is None, (k, proc_state(k))
    assert not [r for r in events(recs, "s", "exit") if r["pid"] == first], "ignored SIGTERM"
    h.wait_line(r"^hfinit: warn: \[s\] optional service failed: continuing degraded$")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.parametrize("mode", MODES)
def test_optional_failure_degrades_and_next_stage_starts(tmp_path, start_hfinit, mode):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:opt]
        stage = 1
        command = %s
        ready = line:svc-is-up
        required = no
        retries = 2
        retry_delay = 100ms
        [service:req]
        stage = 1
        command = %s
        ready = line:svc-is-up
        [service:later]
        stage = 5
        command = %s
        ready = line:svc-is-up
        """ % (svc("--name", "opt", "--record", rec, "--exit-before-ready", "1"),
               svc("--name", "req", "--record", rec), svc("--name", "later", "--record", rec)))
    h = start_hfinit(cfg, mode=mode)
    i, _, _ = h.wait_line(r"^hfinit: warn: \[opt\] optional service failed: continuing degraded$")
    j, _, _ = h.wait_line(r"^hfinit: info: stage 5: starting$")
    assert j > i
    h.wait_line(r"^hfinit: info: \[later\] ready in")
    h.wait_line(r"^hfinit: info: all stages up after \d+ ms \(degraded: an optional service "
                r"failed\)$")
    assert len(events(read_records(rec), "opt", "start")) == 2
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.parametrize("mode", MODES)
def test_required_failure_stops_everything_in_reverse(tmp_path, start_hfinit, mode):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:a]
        stage = 1
        command = %s
        ready = line:svc-is-up
        [service:b]
        stage = 2
        command = %s
        ready = line:svc-is-up
        [service:c]
        stage = 3
        command = %s
        ready = line:svc-is-up
        retries = 1
        [service:d]
        stage = 3
        command = %s
        ready = line:svc-is-up
        required = no
        [service:e]
        stage = 4
        command = %s
        """ % (svc("--name", "a", "--record", rec), svc("--name", "b", "--record", rec),
               svc("--name", "c", "--record", rec, "--ready-delay", "0.3", "--exit-before-ready", "4"),
               svc("--name", "d", "--record", rec, "--term-delay", "0.2"),
               svc("--name", "e", "--record", rec)))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^hfinit: error: \[c\] required service failed: stopping everything$")
    assert h.wait_exit() == 1, h.dump()
    recs = read_records(rec)
    sig = {r["name"]: r for r in recs if r["event"] == "signal"}
    ex = {r["name"]: r for r in recs if r["event"] == "exit"}
    assert sorted(sig) == ["a", "b", "d"], recs
    assert sig["d"]["detail"] == sig["b"]["detail"] == sig["a"]["detail"] == "SIGTERM"
    # Reverse order, each lower stage only once the higher one is gone.
    assert ex["d"]["mono"] <= sig["b"]["mono"] and ex["b"]["mono"] <= sig["a"]["mono"], recs
    assert not events(recs, "e", "start")


def test_stage_gaps_and_order(tmp_path, start_hfinit):  # noqa: F811
    """Stages 10, 20, 30 (gaps): each starts once the one before is ready."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:s30]
        stage = 30
        command = %s
        ready = line:svc-is-up
        [service:s10a]
        stage = 10
        command = %s
        ready = line:svc-is-up
        [service:s10b]
        stage = 10
        command = %s
        ready = line:svc-is-up
        [service:s20]
        stage = 20
        command = %s
        ready = line:svc-is-up
        """ % (svc("--name", "s30", "--record", rec),
               svc("--name", "s10a", "--record", rec, "--ready-delay", "0.1"),
               svc("--name", "s10b", "--record", rec, "--ready-delay", "0.4"),
               svc("--name", "s20", "--record", rec, "--ready-delay", "0.1")))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: all stages up after \d+ ms$")
    recs = read_records(rec)
    st = {r["name"]: r["mono"] for r in recs if r["event"] == "start"}
    rd = {r["name"]: r["mono"] for r in recs if r["event"] == "ready"}
    assert abs(st["s10a"] - st["s10b"]) < 0.3  # together
    assert st["s20"] > rd["s10b"] and st["s30"] > rd["s20"], recs
    starts = [m.group(1) for _, _, m in h.find_all(r"^hfinit: info: stage (\d+): starting$")]
    assert starts == ["10", "20", "30"]
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_restart_backoff_doubles_to_max(tmp_path, start_hfinit):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        restart = on-failure
        restart_delay = 100ms
        restart_max_delay = 400ms
        restart_burst = 20
        restart_window = 1m
        """ % svc("--name", "s", "--record", rec, "--exit-after", "0.05", "--exit-code", "1"))
    h = start_hfinit(cfg)
    wait_records(rec, lambda r: len(events(r, "s", "start")) >= 6, what="6 starts")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    recs = read_records(rec)
    starts, exits = events(recs, "s", "start"), events(recs, "s", "exit")
    want = [0.1, 0.2, 0.4, 0.4, 0.4]
    for k, d in enumerate(want):
        gap = starts[k + 1]["mono"] - exits[k]["mono"]
        assert d * 0.95 <= gap < d + 0.6, (k, d, gap)
    logged = [m.group(1) for _, _, m in h.find_all(r"^hfinit: info: \[s\] restarting in (\S+) "
                                                   r"\(restart \d+\)$")]
    assert logged[:5] == ["100ms", "200ms", "400ms", "400ms", "400ms"], logged
    assert h.find(r"^hfinit: warn: \[s\] exited 1$")


def test_restart_backoff_resets_after_a_window(tmp_path, start_hfinit):  # noqa: F811
    """Runs 1-3 crash at once (100, 200, 400 ms); run 4 stays up longer than
    restart_window, so the next delay is back to 100 ms, then 200 ms."""
    rec = os.path.join(str(tmp_path), "rec")
    cnt = os.path.join(str(tmp_path), "count")
    quick = svc("--name", "s", "--record", rec, "--exit-after", "0.05", "--exit-code", "1")
    slow = svc("--name", "s", "--record", rec, "--exit-after", "0.9", "--exit-code", "1")
    script = ('n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s; '
              'if [ $n -eq 4 ]; then exec %s; else exec %s; fi' % (cnt, cnt, slow, quick))
    cfg = write_config(tmp_path, """
        [service:s]
        command = /bin/sh -c %s
        ready = line:svc-is-up
        restart_delay = 100ms
        restart_max_delay = 10s
        restart_burst = 20
        restart_window = 600ms
        """ % q(script))
    h = start_hfinit(cfg)
    wait_records(rec, lambda r: len(events(r, "s", "start")) >= 6, what="6 starts")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    logged = [m.group(1) for _, _, m in h.find_all(r"^hfinit: info: \[s\] restarting in (\S+) "
                                                   r"\(restart \d+\)$")]
    assert logged[:5] == ["100ms", "200ms", "400ms", "100ms", "200ms"], logged


@pytest.mark.parametrize("required", [True, False])
def test_restart_burst_gives_up(tmp_path, start_hfinit, required):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        required = %s
        restart = always
        restart_delay = 20ms
        restart_max_delay = 20ms
        restart_burst = 3
        restart_window = 1m
        [service:other]
        command = %s
        """ % (svc("--name", "s", "--record", rec, "--exit-after", "0.05", "--exit-code", "0"),
               "yes" if required else "no", svc("--name", "other", "--record", rec)))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: error: \[s\] restarted 3 times within 1m: giving up$")
    if required:
        h.wait_line(r"^hfinit: error: \[s\] required service failed: stopping everything$")
        assert h.wait_exit() == 1, h.dump()
    else:
        h.wait_line(r"^hfinit: warn: \[s\] optional service failed: continuing degraded$")
        assert h.running()
        h.signal(15)
        assert h.wait_exit() == 0, h.dump()
    assert len(events(read_records(rec), "s", "start")) == 4  # the first run + 3 restarts
    assert events(read_records(rec), "other", "signal")[0]["detail"] == "SIGTERM"


@pytest.mark.parametrize("restart,code,restarted", [
    ("no", 0, False), ("on-failure", 0, False), ("always", 0, True),
    ("no", 3, False), ("on-failure", 3, True), ("always", 3, True)])
def test_restart_policy(tmp_path, start_hfinit, restart, code, restarted):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        restart = %s
        restart_delay = 50ms
        [service:keep]
        command = %s
        """ % (svc("--name", "s", "--record", rec, "--exit-after", "0.1", "--exit-code", str(code)),
               restart, svc("--name", "keep", "--record", rec)))
    h = start_hfinit(cfg)
    if restarted:
        h.wait_line(r"^hfinit: info: \[s\] restarting in 50ms \(restart 1\)$")
        wait_records(rec, lambda r: len(events(r, "s", "start")) >= 2, what="a second start")
        h.signal(15)
        assert h.wait_exit() == 0, h.dump()
    elif code == 0:
        h.wait_line(r"^hfinit: info: \[s\] exited 0: done \(restart = %s\)$" % restart)
        assert h.running()
        h.signal(15)
        assert h.wait_exit() == 0, h.dump()
    else:  # restart = no, failure: a required service failed
        h.wait_line(r"^hfinit: error: \[s\] exited 3 \(restart = no\)$")
        h.wait_line(r"required service failed: stopping everything")
        assert h.wait_exit() == 1, h.dump()
    assert len(events(read_records(rec), "s", "start")) >= (2 if restarted else 1)
    if not restarted:
        assert len(events(read_records(rec), "s", "start")) == 1


@pytest.mark.parametrize("mode", MODES)
def test_all_services_ended_exits_0(tmp_path, start_hfinit, mode):  # noqa: F811
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = line:svc-is-up
        restart = no
        [service:b]
        stage = 2
        command = /bin/sh -c 'echo job done'
        restart = on-failure
        """ % svc("--exit-after", "0.2"))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^\[b\] job done$", stream="out")
    h.wait_line(r"^hfinit: info: every service has ended$")
    assert h.wait_exit() == 0, h.dump()


def test_health_failures_restart(tmp_path, start_hfinit):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    flag = os.path.join(str(tmp_path), "healthy")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = file:%s
        health = file:%s
        health_interval = 100ms
        health_failures = 2
        restart_delay = 50ms
        """ % (svc("--name", "s", "--record", rec, "--touch", flag), flag, flag))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: \[s\] ready in \d+ ms \(file:")
    os.unlink(flag)
    _, t1, _ = h.wait_line(r"^hfinit: warn: \[s\] health check file:\S+ failed \(1 of 2 in a row\)")
    _, t2, _ = h.wait_line(r"^hfinit: warn: \[s\] health check file:\S+ failed \(2 of 2 in a row\)")
    assert 0.05 <= t2 - t1 < 1.0
    h.wait_line(r"^hfinit: info: \[s\] restarting in 50ms \(restart 1\)$")
    recs = wait_records(rec, lambda r: len(events(r, "s", "ready")) >= 2, what="second ready")
    assert events(recs, "s", "signal")[0]["detail"] == "SIGTERM"
    h.wait_line(r"^hfinit: info: \[s\] ready in \d+ ms \(file:.*\), attempt 1$",
                start=h.find(r"restarting in 50ms")[0])
    assert h.find(r"health check .* failed \(1 of 2", start=h.find(r"restarting in")[0]) is None
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_attempt_messages_are_per_attempt(tmp_path, start_hfinit):  # noqa: F811
    """Each failed attempt's message names its own exit and its own last error
    line, nothing carried over (garbled or repeated) from earlier attempts."""
    cfg = write_config(tmp_path, """
        [service:clean]
        command = %s
        ready = line:svc-is-up
        retries = 3
        retry_delay = 50ms
        required = no
        [service:err]
        command = %s
        ready = line:svc-is-up
        retries = 3
        retry_delay = 50ms
        required = no
        [service:keep]
        command = %s
        """ % (svc("--exit-before-ready", "0"),
               svc("--say-err", "ValueError: bad weights", "--exit-before-ready", "1"),
               svc()))
    h = start_hfinit(cfg)
    for name in ("clean", "err"):
        h.wait_line(r"\[%s\] optional service failed: continuing degraded" % name)
    for k in (1, 2, 3):
        tail = "next attempt in 50ms" if k < 3 else "no attempts left"
        h.wait_line(r"^hfinit: \w+: \[clean\] attempt %d of 3 failed: exited 0 before it was "
                    r"ready; %s$" % (k, tail))
        h.wait_line(r"^hfinit: \w+: \[err\] attempt %d of 3 failed: exited 1 before it was "
                    r"ready: ValueError: bad weights; %s$" % (k, tail))
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()



@pytest.mark.parametrize("ready_kind", ["tcp", "http"])
def test_health_probe_uses_its_own_address(tmp_path, start_hfinit, ready_kind):  # noqa: F811
    """ready on one port, health on another: the health probe must go to the
    health address (nothing listens there, so it fails), not to the ready one
    (which answers 200)."""
    import socket
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    p1, p2 = ports
    rec = os.path.join(str(tmp_path), "rec")
    ready = "tcp:127.0.0.1:%d" % p1 if ready_kind == "tcp" else "http://127.0.0.1:%d/ready" % p1
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = %s
        health = http://127.0.0.1:%d/health
        health_interval = 100ms
        health_failures = 2
        restart_delay = 50ms
        """ % (svc("--name", "s", "--record", rec, "--tcp", str(p1), "--http-status", "200"),
               ready, p2))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: \[s\] ready in")
    h.wait_line(r"^hfinit: warn: \[s\] health check http://127\.0\.0\.1:%d/health failed "
                r"\(1 of 2 in a row\)" % p2, timeout=3)
    assert not [r for r in read_records(rec) if r["event"] == "http" and r["detail"] == "/health"]
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_restart_burst_above_64(tmp_path, start_hfinit):  # noqa: F811
    """restart_burst is honoured as configured (it was silently capped at 64)."""
    runs = os.path.join(str(tmp_path), "runs")
    cfg = write_config(tmp_path, """
        [service:s]
        command = /bin/sh -c "echo x >> %s; echo svc-is-up; exit 1"
        ready = line:svc-is-up
        restart_delay = 10ms
        restart_max_delay = 10ms
        restart_burst = 70
        restart_window = 10m
        """ % runs)
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: error: \[s\] restarted 70 times within 10m: giving up$", timeout=20)
    assert h.wait_exit() == 1, h.dump()
    assert len(open(runs).read().split()) == 71


CRASH_AFTER_READY = ("import sys, time; print('svc-is-up', flush=True); time.sleep(0.2); "
                     "sys.stderr.write(\"ModuleNotFoundError: No module named 'torch'\\n\"); "
                     "sys.stderr.flush(); sys.exit(1)")


@pytest.mark.parametrize("restart", ["no", "on-failure"])
def test_last_error_after_ready_keeps_line_and_hint(tmp_path, start_hfinit, restart):  # noqa: F811
    """A crash after ready with a classified stderr line: status.json's
    last_error keeps the exit, the line, the category and the hint (it kept
    only the category: text "exited 1", hint null)."""
    import json
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        ready = line:svc-is-up
        restart = %s
        restart_burst = 1
        """ % (q("/usr/bin/python3", "-c", CRASH_AFTER_READY), restart))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: \[w\] ready in")
    assert h.wait_exit() == 1, h.dump()
    with open(os.path.join(h.status_dir, "status.json")) as f:
        le = json.load(f)["services"]["w"]["last_error"]
    text = "exited 1: ModuleNotFoundError: No module named 'torch'"
    if restart == "on-failure":  # the burst limit gives up after the first restart's crash
        text = "gave up after 1 restarts within 1m; last: " + text
    hint = ("Python module 'torch' is missing: install it in the image (pip install torch), "
            "or check that hfinit picked the right interpreter (hfinit check)")
    assert le == {"text": text, "category": "crash-loop" if restart == "on-failure"
                  else "missing-dependency",
                  "hint": "the service keeps failing: see its log above"
                  if restart == "on-failure" else hint}, le


def test_rlimit_start_error_names_the_key(tmp_path, start_hfinit):  # noqa: F811
    """A hard limit the start cannot set: the start error names the key, the
    value and the limit in the way; as root that is fs.nr_open (was: no value,
    and "needs CAP_SYS_RESOURCE", which root has)."""
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        rlimit_nofile = 99999999
        retries = 1
        """ % svc())
    h = start_hfinit(cfg)
    if os.geteuid() == 0:
        with open("/proc/sys/fs/nr_open") as f:
            limit = (r"fs.nr_open is %d; a hard nofile above it cannot be set, even as root: "
                     r"lower the value" % int(f.read()))
    else:
        import resource
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limit = (r"above the hard limit hfinit has, %d; raising it needs CAP_SYS_RESOURCE: "
                 r"lower the value or remove the key" % hard)
    h.wait_line(r"^hfinit: error: \[w\] cannot start: rlimit_nofile = 99999999: Operation not "
                r"permitted \(%s\)$" % limit)
    assert h.wait_exit() == 3, h.dump()  # a required service that cannot be set up


# A service that double-forks a setsid daemon (which ignores SIGTERM), says it
# is up, and crashes (exit 3) when it gets SIGUSR1 (hfinit forwards it).
ESCAPER = r"""
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
        os.close(r)
        os.set_inheritable(w, True)
        os.execv(sys.executable, [sys.executable, "-c",
                                  "import os, sys, time; os.close(int(sys.argv[1])); "
                                  "time.sleep(600)", str(w), sys.argv[1] + "-daemon"])
    os._exit(0)
os.close(w)
os.read(r, 1)  # EOF once the daemon runs under its own command line
os.wait()
print("svc-is-up", flush=True)
signal.sigwait({signal.SIGUSR1})
sys.exit(3)
"""


def daemons(tag):
    """Live (not zombie) processes whose command line holds tag."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if tag.encode() not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/stat" % d) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(d))
        except OSError:
            pass
    return found


@pytest.mark.parametrize("mode", MODES)
def test_setsid_daemons_do_not_pile_up_across_restarts(tmp_path, start_hfinit, mode):  # noqa: F811
    """Each run of the service leaves a daemon outside its process group
    (double fork + setsid, SIGTERM ignored); 5 crashes and restarts: exactly one
    daemon is alive while each run is up (the earlier one was stopped when its
    run ended and SIGKILLed at the next start), and none after shutdown."""
    tag = "w3-daemon-%d-%s" % (os.getpid(), mode)
    script = os.path.join(str(tmp_path), "escaper.py")
    with open(script, "w") as f:
        f.write(ESCAPER)
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 1s
        [service:s]
        command = %s
        ready = line:svc-is-up
        restart = on-failure
        restart_delay = 50ms
        restart_max_delay = 100ms
        restart_burst = 100
        stop_timeout = 500ms
        """ % q("/usr/bin/python3", script, tag))
    h = start_hfinit(cfg, mode=mode)
    start = 0
    for run in range(6):
        i, _, _ = h.wait_line(r"^hfinit: info: \[s\] ready in \d+ ms", start=start)
        start = i + 1
        alive = daemons(tag + "-daemon")
        assert len(alive) == 1, (run, alive, h.dump())
        if run < 5:
            h.signal(signal.SIGUSR1)
    assert len(h.find_all(r"^hfinit: warn: \[s\] SIGKILL to 1 process an earlier run left "
                          r"outside its process group \(pid \d+\)$")) == 5, h.dump()
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()
    assert daemons(tag + "-daemon") == []


def test_ready_line_while_stopping_is_ignored(tmp_path, start_hfinit):  # noqa: F811
    # The attempt timed out and is being stopped; the ready line its SIGTERM
    # handler prints then does not make it ready (nor open stage 2): the
    # teardown goes on to the step it was for.
    script = ("trap 'echo svc-is-up; sleep 0.3; exit 1' TERM; "
              "while :; do sleep 0.05; done")
    cfg = write_config(tmp_path, """
        [service:s]
        command = /bin/sh -c %s
        ready = line:svc-is-up
        ready_timeout = 500ms
        retries = 1
        stop_timeout = 3s
        [service:next]
        stage = 2
        command = %s
        """ % (q(script), svc("--name", "next")))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: error: \[s\] attempt 1 of 1 failed: not ready within 500ms")
    h.wait_line(r"^\[s\] svc-is-up$", stream="out")
    h.wait_line(r"^hfinit: error: \[s\] required service failed: stopping everything$")
    assert h.wait_exit() == 1, h.dump()
    assert not h.find(r"\[s\] ready in"), h.dump()
    assert not h.find(r"stage 2: starting"), h.dump()
