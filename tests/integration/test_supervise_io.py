"""Supervision mode: output (100 MB checksum through hfinit with a slow reader,
prefixes, JSON lines, long and partial lines, failure signatures), exit codes
of set-up (2: config, 3: resolution), Python services (`script =`).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from supervise_util import (HFINIT, MODES, PY, SVC, need_hfinit, q,  # noqa: F401
                            start_hfinit, svc, wait_for, write_config)


@pytest.mark.parametrize("mode", MODES)
def test_100mb_output_checksum_with_slow_reader(tmp_path, start_hfinit, mode):  # noqa: F811
    """100 MiB of stdout lines pass through hfinit unchanged and in order, while
    the test does not read hfinit's stdout for the first second (hfinit must
    hold back, not drop); a notify service becomes ready meanwhile."""
    rec = os.path.join(str(tmp_path), "rec")
    cfg = write_config(tmp_path, """
        [service:f]
        command = %s
        ready = line:svc-is-up
        restart = no
        [service:late]
        stage = 2
        command = %s
        ready = notify
        """ % (svc("--name", "f", "--record", rec, "--flood", "100", "--exit-after", "0"),
               svc("--name", "late", "--record", rec, "--notify", "--ready-delay", "0.2",
                   "--no-ready-line")))
    st = {"h": hashlib.sha256(), "n": 0, "bytes": 0, "other": []}
    done = threading.Event()
    prefix = b"[f] "

    def on_line(raw):
        if raw.startswith(b"[f] flood "):
            body = raw[len(prefix):]
            st["h"].update(body)
            st["n"] += 1
            st["bytes"] += len(body)
        else:
            st["other"].append(raw)
        if st["n"] >= 1048576:
            done.set()

    hold = threading.Event()
    h = start_hfinit(cfg, mode=mode, stdout_line=on_line, stdout_hold=hold)
    # Held stdout: the notify service still gets ready and hfinit's log goes on.
    h.wait_line(r"^hfinit: info: \[late\] ready in \d+ ms \(READY=1\)", timeout=15)
    assert st["n"] == 0
    hold.set()
    _, _, m = h.wait_line(r"^\[f\] flood sha256=([0-9a-f]{64}) bytes=(\d+) lines=(\d+)$",
                          timeout=60)
    assert done.wait(60), "only %d flood lines arrived" % st["n"]
    h.wait_line(r"^hfinit: info: \[f\] exited 0: done \(restart = no\)$", timeout=30)
    assert (st["h"].hexdigest(), st["bytes"], st["n"]) == \
        (m.group(1), int(m.group(2)), int(m.group(3)))
    assert int(m.group(2)) == 100 * 1024 * 1024
    assert st["other"] == [b"[f] svc-is-up\n"], st["other"][:5]
    assert h.find(r"dropped") is None, h.dump()
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_prefix_json_long_and_partial_lines(tmp_path, start_hfinit):  # noqa: F811
    long_line = "L" * 20000
    cfg = write_config(tmp_path, """
        [service:web]
        command = %s
        ready = line:svc-is-up
        log_prefix = web|
        restart = no
        [service:long]
        command = %s
        ready = line:svc-is-up
        restart = no
        """ % (svc("--say", "hello there", "--say-err", "to stderr", "--partial", "no newline",
                   "--exit-after", "0"),
               q(PY, "-c", "print('L' * 20000); print('svc-is-up')")))
    h = start_hfinit(cfg)
    h.wait_line(r"every service has ended")
    assert h.wait_exit() == 0, h.dump()
    out = h.text("out").split("\n")
    assert "web|hello there" in out
    assert "web|no newline" in out  # the partial last line, flushed at exit
    assert out.index("web|no newline") > out.index("web|svc-is-up")
    assert "web|to stderr" in h.text("err").split("\n")
    pieces = [x for x in out if x.startswith("[long] L")]
    assert [len(x) - len("[long] ") for x in pieces] == [8192, 8192, 20000 - 2 * 8192]
    assert "".join(x[len("[long] "):] for x in pieces) == long_line


TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def no_ts(doc):
    """A JSON line without its "ts" (which every JSON line carries: checked)."""
    assert TS.match(doc.pop("ts")), doc
    return doc


def test_json_log_format(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, """
        [hfinit]
        log_format = json
        [service:w]
        command = %s
        ready = line:svc-is-up
        restart = no
        """ % svc("--say", 'a "quoted" word', "--say-err", "ValueError: bad value",
                  "--say-err", "DeprecationWarning: old", "--exit-after", "0"))
    h = start_hfinit(cfg)
    assert h.wait_exit() == 0, h.dump()
    outs = [no_ts(json.loads(x)) for x in h.text("out").split("\n") if x]
    errs = [no_ts(json.loads(x)) for x in h.text("err").split("\n") if "\"svc\":" in x]
    assert {"svc": "w", "stream": "stdout", "level": "info", "msg": 'a "quoted" word'} in outs
    assert {"svc": "w", "stream": "stdout", "level": "info", "msg": "svc-is-up"} in outs
    assert {"svc": "w", "stream": "stderr", "level": "error", "msg": "ValueError: bad value"} in errs
    assert {"svc": "w", "stream": "stderr", "level": "warning",
            "msg": "DeprecationWarning: old"} in errs


@pytest.mark.parametrize("line,category", [
    ("ModuleNotFoundError: No module named 'torch'", "missing-dependency"),
    ("OSError: [Errno 98] Address already in use", "port-in-use"),
    # uvicorn, gunicorn and gradio word a taken port their own way
    ("ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 7860): "
     "address already in use", "port-in-use"),
    ("[2026-12-01 19:55:00 +0000] [7] [ERROR] Connection in use: ('0.0.0.0', 7860)",
     "port-in-use"),
    ("OSError: Cannot find empty port in range: 7860-7860. You can specify a different port "
     "by setting the GRADIO_SERVER_PORT environment variable", "port-in-use"),
    ("Error: Cannot find module '/app/dist/index.js'", "node-module-missing"),
])
def test_failure_signature_hint(tmp_path, start_hfinit, line, category):  # noqa: F811
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        retries = 1
        """ % svc("--say-err", "Traceback (most recent call last):", "--say-err", line,
                  "--exit-before-ready", "1"))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: warn: \[s\] %s: \S.*$" % re.escape(category))
    assert h.wait_exit() == 1, h.dump()
    assert len(h.find_all(r"^hfinit: warn: \[s\] %s:" % re.escape(category))) == 1


