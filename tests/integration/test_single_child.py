"""Single-child mode (`hfinit [-s] [-g] [-e CODE]... [-t DURATION] [-v] -- CMD ARG...`)
driven as PID 1 of a fresh PID namespace (conftest.Init), and once as a plain child
of the test (subreaper). Children are the static helpers of tests/helpers:
sigreport, exitwith, orphans, ignoreterm, maskreport.

Synchronisation is on the helpers' own lines ("ready ...", "caught ...") and on exit;
every wait is bounded. The idle test is a measurement over a fixed 2 s window, and
the orphan helpers poll /proc with a deadline (nothing announces a reap).
"""

import ctypes
import fcntl
import json
import os
import pty
import re
import signal
import subprocess
import termios
import time
from pathlib import Path

import pytest

from conftest import SIGNUM, WAIT, Proc, helper, proc_status, run_init, wait_until

REPO = Path(__file__).resolve().parents[2]

# What hfinit forwards: everything but SIGCHLD, the fault signals, KILL and STOP.
# 35 is musl's SIGRTMIN (32..34 are musl's own), 64 is SIGRTMAX.
FORWARDED = ["HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "CONT", "TSTP",
             "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",
             "PWR", 35, 50, 64,
             # the fault signals, sent with kill(2): a real fault still kills hfinit
             "SEGV", "BUS", "ILL", "FPE", "ABRT", "TRAP", "SYS"]  # and SIGTERM, last
FAULTS = ["SEGV", "BUS", "ILL", "FPE", "ABRT", "TRAP", "SYS"]
NOT_FORWARDED = ["CHLD"]
DEATH_SIGNALS = ["HUP", "INT", "QUIT", "ABRT", "KILL", "USR1", "SEGV", "USR2", "PIPE",
                 "ALRM", "TERM"]


def signum(sig):
    return sig if isinstance(sig, int) else SIGNUM[sig]


def run_many(argvs, timeout=WAIT, parallel=16):
    """Run many short commands, `parallel` at a time; returns their exit statuses."""
    results = [None] * len(argvs)
    running = []
    pending = list(enumerate(argvs))
    deadline = time.monotonic() + timeout
    while pending or running:
        while pending and len(running) < parallel:
            i, argv = pending.pop(0)
            running.append((i, subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)))
        i, p = running.pop(0)
        try:
            results[i] = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for _, q in running + [(i, p)]:
                q.kill()
            pytest.fail(f"{' '.join(argvs[i])}: still running after {timeout}s")
    return results


def pid1_argv(env, *args):
    return ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", env["bin"],
            *[str(a) for a in args]]


# --- exit status -----------------------------------------------------------------


def test_every_exit_code_0_to_255_is_passed_through(hfinit_env):
    codes = range(256)
    got = run_many([pid1_argv(hfinit_env, "--", helper(hfinit_env, "exitwith"), c)
                    for c in codes], timeout=60)
    wrong = {c: rc for c, rc in zip(codes, got) if rc != c}
    assert wrong == {}, f"exit code -> hfinit's status, where they differ: {wrong}"


@pytest.mark.parametrize("sig", DEATH_SIGNALS)
def test_child_killed_by_signal_gives_128_plus_n(hfinit_env, sig):
    r = run_init(hfinit_env, ["--", helper(hfinit_env, "exitwith"), "-s", signum(sig)])
    assert r.returncode == 128 + signum(sig), r.stderr


@pytest.mark.parametrize("opts, child, expected", [
    (["-e", "3"], ["3"], 0),
    (["-e", "3"], ["4"], 4),
    (["-e", "3"], ["0"], 0),
    (["-e", "3", "-e", "5"], ["5"], 0),
    (["-e", "3", "-e", "5"], ["3"], 0),
    (["-e", "3", "-e", "5"], ["4"], 4),
    (["-e", "255"], ["255"], 0),
    (["-e", "143"], ["-s", "15"], 0),     # 128+SIGTERM counts as code 143
    (["-e", "143"], ["-s", "2"], 130),
    (["-e", "130"], ["143"], 143),
])
def test_e_maps_only_the_given_codes_to_0(hfinit_env, opts, child, expected):
    r = run_init(hfinit_env, [*opts, "--", helper(hfinit_env, "exitwith"), *child])
    assert r.returncode == expected, r.stderr


