"""Status files and the status / health / notify modes (docs/status.md).

Part 1 drives `hfinit health`, `hfinit status` and `hfinit notify` against
fabricated status dirs and Python datagram listeners. Part 2 runs the real
supervisor (as PID 1 of a PID namespace where it matters) and checks what it
writes: the upward READY=1 / STATUS= / STOPPING=1 to a listener given as
NOTIFY_SOCKET, the life of the files through start-up, ready and shutdown,
`health` from uid 1000 and from another PID namespace, a reader that parses
status.json thousands of times while an optional service crash-loops, planted
symlinks, and unwritable dirs. Every status.json read is validated against
docs/status.schema.json (tests/integration/status_schema.py).

Every wait is bounded; nothing sleeps to synchronise.
"""

import fcntl
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import pytest

from status_schema import check_dir, load_schema, validate
from supervise_util import (HFINIT, PY, SVC, WAIT, Hfinit, need_hfinit, q, read_records,
                            start_hfinit, svc, wait_for, write_config)  # noqa: F401

SCHEMA = load_schema()
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (PID namespaces, uid switch)")


def run(*args, env=None, timeout=WAIT, preexec_fn=None):
    need_hfinit()
    full = dict(os.environ)
    full.pop("HFINIT_STATUS_DIR", None)
    full.pop("NOTIFY_SOCKET", None)
    full.update(env or {})
    try:
        return subprocess.run([HFINIT, *[str(a) for a in args]], capture_output=True, text=True,
                              env=full, timeout=timeout, stdin=subprocess.DEVNULL,
                              preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        pytest.fail("hfinit %s: no exit within %ss" % (" ".join(map(str, args)), timeout))


def health(d, flag=None, **kw):
    r = run("health", *([flag] if flag else []), "-d", d, **kw)
    return r.returncode, r.stdout


def assert_valid(doc, what="status.json"):
    errors = validate(doc, SCHEMA)
    assert not errors, "%s does not match docs/status.schema.json:\n%s\n%s" % (
        what, "\n".join(errors), json.dumps(doc, indent=1)[:4000])


def read_status(d):
    with open(os.path.join(d, "status.json")) as f:
        doc = json.load(f)
    assert_valid(doc)
    return doc


def read_word(d, name="state"):
    try:
        with open(os.path.join(d, name)) as f:
            return f.read()
    except FileNotFoundError:
        return None


@pytest.fixture
def sdir():
    """A status dir every user can reach (pytest's tmp_path is 0700)."""
    base = tempfile.mkdtemp(prefix="hfinit-status-test-")
    os.chmod(base, 0o755)
    yield os.path.join(base, "st")
    shutil.rmtree(base, ignore_errors=True)


class Lock:
    """Hold LOCK_EX on DIR/lock like a live hfinit would."""

    def __init__(self, d):
        self.fd = os.open(os.path.join(d, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self):
        os.close(self.fd)


class Listener:
    """A datagram socket like systemd's / podman's NOTIFY_SOCKET; a thread records
    every message with its CLOCK_MONOTONIC arrival time."""

    def __init__(self, path=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        if path:
            self.sock.bind(path)
            self.addr = path
        else:
            name = "hfinit-test-listener/%d/%d" % (os.getpid(), id(self))
            self.sock.bind("\0" + name)
            self.addr = "@" + name
        self.msgs = []
        self.cond = threading.Condition()
        self.stop = False
        self.sock.settimeout(0.1)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cond:
                self.msgs.append((time.monotonic(), data.decode()))
                self.cond.notify_all()

    def wait(self, pred, timeout=WAIT, what="message"):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.msgs:
                    if pred(m[1]):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail("no %s within %ss; got %r" % (what, timeout, self.msgs))
                self.cond.wait(left)

    def all(self):
        with self.cond:
            return list(self.msgs)

    def close(self):
        self.stop = True
        self.t.join(2)
        self.sock.close()


# ---------------------------------------------------------------------------------
# Part 1: fabricated status dirs


def fabricate(d, state, ready):
    os.makedirs(d, exist_ok=True)
    for name in ("state", "ready", "lock"):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    with open(os.path.join(d, "state"), "w") as f:
        f.write(state + "\n")
    if ready:
        with open(os.path.join(d, "ready"), "w") as f:
            f.write("2026-11-27T00:00:00.000Z\n")


STATES = ["starting", "ready", "degraded", "stopping", "stopped", "failed"]


@pytest.mark.parametrize("state", STATES)
def test_health_fabricated(sdir, state):
    ready = state in ("ready", "degraded")
    fabricate(sdir, state, ready)
    # no lock file: nobody ever ran here
    for flag in (None, "--ready", "--started", "--live"):
        rc, out = health(sdir, flag)
        assert rc == 1 and "no lock file" in out, (flag, rc, out)
    # a lock file nobody holds: stale, never healthy, whatever the files say
    open(os.path.join(sdir, "lock"), "w").close()
    for flag in (None, "--ready", "--started", "--live"):
        rc, out = health(sdir, flag)
        assert (rc, out.count("\n")) == (1, 1) and "stale" in out, (flag, rc, out)
    # a live writer
    lock = Lock(sdir)
    try:
        want = {None: ready, "--ready": ready, "--started": ready,
                "--live": state != "failed"}
        for flag, ok in want.items():
            rc, out = health(sdir, flag)
            assert rc == (0 if ok else 1), (state, flag, rc, out)
            assert out.count("\n") == 1 and state in out, out
    finally:
        lock.release()


@needs_root
def test_health_live_from_another_pid_namespace(sdir):
    """The lock, not a pid, decides: from a fresh PID namespace (where pid 1 is
    someone else) a live writer is still live and a gone one is still gone."""
    fabricate(sdir, "ready", True)
    lock = Lock(sdir)
    argv = ["unshare", "--pid", "--fork", "--mount-proc", HFINIT, "health", "--live", "-d", sdir]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT)
        assert r.returncode == 0, r
    finally:
        lock.release()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 1 and "stale" in r.stdout, r


def test_health_is_fast(sdir):
    """No fork, reads files only: a probe costs milliseconds."""
    fabricate(sdir, "degraded", True)
    lock = Lock(sdir)
    times = []
    try:
        for _ in range(30):
            t0 = time.monotonic()
            rc, _ = health(sdir, "--ready")
            times.append(time.monotonic() - t0)
            assert rc == 0
    finally:
        lock.release()
    # the whole process, exec included; generous for a loaded 2-CPU machine
    assert statistics.median(times) < 0.05, times


def test_health_default_dir_and_usage(sdir):
    fabricate(sdir, "ready", True)
    lock = Lock(sdir)
    try:
        r = run("health", env={"HFINIT_STATUS_DIR": sdir})
        assert r.returncode == 0
        assert r.stdout == "ready: every required service is ready (state ready)\n"
    finally:
        lock.release()
    # bad usage is 1, not 2 (Docker reserves 2 in HEALTHCHECK)
    r = run("health", "--bogus")
    assert r.returncode == 1 and "usage" in r.stderr
    r = run("health", "-d", "/nonexistent/hfinit")
    assert r.returncode == 1 and "/nonexistent/hfinit" in r.stdout


def test_dir_and_help_spellings(sdir):
    """-d DIR, --dir DIR, --dir=DIR and -dDIR are one option (getopt_long); -h and --help
    print the usage and exit 0 for status, health and notify alike."""
    fabricate(sdir, "ready", True)
    with open(os.path.join(sdir, "status.json"), "w") as f:
        json.dump(SAMPLE, f, indent=2)
    lock = Lock(sdir)
    try:
        for spelling in (["-d", sdir], ["--dir", sdir], ["--dir=" + sdir], ["-d" + sdir]):
            r = run("health", "--live", *spelling)
            assert r.returncode == 0 and r.stdout == "live: hfinit is running, state ready\n", \
                (spelling, r)
            r = run("status", *spelling)
            assert r.returncode == 0 and "status dir: %s (writer running)" % sdir in r.stdout, \
                (spelling, r)
            r = run("status", "--json", *spelling)
            assert r.returncode == 0 and json.loads(r.stdout) == SAMPLE, spelling
    finally:
        lock.release()
    for mode in ("status", "health", "notify"):
        for flag in ("-h", "--help"):
            r = run(mode, flag)
            assert r.returncode == 0, (mode, flag, r)
            assert "usage: hfinit %s" % mode in r.stdout + r.stderr, (mode, flag, r)
    # a missing DIR is bad usage: 2 for status, 1 for health (Docker reserves 2)
    assert run("status", "--dir").returncode == 2
    assert run("health", "--dir").returncode == 1


def test_config_option_names_the_dir(tmp_path, sdir):
    """-c FILE / --config FILE: the readers use the config's status_dir, in either place
    (`hfinit health -c F` and `hfinit -c F health`), after -d DIR and $HFINIT_STATUS_DIR."""
    fabricate(sdir, "ready", True)
    conf = tmp_path / "hfinit.ini"
    conf.write_text("[hfinit]\nstatus_dir = %s\n" % sdir)
    lock = Lock(sdir)
    try:
        for args in (["health", "-c", conf], ["health", "--config", conf],
                     ["health", "--config=%s" % conf], ["-c", conf, "health"],
                     ["--config=%s" % conf, "health"]):
            r = run(*args)
            assert r.returncode == 0, (args, r)
            assert r.stdout == "ready: every required service is ready (state ready)\n"
        r = run("health", "-c", conf, env={"HFINIT_STATUS_DIR": str(tmp_path / "other")})
        assert r.returncode == 1 and str(tmp_path / "other") in r.stdout, r
    finally:
        lock.release()
    r = run("health", "-c", tmp_path / "missing.ini")
    assert r.returncode == 1 and "cannot read config" in r.stdout, r


SAMPLE = {
    "schema": 1, "hfinit": "0.1.0", "pid": 1, "state": "degraded", "stage": 2,
    "started_at": "2026-11-27T00:17:23.000Z", "updated_at": "2026-11-27T00:17:25.250Z",
    "exit_code": None, "all_required_ready": True,
    "python": {"path": "/app/.venv/bin/python3", "executable": "/app/.venv/bin/python3",
               "version": "3.11.7", "source": "venv", "error": None, "hint": None,
               "candidates": [
                   {"path": None, "source": "PYTHON_PATH", "verdict": "unset", "detail": None,
                    "version": None, "elapsed_ms": 0},
                   {"path": "/app/.venv/bin/python3", "source": "venv", "verdict": "ok",
                    "detail": None, "version": "3.11.7", "elapsed_ms": 31}]},
    "stages": [{"stage": 1, "ready_ms": 412}, {"stage": 2, "ready_ms": 1250}],
    "blame": [{"service": "tts", "stage": 2, "ready_ms": 812},
              {"service": "web", "stage": 1, "ready_ms": 410}],
    "output": {"stdout": {"dropped_lines": 0, "dropped_bytes": 0, "reason": None},
               "stderr": {"dropped_lines": 2, "dropped_bytes": 97, "reason": "Broken pipe"}},
    "services": {
        "web": {"state": "ready", "stage": 1, "required": True, "pid": 7, "attempt": 1,
                "attempts": 3, "restarts": 0, "requested_restarts": 0, "stopped_by": None,
                "started_at": "2026-11-27T00:17:23.002Z",
                "ready_at": "2026-11-27T00:17:23.412Z", "ready_ms": 410,
                "last_exit": {"code": None, "signal": None, "signal_name": None},
                "last_error": {"text": None, "category": None, "hint": None},
                "errors": 0, "warnings": 0, "script": None, "command": "node dist/index.js",
                "sandbox": None, "sandbox_rules": None, "notify_status": None,
                "ready_spec": "tcp:7860", "type": "longrun", "finished_at": None,
                "disabled_reason": None},
        "voice-clone": {"state": "failed", "stage": 2, "required": False, "pid": None,
                        "attempt": 3, "attempts": 3, "restarts": 0, "requested_restarts": 0,
                        "stopped_by": None, "started_at": None,
                        "ready_at": None, "ready_ms": None,
                        "last_exit": {"code": 1, "signal": None, "signal_name": None},
                        "last_error": {"text": "ModuleNotFoundError: No module named 'torch'",
                                       "category": "missing dependency",
                                       "hint": "install torch in the image's Python"},
                        "errors": 3, "warnings": 0, "script": "/app/worker_pool.py",
                        "command": "/app/.venv/bin/python3 /app/worker_pool.py",
                        "sandbox": "worker", "sandbox_rules": 60, "notify_status": None,
                        "ready_spec": "line:ready", "type": "longrun",
                        "finished_at": None, "disabled_reason": None}}}


def test_schema_validator_can_fail():
    """The validator itself: the sample is valid, and each kind of damage is caught."""
    assert validate(SAMPLE, SCHEMA) == []
    import copy
    cases = [
        (lambda d: d.pop("state"), "required key 'state'"),
        (lambda d: d.update(state="happy"), "not one of"),
        (lambda d: d.update(pid="1"), "not of type"),
        (lambda d: d.update(stage=True), "not of type"),  # a bool is no integer
        (lambda d: d.update(updated_at="2026-11-27 00:17:25"), "does not match"),
        (lambda d: d.update(extra=1), "unexpected key 'extra'"),
        (lambda d: d["services"]["web"].update(pid=0), "minimum"),
        (lambda d: d["services"]["web"]["last_exit"].pop("signal"), "required key 'signal'"),
        (lambda d: d["services"]["web"].update(state="running"), "not one of"),
        (lambda d: d.update(python={"path": "/x"}), "oneOf"),
        (lambda d: d["python"]["candidates"][0].update(verdict="fine"), "oneOf"),
        (lambda d: d.update(schema=2), "is not 1"),
    ]
    for damage, words in cases:
        d = copy.deepcopy(SAMPLE)
        damage(d)
        errors = validate(d, SCHEMA)
        assert any(words in e for e in errors), (words, errors)


def test_status_table_and_json(sdir):
    os.makedirs(sdir)
    with open(os.path.join(sdir, "status.json"), "w") as f:
        json.dump(SAMPLE, f, indent=2)
    lock = Lock(sdir)
    try:
        r = run("status", "-d", sdir)
    finally:
        lock.release()
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("hfinit 0.1.0 (pid 1): degraded, stage 2, up "), lines
    assert lines[1] == "status dir: %s (writer running)" % sdir
    assert lines[2] == "python: /app/.venv/bin/python3 3.11.7 (venv)"
    hdr = lines.index("SERVICE      STATE   PID  UPTIME  ATTEMPT  RESTARTS  READY IN  LAST ERROR")
    assert re.match(r"^web\*         ready   7    \S+ +1/3      0         410ms     -$",
                    lines[hdr + 1]), lines[hdr + 1]
    assert lines[hdr + 2] == (
        "voice-clone  failed  -    -       3/3      0         -         "
        "[missing dependency] ModuleNotFoundError: No module named 'torch'")
    assert "  voice-clone: install torch in the image's Python" in lines
    # --json: the file byte for byte; the writer is gone now (lock released)
    r = run("status", "--json", env={"HFINIT_STATUS_DIR": sdir})
    assert r.returncode == 0
    with open(os.path.join(sdir, "status.json")) as f:
        assert r.stdout == f.read()
    r = run("status", "-d", sdir)
    assert "writer gone" in r.stdout
    # broken JSON: 1 with the offset
    with open(os.path.join(sdir, "status.json"), "w") as f:
        f.write('{"state": "ready",')
    r = run("status", "-d", sdir)
    assert r.returncode == 1 and "not valid JSON (at byte 18)" in r.stderr, r
    r = run("status", "-d", "/nonexistent/hfinit")
    assert r.returncode == 1


@pytest.mark.parametrize("kind", ["abstract", "path"])
def test_notify_round_trip(tmp_path, kind):
    lst = Listener(str(tmp_path / "notify.sock") if kind == "path" else None)
    try:
        r = run("notify", "READY=1", "STATUS=loading 2/3", "--pid",
                env={"NOTIFY_SOCKET": lst.addr})
        assert r.returncode == 0, r
        m = lst.wait(lambda m: "READY=1" in m)
        # MAINPID is the caller of `hfinit notify`: this test process
        assert m[1] == "READY=1\nSTATUS=loading 2/3\nMAINPID=%d\n" % os.getpid()
        r = run("notify", "--status=x", "STOPPING=1", env={"NOTIFY_SOCKET": lst.addr})
        assert r.returncode == 0
        assert lst.wait(lambda m: "STOPPING" in m)[1] == "STATUS=x\nSTOPPING=1\n"
        # bad usage: 2 and nothing sent
        r = run("notify", "READY", env={"NOTIFY_SOCKET": lst.addr})
        assert r.returncode == 2
    finally:
        lst.close()
    # each message is followed by the BARRIER=1 that `hfinit notify` waits for
    assert [m[1] for m in lst.all()] == ["READY=1\nSTATUS=loading 2/3\nMAINPID=%d\n" % os.getpid(),
                                        "BARRIER=1", "STATUS=x\nSTOPPING=1\n", "BARRIER=1"]
    r = run("notify", "READY=1")
    assert r.returncode == 1 and "NOTIFY_SOCKET is not set" in r.stderr
    r = run("notify", "READY=1", env={"NOTIFY_SOCKET": "@hfinit-test-nobody-%d" % os.getpid()})
    assert r.returncode == 1 and "Connection refused" in r.stderr


# ---------------------------------------------------------------------------------
# Part 2: the real writer


def cfg(tmp_path, services, extra=""):
    return write_config(tmp_path, "[hfinit]\nstop_timeout = 3s\n%s\n%s" % (extra, services))


@needs_root
def test_upward_notify_ready_status_stopping(tmp_path, sdir, start_hfinit):
    rec = str(tmp_path / "rec")
    dump = str(tmp_path / "dump.json")
    conf = cfg(tmp_path, """
[service:web]
command = %s
ready = line:ready
""" % svc("--name", "web", "--record", rec, "--ready-delay", "0.3", "--dump", dump,
      "--ready-line", "ready"))
    lst = Listener()
    try:
        # The listener's abstract address lives in this network namespace.
        h = start_hfinit(conf, mode="pid1", netns=False,
                         env={"NOTIFY_SOCKET": lst.addr, "HFINIT_STATUS_DIR": sdir})
        h.wait_line(r"\[web\] ready in")
        t_ready, msg = lst.wait(lambda m: "READY=1" in m, what="READY=1")
        svc_ready = [r for r in read_records(rec) if r["event"] == "ready"]
        assert len(svc_ready) == 1
        assert t_ready >= svc_ready[0]["mono"], "READY=1 before the service was ready"
        assert "STATUS=ready: 1/1 services ready" in msg
        # the files were written before READY=1 was sent
        assert os.path.exists(os.path.join(sdir, "ready"))
        assert read_word(sdir) == "ready\n"
        # the service does not see hfinit's own NOTIFY_SOCKET
        with open(dump) as f:
            env = json.load(f)["env"]
        assert env.get("NOTIFY_SOCKET") != lst.addr
        assert env.get("HFINIT_STATUS_DIR") == sdir
        before = len(lst.all())
        h.signal(signal.SIGTERM)
        t_stop, msg = lst.wait(lambda m: "STOPPING=1" in m, what="STOPPING=1")
        assert msg.startswith("STATUS=stopping")
        assert h.wait_exit() == 0
        msgs = [m for _, m in lst.all()]
    finally:
        lst.close()
    assert sum("READY=1" in m for m in msgs) == 1, msgs
    assert sum("STOPPING=1" in m for m in msgs) == 1, msgs
    assert before >= 2 and msgs[0].startswith("STATUS=starting"), msgs
    assert msgs[-1].startswith("STATUS=stopped: 0/1 services ready; exit code 0"), msgs
    doc = read_status(sdir)
    assert doc["state"] == "stopped" and doc["exit_code"] == 0
    assert check_dir(sdir) == []


@needs_root
def test_files_through_a_life(tmp_path, sdir, start_hfinit):
    """starting -> ready -> stopping -> stopped, as health, status and the files
    see it, from root and from uid 1000."""
    flag = str(tmp_path / "flag")
    conf = cfg(tmp_path, """
[service:web]
command = /bin/sleep 1000
ready = file:%s

[service:opt]
stage = 2
command = /bin/sh -c 'echo "Error: no GPU" >&2; exit 4'
ready = line:up
required = no
retries = 1
""" % flag)
    h = start_hfinit(conf, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})
    # The first status.json (written before resolution) has no services yet;
    # wait for the supervisor's own "starting" with the service listed.
    wait_for(lambda: read_word(sdir) == "starting\n"
             and "web" in (read_status(sdir) or {}).get("services", {}),
             what="state starting with service web")
    assert health(sdir, "--live")[0] == 0
    assert health(sdir, "--started")[0] == 1
    rc, out = health(sdir, "--ready")
    assert rc == 1 and out == "not ready: state starting\n"
    doc = read_status(sdir)
    assert doc["state"] == "starting" and doc["services"]["web"]["state"] == "starting"
    assert doc["pid"] == 1  # PID 1 of its namespace
    open(flag, "w").close()
    wait_for(lambda: read_word(sdir) == "degraded\n", what="state degraded")
    assert check_dir(sdir) == []
    assert health(sdir, "--ready") == (
        0, "ready: every required service is ready (state degraded)\n")
    assert health(sdir, "--started")[0] == 0
    doc = read_status(sdir)
    web, opt = doc["services"]["web"], doc["services"]["opt"]
    assert web["state"] == "ready" and web["ready_ms"] is not None and web["pid"] > 1
    assert opt["state"] == "failed" and opt["last_exit"]["code"] == 4
    assert [s["stage"] for s in doc["stages"]] == [1, 2]
    assert doc["stages"][0]["ready_ms"] is not None
    assert doc["blame"][0]["service"] == "web"
    # uid 1000 (the HF Spaces user) reads everything and gets the same answers
    as_1000 = dict(preexec_fn=lambda: (os.setgroups([]), os.setgid(1000), os.setuid(1000)))
    assert health(sdir, "--ready", **as_1000)[0] == 0
    assert health(sdir, "--live", **as_1000)[0] == 0
    r = run("status", "-d", sdir, **as_1000)
    assert r.returncode == 0 and "(writer running)" in r.stdout
    assert re.search(r"(?m)^web\* +ready +\d+ ", r.stdout), r.stdout
    assert re.search(r"(?m)^opt +failed +- ", r.stdout), r.stdout
    for name in ("status.json", "state", "ready", "lock"):
        assert os.stat(os.path.join(sdir, name)).st_mode & 0o777 == 0o644, name
    assert os.stat(sdir).st_mode & 0o777 == 0o755
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    assert read_word(sdir) == "stopped\n"
    assert not os.path.exists(os.path.join(sdir, "ready"))
    for flag_ in (None, "--ready", "--started", "--live"):
        rc, out = health(sdir, flag_)
        assert rc == 1 and "stale" in out, (flag_, out)
    assert not [n for n in os.listdir(sdir) if n.endswith(".tmp")]


@needs_root
def test_ready_while_an_optional_stage_2_pool_is_still_loading(tmp_path, sdir, start_hfinit):
    """The `ready` file (and health --ready) follows the required services only:
    an optional stage-2 pool still loading leaves state `starting`, but ready."""
    web_flag, pool_flag = str(tmp_path / "web"), str(tmp_path / "pool")
    conf = cfg(tmp_path, """
[service:web]
command = /bin/sleep 1000
ready = file:%s

[service:pool]
stage = 2
required = no
command = /bin/sleep 1000
ready = file:%s
ready_timeout = 10m
""" % (web_flag, pool_flag))
    h = start_hfinit(conf, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})
    h.wait_line(r"\[web\] started pid")
    wait_for(lambda: "web" in (read_status(sdir) or {}).get("services", {}),
             what="status.json listing web")
    assert health(sdir, "--ready") == (1, "not ready: state starting\n")
    open(web_flag, "w").close()
    h.wait_line(r"\[pool\] started pid")
    wait_for(lambda: os.path.isfile(os.path.join(sdir, "ready")), what="ready file")
    doc = read_status(sdir)
    assert doc["state"] == "starting" and doc["all_required_ready"] is True
    assert doc["services"]["web"]["state"] == "ready"
    assert doc["services"]["pool"]["state"] == "starting"
    assert health(sdir, "--ready") == (
        0, "ready: every required service is ready (state starting)\n")
    assert health(sdir, "--started") == (1, "not started: state starting\n")
    open(pool_flag, "w").close()
    wait_for(lambda: read_word(sdir) == "ready\n", what="state ready")
    assert health(sdir, "--started") == (0, "started: state ready\n")
    assert health(sdir, "--ready")[0] == 0
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    assert not os.path.exists(os.path.join(sdir, "ready"))
    assert check_dir(sdir) == []


