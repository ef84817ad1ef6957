"""Supervision mode: shutdown order, SIGKILL escalation, leftovers that escaped
their group, forwarded signals, daemons and orphans (no zombies), as PID 1 of
a PID namespace and as a plain child (subreaper).

Services record what happens to them (svc.py --record, CLOCK_MONOTONIC), so
the order in which they got SIGTERM is read from their own records.
"""

import os
import signal

import pytest

from supervise_util import (MODES, descendants, q, read_records, start_hfinit, svc,  # noqa: F401
                            wait_for, wait_records, write_config)


def events(recs, name, event):
    return [r for r in recs if r["name"] == name and r["event"] == event]


def host_pid(h, nspid):
    """Host pid of a process of hfinit's tree given its pid as the process saw it."""
    for p, _, _, ns in descendants(h.pid):
        if ns == nspid:
            return p
    return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGQUIT])
@pytest.mark.parametrize("mode", MODES)
def test_shutdown_reverse_stage_order(tmp_path, start_hfinit, mode, sig):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 3s
        [service:a]
        stage = 1
        command = %s
        ready = line:svc-is-up
        [service:b]
        stage = 2
        command = %s
        ready = line:svc-is-up
        [service:c1]
        stage = 3
        command = %s
        ready = line:svc-is-up
        [service:c2]
        stage = 3
        command = %s
        ready = line:svc-is-up
        """ % (svc("--name", "a", "--record", rec, "--term-delay", "0.1"),
               svc("--name", "b", "--record", rec, "--term-delay", "0.2"),
               svc("--name", "c1", "--record", rec, "--term-delay", "0.3"),
               svc("--name", "c2", "--record", rec, "--term-delay", "0.1")))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^hfinit: info: all stages up after")
    h.signal(sig)
    h.wait_line(r"^hfinit: info: stopping: SIG%s$" % signal.Signals(sig).name[3:])
    assert h.wait_exit() == 0, h.dump()
    recs = read_records(rec)
    got = [r["name"] for r in recs if r["event"] == "signal"]
    assert sorted(got[:2]) == ["c1", "c2"] and got[2:] == ["b", "a"], recs
    assert all(r["detail"] == "SIGTERM" for r in recs if r["event"] == "signal")
    sg = {r["name"]: r["mono"] for r in recs if r["event"] == "signal"}
    ex = {r["name"]: r["mono"] for r in recs if r["event"] == "exit"}
    assert abs(sg["c1"] - sg["c2"]) < 0.2  # one stage: together
    assert sg["b"] >= max(ex["c1"], ex["c2"])  # the lower stage once the higher is gone
    assert sg["a"] >= ex["b"]
    assert h.find(r"SIGKILL") is None, h.dump()


@pytest.mark.parametrize("mode", MODES)
def test_escalation_to_sigkill(tmp_path, start_hfinit, mode):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 5s
        [service:stubborn]
        stage = 2
        command = %s
        ready = line:svc-is-up
        stop_timeout = 700ms
        [service:base]
        command = %s
        ready = line:svc-is-up
        """ % (svc("--name", "stubborn", "--record", rec, "--ignore-term", "--children", "1"),
               svc("--name", "base", "--record", rec)))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^hfinit: info: all stages up after")
    h.signal(signal.SIGTERM)
    _, t0, _ = h.wait_line(r"^hfinit: info: stopping: SIGTERM$")
    wait_records(rec, lambda r: events(r, "stubborn", "signal"), what="stubborn got SIGTERM")
    h.signal(signal.SIGTERM)  # a second one changes nothing
    h.wait_line(r"^hfinit: info: SIGTERM: already stopping$")
    _, t_kill, _ = h.wait_line(r"^hfinit: warn: \[stubborn\] still running 700ms after SIGTERM: "
                               r"sending SIGKILL$")
    assert 0.6 <= t_kill - t0 < 2.0, t_kill - t0
    assert h.wait_exit() == 0, h.dump()
    recs = read_records(rec)
    assert [r["detail"] for r in events(recs, "stubborn", "signal")] == ["SIGTERM"]
    assert not events(recs, "stubborn", "exit")  # killed, never exited on its own
    assert events(recs, "base", "signal")[0]["mono"] >= t_kill - 0.05
    assert h.find(r"\[stubborn\] killed by SIGKILL")


