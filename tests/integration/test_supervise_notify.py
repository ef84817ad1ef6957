"""Supervision mode, `ready = notify`: who may send readiness
(docs/supervise.md, "Who may send readiness") and the rate-limited warning
about datagrams that do not count.

A datagram counts only when the kernel shows it comes from the service's own
processes (its process group or session, checked while the sender lives).
Another service's child with the same uid that sends READY=1 and exits at once
does not make the target ready; systemd-notify (Debian 12's, from a shell
script), Python's sdnotify package, a forked child and `hfinit notify` do.
As root the services run as uid 1000, as hfinit's own user otherwise.
"""

import os
import re
import shutil
import socket
import stat
import tempfile

import pytest

from supervise_util import (HFINIT, IS_ROOT, MODES, PY, q, start_hfinit,  # noqa: F401
                            write_config)

USER = "user = 1000" if IS_ROOT else ""


@pytest.fixture
def shared_dir():
    """A directory uid 1000 can use (pytest's tmp_path is root's 0700)."""
    d = tempfile.mkdtemp(prefix="hfinit-notify-")
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def script(d, name, text):
    """A script file uid 1000 can read (a config value is one line)."""
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text.lstrip("\n"))
    os.chmod(path, 0o644)
    return path


def fifo(d, name):
    path = os.path.join(d, name)
    os.mkfifo(path)
    os.chmod(path, 0o666)
    return path


# The target: sends READY=1 (from its own main process) only once the test
# writes to the FIFO, then waits to be stopped.
TARGET = r"""
import os, signal, socket, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
with open(sys.argv[1]) as f:
    f.read()
a = os.environ["NOTIFY_SOCKET"]
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", "\0" + a[1:])
signal.sigwait({signal.SIGTERM})
"""

# The spoofer: N children, one after the other, each sends READY=1 to the
# target's socket (its name follows from hfinit's pid, the parent here) and
# exits at once; each is reaped before the next. Then says so on stdout.
SPOOFER = r"""
import os, signal, socket, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
n, target = int(sys.argv[1]), sys.argv[2]
addr = "\0hfinit/%d/%s" % (os.getppid(), target)
for i in range(n):
    pid = os.fork()
    if pid == 0:
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", addr)
        os._exit(0)
    os.waitpid(pid, 0)
print("spoofed", n, flush=True)
signal.sigwait({signal.SIGTERM})
"""


@pytest.mark.parametrize("mode", MODES)
def test_spoofed_ready_from_another_services_child_does_not_count(shared_dir, start_hfinit,
                                                                  mode):  # noqa: F811
    """8 children of service b (same uid as a) each send READY=1 to a's socket
    and exit at once: a stays starting; it is ready only after its own READY=1,
    sent once the test writes to its FIFO (after all 8 spoofs were queued ahead
    of it). Exactly 8 datagrams are reported ignored: one warning line, then
    the held-back count (7) at shutdown."""
    go = fifo(shared_dir, "go")
    cfg = write_config(shared_dir, """
        [service:a]
        command = %s
        ready = notify
        ready_timeout = 30s
        %s
        [service:b]
        command = %s
        ready = started
        %s
        """ % (q(PY, script(shared_dir, "target.py", TARGET), go), USER,
               q(PY, script(shared_dir, "spoofer.py", SPOOFER), 8, "a"), USER))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"^\[b\] spoofed 8$", stream="out")
    assert h.find(r"\[a\] ready in") is None, h.dump()
    with open(go, "w") as f:
        f.write("go\n")
    i, _, _ = h.wait_line(r"^hfinit: info: \[a\] ready in \d+ ms \(READY=1\), attempt 1$")
    warn = h.find_all(r"^hfinit: warn: \[a\] notify message ignored: ")
    assert len(warn) == 1 and warn[0][0] < i, h.dump()
    assert re.search(r"ignored: pid \d+ (exited before it could be checked|is not one of the "
                     r"service's processes)", h.text()), h.dump()
    h.wait_line(r"^hfinit: info: all stages up")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    assert h.find(r"^hfinit: warn: \[a\] 7 more notify messages ignored since the last "
                  r"warning$"), h.dump()


