"""Helpers for the supervision-mode tests (test_supervise_*.py).

hfinit runs either as PID 1 of a new PID namespace (`unshare --pid --fork
--mount-proc --kill-child`, needs root) or plainly as a child of the test (then
it is a child subreaper). Two reader threads collect its stdout and stderr
lines with the CLOCK_MONOTONIC time they arrived, so a test can await a line
with a deadline and compare times with the services' own records (svc.py
--record writes `mono=` in the same clock).

Every wait is bounded; nothing here sleeps to synchronise.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

import status_schema

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
SVC = os.path.join(FIXTURES, "svc.py")
SDNOTIFY = os.path.join(FIXTURES, "sdnotify_send.py")
PY = sys.executable  # /usr/bin/python3 under `make integration`
HFINIT = os.environ.get("HFINIT_BIN") or os.path.join(REPO, "build", "hfinit")
WAIT = 10.0  # generous bound for any awaited event

IS_ROOT = os.geteuid() == 0
IP = shutil.which("ip") or ("/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else None)
MODES = ["pid1", "plain"] if IS_ROOT else ["plain"]


def need_hfinit():
    if not os.access(HFINIT, os.X_OK):
        pytest.skip("no hfinit binary at %s (set HFINIT_BIN)" % HFINIT)
    if not os.path.exists(SVC):
        pytest.skip("tests/fixtures/svc.py is missing")


def q(*argv):
    """argv as a config `command =` value (single quotes where needed)."""
    return " ".join(shlex.quote(str(a)) for a in argv)


READY = "svc-is-up"  # svc()'s ready line: not a substring of svc.py's other messages


def svc(*args):
    """`command =` value running the fake service with args (ready line READY
    unless args set --ready-line)."""
    return q(PY, SVC, "--ready-line", READY, *args)


def write_config(dirpath, text, name="hfinit.ini"):
    path = os.path.join(str(dirpath), name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))
    return path


def read_records(path):
    """svc.py --record lines as dicts: name, event, detail, pid, t, mono."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 5:
                continue
            rec = {"name": parts[0], "event": parts[1]}
            tail = [p for p in parts[2:] if "=" in p and p.split("=", 1)[0] in ("pid", "t", "mono")]
            rest = [p for p in parts[2:] if p not in tail]
            for p in tail:
                k, v = p.split("=", 1)
                rec[k] = int(v) if k == "pid" else float(v)
            rec["detail"] = " ".join(rest)
            out.append(rec)
    return out