@pytest.mark.parametrize("mode", MODES)
def test_leftover_outside_group_killed_after_grace(tmp_path, start_hfinit, mode):  # noqa: F811
    """A process that escaped its service's group (setsid) and ignores SIGTERM:
    SIGTERM once every service is down, SIGKILL after [hfinit] stop_timeout."""
    rec = os.path.join(str(tmp_path), "rec")
    inner = "setsid %s & exec %s" % (svc("--name", "esc", "--record", rec, "--ignore-term",
                                         "--no-ready-line"),
                                     svc("--name", "main", "--record", rec))
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 600ms
        [service:s]
        command = /bin/sh -c %s
        ready = line:svc-is-up
        """ % q(inner))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^hfinit: info: all stages up after")
    wait_records(rec, lambda r: events(r, "esc", "ready") and events(r, "main", "ready"),
                 what="escapee and main up")
    h.signal(signal.SIGTERM)
    assert h.wait_exit(timeout=8) == 0, h.dump()
    recs = read_records(rec)
    sm, se = events(recs, "main", "signal"), events(recs, "esc", "signal")
    assert sm and se and se[0]["detail"] == "SIGTERM", recs
    assert se[0]["mono"] >= events(recs, "main", "exit")[0]["mono"]  # after the services
    assert not events(recs, "esc", "exit")
    assert h.find(r"^hfinit: warn: processes left after the grace period: sending SIGKILL$"), \
        h.dump()


@pytest.mark.parametrize("mode", MODES)
def test_forwarded_signals_reach_every_main_process(tmp_path, start_hfinit, mode):  # noqa: F811
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = line:svc-is-up
        [service:b]
        stage = 2
        command = %s
        ready = line:svc-is-up
        [service:c]
        stage = 2
        command = %s
        ready = line:svc-is-up
        """ % (svc("--name", "a", "--record", rec), svc("--name", "b", "--record", rec),
               svc("--name", "c", "--record", rec, "--children", "1")))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^hfinit: info: all stages up after")
    sigs = ["SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"]
    for k, name in enumerate(sigs):
        h.signal(getattr(signal, name))
        wait_records(rec, lambda r: all([x["detail"] for x in events(r, n, "signal")] == sigs[:k + 1]
                                        for n in "abc"), what="%s at a, b and c" % name)
    # The child of c (default dispositions: SIGHUP/SIGUSR1/SIGUSR2 would kill it)
    # got none of them: forwarding goes to main processes only.
    child = int(events(read_records(rec), "c", "child")[0]["detail"])
    hp = host_pid(h, child)
    assert hp is not None, "c's child is gone: it got a forwarded signal"
    assert h.running()
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.parametrize("mode", MODES)
def test_daemonizing_service_leaves_no_zombie(tmp_path, start_hfinit, mode):  # noqa: F811
    """A service that double-forks and exits 0 (restart = no): stopped, its
    daemon keeps running (not killed), is reparented to hfinit and reaped when
    it exits."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:d]
        command = %s
        ready = started
        restart = no
        [service:keep]
        command = %s
        """ % (svc("--name", "d", "--record", rec, "--daemonize", "--ready-delay", "0.3",
                   "--ready-line", "daemon-line", "--exit-after", "0.7"),
               svc("--name", "keep", "--record", rec)))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^hfinit: info: \[d\] exited 0: done \(restart = no\)$")
    recs = wait_records(rec, lambda r: events(r, "d", "ready"), what="daemon ready")
    dpid = int(events(recs, "d", "daemon")[0]["detail"])
    assert events(recs, "d", "ready")[0]["pid"] == dpid
    hp = host_pid(h, dpid)
    assert hp is not None, "the daemon was killed when its parent exited 0"
    st = [d for d in descendants(h.pid) if d[0] == hp][0]
    assert st[2] == h.pid, "the daemon was not reparented to hfinit"
    # Its output (written after the service's main process exited) still comes through.
    h.wait_line(r"^\[d\] daemon-line$", stream="out")
    wait_records(rec, lambda r: events(r, "d", "exit") and r[-1] and
                 any(x["pid"] == dpid for x in events(r, "d", "exit")), what="daemon exit")
    wait_for(lambda: host_pid(h, dpid) is None, timeout=3, what="the daemon to be reaped")
    assert not [d for d in descendants(h.pid) if d[1] == "Z"]
    assert h.running()
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()