@needs_root
def test_notify_from_a_shell_service(tmp_path, sdir, start_hfinit):
    """`hfinit notify` inside a service with ready = notify (hfinit's own socket)."""
    conf = cfg(tmp_path, """
[service:sh]
command = /bin/sh -c '%s notify --status="warming up" && %s notify --ready --status=serving && exec sleep 1000'
ready = notify
""" % (HFINIT, HFINIT))
    h = start_hfinit(conf, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})
    h.wait_line(r"\[sh\] ready in")
    wait_for(lambda: read_word(sdir) == "ready\n", what="state ready")
    doc = wait_for(lambda: (lambda d: d if d["services"]["sh"]["notify_status"] == "serving"
                            else None)(read_status(sdir)), what="notify_status")
    assert doc["services"]["sh"]["state"] == "ready"
    # `hfinit status` shows the service's own words for a person too
    r = run("status", "-d", sdir)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    at = lines.index("status (sd_notify STATUS=):")
    assert lines[at + 1] == "  sh: serving", lines
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0


def test_reader_never_sees_partial_json(tmp_path, sdir, start_hfinit):
    """Thousands of reads while an optional service crash-loops (hundreds of
    rewrites): every read parses, every distinct version matches the schema."""
    conf = cfg(tmp_path, """
[service:web]
command = /bin/sleep 1000

[service:crash]
command = /bin/sh -c 'echo "Error: crash $$$$" >&2; exit 1'
required = no
restart = always
restart_delay = 10ms
restart_max_delay = 20ms
restart_burst = 100000
restart_window = 100ms
""")
    h = start_hfinit(conf, env={"HFINIT_STATUS_DIR": sdir})
    path = os.path.join(sdir, "status.json")
    wait_for(lambda: os.path.exists(path), what="status.json")
    seen, reads, bad = {}, 0, []
    deadline = time.monotonic() + 20
    while (reads < 20000 or len(seen) < 200) and time.monotonic() < deadline:
        with open(path, "rb") as f:
            raw = f.read()
        reads += 1
        try:
            doc = json.loads(raw)
        except ValueError as e:
            bad.append((str(e), raw[-200:]))
            continue
        if raw not in seen:
            seen[raw] = doc
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    assert not bad, bad[:3]
    assert reads >= 20000 and len(seen) >= 200, (reads, len(seen))
    print("reads %d, distinct versions %d" % (reads, len(seen)))
    restarts = 0
    for doc in seen.values():
        assert_valid(doc)
        if "crash" in doc["services"]:  # not in the first file, written before the plan
            restarts = max(restarts, doc["services"]["crash"]["restarts"])
    assert restarts >= 10, restarts


