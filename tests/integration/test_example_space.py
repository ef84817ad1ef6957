"""Tests of the example Space itself (docker/example-space): the Python
worker pool and the Node server, run directly with python3 and node. No
hfinit is involved here; hfinit's own tests supervise these programs later.

Synchronisation is on the programs' own output lines (`ready`, `listening
on …`), read by one thread per pipe; every wait is bounded. The only fixed
waits are the few "nothing must happen" checks (a hung pool must not become
ready, a pool ignoring SIGTERM must stay up), each marked as such.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPACE = os.path.join(REPO, "docker", "example-space")
POOL = os.path.join(SPACE, "server", "ml-services", "worker_pool.py")
SERVER = os.path.join(SPACE, "server", "index.js")
PYTHON = os.environ.get("EXAMPLE_SPACE_PYTHON") or sys.executable  # to try other Pythons (>= 3.9)
NODE = shutil.which("node")
WAIT = 10.0  # generous bound for any awaited event


class Proc:
    """A child process whose stdout and stderr lines are collected by two
    reader threads, so a test can await a line with a deadline. It runs in
    its own session and process group, and kill() SIGKILLs that whole group,
    so workers or children left by a failing (or deliberately broken)
    program never outlive the test."""

    def __init__(self, argv, env=None, **kw):
        full_env = dict(os.environ)
        for k in list(full_env):
            if k.startswith("HFINIT_TEST_") or k in ("NOTIFY_SOCKET", "HFINIT_STATUS_DIR", "HFINIT_RUN_DIR"):
                del full_env[k]
        full_env["PYTHONUNBUFFERED"] = "1"
        full_env.update(env or {})
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=full_env, start_new_session=True, **kw)
        self.pid = self.p.pid
        self.lines = {"out": [], "err": []}
        self.closed = {"out": False, "err": False}
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(name, f), daemon=True)
                        for name, f in (("out", self.p.stdout), ("err", self.p.stderr))]
        for t in self.threads:
            t.start()

    def _read(self, name, f):
        for raw in f:
            with self.cond:
                self.lines[name].append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed[name] = True
            self.cond.notify_all()

    def wait_line(self, pattern, stream="out", timeout=WAIT):
        """First line of `stream` matching the regex; fails on timeout or EOF."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[stream]:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if self.closed[stream] or left <= 0:
                    pytest.fail("no %s line matching %r within %.1fs (closed=%s)\nstdout:\n%s\nstderr:\n%s"
                                % (stream, pattern, timeout, self.closed[stream], self.out(), self.err()))
                self.cond.wait(left)

    def wait_exit(self, timeout=WAIT):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            pytest.fail("process %d did not exit within %.1fs\nstdout:\n%s\nstderr:\n%s"
                        % (self.pid, timeout, self.out(), self.err()))
        for t in self.threads:
            t.join(WAIT)
        return rc

    def out(self):
        with self.cond:
            return "\n".join(self.lines["out"])

    def err(self):
        with self.cond:
            return "\n".join(self.lines["err"])

    def kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)  # the group outlives its leader
        except ProcessLookupError:
            pass
        self.p.wait()


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        p.kill()


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="h7-", dir="/tmp")  # short: AF_UNIX paths max 107 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start_pool(procs, tmp, *args, worker_type="tts", env=None):
    sock = os.path.join(tmp, worker_type + ".sock")
    argv = [PYTHON, POOL, "--worker-type", worker_type, "--socket", sock, "--load-seconds", "0.2"] + list(args)
    p = Proc(argv, env=env)
    procs.append(p)
    p.sock = sock
    return p


def worker_pids(pool):
    pool.wait_line(r"worker \d+/\d+")
    with pool.cond:
        return [int(m.group(1)) for line in pool.lines["out"]
                for m in [re.search(r"worker \d+/\d+ \(pid (\d+)\)", line)] if m]