def test_clean_exit_keeps_group_leftovers(tmp_path, start_hfinit):  # noqa: F811
    """restart = no, exit 0 after ready: the process group is not killed."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 2s
        [service:s]
        command = %s
        ready = line:svc-is-up
        restart = no
        [service:keep]
        command = %s
        """ % (svc("--name", "s", "--record", rec, "--children", "1", "--exit-after", "0.1"),
               svc("--name", "keep")))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: \[s\] exited 0: done \(restart = no\)$")
    child = int(events(read_records(rec), "s", "child")[0]["detail"])
    # A kill would follow the exit at once; the child is still there afterwards.
    wait_for(lambda: h.find(r"\[s\] exited 0: done"), what="done line")
    assert child in [d[0] for d in descendants(h.pid)], "the finished service's child was killed"
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()
    assert child not in [d[0] for d in descendants(os.getpid())]


def test_subreaper_reaps_orphans_when_not_pid1(tmp_path, start_hfinit):  # noqa: F811
    """Not PID 1: hfinit is a child subreaper; 20 orphans of a service come to it
    and are reaped as they exit (no zombie left). (No " ;" in the command: in
    the INI file it starts a comment.)"""
    marker = os.path.join(str(tmp_path), "orphans")
    script = ("for i in $(seq 20); do (sleep 0.5 & echo $! >> %s); done; exec %s"
              % (marker, svc("--name", "s")))
    cfg = write_config(tmp_path, """
        [service:s]
        command = /bin/sh -c %s
        ready = line:svc-is-up
        """ % q(script))
    h = start_hfinit(cfg, mode="plain")
    h.wait_line(r"^hfinit: info: all stages up after")
    orphans = [int(x) for x in open(marker).read().split()]
    assert len(orphans) == 20
    parents = {d[0]: d[2] for d in descendants(h.pid)}
    alive = [p for p in orphans if p in parents]
    assert alive, "the orphans ended before the check"
    assert all(parents[p] == h.pid for p in alive), "orphans not reparented to hfinit"
    wait_for(lambda: not any(p in [d[0] for d in descendants(h.pid)] for p in orphans),
             timeout=5, what="every orphan reaped")
    assert not [d for d in descendants(h.pid) if d[1] == "Z"]
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()


def test_stop_signal_and_stopped_process(tmp_path, start_hfinit):  # noqa: F811
    """stop_signal is what a service gets; a service stopped with SIGSTOP is
    continued so it sees it (no wait for SIGKILL)."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = line:svc-is-up
        stop_signal = SIGINT
        stop_timeout = 5s
        [service:b]
        command = %s
        ready = line:svc-is-up
        stop_signal = QUIT
        stop_timeout = 5s
        """ % (svc("--name", "a", "--record", rec), svc("--name", "b", "--record", rec)))
    h = start_hfinit(cfg)
    h.wait_line(r"all stages up")
    recs = wait_records(rec, lambda r: events(r, "b", "ready"), what="b ready")
    b = events(recs, "b", "start")[0]["pid"]
    os.kill(b, signal.SIGSTOP)
    wait_for(lambda: (descendants_state(h, b) or "?") in "Tt", what="b stopped")
    h.signal(signal.SIGTERM)
    assert h.wait_exit(timeout=4) == 0, h.dump()
    recs = read_records(rec)
    assert [r["detail"] for r in events(recs, "a", "signal")] == ["SIGINT"]
    assert [r["detail"] for r in events(recs, "b", "signal")] == ["SIGQUIT"]
    assert h.find(r"SIGKILL") is None, h.dump()


def descendants_state(h, pid):
    for p, st, _, _ in descendants(h.pid):
        if p == pid:
            return st
    return None