@pytest.mark.parametrize("mode", MODES)
def test_config_error_exit_2_nothing_started(tmp_path, mode):
    need_hfinit()
    marker = os.path.join(str(tmp_path), "started")
    cfg = write_config(tmp_path, """
        [service:ok]
        command = /bin/touch %s

        [service:bad]
        command = /bin/true
        ready_timout = 5s
        """ % marker)
    argv = [HFINIT, "-c", cfg]
    if mode == "pid1":
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
    r = subprocess.run(argv, capture_output=True, timeout=10, text=True)
    assert r.returncode == 2, r
    assert re.search(r"hfinit\.ini:6: \[service:bad\] ready_timout: .*ready_timeout", r.stderr), \
        r.stderr
    assert "nothing started" in r.stderr
    assert not os.path.exists(marker)
    assert r.stdout == ""


def test_bad_usage_exit_2():
    need_hfinit()
    r = subprocess.run([HFINIT, "-c"], capture_output=True, timeout=10, text=True)
    assert r.returncode == 2, r
    r = subprocess.run([HFINIT, "-c", "/nonexistent/hfinit.ini"], capture_output=True,
                       timeout=10, text=True)
    assert r.returncode == 2, r
    assert "/nonexistent/hfinit.ini" in r.stderr


@pytest.mark.parametrize("mode", MODES)
def test_missing_script_exit_3_lists_paths(tmp_path, mode):
    need_hfinit()
    marker = os.path.join(str(tmp_path), "started")
    a, b = os.path.join(str(tmp_path), "a"), os.path.join(str(tmp_path), "b")
    os.makedirs(a)
    os.makedirs(os.path.join(b, "srv", "worker.py"))  # a directory, not a file
    cfg = write_config(tmp_path, """
        [hfinit]
        app_dirs = %s %s
        python = %s
        [service:ok]
        command = /bin/touch %s
        [service:w]
        script = srv/worker.py
        """ % (a, b, PY, marker))
    argv = [HFINIT, "-c", cfg]
    if mode == "pid1":
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
    r = subprocess.run(argv, capture_output=True, timeout=20, text=True)
    assert r.returncode == 3, r
    assert os.path.join(a, "srv", "worker.py") in r.stderr, r.stderr
    assert os.path.join(b, "srv", "worker.py") in r.stderr, r.stderr
    assert re.search(re.escape(os.path.join(a, "srv", "worker.py")) + r".*missing", r.stderr)
    assert re.search(re.escape(os.path.join(b, "srv", "worker.py")) + r".*not a (regular )?file",
                     r.stderr), r.stderr
    assert not os.path.exists(marker)