# A forked child sends READY=1 and exits at once; the parent reaps it later.
FORK_CHILD = r"""
import os, signal, socket
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
if os.fork() == 0:
    a = os.environ["NOTIFY_SOCKET"]
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", "\0" + a[1:])
    os._exit(0)
signal.sigwait({signal.SIGTERM})
"""

# Debian's python3-sdnotify package, as its README shows.
SDN = r"""
import signal, sdnotify
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
sdnotify.SystemdNotifier(debug=True).notify("READY=1")
signal.sigwait({signal.SIGTERM})
"""


def legit_config(d):
    hf = os.path.join(d, "hfinit")
    shutil.copy(HFINIT, hf)  # reachable by uid 1000 whatever the checkout's modes
    os.chmod(hf, 0o755)
    fork_child = script(d, "fork_child.py", FORK_CHILD)
    sdn = script(d, "sdn.py", SDN)
    return write_config(d, """
        [hfinit]
        stop_timeout = 2s
        [service:sysd]
        command = /bin/sh -c %s
        ready = notify
        %s
        [service:sdnotify]
        command = %s
        ready = notify
        %s
        [service:forked]
        command = %s
        ready = notify
        %s
        [service:hfnotify]
        command = /bin/sh -c %s
        ready = notify
        %s
        """ % (q("systemd-notify --ready && exec sleep 600"), USER, q("/usr/bin/python3", sdn),
               USER, q(PY, fork_child), USER, q("%s notify --ready && exec sleep 600" % hf),
               USER))


@pytest.mark.parametrize("mode", MODES)
def test_legit_senders_make_the_service_ready(shared_dir, start_hfinit, mode):  # noqa: F811
    """systemd-notify --ready from a shell script, sdnotify, a forked child that
    sends and exits (its parent reaps it later), `hfinit notify --ready`: each
    service is ready on its first attempt and nothing is reported ignored."""
    if not shutil.which("systemd-notify"):
        pytest.skip("no systemd-notify")
    h = start_hfinit(legit_config(shared_dir), mode=mode)
    for name in ("sysd", "sdnotify", "forked", "hfnotify"):
        h.wait_line(r"^hfinit: info: \[%s\] ready in \d+ ms \(READY=1\), attempt 1$" % name)
    h.wait_line(r"^hfinit: info: all stages up")
    assert h.find(r"notify message") is None, h.dump()
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_20000_rejected_datagrams_give_a_bounded_number_of_lines(shared_dir,
                                                                 start_hfinit):  # noqa: F811
    """20,000 READY=1 datagrams from outside the service (this test process):
    one warning line, the rest counted; the counts in the lines add up to
    exactly 20,000, in at most 2 + (seconds taken) / 10 lines."""
    go = fifo(shared_dir, "go")
    cfg = write_config(shared_dir, """
        [service:a]
        command = %s
        ready = notify
        ready_timeout = 60s
        """ % q(PY, script(shared_dir, "target.py", TARGET), go))
    h = start_hfinit(cfg)
    h.wait_line(r"\[a\] started pid")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect("\0hfinit/%d/a" % h.pid)
    t0 = os.times().elapsed
    for _ in range(20000):
        s.send(b"READY=1")  # blocking: the receive queue bounds it, nothing is dropped
    s.close()
    with open(go, "w") as f:
        f.write("go\n")  # a's own READY=1 queues behind the 20,000
    h.wait_line(r"^hfinit: info: \[a\] ready in \d+ ms \(READY=1\), attempt 1$")
    took = os.times().elapsed - t0
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    lines = [t for t in h.text().split("\n")
             if re.match(r"^hfinit: warn: \[a\] .*notify message", t)]
    total = 0
    for t in lines:
        m = re.search(r"(\d+) more (notify messages )?ignored since the last warning", t)
        total += (int(m.group(1)) if m else 0) + (1 if "notify message ignored:" in t else 0)
    assert total == 20000, lines
    assert 2 <= len(lines) <= 2 + took / 10, lines
    assert "ignored: pid %d is not one of the service's processes" % os.getpid() in lines[0]