# --- exec failures -------------------------------------------------------------------


def test_exec_not_found_is_127_and_names_the_path(hfinit_env):
    path = "/nonexistent-hfinit-test/prog"
    r = run_init(hfinit_env, ["--", path, "arg"])
    assert r.returncode == 127, r.stderr
    assert path in r.stderr


def test_command_not_in_path_is_127_and_names_it(hfinit_env):
    name = "no-such-command-hfinit-test"
    r = run_init(hfinit_env, ["--", name])
    assert r.returncode == 127, r.stderr
    assert name in r.stderr


def test_exec_not_executable_is_126_and_names_the_path(hfinit_env, tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    r = run_init(hfinit_env, ["--", str(script)])
    assert r.returncode == 126, r.stderr
    assert str(script) in r.stderr


def test_exec_of_a_directory_is_126_and_names_the_path(hfinit_env, tmp_path):
    r = run_init(hfinit_env, ["--", str(tmp_path)])
    assert r.returncode == 126, r.stderr
    assert str(tmp_path) in r.stderr


# --- signal forwarding -------------------------------------------------------------


def caught(init, role):
    """Signal numbers `role` reported, in order."""
    nums = []
    for line in init.out():
        f = line.split()
        if len(f) == 3 and f[0] == "caught" and f[1] == role:
            nums.append(int(f[2]))
    return nums


def await_ready(init, roles=("child", "grandchild")):
    """{role: (pid, pgid)} once each role printed its ready line."""
    ready = {}
    for role in roles:
        line = init.await_line(lambda ln, r=role: ln.startswith(f"ready {r} "),
                               what=f"ready line of the {role}")
        f = line.split()
        ready[role] = tuple(int(x) for x in f[2:])
    return ready


@pytest.mark.parametrize("group", [False, True], ids=["child", "group"])
def test_each_forwarded_signal_arrives(start_init, hfinit_env, group):
    """Each signal sent to PID 1 is caught by the child; with -g by the grandchild
    in its process group too, and without -g never by the grandchild (except the
    SIGTERM of the clean-up once the child is gone)."""
    init = start_init(*(["-g"] if group else []), "--", helper(hfinit_env, "sigreport"),
                      signal.SIGTERM, 42)
    ready = await_ready(init)
    assert ready["child"][1] == ready["grandchild"][1]  # one process group
    expected = [signum(s) for s in FORWARDED]
    for num in expected:
        init.signal(num)
        init.await_exact(f"caught child {num}")
        if group:
            init.await_exact(f"caught grandchild {num}")
    # Checked before the end: the grandchild's exit gives the child a real SIGCHLD.
    assert caught(init, "child") == expected
    assert caught(init, "grandchild") == (expected if group else [])
    init.signal(signal.SIGTERM)  # both exit with 42 on it
    init.await_exact(f"caught child {signal.SIGTERM}")
    if group:
        init.await_exact(f"caught grandchild {signal.SIGTERM}")
    assert init.wait() == 42, init.err()
    init.await_eof()
    if not group:
        # hfinit SIGTERMs the grandchild after the child exits; tini leaves that
        # to the kernel's SIGKILL. Either way nothing else may have reached it.
        assert caught(init, "grandchild") in ([], [signal.SIGTERM]), init.out()


PY_WAITER = "import signal; print('ready', flush=True); signal.pause()"


@pytest.mark.parametrize("sig", ["TERM", "INT", "HUP"])
def test_python_child_killed_by_forwarded_signal(start_init, hfinit_env, sig):
    """A real python3 child with Python's own signal set-up: SIGTERM and SIGHUP
    kill it, SIGINT ends it through KeyboardInterrupt; hfinit exits 128+N."""
    init = start_init("--", "/usr/bin/python3", "-c", PY_WAITER)
    init.await_exact("ready")
    init.signal(SIGNUM[sig])
    assert init.wait() == 128 + SIGNUM[sig], init.err()


def test_fault_signals_from_kill_are_forwarded_when_not_pid1(hfinit_env):
    """Not PID 1 (a subreaper, where a fault signal's default action would apply):
    each of the 7 fault signals sent with kill(2) reaches the child, in order, and
    hfinit survives them all; then SIGTERM ends the child (exit 42) and hfinit."""
    p = Proc([hfinit_env["bin"], "--", helper(hfinit_env, "sigreport"), str(int(signal.SIGTERM)), "42"])
    try:
        p.await_line(lambda ln: ln.startswith("ready child "), what="the child's ready line")
        for sig in FAULTS:
            os.kill(p.pid, SIGNUM[sig])
            p.await_exact(f"caught child {SIGNUM[sig]}")
            assert p.p.poll() is None, f"hfinit exited on SIG{sig}: {p.err()}"
        assert caught(p, "child") == [SIGNUM[s] for s in FAULTS]
        os.kill(p.pid, signal.SIGTERM)
        assert p.wait() == 42, p.err()
    finally:
        p.kill()


def test_sigchld_is_not_forwarded(start_init, hfinit_env):
    init = start_init("-g", "--", helper(hfinit_env, "sigreport"), signal.SIGTERM, 0)
    await_ready(init)
    for sig in NOT_FORWARDED:
        init.signal(SIGNUM[sig])
    # A real-time marker: queued behind any standard signal, in hfinit and in the
    # child, so once the child reports it, anything forwarded before has arrived.
    init.signal(64)
    init.await_exact("caught child 64")
    init.await_exact("caught grandchild 64")
    # Checked now: once the grandchild exits, the child gets a real SIGCHLD.
    assert caught(init, "child") == [64]
    assert caught(init, "grandchild") == [64]
    init.signal(signal.SIGTERM)
    assert init.wait() == 0, init.err()


# --- reaping ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, mode", [(2000, "now"), (1000, "barrier")])
def test_orphan_storm_is_reaped_no_zombie_left(start_init, hfinit_env, n, mode):
    init = start_init("--", helper(hfinit_env, "orphans"), n, mode)
    assert init.wait(timeout=30) == 0, init.err()
    out = init.out()
    if mode == "barrier":
        assert f"reparented {n} of {n} to 1" in out  # orphans belong to PID 1
    assert f"gone {n} of {n}" in out, out
    assert "zombies 0" in out, out  # no Z anywhere in the namespace's /proc
    assert out[-1] == "done"


def test_not_pid1_is_child_subreaper_and_reaps_orphans(hfinit_env):
    """hfinit run directly (not PID 1): orphans of its child are re-parented to it
    and reaped by it (their pids vanish, so no zombie of ours is left)."""
    p = Proc([hfinit_env["bin"], "--", helper(hfinit_env, "orphans"), "50", "barrier"])
    try:
        assert p.wait() == 0, p.err()
        out = p.out()
        assert f"reparented 50 of 50 to {p.pid}" in out, out
        assert "gone 50 of 50" in out, out
        assert out[-1] == "done"
    finally:
        p.kill()


# --- idle ---------------------------------------------------------------------------------


def ctxt_switches(pid):
    st = proc_status(pid)
    return int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])


