"""A service killed by the kernel's OOM killer is reported as out of memory
(docs/design.md "Logs"): SIGKILL that hfinit did not send, while the oom_kill count of
its memory cgroup rose. The test makes a memory cgroup with a small limit,
puts hfinit in it, and runs a real python3 that allocates past the limit."""

import os
import subprocess
import textwrap

import pytest

from supervise_util import HFINIT, PY, need_hfinit, write_config

LIMIT = 48 * 1024 * 1024


def _memory_cgroup():
    """(kind, path of our memory cgroup) for cgroup v1 or v2."""
    with open("/proc/self/cgroup") as f:
        lines = [l.rstrip("\n").split(":", 2) for l in f]
    for _, ctl, path in lines:
        if "memory" in ctl.split(","):
            return "v1", "/sys/fs/cgroup/memory" + (path if path != "/" else "")
    for _, ctl, path in lines:
        if ctl == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            return "v2", "/sys/fs/cgroup" + (path if path != "/" else "")
    return None, None


@pytest.fixture
def small_cgroup():
    if os.geteuid() != 0:
        pytest.fail("needs root to create a memory cgroup")
    kind, base = _memory_cgroup()
    if kind is None:
        pytest.fail("no memory cgroup controller on this machine (/proc/self/cgroup)")
    path = os.path.join(base, "hfinit-oom-test-%d" % os.getpid())
    os.mkdir(path)
    try:
        if kind == "v1":
            with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
                f.write(str(LIMIT))
            sw = os.path.join(path, "memory.memsw.limit_in_bytes")
            if os.path.exists(sw):
                with open(sw, "w") as f:
                    f.write(str(LIMIT))
            with open(os.path.join(path, "memory.swappiness"), "w") as f:
                f.write("0")
        else:
            with open(os.path.join(path, "memory.max"), "w") as f:
                f.write(str(LIMIT))
            with open(os.path.join(path, "memory.swap.max"), "w") as f:
                f.write("0")
        yield path
    finally:
        # Everything in it has exited by now (the test waited for hfinit).
        try:
            os.rmdir(path)
        except OSError:
            pass


def test_oom_kill_is_reported(tmp_path, small_cgroup):
    need_hfinit()
    cfg = write_config(tmp_path, textwrap.dedent("""\
        [hfinit]
        stop_timeout = 1s

        [service:hog]
        command = %s -c "x = [b'x' * (8 << 20) for _ in iter(int, 1)]"
        required = no
        restart = no
        """ % PY))
    wrapper = 'echo $$ > "$1/cgroup.procs" && exec "$2" -c "$3"'
    p = subprocess.run(["sh", "-c", wrapper, "sh", small_cgroup, HFINIT, str(cfg)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    err = p.stderr
    # The optional service failed for good and nothing else runs: hfinit ends.
    assert p.returncode == 0, err
    assert "hfinit: error: [hog] killed by SIGKILL (restart = no)" in err, err
    assert "out-of-memory" in err, err
    assert "killed by the kernel's OOM killer" in err, err


def test_sigkill_from_elsewhere_is_not_oom(tmp_path):
    """The same SIGKILL without the cgroup's OOM count rising: no OOM verdict."""
    need_hfinit()
    cfg = write_config(tmp_path, textwrap.dedent("""\
        [service:victim]
        command = sh -c 'kill -KILL $$$$'
        required = no
        restart = no
        """))
    p = subprocess.run([HFINIT, "-c", str(cfg)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "[victim] killed by SIGKILL" in p.stderr, p.stderr
    assert "out-of-memory" not in p.stderr, p.stderr