def wait_for(pred, timeout=WAIT, what="condition", interval=0.02):
    """Poll pred() until it returns something true; fail after timeout.
    (Polling here is for state outside any stream we could block on.)"""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            pytest.fail("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_records(path, pred, timeout=WAIT, what="records"):
    """Wait until pred(records) is true; return the records."""
    box = {}

    def check():
        box["r"] = read_records(path)
        return pred(box["r"])

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            pytest.fail("timed out waiting for %s; records:\n%s"
                        % (what, "\n".join(str(r) for r in box["r"])))
        time.sleep(0.02)
    return box["r"]


def proc_state(pid):
    """(state letter, ppid, last NSpid) of a host pid, or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
    except OSError:
        return None
    rest = stat[stat.rindex(")") + 2:].split()
    nspid = pid
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            nspid = int(line.split()[-1])
    return rest[0], int(rest[1]), nspid


def children(pid):
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def descendants(pid):
    """Every descendant of host pid: list of (host pid, state, ppid, ns pid).
    From a scan of /proc (the per-task `children` files can miss children)."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_state(int(name))
            if st is not None:
                procs[int(name)] = st
    kids = {}
    for p, st in procs.items():
        kids.setdefault(st[1], []).append(p)
    out, todo = [], list(kids.get(pid, []))
    while todo:
        p = todo.pop()
        st = procs[p]
        out.append((p, st[0], st[1], st[2]))
        todo += kids.get(p, [])
    return out


def pid_alive(pid):
    st = proc_state(pid)
    return st is not None and st[0] != "Z"


class Hfinit:
    """hfinit -c CONFIG running as PID 1 of a PID namespace (mode "pid1") or
    plainly (mode "plain"). Lines are (mono, text) pairs."""

    def __init__(self, config, mode="plain", args=(), env=None, stdout_line=None,
                 stdout_hold=None, netns=True, stdout_closed=False):
        """mode "pid1": PID 1 of a new PID namespace and, with netns (and `ip`
        available), of a new network namespace with loopback up, as in a Docker
        container (abstract notify sockets are per network namespace, so runs in
        parallel do not meet); the shell running `ip` execs hfinit, keeping PID 1."""
        need_hfinit()
        argv = [HFINIT] + (["-c", str(config)] if config is not None else []) + list(args)
        if mode == "pid1" and netns and IP:
            argv = ["unshare", "--pid", "--net", "--fork", "--mount-proc", "--kill-child", "--",
                    "/bin/sh", "-c", '%s link set lo up && exec "$@"' % IP, "sh"] + argv
        elif mode == "pid1":
            argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
        full_env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "HFINIT_CONFIG", "PYTHON_PATH", "LISTEN_FDS", "LISTEN_PID"):
            full_env.pop(k, None)
        # Status files of its own: another hfinit may hold /run/hfinit.
        self.status_dir = tempfile.mkdtemp(prefix="hfinit-test-status-")
        full_env["HFINIT_STATUS_DIR"] = self.status_dir
        full_env.update(env or {})
        self.used_status_dir = full_env.get("HFINIT_STATUS_DIR")
        self.mode = mode
        self.lines = {"out": [], "err": []}
        self.closed = {"out": False, "err": False}
        self.cond = threading.Condition()
        self.stdout_line = stdout_line  # hook: called with each stdout line (bytes); not stored
        self.stdout_hold = stdout_hold  # threading.Event: stdout is not read until it is set
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=full_env, start_new_session=True)
        self.threads = [threading.Thread(target=self._read, args=(n, f), daemon=True)
                        for n, f in (("out", self.p.stdout), ("err", self.p.stderr))]
        if stdout_closed:  # nobody reads hfinit's stdout: writes to it get EPIPE
            self.p.stdout.close()
            self.threads = self.threads[1:]
            self.closed["out"] = True
        for t in self.threads:
            t.start()
        self._pid = None

    # -- output --

    def _read(self, name, f):
        if name == "out" and self.stdout_hold is not None:
            self.stdout_hold.wait(60)
        hook = self.stdout_line if name == "out" else None
        for raw in f:
            if hook is not None:
                hook(raw)
                continue
            now = time.monotonic()
            with self.cond:
                self.lines[name].append((now, raw.decode("utf-8", "replace").rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.closed[name] = True
            self.cond.notify_all()

    def text(self, stream="err"):
        with self.cond:
            return "\n".join(t for _, t in self.lines[stream])

    def dump(self):
        return "stdout:\n%s\nstderr:\n%s" % (self.text("out")[-6000:], self.text("err")[-12000:])

    def find(self, pattern, stream="err", start=0):
        """(index, mono, match) of the first line from `start` matching, or None."""
        rx = re.compile(pattern)
        with self.cond:
            for i in range(start, len(self.lines[stream])):
                m = rx.search(self.lines[stream][i][1])
                if m:
                    return i, self.lines[stream][i][0], m
        return None

    def find_all(self, pattern, stream="err"):
        rx = re.compile(pattern)
        with self.cond:
            return [(i, t, rx.search(x)) for i, (t, x) in enumerate(self.lines[stream])
                    if rx.search(x)]

    def wait_line(self, pattern, stream="err", timeout=WAIT, start=0):
        """First line (from index start) matching the regex: (index, mono, match).
        Fails on timeout or when the stream closes without it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines[stream]):
                    m = rx.search(self.lines[stream][i][1])
                    if m:
                        return i, self.lines[stream][i][0], m
                    i += 1
                left = deadline - time.monotonic()
                if self.closed[stream] or left <= 0:
                    pytest.fail("no %s line matching %r within %.1fs (closed=%s)\n%s"
                                % (stream, pattern, timeout, self.closed[stream], self.dump()))
                self.cond.wait(left)

    # -- process --

    @property
    def pid(self):
        """Host pid of hfinit itself (under unshare: unshare's child)."""
        if self._pid is None:
            if self.mode == "pid1":
                kids = wait_for(lambda: children(self.p.pid), what="hfinit under unshare")
                self._pid = kids[0]
            else:
                self._pid = self.p.pid
        return self._pid

    def signal(self, sig):
        os.kill(self.pid, sig)

    def wait_exit(self, timeout=WAIT):
        """hfinit's exit code (unshare passes it on); both streams read to EOF."""
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail("hfinit still running after %.1fs\n%s" % (timeout, self.dump()))
        for t in self.threads:
            t.join(timeout)
        # Issue 5: every status.json written during the suite validates against
        # docs/status.schema.json, and state / ready agree with it.
        d = self.used_status_dir
        if d and os.path.exists(os.path.join(d, "status.json")):
            problems = status_schema.check_dir(d)
            assert not problems, "status files after exit %s:\n%s" % (rc, "\n".join(problems))
        return rc

    def running(self):
        return self.p.poll() is None

    def close(self):
        """Kill whatever is left (teardown of a failed test)."""
        if self.p.poll() is None:
            try:
                left = [d[0] for d in descendants(self.p.pid)]
                os.kill(self.p.pid, signal.SIGKILL)
                for p in left:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
            except OSError:
                pass
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for t in self.threads:
            t.join(2)
        for f in (self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self.status_dir, ignore_errors=True)


@pytest.fixture
def start_hfinit():
    """start_hfinit(config, mode=..., **kw) -> Hfinit; killed at teardown."""
    runs = []

    def start(config, mode="plain", **kw):
        h = Hfinit(config, mode=mode, **kw)
        runs.append(h)
        return h

    yield start
    for h in runs:
        h.close()