@needs_root
def test_each_change_of_one_service_shows_and_the_others_stay(tmp_path, sdir, start_hfinit):
    """status.json is rebuilt from cached per-service pieces (status_doc.c):
    after each change of one service (an error line, a warning, its STATUS=
    text changed in place, its exit), that service's fields are right at
    once, and every other service is exactly as before."""
    go = str(tmp_path / "go")
    step = "while [ ! -e %s.$1 ]; do sleep 0.01; done" % go
    conf = cfg(tmp_path, """
[service:a]
command = /bin/sleep 1000

[service:talk]
command = /bin/sh -c 'w() { %s; }; %s notify --ready --status=phase-1; w 1; echo "Error: first" >&2; w 2; echo "Warning: careful" >&2; w 3; %s notify --status=phase-3; w 4; exit 3' talk
ready = notify
required = no
restart = no

[service:b]
command = /bin/sleep 1000

[service:c]
command = /bin/sleep 1000
""" % (step, HFINIT, HFINIT))
    h = start_hfinit(conf, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})

    def when(pred, what):
        def check():
            if not os.path.exists(os.path.join(sdir, "status.json")):
                return None
            doc = read_status(sdir)
            return doc if "talk" in doc["services"] and pred(doc["services"]["talk"]) else None
        return wait_for(check, what=what)

    doc = when(lambda t: t["notify_status"] == "phase-1" and t["state"] == "ready", "talk ready")
    wait_for(lambda: read_word(sdir) == "ready\n", what="state ready")
    doc = read_status(sdir)
    others = {n: doc["services"][n] for n in ("a", "b", "c")}
    assert all(o["state"] == "ready" and o["pid"] for o in others.values()), others
    steps = [
        (lambda t: t["errors"] == 1 and t["last_error"]["text"] == "Error: first", "the error line"),
        (lambda t: t["warnings"] == 1 and t["errors"] == 1, "the warning"),
        (lambda t: t["notify_status"] == "phase-3", "STATUS= changed in place"),
        (lambda t: t["state"] == "failed" and t["last_exit"]["code"] == 3 and t["pid"] is None, "the exit"),
    ]
    for k, (pred, what) in enumerate(steps, 1):
        open("%s.%d" % (go, k), "w").close()
        doc = when(pred, what)
        assert {n: doc["services"][n] for n in others} == others, what
        assert list(doc["services"]) == ["a", "talk", "b", "c"]
    assert {b["service"] for b in doc["blame"]} == {"a", "talk", "b", "c"}
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    doc = read_status(sdir)
    assert doc["state"] == "stopped" and doc["services"]["talk"]["state"] == "failed"
    assert all(doc["services"][n]["state"] == "stopped" for n in others)


