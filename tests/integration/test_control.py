"""Run-time control (issue 12, docs/control.md): `hfinit restart|stop|start|
signal|wait` against a real hfinit, as PID 1 of a PID namespace and as a plain
child (subreaper); the clients run outside that namespace; and `docker exec
hfinit restart` of a pool in a container of the example Space image. The control socket
itself: a second uid refused, malformed, oversized and slow requests, a link
planted at its path, a stale socket replaced, the socket gone at exit.

Every wait is bounded: the clients block on the socket, and the test awaits
hfinit's log lines.
"""

import json
import os
import socket
import stat
import subprocess
import time

import pytest

from docker_fixtures import docker  # noqa: F401  (pytest fixture: only the image test)
from image_fixtures import debian_base, run, space_image  # noqa: F401  (pytest fixtures)
from supervise_util import HFINIT, IS_ROOT, MODES, start_hfinit, wait_for, write_config  # noqa: F401

WEB = "/bin/sh -c 'echo up; exec sleep 1000'"
# traps USR1 and says so; its sleep dies of the signal too (the group gets it)
TRAP = ("/bin/sh -c 'trap \"echo got-usr1\" USR1; echo up; "
        "while :; do sleep 1000 & wait $!; done'")


def config(tmp_path, extra=""):
    return write_config(tmp_path, """
        [hfinit]
        stop_timeout = 2s
        [service:web]
        command = %s
        ready = line:up
        restart_burst = 2
        stop_timeout = 2s
        [service:pool]
        command = /bin/sleep 1000
        ready = started
        required = no
        %s
        """ % (WEB, extra))


def ctl(h, *args, timeout=15, user=None):
    argv = [HFINIT] + list(args)
    if user is not None:
        argv = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups",
                "--"] + argv
    env = dict(os.environ, HFINIT_STATUS_DIR=h.status_dir)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def ctx_switches(pid):
    with open("/proc/%d/status" % pid) as f:
        return sum(int(line.split()[1]) for line in f
                   if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


def status(h):
    with open(os.path.join(h.status_dir, "status.json")) as f:
        return json.load(f)


def sock_path(h):
    return os.path.join(h.status_dir, "control")


def up(h):
    h.wait_line(r"^hfinit: info: all stages up after")
    wait_for(lambda: os.path.exists(sock_path(h)), what="the control socket")


@pytest.mark.parametrize("mode", MODES)
def test_restart_past_the_burst_limit(tmp_path, start_hfinit, mode):  # noqa: F811
    h = start_hfinit(config(tmp_path), mode=mode)
    up(h)
    st = os.lstat(sock_path(h))
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    pids = {status(h)["services"]["web"]["pid"]}
    for i in range(4):
        r = ctl(h, "restart", "web")
        assert r.returncode == 0, r.stderr + h.dump()
        assert r.stdout.startswith("web: ready in ")
        pids.add(status(h)["services"]["web"]["pid"])
    doc = status(h)
    web = doc["services"]["web"]
    assert web["state"] == "ready" and web["requested_restarts"] == 4 and web["restarts"] == 0
    assert web["attempt"] == 1
    assert len(pids) == 5
    # every request is logged with the requesting uid (pid 0: outside the namespace)
    lines = h.find_all(r"^hfinit: info: control: uid 0 pid (\d+): restart web$")
    assert len(lines) == 4
    if mode == "pid1":
        assert all(m.group(1) == "0" for _, _, m in lines)
    # idle again: the socket and its client timer cost no wake-up (once the
    # counts stood still for 0.2 s, as in test_single_child: the machine is busy)
    last = [ctx_switches(h.pid), time.monotonic()]

    def settled():
        now = ctx_switches(h.pid)
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] >= 0.2
    wait_for(settled, timeout=5, interval=0.05, what="hfinit to go idle")
    before = ctx_switches(h.pid)
    time.sleep(1.0)  # the measurement window, not a synchronisation
    assert ctx_switches(h.pid) - before <= 1
    h.signal(15)
    assert h.wait_exit() == 0
    assert not os.path.exists(sock_path(h))  # removed at exit