def test_idle_init_makes_no_wakeups_in_2s(start_init, hfinit_env):
    init = start_init("--", helper(hfinit_env, "sigreport"), signal.SIGTERM, 0)
    await_ready(init)
    pid = init.init_pid()
    # Let start-up work (exec-pipe EOF, the grandchild's fork) finish: the counts
    # must stand still for 0.2 s (bounded), then the 2 s window is measured.
    last = [ctxt_switches(pid), time.monotonic()]

    def settled():
        now = ctxt_switches(pid)
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] >= 0.2
    wait_until(settled, timeout=5, interval=0.05, what="the init to go idle")
    before = ctxt_switches(pid)
    time.sleep(2.0)  # the measurement window, not a synchronisation
    after = ctxt_switches(pid)
    assert after - before == 0, f"{after - before} wake-ups in 2 s while idle"
    init.signal(signal.SIGTERM)
    assert init.wait() == 0, init.err()


# --- clean-up after the child ---------------------------------------------------------


def test_leftovers_ignoring_sigterm_are_killed_after_grace(start_init, hfinit_env):
    """The child exits leaving a grandchild that ignores SIGTERM: the grandchild gets
    SIGTERM at once, SIGKILL after -t 1s, and hfinit exits with the child's code."""
    init = start_init("-t", "1s", "--", helper(hfinit_env, "ignoreterm"), "ignore", 7,
                      stdin=subprocess.PIPE)
    ready = await_ready(init)
    t0 = time.monotonic()
    init.write(b"x")  # the child exits with 7
    line = init.await_exact(f"term grandchild {ready['grandchild'][0]}", timeout=3)
    t_term = next(t for t, ln in init.stamps if ln == line)
    rc = init.wait(timeout=10)
    elapsed = time.monotonic() - t0
    assert rc == 7, init.err()
    assert t_term - t0 < 0.5, f"SIGTERM to leftovers {t_term - t0:.3f}s after exit"
    assert 0.95 <= elapsed <= 2.5, f"hfinit exited {elapsed:.3f}s after the child"
    init.await_eof()
    assert not any(ln.startswith("timeout") for ln in init.out())