def test_planted_symlinks_not_followed(tmp_path, sdir, start_hfinit):
    os.makedirs(sdir)
    victim = str(tmp_path / "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    for name in ("status.json", "state", "ready", "lock", ".status.json.tmp", ".state.tmp"):
        os.symlink(victim, os.path.join(sdir, name))
    conf = cfg(tmp_path, "[service:web]\ncommand = /bin/sleep 1000\n")
    h = start_hfinit(conf, env={"HFINIT_STATUS_DIR": sdir})
    wait_for(lambda: read_word(sdir) == "ready\n", what="state ready")
    wait_for(lambda: os.path.isfile(os.path.join(sdir, "ready"))
             and not os.path.islink(os.path.join(sdir, "ready")), what="ready file")
    assert health(sdir, "--live")[0] == 0
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    with open(victim) as f:
        assert f.read() == "precious\n"
    for name in ("status.json", "state", "lock"):
        assert not os.path.islink(os.path.join(sdir, name)), name
    read_status(sdir)


def test_unwritable_dir_one_warning(tmp_path):
    """An unusable explicit dir: one clear warning, the services run anyway."""
    conf = cfg(tmp_path, "[service:web]\ncommand = /bin/sleep 1000\n")
    h = Hfinit(conf, env={"HFINIT_STATUS_DIR": "/proc/hfinit-cannot-exist"})
    try:
        h.wait_line(r"\[web\] ready in")
        h.signal(signal.SIGTERM)
        assert h.wait_exit() == 0
        err = h.text()
    finally:
        h.close()
    warn = [ln for ln in err.splitlines() if "status" in ln and "warn" in ln]
    assert len(warn) == 1, err
    assert "status files disabled (the services run anyway)" in warn[0]
    assert "/proc/hfinit-cannot-exist" in warn[0]


@needs_root
def test_read_only_dir_one_warning(tmp_path):
    """A status dir on a read-only file system (a private mount namespace)."""
    need_hfinit()
    ro = str(tmp_path / "ro")
    os.makedirs(ro)
    conf = cfg(tmp_path, "[service:web]\ncommand = /bin/sleep 1000\n")
    env = dict(os.environ, HFINIT_STATUS_DIR=ro)
    env.pop("NOTIFY_SOCKET", None)
    # unshare execs sh, which execs hfinit: p.pid is hfinit
    p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          "mount -t tmpfs -o ro tmpfs %s && exec %s -c %s" % (q(ro), q(HFINIT),
                                                                               q(conf))],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, text=True)
    lines = []
    try:
        deadline = time.monotonic() + WAIT
        for line in p.stderr:
            lines.append(line)
            if "[web] ready in" in line:
                break
            assert time.monotonic() < deadline, lines
        p.send_signal(signal.SIGTERM)
        _, rest = p.communicate(timeout=WAIT)
        lines.append(rest)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    err = "".join(lines)
    assert p.returncode == 0, err
    warn = [ln for ln in err.splitlines() if "status" in ln and "warn" in ln]
    assert len(warn) == 1 and "Read-only file system" in warn[0], err