@pytest.mark.parametrize("mode", MODES)
def test_stop_of_a_required_service_then_start(tmp_path, start_hfinit, mode):  # noqa: F811
    h = start_hfinit(config(tmp_path), mode=mode)
    up(h)
    r = ctl(h, "stop", "web", "pool")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == ["pool: stopped", "web: stopped"]  # as they end
    doc = status(h)
    assert doc["services"]["web"]["state"] == "stopped"
    assert doc["services"]["web"]["stopped_by"] == "request"
    assert doc["state"] == "degraded"
    assert not os.path.exists(os.path.join(h.status_dir, "ready"))
    # everything is stopped on request: hfinit keeps running
    assert h.find(r"every service has ended") is None and h.running()
    r = ctl(h, "wait", "--timeout", "100ms", "web")
    assert r.returncode == 1 and "web: not ready within 100ms (state stopped)" in r.stderr
    r = ctl(h, "start", "web")
    assert r.returncode == 0 and r.stdout.startswith("web: ready in "), r.stderr
    r = ctl(h, "start", "--no-wait", "pool")
    assert r.returncode == 0 and r.stdout == "pool: accepted\n"
    assert ctl(h, "wait").returncode == 0
    doc = status(h)
    assert doc["state"] == "ready" and doc["services"]["web"]["stopped_by"] is None
    h.signal(15)
    assert h.wait_exit() == 0


def test_signal_and_wait(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, """
        [service:trap]
        command = %s
        ready = line:up
        [service:slow]
        command = /bin/sh -c 'read x < %s; echo up; exec sleep 1000'
        ready = line:up
        ready_timeout = 30s
        """ % (TRAP, os.path.join(str(tmp_path), "go")))
    os.mkfifo(os.path.join(str(tmp_path), "go"))
    h = start_hfinit(cfg)
    h.wait_line(r"\[trap\] ready in")
    wait_for(lambda: os.path.exists(sock_path(h)), what="the control socket")
    r = ctl(h, "signal", "trap", "USR1")
    assert r.returncode == 0 and "SIGUSR1 sent to process group" in r.stdout, r.stderr
    h.wait_line(r"^\[trap\] got-usr1$", stream="out")
    assert ctl(h, "signal", "trap", "NOPE").returncode == 2
    assert ctl(h, "signal", "nosuch", "HUP").returncode == 1
    # wait: with a timeout it gives up; without, it returns once ready
    t0 = time.monotonic()
    r = ctl(h, "wait", "--timeout", "200ms", "slow")
    assert r.returncode == 1 and "not ready within 200ms (state starting)" in r.stderr
    assert 0.15 < time.monotonic() - t0 < 5
    assert ctl(h, "wait", "--started", "slow").returncode == 0
    w = subprocess.Popen([HFINIT, "wait", "slow", "trap"], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, HFINIT_STATUS_DIR=h.status_dir))
    h.wait_line(r"control: uid 0 pid \d+: wait --ready slow trap$")
    assert w.poll() is None
    with open(os.path.join(str(tmp_path), "go"), "w") as f:
        f.write("go\n")
    assert w.wait(10) == 0
    assert "slow: ready in" in w.stdout.read()
    h.signal(15)
    assert h.wait_exit() == 0


def test_failure_reason_with_utf8_and_escapes(tmp_path, start_hfinit):  # noqa: F811
    """A last_error is a raw stderr line: its UTF-8, ESC and CR reach the
    client as '?', so the reason arrives and the next name's answer too."""
    script = tmp_path / "tts.sh"
    script.write_text("#!/bin/sh\nprintf 'Error: \\033[31mm\\303\\251t\\303\\251o\\033[0m\\tgone\\r\\n' >&2\n"
                      "exit 1\n")
    script.chmod(0o755)
    h = start_hfinit(config(tmp_path, """
        [service:tts]
        command = %s
        ready = line:up
        retries = 1
        required = no
        """ % script))
    up(h)
    reason = "failed: exited 1 before it was ready: Error: ?[31mm??t??o?[0m?gone"
    r = ctl(h, "restart", "tts", "pool")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "tts: " + reason in r.stderr, r.stderr
    assert "not a reply from hfinit" not in r.stderr
    assert r.stdout.startswith("pool: ready in "), r.stdout  # the name after it too
    h.signal(15)
    assert h.wait_exit() == 0


def test_usage_and_no_hfinit(tmp_path):
    env = dict(os.environ, HFINIT_STATUS_DIR=str(tmp_path))
    run = lambda *a: subprocess.run([HFINIT] + list(a), env=env, capture_output=True,  # noqa: E731
                                    text=True, timeout=10)
    for argv in (["restart"], ["stop", "--timeout", "1s", "web"], ["wait", "--no-wait"],
                 ["start", "../x"], ["signal", "web"], ["wait", "--timeout", "soon"]):
        assert run(*argv).returncode == 2, argv
    r = run("restart", "web")
    assert r.returncode == 3 and "is hfinit running?" in r.stderr
    r = run("help", "restart")
    assert r.returncode == 0 and "usage: hfinit restart" in r.stdout