def test_leftovers_obeying_sigterm_do_not_wait_for_grace(start_init, hfinit_env):
    """A grandchild that exits on SIGTERM: hfinit exits as soon as it is reaped,
    far below the default grace period (5 s)."""
    init = start_init("--", helper(hfinit_env, "ignoreterm"), "obey", 9,
                      stdin=subprocess.PIPE)
    ready = await_ready(init)
    t0 = time.monotonic()
    init.write(b"x")
    init.await_exact(f"term grandchild {ready['grandchild'][0]}", timeout=3)
    rc = init.wait(timeout=10)
    elapsed = time.monotonic() - t0
    assert rc == 9, init.err()
    assert elapsed < 1.0, f"hfinit exited {elapsed:.3f}s after the child"


# --- status files (docs/status.md, "Single-child mode") --------------------------------


@pytest.fixture
def sdir(tmp_path):
    d = tmp_path / "status"
    os.chmod(tmp_path, 0o755)
    return str(d)


def health(env, d, flag):
    r = subprocess.run([env["bin"], "health", flag, "-d", d], capture_output=True, text=True,
                       timeout=WAIT, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout


def status_doc(d):
    from status_schema import check_dir, load_schema, validate
    with open(os.path.join(d, "status.json")) as f:
        doc = json.load(f)
    assert validate(doc, load_schema()) == [], doc
    assert check_dir(d) == []
    return doc


def read_state(d):
    try:
        with open(os.path.join(d, "state")) as f:
            return f.read()
    except FileNotFoundError:
        return None


def test_status_files_and_health_over_the_life_cycle(start_init, hfinit_env, sdir,
                                                     monkeypatch):
    """ready once exec succeeded, stopping while leftovers are cleaned up, then
    failed with the child's code: as the files and `hfinit health` see it."""
    monkeypatch.setenv("HFINIT_STATUS_DIR", sdir)
    init = start_init("-t", "3s", "--", helper(hfinit_env, "ignoreterm"), "ignore", 7,
                      stdin=subprocess.PIPE)
    ready = await_ready(init)
    wait_until(lambda: read_state(sdir) == "ready\n", what="state ready")
    assert health(hfinit_env, sdir, "--ready") == (
        0, "ready: every required service is ready (state ready)\n")
    assert health(hfinit_env, sdir, "--started") == (0, "started: state ready\n")
    doc = status_doc(sdir)
    svc = doc["services"]["ignoreterm"]
    assert doc["state"] == "ready" and doc["all_required_ready"] is True
    assert doc["pid"] == 1 and doc["exit_code"] is None and doc["stage"] == 1
    assert svc["state"] == "ready" and svc["pid"] == ready["child"][0]
    assert svc["required"] is True and svc["ready_spec"] == "started"
    assert svc["command"] == "%s ignore 7" % helper(hfinit_env, "ignoreterm")
    assert svc["ready_ms"] is not None and svc["ready_at"] is not None
    assert svc["last_exit"] == {"code": None, "signal": None, "signal_name": None}
    init.write(b"x")  # the child exits 7; the grandchild ignores SIGTERM: 3 s of grace
    init.await_exact(f"term grandchild {ready['grandchild'][0]}", timeout=3)
    wait_until(lambda: read_state(sdir) == "stopping\n", what="state stopping")
    assert not os.path.exists(os.path.join(sdir, "ready"))
    assert health(hfinit_env, sdir, "--ready") == (1, "not ready: state stopping\n")
    assert health(hfinit_env, sdir, "--live") == (0, "live: hfinit is running, state stopping\n")
    doc = status_doc(sdir)
    assert doc["services"]["ignoreterm"]["state"] == "failed"
    assert doc["services"]["ignoreterm"]["last_exit"]["code"] == 7
    assert init.wait(timeout=10) == 7
    doc = status_doc(sdir)
    assert doc["state"] == "failed" and doc["exit_code"] == 7
    assert doc["all_required_ready"] is False
    assert read_state(sdir) == "failed\n"
    rc, out = health(hfinit_env, sdir, "--ready")
    assert rc == 1 and "the status files are stale" in out, out
    assert init.err() == ["hfinit: warn: processes still running 3000 ms after the child "
                          "exited: sending SIGKILL"], init.err()


def test_exit_0_is_stopped(start_init, hfinit_env, sdir, monkeypatch):
    monkeypatch.setenv("HFINIT_STATUS_DIR", sdir)
    init = start_init("--", helper(hfinit_env, "sigreport"), signal.SIGTERM, 0)
    await_ready(init)
    wait_until(lambda: read_state(sdir) == "ready\n", what="state ready")
    init.signal(signal.SIGTERM)  # forwarded: the child exits 0
    assert init.wait() == 0 and init.err() == [], init.err()
    doc = status_doc(sdir)
    assert doc["state"] == "stopped" and doc["exit_code"] == 0
    svc = doc["services"]["sigreport"]
    assert svc["state"] == "stopped" and svc["last_exit"]["code"] == 0 and svc["pid"] is None
    assert svc["ready_ms"] is not None and svc["ready_at"] is None
    assert read_state(sdir) == "stopped\n"
    assert not os.path.exists(os.path.join(sdir, "ready"))


def test_a_command_gone_at_once_with_0_writes_no_files(hfinit_env, sdir, monkeypatch):
    """`hfinit -- true` stays as cheap as before: no file system work at all."""
    monkeypatch.setenv("HFINIT_STATUS_DIR", sdir)
    r = run_init(hfinit_env, ["--", helper(hfinit_env, "exitwith"), 0])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert not os.path.exists(sdir)


def test_exec_failure_is_never_ready(hfinit_env, sdir, monkeypatch):
    monkeypatch.setenv("HFINIT_STATUS_DIR", sdir)
    r = run_init(hfinit_env, ["--", "/nonexistent/server"])
    assert r.returncode == 127
    assert r.stderr == ('hfinit: error: cannot execute "/nonexistent/server": '
                        'No such file or directory\n')
    doc = status_doc(sdir)
    svc = doc["services"]["server"]
    assert doc["state"] == "failed" and doc["exit_code"] == 127
    assert doc["stages"] == [{"stage": 1, "ready_ms": None}] and doc["blame"] == []
    assert svc["state"] == "failed" and svc["ready_ms"] is None and svc["ready_at"] is None
    assert svc["last_exit"]["code"] == 127
    assert svc["last_error"] == {"text": 'cannot execute "/nonexistent/server": '
                                         'No such file or directory',
                                 "category": "exec", "hint": None}
    assert not os.path.exists(os.path.join(sdir, "ready"))


def test_unusable_status_dir_still_runs_the_child(hfinit_env, tmp_path, monkeypatch):
    """A tini drop-in: no status dir is a warning, never a failure."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("HFINIT_STATUS_DIR", str(blocker / "st"))
    r = run_init(hfinit_env, ["--", helper(hfinit_env, "exitwith"), 5])
    assert r.returncode == 5
    assert r.stderr == ("hfinit: warn: status files disabled (the child runs anyway): status "
                        "dir %s/st (from HFINIT_STATUS_DIR) is unusable: cannot create it: "
                        "Not a directory\n" % blocker), r.stderr


def test_second_hfinit_on_the_same_dir_writes_nothing_and_says_nothing(
        start_init, hfinit_env, sdir, monkeypatch):
    monkeypatch.setenv("HFINIT_STATUS_DIR", sdir)
    init = start_init("--", helper(hfinit_env, "sigreport"), signal.SIGTERM, 0)
    child = await_ready(init)["child"][0]
    wait_until(lambda: read_state(sdir) == "ready\n", what="state ready")
    r = run_init(hfinit_env, ["--", helper(hfinit_env, "exitwith"), 3])
    assert r.returncode == 3 and r.stderr == "", r.stderr
    doc = status_doc(sdir)
    assert doc["state"] == "ready" and doc["services"]["sigreport"]["pid"] == child
    init.signal(signal.SIGTERM)
    assert init.wait() == 0, init.err()


# --- terminal --------------------------------------------------------------------------

PY_FOREGROUND = ("import os; print('pgrp', os.getpgrp() == os.getpid(), "
                 "'foreground', os.tcgetpgrp(0) == os.getpgrp(), flush=True)")


def test_child_gets_the_terminal_foreground(hfinit_env):
    """hfinit started as the foreground of a terminal (here: a session leader with
    a pty as controlling terminal on stdin) hands the foreground to the child's
    own process group, as tini does."""
    primary, secondary = pty.openpty()

    def controlling_tty():  # preexec_fn, after setsid(): stdin becomes our ctty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    try:
        r = subprocess.run([hfinit_env["bin"], "--", "/usr/bin/python3", "-c", PY_FOREGROUND],
                           stdin=secondary, capture_output=True, text=True, timeout=WAIT,
                           start_new_session=True, preexec_fn=controlling_tty)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"no exit within {WAIT}s: {e.stdout!r} {e.stderr!r}")
    finally:
        os.close(secondary)
        os.close(primary)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "pgrp True foreground True\n", r.stderr


# --- the child's signal state ------------------------------------------------------------


def mask_of(*sigs):
    bits = 0
    for s in sigs:
        bits |= 1 << (s - 1)
    return bits


def parse_masks(text):
    masks = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        masks[key] = int(value.strip(), 16)
    return masks


ORIG_BLOCKED = (signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, 40)
ORIG_IGNORED = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, 40, 64)

# Signals 32..34 are reserved by musl (32, 33 by glibc too): neither libc's
# sigaction() touches them, so they are set with the raw system call. The test
# runner's own state is not neutral: GNU make starts its recipes with 32 and 33
# ignored, and a child would inherit that through any init.
_libc = ctypes.CDLL(None, use_errno=True)
_SYS_rt_sigaction = 13  # x86_64
_SIG_DFL, _SIG_IGN = 0, 1


class _KernelSigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_ulong), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_ulong), ("mask", ctypes.c_ulong)]


def _raw_disposition(sig, handler):
    act = _KernelSigaction(handler, 0, 0, 0)
    if _libc.syscall(_SYS_rt_sigaction, sig, ctypes.byref(act), None, 8) != 0:
        os._exit(97)  # in preexec_fn: the control check then fails loudly


def neutral_signals():
    """preexec_fn: every disposition default, nothing blocked."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for sig in range(1, 65):
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            _raw_disposition(sig, _SIG_DFL)


def disturbed_signals():
    """preexec_fn: start with some signals blocked and some ignored."""
    neutral_signals()
    signal.pthread_sigmask(signal.SIG_BLOCK, ORIG_BLOCKED)
    for sig in ORIG_IGNORED:
        _raw_disposition(sig, _SIG_IGN)


def ignoring_34():
    """preexec_fn: glibc's SIGRTMIN (34, one of musl's reserved three) ignored."""
    neutral_signals()
    _raw_disposition(34, _SIG_IGN)


def masks_seen(argv, preexec_fn):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT,
                       preexec_fn=preexec_fn)
    assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return parse_masks(r.stdout)


