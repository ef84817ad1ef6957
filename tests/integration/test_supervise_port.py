"""Supervision mode: a tcp:/http: probe counts only when the listener is the
service's own (docs/supervise.md, "A port already taken").

hfinit runs as PID 1 of a PID namespace with real node servers and
`python3 -m http.server` as the process that holds the port: inside the
namespace (a service of its own, so hfinit can name its pid and command) and
outside it (started by the test, invisible to hfinit's /proc). Every status
document read is validated against docs/status.schema.json.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import pytest

from status_schema import check_dir
from supervise_util import WAIT, q, start_hfinit, wait_for, write_config  # noqa: F401

NODE = shutil.which("node")
PY = sys.executable
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(REPO, "docker", "example-space", "server", "index.js")
HINT = ("another process holds the port (a leftover server, or another service on the same "
        "port): stop it, or give this service a port of its own")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (PID namespaces)"),
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A node server that stays up when listen fails (so only the probe can tell).
STAYS_UP = ("const s = require('net').createServer(); "
            "s.on('error', e => console.error('listen failed: ' + e.code)); "
            "s.listen(%d, %s, () => console.log('listening')); setInterval(() => {}, 1e6)")


@pytest.fixture
def sdir():
    base = tempfile.mkdtemp(prefix="hfinit-port-test-")
    os.chmod(base, 0o755)
    yield os.path.join(base, "st")
    shutil.rmtree(base, ignore_errors=True)


def status(d):
    with open(os.path.join(d, "status.json")) as f:
        return json.load(f)


def test_port_held_by_another_service_is_port_in_use_not_ready(tmp_path, sdir, start_hfinit):
    port = free_port()
    squat = [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 3s
        [service:squat]
        command = %s
        ready = tcp:%d
        [service:web]
        stage = 2
        command = %s
        ready = tcp:%d
        ready_timeout = 2s
        retries = 1
        [service:pool]
        stage = 3
        command = /bin/sleep 1000
        """ % (q(*squat), port, q(NODE, "-e", STAYS_UP % (port, "'127.0.0.1'")), port))
    h = start_hfinit(cfg, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})
    squat_pid = int(h.wait_line(r"^hfinit: info: \[squat\] started pid (\d+) ")[2].group(1))
    h.wait_line(r"^hfinit: info: \[squat\] ready in \d+ ms \(tcp:%d\)" % port)
    holder = "port %d is in use by pid %d (%s)" % (port, squat_pid, " ".join(squat))
    h.wait_line(r"^hfinit: warn: \[web\] %s: not ready$" % re.escape(holder))
    h.wait_line(r"^hfinit: error: \[web\] attempt 1 of 1 failed: not ready within 2s: %s; "
                r"no attempts left$" % re.escape(holder))
    assert h.wait_exit() == 1, h.dump()
    assert not h.find(r"\[web\] ready in"), h.dump()
    assert not h.find(r"\[pool\] started"), h.dump()
    assert len(h.find_all(r"\[web\] port %d is in use" % port)) == 1, h.dump()
    doc = status(sdir)
    web = doc["services"]["web"]
    assert doc["state"] == "failed" and doc["exit_code"] == 1
    assert web["state"] == "failed" and web["ready_at"] is None
    assert web["last_error"] == {"text": "not ready within 2s: " + holder,
                                 "category": "port-in-use", "hint": HINT}
    pool = doc["services"]["pool"]
    assert pool["state"] == "stopped" and pool["started_at"] is None and pool["attempt"] == 0
    assert doc["services"]["squat"]["state"] == "stopped"
    assert check_dir(sdir) == []


def test_real_space_server_with_port_taken_outside_the_namespace(tmp_path, sdir, start_hfinit):
    """The example Space's server, the port held by a process hfinit cannot see:
    never `ready`, the pools never start, exit 1."""
    port = free_port()
    squat = subprocess.Popen([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0,
                 what="the squatter listening")
        cfg = write_config(tmp_path, """
            [hfinit]
            stop_timeout = 3s
            [service:web]
            command = %s
            ready = tcp:%d
            retries = 1
            [service:pool]
            stage = 2
            command = /bin/sleep 1000
            """ % (q(NODE, SERVER), port))
        # the host's network namespace: the squatter's port is the one probed
        h = start_hfinit(cfg, mode="pid1", netns=False,
                         env={"HFINIT_STATUS_DIR": sdir, "PORT": str(port), "HOST": "127.0.0.1"})
        h.wait_line(r"^hfinit: warn: \[web\] port %d is in use by a process outside "
                    r"hfinit's view: not ready$" % port)
        assert h.wait_exit() == 1, h.dump()
        assert not h.find(r"\[web\] ready in"), h.dump()
        assert not h.find(r"\[pool\] started"), h.dump()
        web = status(sdir)["services"]["web"]
        assert web["state"] == "failed" and web["last_error"]["category"] == "port-in-use"
    finally:
        squat.send_signal(signal.SIGTERM)
        squat.wait(WAIT)


@pytest.mark.parametrize("host", ["'::'", "'0.0.0.0'", "'127.0.0.1'", "undefined"])
def test_own_listener_on_any_address_is_ready(tmp_path, start_hfinit, host):
    """The service's own listener counts, whatever address it is bound to
    (Node's default `::` is dual-stack)."""
    port = free_port()
    cfg = write_config(tmp_path, """
        [service:web]
        command = %s
        ready = tcp:%d
        [service:health]
        stage = 2
        command = /bin/sleep 1000
        """ % (q(NODE, "-e", STAYS_UP % (port, host)), port))
    h = start_hfinit(cfg, mode="pid1")
    h.wait_line(r"^hfinit: info: \[web\] ready in \d+ ms \(tcp:%d\)" % port)
    h.wait_line(r"\[health\] started pid")
    assert not h.find(r"in use|cannot tell"), h.dump()
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()



def test_health_probe_reaching_another_process_fails(tmp_path, sdir, start_hfinit):
    """health = tcp: on a port another service holds: each check fails, naming
    the holder; the service is restarted after health_failures."""
    port, other = free_port(), free_port()
    squat = [PY, "-m", "http.server", str(other), "--bind", "127.0.0.1"]
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 3s
        [service:squat]
        command = %s
        ready = tcp:%d
        [service:web]
        stage = 2
        command = %s
        ready = tcp:%d
        health = tcp:%d
        health_interval = 50ms
        health_failures = 2
        """ % (q(*squat), other, q(NODE, "-e", STAYS_UP % (port, "'127.0.0.1'")), port, other))
    h = start_hfinit(cfg, mode="pid1", env={"HFINIT_STATUS_DIR": sdir})
    squat_pid = int(h.wait_line(r"^hfinit: info: \[squat\] started pid (\d+) ")[2].group(1))
    h.wait_line(r"^hfinit: info: \[web\] ready in \d+ ms \(tcp:%d\)" % port)
    holder = "port %d is in use by pid %d (%s)" % (other, squat_pid, " ".join(squat))
    for n in (1, 2):
        h.wait_line(r"^hfinit: warn: \[web\] health check tcp:%d failed \(%d of 2 in a row\): "
                    r"%s$" % (other, n, re.escape(holder)))
    h.wait_line(r"^hfinit: info: \[web\] restarting in 1s \(restart 1\)$")
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0, h.dump()
    web = status(sdir)["services"]["web"]
    assert web["restarts"] >= 1 and web["last_error"]["category"] == "unhealthy"
