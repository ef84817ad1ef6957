"""Fixtures for the single-child integration tests: the real static binary as PID 1.

$HFINIT_BIN is the init under test and $HFINIT_HELPERS the directory of the static
helpers (tests/helpers/*.c), both set by `make integration`. Pointing HFINIT_BIN at a
wrapper that execs another init (e.g. Debian's tini) checks the tests themselves.

`Init` runs `unshare --pid --fork --mount-proc --kill-child INIT ARGS`, so the init is
PID 1 of a fresh PID namespace with its own /proc; --kill-child SIGKILLs it (and with
it the whole namespace) if the test's unshare process dies. Output lines are collected
by one reader thread per pipe; every wait has a deadline and fails the test when it
passes. Nothing here skips: a missing tool or helper FAILS the test that needs it,
since a skipped suite is no test.
"""

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

WAIT = 10.0  # bound for any awaited event; generous for a loaded 2-CPU machine
HELPER_NAMES = ("sigreport", "exitwith", "orphans", "ignoreterm", "maskreport")


def _need_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (run the suite through `make integration`)")
    return value


@pytest.fixture(scope="session")
def hfinit_env():
    """Checks everything the single-child tests need; FAILS (never skips) otherwise.
    Returns a dict: bin (the init under test), helpers (directory)."""
    problems = []
    binary = _need_env("HFINIT_BIN")
    helpers = _need_env("HFINIT_HELPERS")
    if not os.access(binary, os.X_OK):
        problems.append(f"HFINIT_BIN={binary} is not an executable file")
    for name in HELPER_NAMES:
        path = os.path.join(helpers, name)
        if not os.access(path, os.X_OK):
            problems.append(f"helper {path} missing (built by `make helpers`)")
    if shutil.which("unshare") is None:
        problems.append("unshare (util-linux) not found")
    if os.geteuid() != 0:
        problems.append("these tests need root (unshare --pid --mount-proc)")
    if problems:
        pytest.fail("cannot run the single-child tests:\n  " + "\n  ".join(problems))
    return {"bin": binary, "helpers": helpers}


def helper(env, name):
    return os.path.join(env["helpers"], name)


def children_of(pid):
    """Pids of the children of every thread of process pid (empty if it is gone)."""
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def proc_status(pid):
    """/proc/PID/status as a dict of field -> text value."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def wait_until(predicate, timeout=WAIT, interval=0.002, what="condition"):
    """Poll a predicate (reading /proc) every `interval` s until it returns a true
    value, which is returned; fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Proc:
    """A process whose stdout and stderr lines are collected by two reader threads,
    so that a test can await a line with a deadline."""

    def __init__(self, argv, stdin=subprocess.DEVNULL, preexec_fn=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        self.pid = self.p.pid
        self.lines = {"out": [], "err": []}
        self.eof = {"out": False, "err": False}
        self.stamps = []  # (monotonic time, line) for stdout
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(name, f), daemon=True)
                        for name, f in (("out", self.p.stdout), ("err", self.p.stderr))]
        for t in self.threads:
            t.start()

    def _read(self, name, f):
        for raw in f:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.cond:
                self.lines[name].append(line)
                if name == "out":
                    self.stamps.append((time.monotonic(), line))
                self.cond.notify_all()
        with self.cond:
            self.eof[name] = True
            self.cond.notify_all()

    def out(self):
        with self.cond:
            return list(self.lines["out"])

    def err(self):
        with self.cond:
            return list(self.lines["err"])

    def await_line(self, predicate, timeout=WAIT, what=None):
        """Wait for a stdout line for which predicate(line) is true; returns it.
        Fails at the deadline or when stdout ends first."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                lines = self.lines["out"]
                for line in lines[seen:]:
                    if predicate(line):
                        return line
                seen = len(lines)
                if self.eof["out"]:
                    self._fail(f"stdout ended before {what or 'the expected line'}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"no {what or 'expected line'} within {timeout}s")
                self.cond.wait(left)

    def await_exact(self, text, timeout=WAIT):
        return self.await_line(lambda ln: ln == text, timeout, what=repr(text))

    def await_eof(self, timeout=WAIT):
        """Wait until both pipes are closed by every process holding them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (self.eof["out"] and self.eof["err"]):
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"output still open after {timeout}s")
                self.cond.wait(left)

    def wait(self, timeout=WAIT):
        """Exit status (as subprocess reports it), failing after timeout."""
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._fail(f"still running after {timeout}s")
        for t in self.threads:
            t.join(timeout)
        return rc

    def write(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            try:
                self.p.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                pass
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            if f:
                try:
                    f.close()
                except OSError:
                    pass

    def _fail(self, msg):
        # Called with self.cond held or not; lists are only appended to.
        pytest.fail(f"{' '.join(self.argv)}: {msg}\n"
                    f"stdout: {self.lines['out'][-30:]}\nstderr: {self.lines['err'][-30:]}")


class Init(Proc):
    """The init under test as PID 1 of a new PID namespace."""

    def __init__(self, env, args, **kw):
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                env["bin"], *args]
        super().__init__(argv, **kw)
        self._init_pid = None

    def init_pid(self):
        """The init's pid as seen from here: the unshare process's only child."""
        if self._init_pid is None:
            kids = wait_until(lambda: children_of(self.pid), what="the init process")
            assert len(kids) == 1, f"unshare has children {kids}"
            self._init_pid = kids[0]
        return self._init_pid

    def signal(self, sig):
        os.kill(self.init_pid(), sig)


@pytest.fixture
def start_init(hfinit_env):
    """start_init(args..., stdin=...) -> a running Init; killed at teardown."""
    started = []

    def start(*args, **kw):
        init = Init(hfinit_env, [str(a) for a in args], **kw)
        started.append(init)
        return init

    yield start
    for init in started:
        init.kill()


def run_init(env, args, timeout=WAIT, pid1=True, **kw):
    """Run the init to completion (as PID 1 unless pid1=False); returns the
    CompletedProcess (text)."""
    argv = [env["bin"], *[str(a) for a in args]]
    if pid1:
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *argv]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, **kw)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(argv)}: no exit within {timeout}s "
                    f"(stdout {e.stdout!r}, stderr {e.stderr!r})")


SIGNUM = {name: getattr(signal, "SIG" + name) for name in (
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS")}