PID1 = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


def test_child_signal_mask_and_ignores_are_empty(hfinit_env):
    assert masks_seen(pid1_argv(hfinit_env, "--", helper(hfinit_env, "maskreport")),
                      neutral_signals) == {"SigBlk": 0, "SigIgn": 0, "SigCgt": 0}


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "not-pid1"])
def test_child_gets_original_mask_and_default_dispositions(hfinit_env, pid1):
    """Started with signals blocked and ignored, hfinit gives the child the original
    mask back (as tini does) and default dispositions (no SIG_IGN inherited)."""
    direct = PID1 if pid1 else []
    report = helper(hfinit_env, "maskreport")
    # The set-up itself must reach the init: without an init in between the
    # helper sees exactly what hfinit starts with.
    assert masks_seen([*direct, report], disturbed_signals) == {
        "SigBlk": mask_of(*ORIG_BLOCKED), "SigIgn": mask_of(*ORIG_IGNORED), "SigCgt": 0}
    assert masks_seen([*direct, hfinit_env["bin"], "--", report], disturbed_signals) == {
        "SigBlk": mask_of(*ORIG_BLOCKED), "SigIgn": 0, "SigCgt": 0}


def test_child_gets_default_disposition_for_signal_34(hfinit_env):
    """34 is SIGRTMIN for a glibc child (an ordinary signal there) but one of
    musl's three reserved ones, which musl's sigaction() refuses to touch."""
    report = helper(hfinit_env, "maskreport")
    assert masks_seen([*PID1, report], ignoring_34)["SigIgn"] == mask_of(34)
    assert masks_seen([*PID1, hfinit_env["bin"], "--", report], ignoring_34) == {
        "SigBlk": 0, "SigIgn": 0, "SigCgt": 0}


