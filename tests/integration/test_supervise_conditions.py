"""Conditions and enabled = no (issue 13; docs/supervise.md "Conditions"): as
PID 1, every kind (path, env, exec), negated and several on one service, an
exec: condition as the service's user with its environment and workdir, its
output in the service's log, its timeout; the disabled state and its reason
in status.json and the log; the stage after a disabled service still starts,
and a disabled service does not make the Space degraded. `hfinit check` lists
each condition with what path: and env: evaluate to now.
"""

import json
import os
import re
import subprocess
import time

import pytest

from supervise_util import (HFINIT, IS_ROOT, MODES, descendants, q, start_hfinit,  # noqa: F401
                            svc, wait_for, write_config)

MODE = MODES[0]  # as PID 1 where the tests run as root


def status(h):
    with open(os.path.join(h.status_dir, "status.json")) as f:
        return json.load(f)


def wait_status(h, pred, what):
    box = {}

    def check():
        try:
            box["s"] = status(h)
        except (OSError, ValueError):
            return False
        return pred(box["s"])
    wait_for(check, what=what)
    return box["s"]


def disabled(doc):
    return {n: s["disabled_reason"] for n, s in doc["services"].items()
            if s["state"] == "disabled"}


PATH_ENV = """
    [hfinit]
    stop_timeout = 2s

    [service:gpu]
    command = {cmd}
    condition = path:/nonexistent/nvidia0

    [service:cpu]
    command = {cmd}
    condition = !path:/nonexistent/nvidia0
    condition = path:/dev/null
    condition = env:COND_SET

    [service:unset]
    command = {cmd}
    required = no
    condition = env:COND_UNSET

    [service:empty]
    command = {cmd}
    condition = env:COND_EMPTY

    [service:neg]
    command = {cmd}
    condition = !env:COND_SET

    [service:several]
    command = {cmd}
    condition = path:/dev/null
    condition = env:COND_SET
    condition = path:/nonexistent/second

    [service:off]
    command = {cmd}
    enabled = no
    condition = path:/dev/null

    [service:web]
    stage = 2
    command = {cmd}
"""


def test_path_env_negated_several(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, PATH_ENV.format(cmd=svc()))
    h = start_hfinit(cfg, mode=MODE, env={"COND_SET": "1", "COND_EMPTY": ""})
    h.wait_line(r"^hfinit: info: all stages up after \d+ ms$")
    want = {
        "gpu": "condition path:/nonexistent/nvidia0 failed (no such file)",
        "unset": "condition env:COND_UNSET failed (is not set)",
        "empty": "condition env:COND_EMPTY failed (is empty)",
        "neg": "condition !env:COND_SET failed (is set)",
        "several": "condition path:/nonexistent/second failed (no such file)",
        "off": "enabled = no",
    }
    for name, why in want.items():
        line = r"^hfinit: info: \[%s\] disabled: %s$" % (name, re.escape(why))
        assert h.find(line) is not None, h.dump()
        assert h.find(r"^hfinit: info: \[%s\] started" % name) is None
    # The stage after them started; the disabled ones never did, and the
    # Space is ready, not degraded (a disabled required service counts as done).
    i = h.find(r"^hfinit: info: stage 1 done after")
    j = h.find(r"^hfinit: info: \[web\] started pid")
    assert i is not None and j is not None and j > i
    doc = wait_status(h, lambda d: d["state"] == "ready", "ready")
    assert disabled(doc) == want
    for name in want:
        s = doc["services"][name]
        assert (s["pid"], s["attempt"], s["started_at"], s["last_exit"]["code"]) == \
            (None, 0, None, None), s
    for name in ("cpu", "web"):
        assert doc["services"][name]["state"] == "ready"
        assert doc["services"][name]["disabled_reason"] is None
    assert doc["all_required_ready"] is True
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    doc = status(h)
    assert disabled(doc) == want  # still disabled after the stop


EXEC = """
    [hfinit]
    stop_timeout = 2s

    [service:held]
    command = {cmd}
    condition = exec:sh -c 'echo checking the card; exit 0'
    condition = !exec:false

    [service:fails]
    command = {cmd}
    condition = exec:sh -c 'echo no card here >&2; exit 3'

    [service:negfails]
    command = {cmd}
    condition = !exec:true

    [service:missing]
    command = {cmd}
    condition = exec:/nonexistent/probe-gpu

    [service:slow]
    command = {cmd}
    condition_timeout = 200ms
    condition = exec:sleep 30

    [service:web]
    stage = 2
    command = {cmd}
"""