def test_python_script_service(tmp_path, start_hfinit):  # noqa: F811
    """script = runs with the resolved interpreter; PYTHONUNBUFFERED=1; args passed."""
    dump = os.path.join(str(tmp_path), "dump.json")
    cfg = write_config(tmp_path, """
        [hfinit]
        python = %s
        [service:py]
        script = %s
        args = --dump %s --ready-line svc-is-up --say 'two words'
        ready = line:svc-is-up
        [service:env]
        command = %s
        ready = line:svc-is-up
        env = PYTHONUNBUFFERED=0 EXTRA=yes
        [service:py0]
        script = %s
        args = --dump %s.3 --ready-line svc-is-up
        ready = line:svc-is-up
        env = PYTHONUNBUFFERED=0
        """ % (PY, SVC, dump, svc("--dump", dump + ".2"), SVC, dump))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: info: python: %s " % re.escape(PY))
    h.wait_line(r"all stages up")
    h.wait_line(r"^\[py\] two words$", stream="out")
    with open(dump) as f:
        facts = json.load(f)
    assert facts["env"]["PYTHONUNBUFFERED"] == "1"
    assert facts["argv"][0] == SVC
    assert os.path.realpath("/proc/%d/exe" % facts["pid"]) == os.path.realpath(PY)
    with open(dump + ".2") as f:
        env2 = json.load(f)["env"]
    assert env2["PYTHONUNBUFFERED"] == "0" and env2["EXTRA"] == "yes"
    with open(dump + ".3") as f:  # set by the config: kept
        assert json.load(f)["env"]["PYTHONUNBUFFERED"] == "0"
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.skipif(os.geteuid() != 0, reason="user = needs root")
def test_command_service_as_other_user_gets_writable_home(tmp_path, start_hfinit):  # noqa: F811
    """docs/design.md "Plan": a service whose HOME it cannot write gets a writable one."""
    shared = tempfile.mkdtemp(prefix="hfinit-test-")  # reachable for uid 65534
    os.chmod(shared, 0o777)
    dump = os.path.join(shared, "dump.json")
    cfg = write_config(tmp_path, """
        [service:c]
        command = %s
        ready = line:svc-is-up
        user = nobody
        """ % svc("--dump", dump))
    h = start_hfinit(cfg, env={"HOME": "/root"})
    h.wait_line(r"all stages up")
    with open(dump) as f:
        facts = json.load(f)
    assert facts["uid"] == 65534
    home = facts["env"]["HOME"]
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    shutil.rmtree(shared, ignore_errors=True)
    assert home != "/root" and os.stat(home).st_uid == 65534, home


def test_python_not_found_exit_3(tmp_path):
    """$PYTHON_PATH set and broken: exit 3 naming it, nothing started."""
    need_hfinit()
    marker = os.path.join(str(tmp_path), "started")
    cfg = write_config(tmp_path, """
        [service:ok]
        command = /bin/touch %s
        [service:w]
        script = %s
        """ % (marker, SVC))
    env = dict(os.environ, PYTHON_PATH="/nonexistent/bin/python3",
               HFINIT_STATUS_DIR=str(tmp_path))
    r = subprocess.run([HFINIT, "-c", cfg], capture_output=True, timeout=20, text=True, env=env)
    assert r.returncode == 3, r
    assert "/nonexistent/bin/python3" in r.stderr, r.stderr
    assert not os.path.exists(marker)