# --- command line -----------------------------------------------------------------------


def test_version_prints_hfinit_and_libseccomp_versions(hfinit_env):
    version = re.search(r"^VERSION\s*:=\s*(\S+)", (REPO / "Makefile").read_text(), re.M)
    seccomp = re.search(r"^SECCOMP_VER=([0-9.]+)-", (REPO / "scripts/build-deps").read_text(),
                        re.M)
    assert version and seccomp, "cannot find the expected versions in the repo"
    r = run_init(hfinit_env, ["version"], pid1=False)
    assert r.returncode == 0, r.stderr
    assert re.match(rf"hfinit {re.escape(version.group(1))}\s", r.stdout), r.stdout
    assert re.search(rf"\blibseccomp {re.escape(seccomp.group(1))}\b", r.stdout), r.stdout


@pytest.mark.parametrize("args", [
    ["-Q", "--", "EXITWITH", "0"],        # unknown option
    ["-e", "256", "--", "EXITWITH", "0"],  # code out of range
    ["-e", "x", "--", "EXITWITH", "0"],
    ["-t", "soon", "--", "EXITWITH", "0"],  # not a duration
    ["--"],                               # no command
    ["-e"],                               # option without its value
], ids=["unknown-option", "e-256", "e-word", "t-word", "no-command", "e-no-value"])
def test_bad_usage_exits_2_without_running_anything(hfinit_env, args):
    args = [helper(hfinit_env, "exitwith") if a == "EXITWITH" else a for a in args]
    r = run_init(hfinit_env, args, pid1=False)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip(), "no message on stderr"