def test_exec_conditions(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, EXEC.format(cmd=svc()))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: info: all stages up after \d+ ms$")
    # The output goes to the log with the service's prefix, before the verdict.
    i = h.find(r"^\[held\] checking the card$", stream="out")
    assert i is not None, h.dump()
    j = h.find(r"^\[fails\] no card here$")
    k = h.find(r"^hfinit: info: \[fails\] disabled: condition exec:sh -c 'echo no card here "
               r">&2; exit 3' failed \(exited 3\)$")
    assert j is not None and k is not None and j < k, h.dump()
    assert h.find(r"^hfinit: info: \[negfails\] disabled: condition !exec:true failed "
                  r"\(exited 0\)$") is not None, h.dump()
    assert h.find(r"^hfinit: info: \[slow\] disabled: condition exec:sleep 30 failed "
                  r"\(timed out after 200ms\)$") is not None, h.dump()
    assert h.find(r"^hfinit: info: \[held\] started pid") is not None
    # The stage waited for the slow condition: stage 1 done only after it.
    slow = h.find(r"^hfinit: info: \[slow\] disabled")
    assert h.find(r"^hfinit: info: stage 1 done after") > slow
    doc = wait_status(h, lambda d: d["state"] == "ready", "ready")
    reasons = disabled(doc)
    assert set(reasons) == {"fails", "negfails", "missing", "slow"}, reasons
    assert reasons["missing"] == "condition exec:/nonexistent/probe-gpu failed (exec " \
        "/nonexistent/probe-gpu: No such file or directory)", reasons
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run the condition as uid 1000")
def test_exec_condition_runs_as_the_service(tmp_path, start_hfinit):  # noqa: F811
    """As the service's uid and gid, in its workdir, with its environment."""
    show = "echo uid=$(id -u) gid=$(id -g) cwd=$(pwd) model=$MODEL_ID; test $(id -u) = 1000"
    cfg = write_config(tmp_path, """
        [service:pool]
        command = %s
        user = 1000
        group = 1000
        workdir = /tmp
        env = MODEL_ID=tiny
        condition = exec:sh -c %s
        """ % (svc(), q(show)))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^\[pool\] uid=1000 gid=1000 cwd=/tmp model=tiny$", stream="out")
    h.wait_line(r"^hfinit: info: \[pool\] started pid")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_shutdown_while_a_condition_runs(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 2s

        [service:slow]
        command = %s
        condition = exec:sh -c 'echo waiting; exec sleep 30'
        """ % svc())
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^\[slow\] waiting$", stream="out")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
    assert h.find(r"^hfinit: info: \[slow\] started") is None
    assert status(h)["services"]["slow"]["state"] == "stopped"


def cmdlines(pid):
    out = []
    for p, _, _, _ in descendants(pid):
        try:
            with open("/proc/%d/cmdline" % p, "rb") as f:
                out.append(f.read())
        except OSError:
            pass
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_stop_while_a_condition_runs_then_start(tmp_path, start_hfinit):  # noqa: F811
    """hfinit stop while an exec: condition runs: it is killed and its pipes
    close, though a process it left in a session of its own holds them; a
    start then runs the service on pipes of its own (hfinit does not spin once
    that process ends)."""
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 2s

        [service:slow]
        command = %s
        condition = exec:sh -c 'setsid sh -c "echo waiting; exec sleep 2" & exec sleep 30'
        """ % svc())
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^\[slow\] waiting$", stream="out")
    env = dict(os.environ, HFINIT_STATUS_DIR=h.status_dir)
    for verb in ("stop", "start"):
        r = subprocess.run([HFINIT, verb, "slow"], capture_output=True, text=True, timeout=30,
                           env=env)
        assert r.returncode == 0, r.stderr + h.dump()
    wait_status(h, lambda d: d["services"]["slow"]["state"] == "ready", "slow ready")
    wait_for(lambda: b"sleep\x002\x00" not in cmdlines(h.pid), what="the sleep 2 to end")
    before = cpu_ticks(h.pid)
    time.sleep(1.0)  # the measurement window, not a synchronisation
    assert cpu_ticks(h.pid) - before < 20, h.dump()  # a spin takes ~100 ticks a second
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_everything_disabled_ends(tmp_path, start_hfinit):  # noqa: F811
    """Nothing left to run: hfinit ends as when every service has ended (exit 0)."""
    cfg = write_config(tmp_path, """
        [service:gpu]
        command = %s
        condition = path:/nonexistent/nvidia0
        """ % svc())
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: info: every service has ended$")
    assert h.wait_exit() == 0, h.dump()
    assert disabled(status(h)) == {
        "gpu": "condition path:/nonexistent/nvidia0 failed (no such file)"}