@pytest.mark.parametrize("mode", MODES)
def test_mixed_crowd_stops_in_bounded_time(tmp_path, start_hfinit, mode):  # noqa: F811
    """Twelve services in four stages doing everything at once (crash loops,
    children, daemons, SIGTERM ignored, output floods, retries); SIGTERM: hfinit
    exits 0 within the stop time-outs and nothing of the crowd is left."""
    tag = "crowd-%d" % os.getpid()
    kinds = [
        ("--children", "2"), ("--ignore-term",), ("--exit-after", "0.2", "--exit-code", "3"),
        ("--daemonize", "--daemon-null-stdio"), ("--flood", "2"), ("--term-delay", "0.3"),
        ("--children", "1", "--ignore-term"), ("--kill-self-after", "0.3"),
        ("--exit-before-ready", "2"), ("--notify",), ("--say-err", "RuntimeError: x"), (),
    ]
    parts = ["[hfinit]\nstop_timeout = 800ms\n"]
    for i, extra in enumerate(kinds):
        parts.append("""
[service:c%d]
stage = %d
command = %s
ready = %s
ready_timeout = 2s
retries = 2
retry_delay = 100ms
required = no
restart_delay = 100ms
stop_timeout = 600ms
""" % (i, 1 + i % 4, svc("--name", tag, *extra), "notify" if "--notify" in extra else
       "started" if "--daemonize" in extra else "line:svc-is-up"))
    cfg = write_config(tmp_path, "".join(parts))
    h = start_hfinit(cfg, mode=mode, stdout_line=lambda raw: None)
    h.wait_line(r"^hfinit: info: all stages up after", timeout=15)
    h.signal(signal.SIGTERM)
    _, t0, _ = h.wait_line(r"^hfinit: info: stopping: SIGTERM$")
    rc = h.wait_exit(timeout=10)
    took = h.lines["err"][-1][0] - t0
    assert rc == 0, h.dump()
    assert took < 4 * 0.6 + 0.8 + 1.5, took  # four stages' stop_timeout + leftovers + slack

    def left():
        out = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open("/proc/%s/cmdline" % name, "rb") as f:
                        if tag.encode() in f.read():
                            out.append(int(name))
                except OSError:
                    pass
        return out
    wait_for(lambda: not left(), timeout=2, what="no process of the crowd left")


@pytest.mark.parametrize("mode", MODES)
def test_chain_of_escapes_ignoring_sigterm(tmp_path, start_hfinit, mode):  # noqa: F811
    """A escapes its group and ignores SIGTERM; A's child B escapes again and
    ignores SIGTERM. Not PID 1, B comes to hfinit only once A is SIGKILLed: it
    must get SIGKILL as well, and hfinit exit, not wait for ever."""
    b = "trap '' TERM; echo $$ > %s/b.pid; while :; do sleep 0.1; done" % tmp_path
    a = "trap '' TERM; setsid /bin/sh -c %s & while :; do sleep 0.1; done" % q(b)
    script = os.path.join(str(tmp_path), "chain.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nsetsid /bin/sh -c %s &\necho svc-is-up\nexec sleep 100\n" % q(a))
    os.chmod(script, 0o755)
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 500ms
        [service:s]
        command = %s
        ready = line:svc-is-up
        """ % script)
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"all stages up")
    wait_for(lambda: os.path.exists(os.path.join(str(tmp_path), "b.pid")), what="B started")
    h.signal(signal.SIGTERM)
    _, t0, _ = h.wait_line(r"^hfinit: info: stopping: SIGTERM$")
    assert h.wait_exit(timeout=5) == 0, h.dump()
    assert h.lines["err"][-1][0] - t0 < 2.5


@pytest.mark.parametrize("mode", MODES)
def test_other_signals_are_ignored(tmp_path, start_hfinit, mode):  # noqa: F811
    """Signals outside the shutdown and forwarding sets neither kill hfinit nor
    reach the services: the 7 fault signals sent with kill(2) included (not PID 1
    their default action would end hfinit and orphan the services)."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = line:svc-is-up
        """ % svc("--name", "a", "--record", rec))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"all stages up")
    others = [signal.SIGALRM, signal.SIGPIPE, signal.SIGVTALRM, signal.SIGPROF, signal.SIGTSTP,
              signal.SIGTTIN, signal.SIGTTOU, signal.SIGURG, signal.SIGPWR, signal.SIGRTMIN + 3,
              signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
              signal.SIGTRAP, signal.SIGSYS]
    for sig in others:
        h.signal(sig)
    h.signal(signal.SIGUSR1)  # then one that is forwarded: all of the above came before it
    wait_records(rec, lambda r: events(r, "a", "signal"), what="SIGUSR1 at a")
    h.signal(signal.SIGWINCH)
    wait_records(rec, lambda r: len(events(r, "a", "signal")) == 2, what="SIGWINCH at a")
    assert [r["detail"] for r in events(read_records(rec), "a", "signal")] == \
        ["SIGUSR1", "SIGWINCH"]
    # SIGALRM, SIGVTALRM, SIGPROF, SIGPWR would have killed it (default action).
    assert h.find(r"\[a\] (killed|exited)") is None, h.dump()
    assert h.running()
    st = proc_state_of(h.pid)
    assert st not in ("T", "t"), st  # not stopped by SIGTSTP/SIGTTIN/SIGTTOU
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()


def proc_state_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]