def gone(pid):
    """True when pid has exited (no such process, or a zombie nobody reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def wait_gone(pids, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(gone(p) for p in pids):
            return
        time.sleep(0.02)  # polling /proc: there is no event for a non-child's exit
    pytest.fail("processes still alive after %.1fs: %s" % (timeout, [p for p in pids if not gone(p)]))


def ask(sock_path, *requests, timeout=WAIT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in requests))
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return [json.loads(line) for line in data.decode().splitlines()]


def model_sha(worker_type):
    with open(os.path.join(SPACE, "models", worker_type + ".bin"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# --- worker pool -------------------------------------------------------------


def test_pool_prints_ready_after_all_workers_loaded(procs, tmp):
    t0 = time.monotonic()
    pool = start_pool(procs, tmp, "--workers", "3", "--load-seconds", "0.4")
    pool.wait_line(r"^ready$")
    took = time.monotonic() - t0
    assert took >= 0.4, took
    lines = pool.out().splitlines()
    i = lines.index("ready")
    loaded = [l for l in lines[:i] if re.search(r"tts worker \d/3 \(pid \d+\) loaded tts\.bin", l)]
    assert len(loaded) == 3, lines
    assert not any("ready" in l for l in lines[:i]), "a line before `ready` contains the word"
    assert os.path.exists(pool.sock) and not os.path.exists(pool.sock + ".%d.tmp" % pool.pid)
    for pid in worker_pids(pool):  # the workers are the pool's children
        with open("/proc/%d/stat" % pid) as f:
            assert int(f.read().rsplit(")", 1)[1].split()[1]) == pool.pid


def test_pool_serves_jobs(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2")
    pool.wait_line(r"^ready$")
    text = "hello from the test"
    a, ping, bad, wrong, empty = ask(pool.sock, {"op": "synthesize", "text": text}, {"op": "ping"},
                                     b"not json", {"op": "clone", "text": "x"}, {"text": ""})
    assert a["ok"] is True and a["worker_type"] == "tts" and a["op"] == "synthesize"
    assert a["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert a["model_sha256"] == model_sha("tts")
    assert a["audio_bytes"] == 2646 * len(text) and a["duration_ms"] == 60 * len(text)
    assert a["pid"] in worker_pids(pool)
    assert ping["ok"] is True and ping["op"] == "ping"
    assert bad["ok"] is False and bad["error"].startswith("bad json")
    assert wrong["ok"] is False and "does not do" in wrong["error"]
    assert empty["ok"] is False and "text" in empty["error"]
    # The same text gives the same fake audio (deterministic from model + text).
    assert ask(pool.sock, {"text": text})[0]["audio_sha256"] == a["audio_sha256"]


def test_pool_workers_serve_concurrently(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2")
    pool.wait_line(r"^ready$")
    results = []
    t0 = time.monotonic()
    threads = [threading.Thread(target=lambda: results.append(ask(pool.sock, {"text": "x", "delay_ms": 1500})[0]))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    took = time.monotonic() - t0
    assert len(results) == 2 and all(r["ok"] for r in results)
    assert {r["pid"] for r in results} == set(worker_pids(pool))  # one job per worker
    assert took < 2.9, "two 1.5 s jobs on two workers took %.2fs: not concurrent" % took


def test_voice_clone_pool(procs, tmp):
    pool = start_pool(procs, tmp, worker_type="voice-clone")
    pool.wait_line(r"^ready$")
    (a,) = ask(pool.sock, {"op": "clone", "text": "hi", "voice": "alice"})
    assert a["ok"] and a["op"] == "clone" and a["voice"] == "alice"
    assert a["model_sha256"] == model_sha("voice-clone")
    (b,) = ask(pool.sock, {"op": "clone", "text": "hi", "voice": "bob"})
    assert b["audio_sha256"] != a["audio_sha256"]


def test_pool_socket_path_convention(procs, tmp):
    p = Proc([PYTHON, POOL, "--worker-type", "tts", "--load-seconds", "0"], env={"HFINIT_RUN_DIR": tmp + "/run"})
    procs.append(p)
    p.wait_line(r"^ready$")
    assert ask(os.path.join(tmp, "run", "tts.sock"), {"op": "ping"})[0]["ok"]


@pytest.mark.parametrize("kind,last", [
    ("module", "ModuleNotFoundError: No module named 'torch'"),
    ("oom", "torch.cuda.OutOfMemoryError: CUDA out of memory."),
    ("permission", "PermissionError: [Errno 13] Permission denied: '/.cache/huggingface'"),
    ("disk", "OSError: [Errno 28] No space left on device"),
    ("hub", "huggingface_hub.errors.GatedRepoError: 401 Client Error."),
    ("addrinuse", "OSError: [Errno 98] Address already in use"),
])
def test_pool_fail_at_start(procs, tmp, kind, last):
    pool = start_pool(procs, tmp, "--fail-at-start", "3", "--fail-kind", kind)
    assert pool.wait_exit() == 3
    err = pool.err()
    assert err.startswith("Traceback (most recent call last):"), err
    assert last in err, err
    assert "ready" not in pool.out()
    # hfinit's `line:ready` matches stderr lines too. The real strerror text
    # "Address already in use" contains "ready": that is why the example
    # config waits with `regex:^ready$`. No other kind may contain the word.
    assert ("ready" in err) == (kind == "addrinuse")
    assert os.listdir(tmp) == []  # no socket was ever made


def test_pool_fail_through_env(procs, tmp):
    pool = start_pool(procs, tmp, env={"HFINIT_TEST_FAIL": "4"})
    assert pool.wait_exit() == 4
    assert pool.err().splitlines()[-1] == "ModuleNotFoundError: No module named 'torch'"


def test_pool_missing_model_exits_1(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2", "--model", tmp + "/nope.bin")
    assert pool.wait_exit() == 1
    assert "FileNotFoundError" in pool.err()
    assert "ready" not in pool.out() + pool.err()
    assert re.search(r"worker \d \(pid \d+\) exited with code 1 while loading its model", pool.err())
    assert "ready" not in pool.out()
    assert os.listdir(tmp) == []


def test_pool_hang_never_ready_then_sigterm(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2", "--hang")
    pool.wait_line(r"--hang: all workers loaded", stream="err")
    pids = worker_pids(pool)
    time.sleep(0.5)  # a negative check: nothing may happen in this window
    assert "ready" not in pool.out() + pool.err() and pool.p.poll() is None
    assert not os.path.exists(pool.sock)
    pool.p.send_signal(signal.SIGTERM)
    assert pool.wait_exit() == 0
    assert os.listdir(tmp) == []  # the unpublished socket is removed too
    wait_gone(pids)


def test_pool_hang_through_env(procs, tmp):
    pool = start_pool(procs, tmp, env={"HFINIT_TEST_HANG": "1"})
    pool.wait_line(r"--hang", stream="err")
    pool.p.send_signal(signal.SIGTERM)
    assert pool.wait_exit() == 0 and "ready" not in pool.out()


def test_pool_crash_after_ready_segv(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2", "--crash-after", "0.3")
    pool.wait_line(r"^ready$")
    pids = worker_pids(pool)
    t_ready = time.monotonic()
    assert pool.wait_exit() == -signal.SIGSEGV
    assert time.monotonic() - t_ready >= 0.25
    assert "Fatal Python error: Segmentation fault" in pool.err()
    wait_gone(pids)  # the workers notice their pool is gone


def test_pool_crash_after_ready_exit(procs, tmp):
    pool = start_pool(procs, tmp, "--crash-mode", "exit", env={"HFINIT_TEST_CRASH_AFTER": "0.1"})
    pool.wait_line(r"^ready$")
    pids = worker_pids(pool)
    assert pool.wait_exit() == 1
    assert "RuntimeError: worker pool lost its model" in pool.err()
    wait_gone(pids)


def test_pool_sigterm_exits_0_and_removes_socket(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "3")
    pool.wait_line(r"^ready$")
    pids = worker_pids(pool)
    assert os.path.exists(pool.sock)
    t0 = time.monotonic()
    pool.p.send_signal(signal.SIGTERM)
    assert pool.wait_exit() == 0
    assert time.monotonic() - t0 < 2.0
    assert not os.path.exists(pool.sock)
    assert pool.out().splitlines()[-1] == "tts pool stopped"
    wait_gone(pids, timeout=1.0)


def test_pool_sigint_exits_0(procs, tmp):
    pool = start_pool(procs, tmp)
    pool.wait_line(r"^ready$")
    pool.p.send_signal(signal.SIGINT)
    assert pool.wait_exit() == 0 and not os.path.exists(pool.sock)


def test_pool_ignore_term_needs_sigkill(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2", "--ignore-term")
    pool.wait_line(r"^ready$")
    pids = worker_pids(pool)
    os.killpg(pool.pid, signal.SIGTERM)  # the whole group, as a supervisor does
    time.sleep(0.5)  # a negative check: nothing may die in this window
    assert pool.p.poll() is None and not any(gone(p) for p in pids)
    assert ask(pool.sock, {"op": "ping"})[0]["ok"]
    os.killpg(pool.pid, signal.SIGKILL)
    assert pool.wait_exit() == -signal.SIGKILL
    wait_gone(pids)


def test_orphaned_workers_exit_when_pool_is_killed(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "3")
    pool.wait_line(r"^ready$")
    pids = worker_pids(pool)
    assert len(pids) == 3
    os.kill(pool.pid, signal.SIGKILL)  # the pool alone: its workers become orphans
    assert pool.wait_exit() == -signal.SIGKILL
    wait_gone(pids, timeout=5.0)


def test_orphaned_workers_exit_while_loading(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2", "--load-seconds", "30")
    pool.wait_line(r"starting 2 workers")
    deadline = time.monotonic() + WAIT
    while len(children(pool.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # polling /proc for the forks
    pids = children(pool.pid)
    assert len(pids) == 2
    os.kill(pool.pid, signal.SIGKILL)
    pool.wait_exit()
    wait_gone(pids, timeout=5.0)  # long before their 30 s load would end


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def test_pool_exits_1_when_a_worker_dies(procs, tmp):
    pool = start_pool(procs, tmp, "--workers", "2")
    pool.wait_line(r"^ready$")
    pids = worker_pids(pool)
    os.kill(pids[0], signal.SIGKILL)
    assert pool.wait_exit() == 1
    assert re.search(r"error: worker \d \(pid %d\) was killed by SIGKILL while serving" % pids[0], pool.err())
    assert not os.path.exists(pool.sock)
    wait_gone(pids)


def _notify_listener(tmp, abstract):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "h7-notify-%d-%s" % (os.getpid(), os.path.basename(tmp))
        s.bind("\0" + name)
        env_value = "@" + name
    else:
        env_value = os.path.join(tmp, "notify.sock")
        s.bind(env_value)
    s.settimeout(WAIT)
    return s, env_value


@pytest.mark.parametrize("abstract", [False, True])
def test_pool_notify(procs, tmp, abstract):
    s, addr = _notify_listener(tmp, abstract)
    with s:
        pool = start_pool(procs, tmp, "--workers", "2", "--notify", "--no-ready-line",
                          env={"NOTIFY_SOCKET": addr})
        got = []
        while "READY=1" not in got:
            got.append(s.recv(4096).decode())  # one message per datagram, as sdnotify sends
        assert got == ["STATUS=loading tts model on 2 workers", "STATUS=loaded 1/2 workers",
                       "STATUS=loaded 2/2 workers", "READY=1"]
        assert s.recv(4096).decode() == "STATUS=2 tts workers serving on %s" % pool.sock
        assert ask(pool.sock, {"op": "ping"})[0]["ok"]
        pool.wait_line(r"serving on")
        assert "ready" not in pool.out().split()  # --no-ready-line
        pool.p.send_signal(signal.SIGTERM)
        assert s.recv(4096).decode() == "STOPPING=1"
        assert pool.wait_exit() == 0


def test_pool_notify_and_ready_line(procs, tmp):
    s, addr = _notify_listener(tmp, False)
    with s:
        pool = start_pool(procs, tmp, "--notify", env={"NOTIFY_SOCKET": addr})
        pool.wait_line(r"^ready$")
        msgs = []
        while "READY=1" not in msgs:
            msgs.append(s.recv(4096).decode())


# --- node server -------------------------------------------------------------

needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def start_server(procs, tmp, env=None):
    e = {"PORT": "0", "HOST": "127.0.0.1", "HFINIT_STATUS_DIR": os.path.join(tmp, "status"),
         "HFINIT_RUN_DIR": tmp}
    e.update(env or {})
    p = Proc([NODE, SERVER], env=e)
    procs.append(p)
    p.port = int(p.wait_line(r"^listening on http://127\.0\.0\.1:(\d+)$").group(1))
    return p


def get(server, path, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    if conn is None:
        c.close()
    return r.status, body, r


def write_status(tmp, obj_or_text):
    d = os.path.join(tmp, "status")
    os.makedirs(d, exist_ok=True)
    text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text, indent=1)
    with open(os.path.join(d, ".status.json.tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(d, ".status.json.tmp"), os.path.join(d, "status.json"))  # as hfinit does
    return text


@needs_node
def test_server_health_from_own_state_without_status_file(procs, tmp):
    srv = start_server(procs, tmp)
    code, body, r = get(srv, "/health")
    assert code == 200 and r.getheader("X-Health-Source") == "self"
    j = json.loads(body)
    assert j["state"] == "ready" and j["source"] == "self" and os.path.join(tmp, "status") in j["reason"]
    srv.wait_line(r"^GET /health 200 [\d.]+ms$")


@needs_node
def test_server_health_requires_status_when_asked(procs, tmp):
    srv = start_server(procs, tmp, env={"HEALTH_REQUIRE_STATUS": "1"})
    code, body, _ = get(srv, "/health")
    assert code == 503
    j = json.loads(body)
    assert j["state"] == "unknown" and "no hfinit status.json" in j["reason"]


@needs_node
@pytest.mark.parametrize("state,code", [("ready", 200), ("degraded", 200), ("starting", 503),
                                        ("stopping", 503), ("failed", 503)])
def test_server_health_follows_status_json(procs, tmp, state, code):
    srv = start_server(procs, tmp)
    text = write_status(tmp, {"schema": 1, "state": state, "stage": 2, "services": {
        "tts": {"state": "failed" if state == "degraded" else "ready", "stage": 2, "required": False}}})
    got, body, r = get(srv, "/health")
    assert text  # the file is there, but /health shows a summary of it
    assert got == code and json.loads(body) == {"state": state, "source": "hfinit", "services": {
        "tts": {"state": "failed" if state == "degraded" else "ready",
                "ready": state != "degraded", "required": False}}}
    assert r.getheader("X-Health-Source") == "hfinit"
    assert r.getheader("X-Status-File") == os.path.join(tmp, "status", "status.json")
    srv.wait_line(r"^GET /health %d " % code)


@needs_node
def test_server_health_shows_no_command_line_or_error_text(procs, tmp):
    srv = start_server(procs, tmp)
    secret = "hf_0123456789abcdefSECRET"
    write_status(tmp, {"schema": 1, "state": "degraded", "pid": 1, "python": {"path": "/x"},
                       "services": {
        "web": {"state": "ready", "stage": 1, "required": True, "pid": 7,
                "command": f"node server/index.js --token {secret}"},
        "tts": {"state": "failed", "stage": 2, "required": False, "script": "/app/w.py",
                "last_error": {"text": f"KeyError: {secret}", "category": "crash",
                               "hint": secret}, "notify_status": secret}}})
    code, body, _ = get(srv, "/health")
    assert code == 200 and secret not in body and "/app/w.py" not in body
    assert json.loads(body) == {"state": "degraded", "source": "hfinit", "services": {
        "web": {"state": "ready", "ready": True, "required": True},
        "tts": {"state": "failed", "ready": False, "required": False}}}


@needs_node
def test_server_health_changes_with_the_file(procs, tmp):
    srv = start_server(procs, tmp)
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=WAIT)
    assert get(srv, "/health", c)[0] == 200  # no file yet: own state
    write_status(tmp, {"state": "starting"})
    assert get(srv, "/health", c)[0] == 503
    write_status(tmp, {"state": "ready"})
    assert get(srv, "/health", c)[0] == 200
    write_status(tmp, "{\"state\": \"rea")  # never written by hfinit, but must not pass
    code, body, _ = get(srv, "/health", c)
    assert code == 503 and "not valid JSON" in json.loads(body)["reason"]
    c.close()


@needs_node
def test_server_status_dir_search_order(procs, tmp):
    os.makedirs(os.path.join(tmp, "xdg", "hfinit"))
    with open(os.path.join(tmp, "xdg", "hfinit", "status.json"), "w") as f:
        f.write('{"state":"degraded"}')
    srv = start_server(procs, tmp, env={"HFINIT_STATUS_DIR": "", "XDG_RUNTIME_DIR": os.path.join(tmp, "xdg")})
    code, body, r = get(srv, "/health")
    if os.path.exists("/run/hfinit/status.json"):
        # Left by an hfinit run on this machine: it comes first in the order.
        assert r.getheader("X-Status-File") == "/run/hfinit/status.json"
    else:
        assert code == 200 and json.loads(body) == {"state": "degraded", "source": "hfinit",
                                                     "services": {}}
        assert r.getheader("X-Status-File") == os.path.join(tmp, "xdg", "hfinit", "status.json")
    os.remove(os.path.join(tmp, "xdg", "hfinit", "status.json"))
    code, body, r = get(srv, "/health")
    if not os.path.exists("/run/hfinit/status.json") and not os.path.exists("/tmp/hfinit/status.json"):
        assert code == 200 and r.getheader("X-Health-Source") == "self"
        assert "/run/hfinit, %s/xdg/hfinit, /tmp/hfinit" % tmp in json.loads(body)["reason"]


@needs_node
def test_server_proxies_jobs_to_the_pools(procs, tmp):
    srv = start_server(procs, tmp)
    tts = start_pool(procs, tmp, "--workers", "2")
    vc = start_pool(procs, tmp, worker_type="voice-clone")
    tts.wait_line(r"^ready$")
    vc.wait_line(r"^ready$")
    code, body, r = get(srv, "/api/tts?text=hello%20world")
    assert code == 200 and r.getheader("X-Pool") == "tts"
    j = json.loads(body)
    assert j["ok"] and j["text_sha256"] == hashlib.sha256(b"hello world").hexdigest()
    assert j["pid"] in worker_pids(tts)
    code, body, _ = get(srv, "/api/voice-clone?text=hi&voice=alice")
    j = json.loads(body)
    assert code == 200 and j["op"] == "clone" and j["voice"] == "alice"
    assert get(srv, "/api/tts")[0] == 400
    assert get(srv, "/nope")[0] == 404
    code, body, _ = get(srv, "/")
    assert code == 200 and "/api/voice-clone" in body and "present" in body
    srv.wait_line(r"^GET /api/voice-clone\?text=hi&voice=alice 200 ")


@needs_node
def test_server_503_when_pool_is_down(procs, tmp):
    srv = start_server(procs, tmp)
    code, body, _ = get(srv, "/api/tts?text=hi")  # never started: no socket
    j = json.loads(body)
    assert code == 503 and j["error"] == "pool unavailable" and "ENOENT" in j["reason"]
    pool = start_pool(procs, tmp)
    pool.wait_line(r"^ready$")
    assert get(srv, "/api/tts?text=hi")[0] == 200
    pids = worker_pids(pool)
    os.kill(pool.pid, signal.SIGKILL)  # crash: the socket file stays behind
    pool.wait_exit()
    wait_gone(pids)
    assert os.path.exists(pool.sock)
    code, body, _ = get(srv, "/api/tts?text=hi")
    assert code == 503 and "ECONNREFUSED" in json.loads(body)["reason"]
    assert get(srv, "/health")[0] == 200  # degraded mode: the server stays up
    assert srv.p.poll() is None


@needs_node
def test_server_sigterm_exits_0_within_1s(procs, tmp):
    srv = start_server(procs, tmp)
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=WAIT)
    assert get(srv, "/health", c)[0] == 200  # leaves a keep-alive connection open
    t0 = time.monotonic()
    srv.p.send_signal(signal.SIGTERM)
    assert srv.wait_exit() == 0
    assert time.monotonic() - t0 < 1.0
    assert "got SIGTERM, closing the server" in srv.out()
    c.close()


@needs_node
def test_server_sigterm_exits_0_within_1s_with_a_request_in_flight(procs, tmp):
    srv = start_server(procs, tmp)
    fake_pool = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # accepts, never answers
    fake_pool.bind(os.path.join(tmp, "tts.sock"))
    fake_pool.listen(1)
    fake_pool.settimeout(WAIT)
    with fake_pool:
        client = threading.Thread(target=lambda: _swallow(srv, "/api/tts?text=slow"), daemon=True)
        client.start()
        conn, _ = fake_pool.accept()  # the job reached the "pool": the request is in flight
        with conn:
            t0 = time.monotonic()
            srv.p.send_signal(signal.SIGTERM)
            assert srv.wait_exit() == 0
            assert time.monotonic() - t0 < 1.0
        client.join(WAIT)


def _swallow(srv, path):
    try:
        get(srv, path)
    except (OSError, http.client.HTTPException):
        pass  # the server went away mid-request, as intended


@needs_node
def test_server_port_in_use_exits_1(procs, tmp):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    with s:
        p = Proc([NODE, SERVER], env={"PORT": str(s.getsockname()[1]), "HOST": "127.0.0.1"})
        procs.append(p)
        assert p.wait_exit() == 1
        assert "EADDRINUSE" in p.err()


# --- reusable fixtures (tests/fixtures): they must do what their --help says --

FIXTURES = os.path.join(REPO, "tests", "fixtures")
SVC = os.path.join(FIXTURES, "svc.py")
SDNOTIFY = os.path.join(FIXTURES, "sdnotify_send.py")


def records(path):
    with open(path) as f:
        return [line.split() for line in f]


def test_svc_ready_signals_and_record(procs, tmp):
    rec = os.path.join(tmp, "rec")
    t0 = time.monotonic()
    p = Proc([PYTHON, SVC, "--name", "web", "--record", rec, "--ready-delay", "0.3",
              "--term-exit-code", "7", "--partial", "no-newline"])
    procs.append(p)
    p.wait_line(r"^ready$")
    assert time.monotonic() - t0 >= 0.3
    for s in (signal.SIGHUP, signal.SIGUSR1, signal.SIGWINCH):
        p.p.send_signal(s)
        deadline = time.monotonic() + WAIT
        while signal.Signals(s).name not in open(rec).read() and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a file: one signal at a time keeps the order known
    p.p.send_signal(signal.SIGTERM)
    assert p.wait_exit() == 7
    assert p.out().endswith("ready\nno-newline")
    ev = [r[1:3] if r[1] in ("signal", "exit") else r[1:2] for r in records(rec)]
    assert ev == [["start"], ["ready"], ["signal", "SIGHUP"], ["signal", "SIGUSR1"], ["signal", "SIGWINCH"],
                  ["signal", "SIGTERM"], ["exit", "7"]]
    assert all(r[0] == "web" and r[-3] == "pid=%d" % p.pid for r in records(rec))
    monos = [float(r[-1].split("=")[1]) for r in records(rec)]
    assert monos == sorted(monos)


def test_svc_exit_before_ready_and_hang(procs, tmp):
    p = Proc([PYTHON, SVC, "--ready-delay", "0.1", "--exit-before-ready", "5"])
    procs.append(p)
    assert p.wait_exit() == 5 and "ready" not in p.out().split()
    h = Proc([PYTHON, SVC, "--hang", "--record", tmp + "/rec"])
    procs.append(h)
    deadline = time.monotonic() + WAIT
    while not os.path.exists(tmp + "/rec") and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a file for the start record
    h.p.send_signal(signal.SIGINT)
    assert h.wait_exit() == 0 and h.out() == ""


def test_svc_ignore_term_and_children(procs, tmp):
    rec = os.path.join(tmp, "rec")
    p = Proc([PYTHON, SVC, "--ignore-term", "--children", "2", "--record", rec])
    procs.append(p)
    p.wait_line(r"^ready$")
    kids = [int(r[2]) for r in records(rec) if r[1] == "child"]
    assert len(kids) == 2 and all(os.getpgid(k) == p.pid for k in kids)
    os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + WAIT
    while "SIGTERM" not in open(rec).read() and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a file
    assert "SIGTERM" in open(rec).read()
    assert p.p.poll() is None and not any(gone(k) for k in kids)
    os.killpg(p.pid, signal.SIGKILL)
    assert p.wait_exit() == -signal.SIGKILL
    wait_gone(kids)


def test_svc_flood_checksum(procs, tmp):
    p = Proc([PYTHON, SVC, "--flood", "8", "--exit-after", "0"])
    procs.append(p)
    assert p.wait_exit() == 0
    m = re.search(r"^flood sha256=([0-9a-f]{64}) bytes=(\d+) lines=(\d+)$", p.err(), re.M)
    data = "".join(l + "\n" for l in p.out().splitlines() if l.startswith("flood ")).encode()
    assert len(data) == int(m.group(2)) >= 8 * 1024 * 1024
    assert hashlib.sha256(data).hexdigest() == m.group(1)


def test_svc_daemonize(procs, tmp):
    pidfile = os.path.join(tmp, "pid")
    p = Proc([PYTHON, SVC, "--daemonize", "--daemon-null-stdio", "--pidfile", pidfile,
              "--record", tmp + "/rec"])
    procs.append(p)
    assert p.wait_exit() == 0  # the original exits once the daemon exists
    deadline = time.monotonic() + WAIT
    while not os.path.exists(pidfile) and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a file written by a process that is not our child
    daemon = int(open(pidfile).read())
    try:
        assert daemon != p.pid and os.getsid(daemon) not in (p.pid, os.getsid(0))  # setsid()
        assert os.getsid(daemon) != daemon  # second fork: not a session leader
        assert ["daemon", str(daemon)] in [r[1:3] for r in records(tmp + "/rec")]
        with open("/proc/%d/stat" % daemon) as f:
            assert int(f.read().rsplit(")", 1)[1].split()[1]) != p.pid  # reparented
    finally:
        os.kill(daemon, signal.SIGKILL)
    wait_gone([daemon])


def test_svc_tcp_http_touch_fd_dump(procs, tmp):
    r, w = os.pipe()
    os.set_inheritable(w, True)
    p = Proc([PYTHON, SVC, "--tcp", "0", "--http-status", "204", "--touch", tmp + "/touched",
              "--fd", str(w), "--dump", tmp + "/dump.json", "--record", tmp + "/rec"],
             env={"SVC_TEST": "1"}, pass_fds=(w,))
    procs.append(p)
    os.close(w)
    assert os.read(r, 10) == b"\n"  # s6-style readiness
    assert os.read(r, 10) == b""  # and the fd is closed after it
    os.close(r)
    port = int(p.wait_line(r"^svc: tcp port (\d+)$", stream="err").group(1))
    p.wait_line(r"^ready$")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    c.request("GET", "/probe")
    assert c.getresponse().status == 204
    c.close()
    assert open(tmp + "/touched").read() == "ready\n"
    d = json.load(open(tmp + "/dump.json"))
    assert d["pid"] == p.pid and d["env"]["SVC_TEST"] == "1" and str(w) in d["fds"]
    assert set(d["fds"]) == {"0", "1", "2", str(w)}
    p.p.send_signal(signal.SIGTERM)
    assert p.wait_exit() == 0
    assert ["http", "/probe"] in [x[1:3] for x in records(tmp + "/rec")]


def test_svc_kill_self(procs, tmp):
    p = Proc([PYTHON, SVC, "--kill-self-after", "0.1"])
    procs.append(p)
    assert p.wait_exit() == -signal.SIGSEGV
    p = Proc([PYTHON, SVC, "--kill-self-after", "0", "--kill-signal", "KILL"])
    procs.append(p)
    assert p.wait_exit() == -signal.SIGKILL


@pytest.mark.parametrize("abstract", [False, True])
def test_sdnotify_send(procs, tmp, abstract):
    s, addr = _notify_listener(tmp, abstract)
    with s:
        p = Proc([PYTHON, SDNOTIFY, "STATUS=loading", "READY=1"], env={"NOTIFY_SOCKET": addr})
        procs.append(p)
        assert p.wait_exit() == 0
        assert [s.recv(4096), s.recv(4096)] == [b"STATUS=loading", b"READY=1"]
        p = Proc([PYTHON, SDNOTIFY, "--join", "--pid", "READY=1", "STATUS=up", "--socket", addr])
        procs.append(p)
        assert p.wait_exit() == 0
        assert s.recv(4096) == b"MAINPID=%d\nREADY=1\nSTATUS=up" % p.pid
        p = Proc([PYTHON, SDNOTIFY, "--sendto", "--wait", "READY=1"], env={"NOTIFY_SOCKET": addr})
        procs.append(p)
        assert s.recv(4096) == b"READY=1"
        p.p.send_signal(signal.SIGTERM)
        assert p.wait_exit() == 0
        p = Proc([PYTHON, SVC, "--notify", "--status", "warming up", "--notify-stopping"],
                 env={"NOTIFY_SOCKET": addr})
        procs.append(p)
        assert [s.recv(4096), s.recv(4096)] == [b"STATUS=warming up", b"READY=1"]
        p.p.send_signal(signal.SIGTERM)
        assert s.recv(4096) == b"STOPPING=1"
        assert p.wait_exit() == 0


def test_sdnotify_send_errors(procs, tmp):
    p = Proc([PYTHON, SDNOTIFY, "READY=1"])
    procs.append(p)
    assert p.wait_exit() == 1 and "NOTIFY_SOCKET is not set" in p.err()
    p = Proc([PYTHON, SDNOTIFY, "--lenient", "READY=1"], env={"NOTIFY_SOCKET": tmp + "/absent"})
    procs.append(p)
    assert p.wait_exit() == 0 and p.err() == ""
    p = Proc([PYTHON, SDNOTIFY, "READY=1"], env={"NOTIFY_SOCKET": tmp + "/absent"})
    procs.append(p)
    assert p.wait_exit() == 1 and "cannot connect" in p.err()


# --- the Space under hfinit (the README's main command) -----------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@needs_node
def test_space_under_hfinit(procs, tmp):
    """docker/example-space/hfinit.ini run by the real binary (PID 1 of a new
    PID namespace when root, else a subreaper): the stages come up, /health
    serves a summary of status.json, a job goes through, SIGINT stops the pools
    before the server, everything exits 0 and the sockets are gone."""
    hfinit = os.environ.get("HFINIT_BIN")
    if not hfinit:
        pytest.skip("HFINIT_BIN is not set (run through `make integration`)")
    port = free_port()
    with open(os.path.join(SPACE, "hfinit.ini")) as f:
        conf = f.read()
    assert "ready        = tcp:7860" in conf
    conf = conf.replace("ready        = tcp:7860", "ready        = tcp:127.0.0.1:%d" % port)
    with open(os.path.join(tmp, "space.ini"), "w") as f:
        f.write(conf)
    status_dir, run_dir = os.path.join(tmp, "status"), os.path.join(tmp, "run")
    env = {"PORT": str(port), "HOST": "127.0.0.1", "HFINIT_STATUS_DIR": status_dir,
           "HFINIT_RUN_DIR": run_dir, "HFINIT_TEST_LOAD_SECONDS": "0.3", "PYTHON_PATH": PYTHON,
           "HF_HOME": os.path.join(tmp, "hf")}
    argv = [hfinit, "-c", os.path.join(tmp, "space.ini")]
    as_pid1 = os.geteuid() == 0 and shutil.which("unshare")
    if as_pid1:
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"] + argv
    h = Proc(argv, env=env, cwd=SPACE)
    procs.append(h)
    h.wait_line(r"^\[web\] listening on http://127\.0\.0\.1:%d$" % port)
    web = types.SimpleNamespace(port=port)  # what get() needs of a server
    h.wait_line(r"^\[tts\] ready$")
    h.wait_line(r"^\[voice-clone\] ready$")
    deadline = time.monotonic() + WAIT
    while True:  # the status file is written right after the last pool's ready line
        code, body, r = get(web, "/health")
        if r.getheader("X-Health-Source") == "hfinit" and json.loads(body)["state"] == "ready":
            break
        assert time.monotonic() < deadline, (code, body)
        time.sleep(0.05)  # polling the status file through /health
    assert code == 200
    status = json.loads(body)
    assert {n: s["state"] for n, s in status["services"].items()} == \
        {"web": "ready", "fetch-models": "done", "tts": "ready", "voice-clone": "ready"}
    # The stage-1 one-shot copied the weights into HF_HOME before a pool started,
    # and the pools read that copy.
    fetched = os.path.join(tmp, "hf", "example-space")
    h.wait_line(r"^\[fetch-models\] models in %s: 2 fetched$" % re.escape(fetched))
    assert sorted(os.listdir(fetched)) == ["tts.bin", "voice-clone.bin"]
    err = h.err().splitlines()
    done = [i for i, ln in enumerate(err)
            if re.match(r"hfinit: info: \[fetch-models\] done in \d+ ms \(exited 0\)", ln)]
    pools = [i for i, ln in enumerate(err) if re.match(r"hfinit: info: \[(tts|voice-clone)\] started", ln)]
    assert len(done) == 1 and len(pools) == 2 and done[0] < min(pools), err
    h.wait_line(r"^\[tts\] tts pool: starting 2 workers, model %s/tts\.bin"
                % re.escape(fetched))
    assert r.getheader("X-Status-File") == os.path.join(status_dir, "status.json")
    code, body, _ = get(web, "/api/tts?text=under%20hfinit")
    assert code == 200 and json.loads(body)["text_sha256"] == hashlib.sha256(b"under hfinit").hexdigest()
    assert sorted(os.listdir(run_dir)) == ["tts.sock", "voice-clone.sock"]

    target = children(h.pid)[0] if as_pid1 else h.pid  # unshare does not forward signals
    os.kill(target, signal.SIGINT)
    assert h.wait_exit(timeout=20) == 0
    out = h.out().splitlines()
    web_stop = out.index("[web] got SIGTERM, closing the server")
    assert out.index("[tts] tts pool stopped") < web_stop  # stages stop in reverse order
    assert out.index("[voice-clone] voice-clone pool stopped") < web_stop
    assert os.listdir(run_dir) == []


@needs_node
def test_space_under_hfinit_without_pools(procs, tmp):
    """The Space Variable HFINIT_NO_POOLS=1 (the pools' `condition =
    !env:HFINIT_NO_POOLS`): both pools are disabled when stage 2 opens, with
    the condition named in the log and status.json; the web server serves
    alone and the Space is ready, not degraded."""
    hfinit = os.environ.get("HFINIT_BIN")
    if not hfinit:
        pytest.skip("HFINIT_BIN is not set (run through `make integration`)")
    port = free_port()
    with open(os.path.join(SPACE, "hfinit.ini")) as f:
        conf = f.read().replace("ready        = tcp:7860", "ready        = tcp:127.0.0.1:%d" % port)
    with open(os.path.join(tmp, "space.ini"), "w") as f:
        f.write(conf)
    status_dir = os.path.join(tmp, "status")
    env = {"PORT": str(port), "HOST": "127.0.0.1", "HFINIT_STATUS_DIR": status_dir,
           "HFINIT_RUN_DIR": os.path.join(tmp, "run"), "PYTHON_PATH": PYTHON,
           "HFINIT_NO_POOLS": "1"}
    h = Proc([hfinit, "-c", os.path.join(tmp, "space.ini")], env=env, cwd=SPACE)
    procs.append(h)
    for pool in ("fetch-models", "tts", "voice-clone"):
        h.wait_line(r"^hfinit: info: \[%s\] disabled: condition !env:HFINIT_NO_POOLS failed "
                    r"\(is set\)$" % pool, stream="err")
    h.wait_line(r"^hfinit: info: all stages up after \d+ ms$", stream="err")
    web = types.SimpleNamespace(port=port)
    deadline = time.monotonic() + WAIT
    while True:
        code, body, r = get(web, "/health")
        if r.getheader("X-Health-Source") == "hfinit" and json.loads(body)["state"] == "ready":
            break
        assert time.monotonic() < deadline, (code, body)
        time.sleep(0.05)  # polling the status file through /health
    with open(os.path.join(status_dir, "status.json")) as f:
        doc = json.load(f)
    assert {n: (s["state"], s["disabled_reason"]) for n, s in doc["services"].items()} == {
        "web": ("ready", None),
        "fetch-models": ("disabled", "condition !env:HFINIT_NO_POOLS failed (is set)"),
        "tts": ("disabled", "condition !env:HFINIT_NO_POOLS failed (is set)"),
        "voice-clone": ("disabled", "condition !env:HFINIT_NO_POOLS failed (is set)")}
    assert doc["state"] == "ready" and doc["all_required_ready"] is True
    h.p.send_signal(signal.SIGTERM)
    assert h.wait_exit(timeout=20) == 0
    assert not re.search(r"\[(fetch-models|tts|voice-clone)\] started", h.err()), h.err()
