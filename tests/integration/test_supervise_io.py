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

import pytest

from supervise_util import (HFINIT, MODES, PY, SVC, need_hfinit, q,  # noqa: F401
                            start_hfinit, svc, write_config)


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
    outs = [json.loads(x) for x in h.text("out").split("\n") if x]
    errs = [json.loads(x) for x in h.text("err").split("\n") if x.startswith("{\"svc\"")]
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
    """DESIGN.md §3: a service whose HOME it cannot write gets a writable one."""
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
