"""Supervision mode: what a run left outside its process group is found among
hfinit's untracked children and their descendants (src/run/leftover.c), while
many other services run (their main processes are the children hfinit skips).

The first run of `d` starts a daemon that double-forks out of the group
(setsid, SIGTERM ignored) and exits 1 before it is ready; the SIGTERM pass at
the end of the attempt does not stop it, so the next attempt's start SIGKILLs it, with its pid in the warning.
"""

import os

import pytest

from supervise_util import (MODES, descendants, pid_alive, q, start_hfinit,  # noqa: F401
                            wait_for, write_config)

QUIET = 50

# orphan.sh PIDFILE [NAME]: SIGTERM ignored (children inherit that). Without
# NAME the orphan itself is the leftover; with NAME (started without the
# marker) it forks the leftover, with HFINIT_SERVICE=NAME, and stays its parent.
ORPHAN = """trap '' TERM
if [ -n "$2" ]; then
    HFINIT_SERVICE=$2 /bin/sh -c 'echo $$ > "$0"; exec sleep 1000' "$1" &
    exec sleep 1000
fi
echo $$ > "$1"
exec sleep 1000
"""

# main.sh DIR DEPTH: the first run leaves the daemon and fails once it has
# written its pid; later runs stay up.
MAIN = """if [ ! -e "$1/mark" ]; then
    touch "$1/mark"
    if [ "$2" = 2 ]; then
        ( setsid env -u HFINIT_SERVICE /bin/sh "$1/orphan.sh" "$1/pid" d & )
    else
        ( setsid /bin/sh "$1/orphan.sh" "$1/pid" & )
    fi
    while [ ! -s "$1/pid" ]; do sleep 0.01; done
    exit 1
fi
echo svc-is-up
exec sleep 1000
"""


def host_pid(h, nspid):
    for p, _, _, ns in descendants(h.pid):
        if ns == nspid:
            return p
    return None


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("mode", MODES)
def test_leftover_killed_at_next_start_among_many(tmp_path, start_hfinit, mode, depth):  # noqa: F811
    d = str(tmp_path)
    for name, text in (("orphan.sh", ORPHAN), ("main.sh", MAIN)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    quiet = "".join("[service:q%d]\ncommand = /bin/sleep 1000\n" % i for i in range(QUIET))
    cfg = write_config(tmp_path, """
[hfinit]
stop_timeout = 300ms
%s
[service:d]
command = /bin/sh %s
ready = line:svc-is-up
retry_delay = 1s
stop_timeout = 300ms
""" % (quiet, q(os.path.join(d, "main.sh"), d, str(depth))))
    h = start_hfinit(cfg, mode=mode)
    pidfile = os.path.join(d, "pid")
    wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().endswith("\n"),
             what="the daemon's pid")
    nspid = int(open(pidfile).read())
    hp = wait_for(lambda: host_pid(h, nspid), what="the daemon among hfinit's descendants")
    h.wait_line(r"^hfinit: warn: \[d\] SIGTERM to 1 process an earlier run left outside its "
                r"process group \(pid %d\)$" % nspid)
    h.wait_line(r"^hfinit: warn: \[d\] SIGKILL to 1 process an earlier run left outside its "
                r"process group \(pid %d\)$" % nspid)
    # gone (reaped by hfinit), or at depth 2 a zombie its parent, sleep, never reaps
    wait_for(lambda: not pid_alive(hp), what="the daemon gone")
    h.wait_line(r"^hfinit: info: \[d\] ready in \d+ ms")
    assert len(h.find_all(r"\] SIG\w+ to \d+ process")) == 2, h.dump()  # nobody else's
    h.signal(15)
    assert h.wait_exit(timeout=10) == 0, h.dump()