def raw(h, data, read=True):
    """Send bytes on a fresh connection; the reply lines."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path(h))
    try:
        s.sendall(data)
    except BrokenPipeError:  # answered ("busy") and closed before the request was sent
        pass
    out = b""
    while read:
        try:
            b = s.recv(65536)
        except ConnectionResetError:  # hfinit closed with part of a request unread
            break
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def test_bad_requests_keep_hfinit_serving(tmp_path, start_hfinit):  # noqa: F811
    h = start_hfinit(config(tmp_path))
    up(h)
    assert raw(h, b"garbage\n") == "error not a hfinit1 request (the protocol version)\nend 1\n"
    assert raw(h, b"hfinit1 restart ../etc\n").startswith("error \"../etc\" is not a service")
    assert raw(h, b"hfinit1 restart web\x00\n").startswith("error not one line of printable")
    assert raw(h, b"hfinit1 stop " + b"a" * 5000).startswith("error not one line")
    # a slow client: a partial line, then nothing; dropped after 2 s while
    # others are served
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.settimeout(10)
    slow.connect(sock_path(h))
    slow.sendall(b"hfinit1 rest")
    t0 = time.monotonic()
    assert raw(h, b"hfinit1 restart pool\n").startswith("ok pool ready in")
    assert slow.recv(100) == b""  # closed without a reply
    assert 1.5 < time.monotonic() - t0 < 8
    slow.close()
    h.wait_line(r"control: uid 0 pid \d+: no request line within 2s: dropped")
    # 32 clients at once; the 33rd is told
    many = []
    for _ in range(32):
        many.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        many[-1].connect(sock_path(h))
    assert raw(h, b"hfinit1 restart pool\n") == "error busy: too many clients\nend 1\n"
    for s in many:
        s.close()
    # a client gone before its answer changes nothing for the others
    raw(h, b"hfinit1 wait --timeout=100000 nosuchyet pool web\n", read=False)
    assert ctl(h, "restart", "web").returncode == 0
    assert h.running() and status(h)["state"] == "ready"
    h.signal(15)
    assert h.wait_exit() == 0


@pytest.mark.skipif(not IS_ROOT, reason="needs root (setpriv to a second uid)")
def test_second_uid_refused(tmp_path, start_hfinit):  # noqa: F811
    h = start_hfinit(config(tmp_path))
    up(h)
    os.chmod(h.status_dir, 0o755)
    # mode 0600 keeps it out already
    r = ctl(h, "restart", "web", user=1001)
    assert r.returncode == 1 and "Permission denied" in r.stderr, r.stderr
    # and with the socket opened up, SO_PEERCRED still refuses it
    os.chmod(sock_path(h), 0o666)
    r = ctl(h, "stop", "web", user=1001)
    assert r.returncode == 1
    assert "permission denied: only root and uid 0 may control hfinit" in r.stderr
    h.wait_line(r"control: refused uid 1001 pid \d+")
    assert status(h)["services"]["web"]["state"] == "ready"
    assert status(h)["services"]["web"]["requested_restarts"] == 0
    h.signal(15)
    assert h.wait_exit() == 0


def start_in(start, cfg, sd):
    """hfinit with the status dir sd (prepared by the test)."""
    h = start(cfg, env={"HFINIT_STATUS_DIR": sd})
    os.rmdir(h.status_dir)  # the one it made for itself, unused
    h.status_dir = sd
    return h


def test_link_at_the_socket_path_is_not_followed(tmp_path, start_hfinit):  # noqa: F811
    target = os.path.join(str(tmp_path), "target")
    sd = str(tmp_path / "sd")
    os.mkdir(sd, 0o755)
    os.symlink(target, os.path.join(sd, "control"))
    h = start_in(start_hfinit, config(tmp_path), sd)
    h.wait_line(r"^hfinit: warn: control: %s/control: File exists: no control socket" % sd)
    h.wait_line(r"all stages up")
    assert os.path.islink(os.path.join(sd, "control"))
    assert not os.path.exists(target)
    assert ctl(h, "restart", "web").returncode == 3
    h.signal(15)
    assert h.wait_exit() == 0
    assert os.path.islink(os.path.join(sd, "control"))  # left as it was
    assert not os.path.exists(target)
    # a stale socket of ours (nobody listens) is replaced
    os.unlink(os.path.join(sd, "control"))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(sd, "control"))
    s.close()
    h = start_in(start_hfinit, config(tmp_path), sd)
    up(h)
    assert ctl(h, "restart", "pool").returncode == 0
    h.signal(15)
    assert h.wait_exit() == 0


def test_live_socket_with_a_full_backlog_is_left_alone(tmp_path, start_hfinit):  # noqa: F811
    """A listener at the path that never accepts, its backlog full: the probe
    does not block hfinit; the socket is live, so it is not replaced."""
    sd = str(tmp_path / "sd")
    os.mkdir(sd, 0o755)
    path = os.path.join(sd, "control")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(0)
    queued = []
    try:
        while len(queued) < 64:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            queued.append(c)
            c.connect(path)
    except BlockingIOError:
        pass
    assert len(queued) < 64  # the backlog is full
    h = start_in(start_hfinit, config(tmp_path), sd)
    h.wait_line(r"^hfinit: warn: control: %s: Address in use: no control socket$" % path)
    h.wait_line(r"all stages up")
    h.signal(15)
    assert h.wait_exit() == 0
    assert stat.S_ISSOCK(os.lstat(path).st_mode)  # the other one's, left
    for c in queued:
        c.close()
    lst.close()


def test_out_of_descriptors_at_accept(tmp_path, start_hfinit):  # noqa: F811
    """accept() fails with EMFILE (RLIMIT_NOFILE lowered to what hfinit has
    open): one warning, the listener unwatched, so the loop does not spin;
    once a descriptor can be had again, the next loop turn a second later
    takes the queued client (a turn made by killing pool: it is restarted)."""
    import resource
    h = start_hfinit(config(tmp_path, "restart = always"))
    up(h)
    last = [ctx_switches(h.pid), time.monotonic()]

    def settled():  # idle: no status write holds a passing fd
        now = ctx_switches(h.pid)
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] >= 0.2
    wait_for(settled, timeout=5, interval=0.05, what="hfinit to go idle")
    lim = resource.prlimit(h.pid, resource.RLIMIT_NOFILE)
    fds = {int(fd) for fd in os.listdir("/proc/%d/fd" % h.pid)}
    low = min(set(range(len(fds) + 1)) - fds)  # the next fd hfinit would get
    resource.prlimit(h.pid, resource.RLIMIT_NOFILE, (low, lim[1]))
    env = dict(os.environ, HFINIT_STATUS_DIR=h.status_dir)
    p = subprocess.Popen([HFINIT, "wait", "web"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        h.wait_line(r"^hfinit: warn: control: accept: new clients wait until a descriptor "
                    r"is freed: No file descriptors available$")
        before = ctx_switches(h.pid)
        time.sleep(0.5)  # the measurement window, not a synchronisation
        assert ctx_switches(h.pid) - before <= 2  # no spin
        assert p.poll() is None
        resource.prlimit(h.pid, resource.RLIMIT_NOFILE, lim)
        time.sleep(1.0)  # the 1 s before a turn may watch the listener again
        os.kill(status(h)["services"]["pool"]["pid"], 9)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0 and out.startswith("web: ready in "), out + err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert len(h.find_all(r"control: accept")) == 1
    h.signal(15)
    assert h.wait_exit() == 0


def test_socket_made_again_when_the_status_dir_is_removed(tmp_path, start_hfinit):  # noqa: F811
    h = start_hfinit(config(tmp_path))
    up(h)
    for _ in range(2):
        # rm may find the dir refilled under it ("Directory not empty"): fine
        subprocess.run(["rm", "-rf", h.status_dir], capture_output=True, timeout=10)
        wait_for(lambda: os.path.exists(sock_path(h)), what="the control socket again")
        assert ctl(h, "restart", "pool").returncode == 0
    h.wait_line(r"^hfinit: info: control: .*/control was removed: made again$")
    h.signal(15)
    assert h.wait_exit() == 0


def test_docker_exec_restart_of_a_pool(run):  # noqa: F811
    """The Dev Mode loop in the example Space image (uid 1000, hfinit PID 1):
    `docker exec` restarts one pool; the server and the other pool stay."""
    c = run()
    c.logs.wait(r"^hfinit: info: all stages up after \d+ ms$")
    before = c.status()["services"]
    for _ in range(2):
        r = c.exec("/usr/local/bin/hfinit", "restart", "tts", timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("tts: ready in "), (r.stdout, r.stderr)
    after = c.status()["services"]
    assert after["tts"]["pid"] != before["tts"]["pid"]
    assert after["tts"]["requested_restarts"] == 2 and after["tts"]["restarts"] == 0
    assert after["web"]["pid"] == before["web"]["pid"]
    assert after["voice-clone"]["pid"] == before["voice-clone"]["pid"]
    c.logs.wait(r"^hfinit: info: control: uid 1000 pid [1-9]\d*: restart tts$")
    assert c.stop() == 0