def test_check_lists_conditions(tmp_path):
    cfg = write_config(tmp_path, PATH_ENV.format(cmd="/bin/true") + """
    [service:card]
    command = /bin/true
    condition = exec:nvidia-smi -L
    """)
    env = dict(os.environ, COND_SET="1", COND_EMPTY="")
    env.pop("COND_UNSET", None)
    r = subprocess.run([HFINIT, "check", "-c", cfg], capture_output=True, text=True, env=env,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    ind = " " * 10
    lines = r.stdout.splitlines()
    for want in [
            "condition path:/nonexistent/nvidia0: no such file: would be disabled",
            "condition !path:/nonexistent/nvidia0: no such file",
            "condition path:/dev/null: exists",
            "condition env:COND_SET: is set",
            "condition env:COND_UNSET: is not set: would be disabled",
            "condition env:COND_EMPTY: is empty: would be disabled",
            "condition !env:COND_SET: is set: would be disabled",
            "condition path:/nonexistent/second: no such file: would be disabled",
            "disabled: enabled = no",
            "condition exec:nvidia-smi -L: not run by check"]:
        assert ind + want in lines, r.stdout
    # Under its service's row, in file order.
    gpu = lines.index(next(x for x in lines if " service gpu " in x))
    assert lines[gpu + 1] == ind + "condition path:/nonexistent/nvidia0: no such file: " \
        "would be disabled"
    bad = write_config(tmp_path, """
        [service:x]
        command = /bin/true
        condition = gpu:0
        """, name="bad.ini")
    r = subprocess.run([HFINIT, "check", "-c", bad], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "bad.ini:3: [service:x] condition: \"gpu:0\" is not a condition; expected " \
        "path:/PATH, env:NAME or exec:CMD (! in front negates)" in r.stdout + r.stderr


@pytest.mark.skipif(not IS_ROOT, reason="needs root: a user = that does not exist")
def test_exec_condition_never_runs_as_another_user(tmp_path, start_hfinit):  # noqa: F811
    """A service that cannot be set up (its user does not exist) never runs its
    exec: condition (it would run as hfinit): the start fails as it would without."""
    flag = os.path.join(str(tmp_path), "ran")
    cfg = write_config(tmp_path, """
        [service:pool]
        command = %s
        user = no-such-user-hfinit
        required = no
        condition = exec:touch %s
        """ % (svc(), flag))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: error: \[pool\] cannot start: user no-such-user-hfinit does not exist")
    assert h.wait_exit() == 0, h.dump()  # every service has ended
    assert not os.path.exists(flag)
    assert status(h)["services"]["pool"]["state"] == "failed"


def test_hfinit_start_starts_a_disabled_service(tmp_path, start_hfinit):  # noqa: F811
    """`hfinit start NAME` (docs/control.md) starts a disabled service by hand,
    without its conditions; its disabled_reason goes with the state."""
    cfg = write_config(tmp_path, """
        [hfinit]
        stop_timeout = 2s

        [service:web]
        command = %s

        [service:gpu]
        command = %s
        condition = path:/nonexistent/nvidia0
        """ % (svc(), svc()))
    h = start_hfinit(cfg, mode=MODE)
    h.wait_line(r"^hfinit: info: all stages up after \d+ ms$")
    wait_for(lambda: os.path.exists(os.path.join(h.status_dir, "control")),
             what="the control socket")
    r = subprocess.run([HFINIT, "start", "gpu"], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, HFINIT_STATUS_DIR=h.status_dir))
    assert r.returncode == 0 and r.stdout.startswith("gpu: ready in "), (r.stdout, r.stderr)
    h.wait_line(r"^hfinit: info: \[gpu\] started pid")
    doc = wait_status(h, lambda d: d["services"]["gpu"]["state"] == "ready", "gpu ready")
    assert doc["services"]["gpu"]["disabled_reason"] is None and doc["state"] == "ready"
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()