def test_config_from_env_and_not_passed_on(tmp_path, start_hfinit):  # noqa: F811
    """No -c: $HFINIT_CONFIG names the config; services do not inherit it."""
    dump = os.path.join(str(tmp_path), "dump.json")
    cfg = write_config(tmp_path, """
        [service:s]
        command = %s
        ready = line:svc-is-up
        """ % svc("--dump", dump))
    h = start_hfinit(None, env={"HFINIT_CONFIG": cfg, "SOME_SETTING": "kept"})
    h.wait_line(r"all stages up")
    with open(dump) as f:
        facts = json.load(f)
    assert "HFINIT_CONFIG" not in facts["env"]
    assert facts["env"]["SOME_SETTING"] == "kept"
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
def test_node_port_in_use_hint(tmp_path, start_hfinit):  # noqa: F811
    """A real Node server whose port is taken: its crash is diagnosed port-in-use."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    js = ("require('net').createServer().listen(%d, '127.0.0.1', "
          "() => console.log('node-is-listening'))" % port)
    cfg = write_config(tmp_path, """
        [service:first]
        command = %s
        ready = tcp:127.0.0.1:%d
        [service:second]
        stage = 2
        command = %s
        ready = line:node-is-listening
        retries = 1
        required = no
        """ % (q(shutil.which("node"), "-e", js), port, q(shutil.which("node"), "-e", js)))
    h = start_hfinit(cfg)
    h.wait_line(r"^hfinit: warn: \[second\] port-in-use: \S")
    h.wait_line(r"^hfinit: warn: \[second\] optional service failed: continuing degraded$")
    assert h.find(r"^\[second\] .*EADDRINUSE")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


# --- no output lost behind a slow reader, at run time and at shutdown -----------

FLOOD_PY = r'''
import os, signal, sys, zlib
name, total, rec = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3]
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
ALPHA = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" * 40
recfd = os.open(rec, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(1, b"svc-is-up\n")
seq = sent = 0
while sent < total and not stop:
    batch = b""
    while sent + len(batch) < total:
        k = 20 + (seq * 7919) % 980  # 20..999 bytes of payload, varied
        head = b"%s %08d " % (name, seq)
        body = ALPHA[seq % 62:seq % 62 + k]
        line = b"%s%08x %s\n" % (head, zlib.crc32(head + body), body)
        if len(batch) + len(line) > 4096:  # one atomic pipe write at most
            break
        batch += line
        seq += 1
    assert os.write(1, batch) == len(batch)  # all of it is in the pipe now
    sent += len(batch)
    os.pwrite(recfd, b"%12d %12d\n" % (seq, sent), 0)  # lines, bytes written so far
'''

RATE = 3_000_000  # bytes/s: the deliberately slow reader of hfinit's stdout


def _flood_config(tmp_path, nsvc, mib, stop="5s"):
    script = os.path.join(str(tmp_path), "flood.py")
    with open(script, "w") as f:
        f.write(FLOOD_PY)
    text = "[hfinit]\nstop_timeout = %s\n" % stop
    for i in range(nsvc):
        text += ("[service:s%d]\ncommand = %s\nready = line:svc-is-up\nrestart = no\n"
                 "stop_timeout = %s\n" % (i, q(PY, script, "s%d" % i, mib << 20,
                                                 os.path.join(str(tmp_path), "s%d.rec" % i)), stop))
    return write_config(tmp_path, text)


class _SlowReader:
    """stdout_line hook: reads at RATE bytes/s at most, checks every flood line
    (checksum, per-service sequence) and counts them."""

    def __init__(self, nsvc):
        self.t0 = None
        self.nbytes = 0
        self.seq = {"s%d" % i: 0 for i in range(nsvc)}
        self.bad = []
        self.good = 0  # flood lines that arrived whole and in sequence
        self.other = []
        self.at = {}  # byte count -> Event
        self.lock = threading.Lock()

    def mark(self, nbytes):
        ev = threading.Event()
        self.at[nbytes] = ev
        return ev

    def __call__(self, raw):
        import time
        import zlib
        if self.t0 is None:
            self.t0 = time.monotonic()
        self.nbytes += len(raw)
        ahead = self.nbytes / RATE - (time.monotonic() - self.t0)
        if ahead > 0:
            time.sleep(ahead)  # the rate limit, not a synchronisation
        for n, ev in self.at.items():
            if self.nbytes >= n:
                ev.set()
        m = re.match(rb"^\[(s\d+)\] (s\d+) (\d{8}) ([0-9a-f]{8}) ([A-Za-z0-9]*)\n$", raw)
        if not m:
            self.other.append(raw)
            return
        name, seq = m.group(1).decode(), int(m.group(3))
        head = b"%s %s " % (m.group(2), m.group(3))
        ok = (m.group(2).decode() == name and zlib.crc32(head + m.group(5)) ==
              int(m.group(4), 16) and len(m.group(5)) == 20 + (seq * 7919) % 980)
        with self.lock:
            if not ok or seq != self.seq[name]:
                self.bad.append((name, self.seq[name], raw[:80]))
            else:
                self.good += 1
            self.seq[name] = seq + 1

    def check(self, rec):
        """Every line each service wrote arrived, whole, once, in order."""
        want = sum(v[0] for v in rec.values())
        assert (self.good, self.bad[:5]) == (want, []), \
            "%d of %d lines arrived intact and in order (%d in all, %d bytes)" % (
                self.good, want, self.good + len(self.bad), self.nbytes)
        assert self.seq == {k: v[0] for k, v in rec.items()}


def _records(tmp_path, nsvc):
    """{name: (lines, bytes)} each flood service has written (the last count,
    even if it was SIGKILLed); (0, 0) before its first write."""
    out = {}
    for i in range(nsvc):
        try:
            with open(os.path.join(str(tmp_path), "s%d.rec" % i)) as f:
                lines, nbytes = f.read().split() or ("0", "0")
        except FileNotFoundError:
            lines, nbytes = "0", "0"
        out["s%d" % i] = (int(lines), int(nbytes))
    return out


def _output_status(h):
    with open(os.path.join(h.status_dir, "status.json")) as f:
        return json.load(f)["output"]


NO_DROPS = {"stdout": {"dropped_lines": 0, "dropped_bytes": 0, "reason": None},
            "stderr": {"dropped_lines": 0, "dropped_bytes": 0, "reason": None}}


@pytest.mark.parametrize("mode", MODES)
def test_12_floods_slow_reader_nothing_lost(tmp_path, start_hfinit, mode):  # noqa: F811
    """12 services write 2 MiB each of numbered, checksummed lines of varied
    length; hfinit's stdout is read at 3 MB/s: every line arrives whole, in
    order per service, none twice (today: a third of them were dropped)."""
    n = 12
    rd = _SlowReader(n)
    h = start_hfinit(_flood_config(tmp_path, n, 2), mode=mode, stdout_line=rd)
    h.wait_line(r"every service has ended", timeout=60)
    assert h.wait_exit(timeout=30) == 0, h.dump()
    rec = _records(tmp_path, n)
    rd.check(rec)
    assert all(v[1] >= 2 << 20 for v in rec.values()), rec  # each flood ran to its end
    assert sorted(rd.other) == sorted(b"[s%d] svc-is-up\n" % i for i in range(n))
    assert h.find(r"dropped|not written") is None, h.dump()
    assert _output_status(h) == NO_DROPS


@pytest.mark.parametrize("mode", MODES)
def test_sigterm_during_floods_nothing_lost(tmp_path, start_hfinit, mode):  # noqa: F811
    """The same floods, SIGTERM once the reader has 6 MB: each service stops,
    records how many lines it wrote, exits; every one of those lines arrives,
    and hfinit exits within its shutdown bound (stop_timeout 5 s for the stage,
    5 s for escaped processes, 5 s to write what is buffered)."""
    n = 12
    rd = _SlowReader(n)
    halfway = rd.mark(6_000_000)
    h = start_hfinit(_flood_config(tmp_path, n, 2), mode=mode, stdout_line=rd)
    assert halfway.wait(30), h.dump()
    h.signal(15)
    assert h.wait_exit(timeout=15 + 5) == 0, h.dump()
    rec = _records(tmp_path, n)
    rd.check(rec)
    assert sum(v[1] for v in rec.values()) < n * 2 << 20, rec  # stopped mid-flood
    assert h.find(r"dropped|not written") is None, h.dump()
    assert _output_status(h) == NO_DROPS


def test_stdout_closed_drops_are_counted(tmp_path, start_hfinit):  # noqa: F811
    """Nobody reads hfinit's stdout (closed before any output): every service
    stdout line is lost, and exactly that loss is reported, once when it
    starts and in total at exit, in the log and in status.json."""
    n = 3
    h = start_hfinit(_flood_config(tmp_path, n, 1), stdout_closed=True)
    assert h.wait_exit(timeout=30) == 0, h.dump()
    rec = _records(tmp_path, n)
    lines = sum(v[0] + 1 for v in rec.values())  # + the ready line
    nbytes = sum(v[1] + len("[s0] ") * (v[0] + 1) + len("svc-is-up\n") for v in rec.values())
    assert len(h.find_all(r"^hfinit: warn: stdout: Broken pipe: output to it is dropped$")) \
        == 1, h.dump()
    h.wait_line(r"^hfinit: warn: stdout: %d lines \(%d bytes\) dropped: Broken pipe$"
                % (lines, nbytes))
    assert _output_status(h) == {
        "stdout": {"dropped_lines": lines, "dropped_bytes": nbytes, "reason": "Broken pipe"},
        "stderr": {"dropped_lines": 0, "dropped_bytes": 0, "reason": None}}


def test_json_log_every_line_is_json_with_invalid_utf8(tmp_path):
    """log_format = json: every line hfinit writes, its own and the services',
    is one JSON object (strict UTF-8), also when the bytes it reports are not
    UTF-8: service output, a command path in an error, an env-given path.
    Invalid bytes become U+FFFD, control characters \\u00XX (hfinit's own
    lines copied them raw: 3 of 18 lines were not JSON)."""
    need_hfinit()
    code = (r'import os; os.write(1, b"out \xff\xfe \xe2\x82 \x01 \x7f \"q\" ok\n");'
            r' os.write(2, b"Traceback (most recent call last):\nValueError: bad \xc3\x28\n")')
    cfg = os.path.join(str(tmp_path), "c.ini")
    with open(cfg, "wb") as f:
        f.write(b"[hfinit]\nlog_format = json\n"
                b"[service:bad]\ncommand = /nonexistent/\xff\xfe\xc0\xaf-app\n"
                b"required = no\nretries = 1\n"
                b"[service:w]\ncommand = %s -c '%s'\nrestart = no\nready = started\n"
                % (PY.encode(), code.encode()))
    env = dict(os.environ)
    env["HFINIT_STATUS_DIR"] = os.fsdecode(b"/proc/\xff\xfe/st")
    r = subprocess.run([HFINIT, "-c", cfg], stdin=subprocess.DEVNULL, capture_output=True,
                       env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    docs = {"out": [], "err": []}
    for name, data in (("out", r.stdout), ("err", r.stderr)):
        for raw in data.splitlines():
            docs[name].append(no_ts(json.loads(raw.decode("utf-8"))))  # strict: raises if not
    assert docs["out"] == [{"svc": "w", "stream": "stdout", "level": "info",
                            "msg": 'out \ufffd\ufffd \ufffd\ufffd \x01 \x7f "q" ok'}]
    msgs = [d["msg"] for d in docs["err"]]
    assert "[bad] cannot start: exec /nonexistent/\ufffd\ufffd\ufffd\ufffd-app: " \
        "No such file or directory" in msgs, msgs
    assert any(m.startswith("status files disabled (the services run anyway): status dir "
                            "/proc/\ufffd\ufffd/st (from HFINIT_STATUS_DIR)") for m in msgs), msgs
    assert {"svc": "w", "stream": "stderr", "level": "error",
            "msg": "ValueError: bad \ufffd("} in docs["err"]
    assert msgs[-1] == "stopped, exit 0"


def test_exit_cut_is_counted_exactly(tmp_path, start_hfinit):  # noqa: F811
    """hfinit's stdout is not read at all (held open): the flood blocks, SIGTERM
    ends it (SIGKILL after stop_timeout 1 s, blocked in write), and after 5 s
    of trying to write what is buffered hfinit cuts. The cut says how much and
    why, in the log and status.json, and the count is exact: the lines that
    arrive afterwards (they were in the pipe) and the lines cut are together
    exactly the lines the service wrote, the cut ones being the last (was:
    the cut was not reported at all)."""
    rd = _SlowReader(1)
    hold = threading.Event()
    cfg = _flood_config(tmp_path, 1, 3, stop="1s")
    h = start_hfinit(cfg, stdout_line=rd, stdout_hold=hold)
    h.wait_line(r"^hfinit: info: \[s0\] ready in \d+ ms")
    # 600 kB written: more than the two pipes (64 KiB each) hold, so hfinit
    # has some buffered when the flood ends.
    wait_for(lambda: _records(tmp_path, 1)["s0"][1] >= 600_000, what="600 kB written")
    h.signal(15)
    _, _, m = h.wait_line(r"^hfinit: warn: stdout: (\d+) lines \((\d+) bytes\) dropped: "
                          r"not written within 5 s at exit$", timeout=20)
    h.wait_line(r"^hfinit: info: stopped, exit 0$")
    hold.set()
    assert h.wait_exit() == 0, h.dump()
    written = _records(tmp_path, 1)["s0"][0]
    cut, cut_bytes = int(m.group(1)), int(m.group(2))
    got = rd.seq["s0"]
    assert rd.bad == [] and rd.good == got, rd.bad[:5]
    assert (got + cut, cut > 0) == (written, True)
    line_len = [len("[s0] s0 00000000 01234567 \n") + 20 + (i * 7919) % 980
                for i in range(got, written)]
    # The cut may fall inside a line (the kernel took part of a write): that
    # line arrives torn, without its newline, and only its rest is counted.
    torn = [x for x in rd.other if x != b"[s0] svc-is-up\n"]
    assert len(torn) <= 1 and all(x.startswith(b"[s0] s0 %08d " % got) and not
                                  x.endswith(b"\n") for x in torn), torn
    assert cut_bytes == sum(line_len) - sum(len(x) for x in torn)
    assert _output_status(h)["stdout"] == {"dropped_lines": cut, "dropped_bytes": cut_bytes,
                                           "reason": "not written within 5 s at exit"}


def _cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_held_stream_with_closed_pipe_does_not_spin(tmp_path, start_hfinit):  # noqa: F811
    """While stdout is held (a flood, nobody reads), another service writes a
    line and closes its stdout but lives on: its pipe reports EPOLLHUP
    whatever hfinit asks for. hfinit must not wake up for it until the
    stream is read again (it spun at full CPU while held), and the line
    still arrives, after the flood's lines that came first."""
    rd = _SlowReader(1)
    hold = threading.Event()
    closed = os.path.join(str(tmp_path), "closed")
    cfg = _flood_config(tmp_path, 1, 3)
    with open(cfg, "a") as f:
        f.write("[service:a]\ncommand = %s\nready = started\n" % q(
            PY, "-c", "import os, time; time.sleep(0.5); os.write(1, b'last line\\n'); "
            "os.close(1); open(%r, 'w').close(); time.sleep(60)" % closed))
    h = start_hfinit(cfg, stdout_line=rd, stdout_hold=hold)
    wait_for(lambda: os.path.exists(closed), what="service a closed its stdout")
    wait_for(lambda: _records(tmp_path, 1)["s0"][1] >= 600_000, what="600 kB written")
    t0 = _cpu_ticks(h.pid)
    time.sleep(1.0)  # the window measured, not a synchronisation
    spent = _cpu_ticks(h.pid) - t0
    hold.set()
    h.wait_line(r"^hfinit: info: \[s0\] exited 0", timeout=30)
    h.signal(15)
    assert h.wait_exit(timeout=20) == 0, h.dump()
    assert spent <= 10, "hfinit used %d ticks in 1 s while held" % spent
    rd.check(_records(tmp_path, 1))
    assert b"[a] last line\n" in rd.other