def ctx_switches(pid):
    with open("/proc/%d/status" % pid) as f:
        return sum(int(line.split()[1]) for line in f
                   if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


@needs_root
def test_status_dir_removed_while_running_is_made_again(tmp_path, sdir, start_hfinit):
    """W2: `rm -rf` of the status dir while hfinit runs (twice): status.json,
    state, ready and lock come back at once (no state change needed), `health
    --live` keeps saying 0 from every new lock, and an idle hfinit still makes
    no wake-ups afterwards (the dir is watched with inotify, never polled)."""
    conf = cfg(tmp_path, "[service:web]\ncommand = /bin/sleep 1000\n")
    h = start_hfinit(conf, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})
    files = ("status.json", "state", "ready", "lock")

    def complete():
        return all(os.path.isfile(os.path.join(sdir, n)) for n in files)

    wait_for(lambda: read_word(sdir) == "ready\n" and complete(), what="ready, all files")
    assert health(sdir, "--live")[0] == 0
    for _ in range(2):
        # rm may find the dir refilled under it ("Directory not empty"): fine
        subprocess.run(["rm", "-rf", sdir], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=WAIT)
        wait_for(complete, what="status files made again")
        assert read_word(sdir) == "ready\n"
        assert read_status(sdir)["services"]["web"]["state"] == "ready"
        assert health(sdir, "--live") == (0, "live: hfinit is running, state ready\n")
        assert health(sdir, "--ready")[0] == 0
        assert check_dir(sdir) == []
    before = ctx_switches(h.pid)
    time.sleep(1.0)  # a "nothing happens" check: idle for a second
    assert ctx_switches(h.pid) - before <= 1
    assert not h.find(r"warn"), h.dump()
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    assert read_word(sdir) == "stopped\n"
    assert health(sdir, "--live")[0] == 1
