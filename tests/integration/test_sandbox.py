"""Seccomp sandbox (issue 6, docs/sandbox.md): real filters on real processes.

The static helper try-syscall runs as a service of hfinit and makes each named
call with harmless arguments, printing "NAME ok" or "NAME errno=E". Every run
here ends by itself (services with restart = no), so hfinit is run to its exit
with a timeout and its whole output is checked.

To tell the filter's EPERM from the kernel's own, the deny list is also run
under a profile that extends worker with deny_action = errno:4000: only the
filter can answer 4000.

Each test runs with hfinit as root (plain and as PID 1 of a PID namespace)
and as uid 1000 (setpriv), when the tests run as root.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap

import pytest

HFINIT = os.environ.get("HFINIT_BIN", "")
HELPERS = os.environ.get("HFINIT_HELPERS", "")
TRY = os.path.join(HELPERS, "try-syscall")
IS_ROOT = os.geteuid() == 0
TIMEOUT = 120

# (how hfinit runs): plain as the test user, PID 1 of a new PID namespace,
# and as uid 1000 with no supplementary groups.
RUNS = ["plain"] + (["pid1", "uid1000"] if IS_ROOT else [])

# Calls of the worker deny list that try-syscall knows (x86_64 names).
DENIED = """mount umount2 pivot_root chroot open_tree move_mount fsopen fsconfig fsmount fspick
mount_setattr swapon swapoff quotactl open_by_handle_at name_to_handle_at nfsservctl sysfs
ustat uselib reboot kexec_load kexec_file_load init_module finit_module delete_module
create_module get_kernel_syms query_module bpf perf_event_open lookup_dcookie syslog acct
iopl ioperm _sysctl io_uring_setup io_uring_enter io_uring_register fanotify_init ptrace
process_vm_readv process_vm_writev process_madvise pidfd_getfd kcmp keyctl add_key
request_key unshare setns userfaultfd settimeofday clock_settime clock_adjtime adjtimex
sethostname setdomainname clone-newuser clone-newns clone-newpid clone-newnet
personality-norandom personality-linux32""".split()

# Allowed calls and the exact result each must give under worker.
ALLOWED = {
    "getpid": "ok", "getppid": "ok", "uname": "errno=EFAULT", "clone": "ok",
    "personality-0": "ok", "personality-query": "ok", "socket": "ok",
    "get_mempolicy": "ok", "set_mempolicy": "ok", "mbind": "ok",
}


def need():
    if not (HFINIT and os.access(HFINIT, os.X_OK) and os.access(TRY, os.X_OK)):
        pytest.skip("set HFINIT_BIN and HFINIT_HELPERS (make integration)")


@pytest.fixture
def world():
    """A scratch dir every user can read, with a status dir uid 1000 can write."""
    d = tempfile.mkdtemp(prefix="hfinit-sandbox-")
    os.chmod(d, 0o755)
    status = os.path.join(d, "status")
    os.mkdir(status)
    if IS_ROOT:
        os.chown(status, 1000, 1000)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(world, config, how):
    """Run hfinit on config until it exits; (rc, stdout lines, stderr text)."""
    need()
    path = os.path.join(world, "hfinit.ini")
    with open(path, "w") as f:
        f.write(textwrap.dedent(config).lstrip("\n"))
    os.chmod(path, 0o644)
    argv = [HFINIT, "-c", path]
    if how == "pid1":
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
    elif how == "uid1000":
        argv = ["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", "--"] + argv
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin",
           "HFINIT_STATUS_DIR": os.path.join(world, "status")}
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=world, start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate(timeout=10)
        pytest.fail("hfinit still running after %ds\n%s\n%s"
                    % (TIMEOUT, out.decode(), err.decode()))
    return p.returncode, out.decode().splitlines(), err.decode()


def results(lines, svc):
    """{call: result} from one service's try-syscall lines ("[svc] NAME RESULT")."""
    out = {}
    for line in lines:
        m = re.match(r"^\[%s\] (\S+) (ok|errno=\S+)$" % re.escape(svc), line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def service(name, argv, profile=None, extra=""):
    return "[service:%s]\ncommand = %s\nrestart = no\nrequired = no\n%s%s\n" % (
        name, " ".join(argv), "seccomp = %s\n" % profile if profile else "", extra)


MARKED = "[seccomp:marked]\nextends = worker\ndeny_action = errno:4000\n"
KILLER = "[seccomp:killer]\nextends = worker\ndeny_action = kill\n"


@pytest.mark.parametrize("how", RUNS)
def test_worker_denies_the_list_and_allows_the_rest(world, how):
    calls = DENIED + sorted(ALLOWED) + ["clone3"]
    rc, out, err = run(world, MARKED
                       + service("w", [TRY] + calls, "worker")
                       + service("m", [TRY] + calls, "marked"), how)
    assert rc == 0, err
    w, m = results(out, "w"), results(out, "m")
    assert sorted(w) == sorted(calls) and sorted(m) == sorted(calls), (out, err)
    wrong = {c: w[c] for c in DENIED if w[c] != "errno=EPERM"}
    assert not wrong, "not EPERM under worker: %s" % wrong
    # The filter answered, not the kernel: the marked errno for every entry.
    wrong = {c: m[c] for c in DENIED if m[c] != "errno=4000"}
    assert not wrong, "not the profile's errno under marked: %s" % wrong
    for c, want in ALLOWED.items():
        assert w[c] == want and m[c] == want, (c, w[c], m[c])
    # clone3 reads its flags from memory: ENOSYS, so libc falls back to clone.
    assert w["clone3"] == m["clone3"] == "errno=ENOSYS"
    assert "[w] exited 0" in err and "[m] exited 0" in err, err


@pytest.mark.parametrize("how", RUNS)
def test_other_abis_cannot_step_around(world, how):
    if os.uname().machine != "x86_64":
        pytest.skip("int 0x80 and x32 are x86_64 ABIs")
    calls = ["x86:getpid", "x86:mount", "x86:unshare", "x86:personality", "x32:getpid",
             "x32:mount", "getpid"]
    rc, out, err = run(world, KILLER
                       + service("free", [TRY] + calls)
                       + service("w", [TRY] + calls, "worker")
                       + service("k", [TRY, "x86:getpid", "getpid"], "killer"), how)
    assert rc == 0, err
    free, w = results(out, "free"), results(out, "w")
    if free["x86:getpid"] != "ok":
        pytest.skip("this kernel has no i386 emulation (int 0x80: %s)" % free["x86:getpid"])
    assert free["x86:unshare"] == "ok"  # unshare(0) works without a filter ...
    assert {c: w[c] for c in calls} == dict(
        {c: "errno=EPERM" for c in calls[:-1]}, getpid="ok"), w  # ... and not through i386
    # Under a kill profile, a call through another ABI kills the process.
    assert results(out, "k") == {}, out
    assert re.search(r"\[k\] .*killed by SIGSYS", err), err


@pytest.mark.parametrize("how", RUNS)
def test_kill_profile_reports_seccomp(world, how):
    rc, out, err = run(world, KILLER + service("k", [TRY, "getpid", "unshare", "getppid"],
                                               "killer"), how)
    assert rc == 0, err
    # Dies at unshare: nothing after it.
    assert results(out, "k") == {"getpid": "ok"}, out
    assert re.search(r"^hfinit: warn: \[k\] seccomp: killed by SIGSYS: a system call denied by "
                     r"the seccomp profile 'killer'", err, re.M), err
    assert re.search(r"^hfinit: error: \[k\] killed by SIGSYS", err, re.M), err


@pytest.mark.parametrize("how", RUNS)
def test_proc_status_seccomp_and_no_new_privs(world, how):
    """The service itself (cat is exec'd as its main process) reads its own
    /proc/PID/status; the unsandboxed service shows hfinit's own values."""
    cat = ["/bin/cat", "/proc/self/status"]
    rc, out, err = run(world, service("worker", cat, "worker") + service("web", cat), how)
    assert rc == 0, err

    def field(svc, key):
        vals = [ln.split(":", 1)[1].strip() for ln in out
                if ln.startswith("[%s] %s:" % (svc, key))]
        assert len(vals) == 1, (svc, key, out)
        return vals[0]

    assert field("worker", "Seccomp") == "2"
    assert field("worker", "NoNewPrivs") == "1"
    with open("/proc/self/status") as f:  # what the test (and so hfinit) runs with
        mine = dict(ln.split(":", 1) for ln in f.read().splitlines() if ":" in ln)
    if mine["Seccomp"].strip() == "0":
        assert field("web", "Seccomp") == "0"
    if how != "uid1000" and mine["NoNewPrivs"].strip() == "0":
        assert field("web", "NoNewPrivs") == "0"
    if field("web", "Seccomp") == "2":  # an outer filter (a container): one more here
        assert int(field("worker", "Seccomp_filters")) == int(field("web", "Seccomp_filters")) + 1


PY_WORKER = r"""
import ctypes, json, multiprocessing, socket, ssl, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

def sq(x):
    return x * x

if __name__ == "__main__":
    ssl.create_default_context()
    a, b = socket.socketpair()
    a.sendall(json.dumps({"n": 3}).encode()); assert json.loads(b.recv(64))["n"] == 3
    assert ctypes.CDLL(None).getpid() > 0
    subprocess.run([sys.executable, "-c", "import os; os.getpid()"], check=True, timeout=60)
    for method in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context(method).Pool(3) as pool:
            assert pool.map(sq, range(20)) == [x * x for x in range(20)], method
    with ThreadPoolExecutor(8) as ex:
        assert sum(ex.map(sq, range(100))) == sum(x * x for x in range(100))
    print("worker-ok", sys.version.split()[0], ",".join(multiprocessing.get_all_start_methods()))
"""


def pythons(how):
    found = ["/usr/bin/python3"]
    if how != "uid1000":  # other interpreters may live in root's home
        other = shutil.which("python3")
        if other:
            real = subprocess.run([other, "-c", "import sys; print(sys.executable)"],
                                  capture_output=True, text=True, timeout=30).stdout.strip()
            if real and os.path.realpath(real) != os.path.realpath(found[0]):
                found.append(real)
    return found


@pytest.mark.parametrize("how", RUNS)
def test_real_python_worker_runs_under_worker_and_kill_profiles(world, how):
    """json, socket, ssl, multiprocessing (every start method), ctypes, a
    Pool and a ThreadPoolExecutor to completion: under worker, and under a
    profile that kills on any worker entry (so not one denied call is made)."""
    script = os.path.join(world, "pyworker.py")
    with open(script, "w") as f:
        f.write(PY_WORKER)
    os.chmod(script, 0o644)
    conf = KILLER
    names = []
    for i, py in enumerate(pythons(how)):
        for prof in ("worker", "killer"):
            name = "py%d-%s" % (i, prof)
            names.append(name)
            conf += service(name, [py, script], prof)
    rc, out, err = run(world, conf, how)
    assert rc == 0, err
    for name in names:
        assert any(re.match(r"^\[%s\] worker-ok 3\.\d+" % name, ln) for ln in out), (name, out, err)
        assert "[%s] exited 0" % name in err, err
    assert "SIGSYS" not in err, err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
