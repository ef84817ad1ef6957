"""Seccomp sandbox (docs/sandbox.md): real filters on real processes.

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

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading

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


# --- what runs on a service's behalf, and Landlock -----------------------------

def write(world, name, text, mode=0o644):
    path = os.path.join(world, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))
    os.chmod(path, mode)
    return path


def outdir(world):
    """A directory every service user can write (results land here)."""
    d = os.path.join(world, "out")
    os.mkdir(d)
    os.chmod(d, 0o777)
    return d


def svc_uid(how):
    """Services run as uid 1234 when hfinit is root; as hfinit's uid otherwise."""
    if how == "uid1000":
        return 1000
    return 1234 if IS_ROOT else os.geteuid()


def user_line(how):
    return "user = 1234\n" if IS_ROOT and how != "uid1000" else ""


STATE_PY = r"""
import ctypes, errno, json, os, resource, sys, time
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")

def err(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

def state():
    st = dict(ln.split(":", 1) for ln in open("/proc/self/status").read().splitlines()
              if ":" in ln)
    mask = os.umask(0)
    os.umask(mask)
    libc = ctypes.CDLL(None, use_errno=True)
    def newuser():
        if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    with open("/proc/self/oom_score_adj") as f:
        oom = f.read().strip()
    return {"Seccomp": st["Seccomp"].strip(), "NoNewPrivs": st["NoNewPrivs"].strip(),
            "umask": "%03o" % mask, "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
            "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "oom": oom,
            "mark": os.environ.get("MARK"), "cwd": os.getcwd(),
            "kill_hfinit": err(lambda: os.kill(os.getppid(), 0)),
            "unshare_newuser": err(newuser)}  # last: it may succeed

def publish(name):
    tmp = os.path.join(OUT, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(state(), f)
    os.rename(tmp, os.path.join(OUT, name + ".json"))

mode = sys.argv[1]
if mode == "service":
    publish("service")
    deadline = time.monotonic() + 60  # bounded: both probes ran once
    while not all(os.path.exists(os.path.join(OUT, n + ".json")) for n in ("ready", "health")):
        if time.monotonic() > deadline:
            sys.exit("probes never ran")
        time.sleep(0.02)
else:
    if not os.path.exists(os.path.join(OUT, mode + ".json")):
        publish(mode)
"""


@pytest.mark.parametrize("how", RUNS)
def test_exec_probes_run_in_the_service_sandbox(world, how):
    """The exec ready probe and the exec health probe of a worker service get
    the service's whole sandbox: seccomp filter and no_new_privs, a Landlock
    domain (a signal to hfinit is refused), umask, rlimits, oom_score_adj,
    user, environment and workdir. Before, they ran with none of these
    (unshare(CLONE_NEWUSER) succeeded from a probe)."""
    out = outdir(world)
    script = write(world, "state.py", STATE_PY)
    py = "/usr/bin/python3 " + script
    rc, lines, err = run(world, """
        [hfinit]
        probe_interval = 20ms
        [service:w]
        command = %s service
        seccomp = worker
        umask = 027
        rlimit_nofile = 512:768
        oom_score_adj = 500
        env = MARK=sandboxed
        workdir = %s
        %sready = exec:%s ready
        ready_timeout = 60s
        health = exec:%s health
        health_interval = 20ms
        restart = no
        required = no
        """ % (py, out, user_line(how), py, py), how)
    assert rc == 0, err
    assert "[w] exited 0" in err, err
    got = {}
    for name in ("service", "ready", "health"):
        with open(os.path.join(out, name + ".json")) as f:
            got[name] = json.load(f)
    svc = got["service"]
    want = {"Seccomp": "2", "NoNewPrivs": "1", "umask": "027", "nofile": [512, 768],
            "uid": svc_uid(how), "oom": "500", "mark": "sandboxed", "cwd": out,
            "kill_hfinit": "EPERM", "unshare_newuser": "EPERM"}
    if landlock_abi() < 6:  # no signal scope: only the filter and the rest
        want["kill_hfinit"] = "ok"
    assert {k: svc[k] for k in want} == want, svc
    assert got["ready"] == svc, (got["ready"], svc)
    assert got["health"] == svc, (got["health"], svc)


def landlock_abi():
    """The kernel's Landlock ABI (0: none), as hfinit would see it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    v = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(VERSION)
    return v if v > 0 else 0


SIBLING_PY = r"""
import ctypes, errno, json, os, signal, sys, time
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")

def wait_for(names):
    deadline = time.monotonic() + 60  # bounded
    while not all(os.path.exists(os.path.join(OUT, n)) for n in names):
        if time.monotonic() > deadline:
            sys.exit("timed out waiting for %s" % names)
        time.sleep(0.02)

def err(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

def attach(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    os.waitpid(pid, 0x40000000)  # __WALL: the attach stop
    libc.ptrace(17, pid, None, None)  # PTRACE_DETACH

def memwrite(pid):
    fd = os.open("/proc/%d/mem" % pid, os.O_RDWR)
    os.close(fd)

role = sys.argv[1]
if role == "web":
    got = []
    signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
    with open(os.path.join(OUT, "web.tmp"), "w") as f:
        f.write(str(os.getpid()))
    os.rename(os.path.join(OUT, "web.tmp"), os.path.join(OUT, "web.pid"))
    wait_for(sys.argv[2:])
    print("usr1", len(got), flush=True)
else:
    wait_for(["web.pid"])
    pid = int(open(os.path.join(OUT, "web.pid")).read())
    res = {"mem": err(lambda: memwrite(pid)), "ptrace": err(lambda: attach(pid)),
           "environ": err(lambda: open("/proc/%d/environ" % pid, "rb").close()),
           "usr1": err(lambda: os.kill(pid, signal.SIGUSR1))}
    print("RESULT", json.dumps(res, sort_keys=True), flush=True)
    open(os.path.join(OUT, "done-" + role), "w").close()
"""

TRACER = "[seccomp:tracer]\nextends = worker\nallow = ptrace\n"


@pytest.mark.parametrize("how", RUNS)
def test_landlock_keeps_workers_off_a_same_uid_sibling(world, how):
    """A filtered worker and the unfiltered server run as the same uid. The
    worker cannot open the server's /proc/PID/mem for writing (nor read its
    environ, where its secrets are), cannot
    ptrace-attach to it even with ptrace allowed by its profile, and (ABI 6+)
    cannot signal it; an unfiltered service of the same uid can (control).
    Before, the worker got ok for the /proc/PID/mem write open."""
    out = outdir(world)
    script = write(world, "sibling.py", SIBLING_PY)
    py = "/usr/bin/python3 " + script
    roles = {"w": "worker", "t": "tracer", "free": None}
    conf = TRACER + "[hfinit]\nlog_format = text\n"
    conf += "[service:web]\ncommand = %s web %s\nrestart = no\nrequired = no\n%s" % (
        py, " ".join("done-" + r for r in roles), user_line(how))
    for role, prof in roles.items():
        conf += service(role, [py, role], prof, user_line(how))
    rc, lines, err = run(world, conf, how)
    assert rc == 0, err
    res = {}
    for line in lines:
        m = re.match(r"^\[(\w+)\] RESULT (.*)$", line)
        if m:
            res[m.group(1)] = json.loads(m.group(2))
    scoped = landlock_abi() >= 6
    assert res == {
        "free": {"mem": "ok", "environ": "ok", "ptrace": "ok", "usr1": "ok"},
        "w": {"mem": "EACCES", "environ": "EACCES", "ptrace": "EPERM",
              "usr1": "EPERM" if scoped else "ok"},
        "t": {"mem": "EACCES", "environ": "EACCES", "ptrace": "EPERM",
              "usr1": "EPERM" if scoped else "ok"},
    }, (lines, err)
    assert "[web] usr1 %d" % (1 if scoped else 3) in lines, lines
    with open(os.path.join(world, "status", "status.json")) as f:
        doc = json.load(f)
    abi = landlock_abi() if landlock_abi() >= 2 else None
    assert {n: s["sandbox_landlock"] for n, s in doc["services"].items()} == {
        "web": None, "free": None, "w": abi, "t": abi}, doc


UFFD_PY = r"""
import errno, fcntl, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CLOEXEC)
except OSError as e:
    sys.exit("open %s: %s" % (sys.argv[1], e))
try:
    new = fcntl.ioctl(fd, 0xAA00, os.O_CLOEXEC)  # USERFAULTFD_IOC_NEW
    os.close(new)
    print("uffd ok", flush=True)
except OSError as e:
    print("uffd", errno.errorcode[e.errno], flush=True)
"""


@pytest.mark.parametrize("how", [r for r in RUNS if r != "uid1000"])
def test_root_worker_gets_no_userfaultfd_through_the_device(world, how):
    """/dev/userfaultfd's USERFAULTFD_IOC_NEW hands out the userfaultfd the
    userfaultfd call is denied for: refused with EPERM under worker (and
    allowed without a profile: the control). Before, a root worker got one."""
    if not IS_ROOT:
        pytest.skip("opening /dev/userfaultfd needs root")
    try:
        with open("/sys/class/misc/userfaultfd/dev") as f:
            major, minor = map(int, f.read().split(":"))
    except OSError:
        pytest.skip("this kernel has no /dev/userfaultfd (Linux < 6.1 or not configured)")
    dev = os.path.join(world, "userfaultfd")  # our own node: no need for the host's /dev
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(major, minor))
    script = write(world, "uffd.py", UFFD_PY)
    rc, lines, err = run(world, service("w", ["/usr/bin/python3", script, dev], "worker")
                         + service("free", ["/usr/bin/python3", script, dev]), how)
    assert rc == 0, err
    assert "[w] uffd EPERM" in lines and "[free] uffd ok" in lines, (lines, err)


NOTIFY_PY = r"""
import errno, os, socket, sys
def send(addr, msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(msg, "\0" + addr[1:] if addr.startswith("@") else addr)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
    finally:
        s.close()
if sys.argv[1] == "ready":
    print("notify", send(os.environ["NOTIFY_SOCKET"], b"READY=1"), flush=True)
    sys.stdin.read()  # until hfinit stops it
else:  # another service's notify socket: the abstract name hfinit uses
    print("other", send("@hfinit/%d/n" % os.getppid(), b"X=1"), flush=True)
"""


@pytest.mark.parametrize("how", RUNS)
def test_notify_worker_reaches_hfinit_and_others_do_not(world, how):
    """A `ready = notify` worker (its own notify socket is abstract and
    hfinit's) still becomes ready: its domain leaves abstract sockets alone.
    A worker without ready = notify cannot send to that socket (ABI 6+:
    EPERM from the abstract unix socket scope); an unfiltered one can."""
    script = write(world, "notify.py", NOTIFY_PY)
    py = "/usr/bin/python3 " + script
    conf = ("[service:n]\ncommand = %s ready\nseccomp = worker\nready = notify\n"
            "ready_timeout = 60s\nrequired = no\nrestart = no\n" % py)
    conf += "[service:w]\ncommand = %s other\nseccomp = worker\nstage = 2\n" % py
    conf += "restart = no\nrequired = no\n"
    conf += "[service:free]\ncommand = %s other\nstage = 2\nrestart = no\nrequired = no\n" % py
    need()
    path = write(world, "hfinit.ini", conf)
    argv = [HFINIT, "-c", path]
    if how == "pid1":
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "--"] + argv
    elif how == "uid1000":
        argv = ["setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", "--"] + argv
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin",
           "HFINIT_STATUS_DIR": os.path.join(world, "status")}
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, cwd=world, start_new_session=True,
                         text=True)
    lines = []
    # Bounded: the read loop below ends at the latest when this kills hfinit.
    watchdog = threading.Timer(TIMEOUT, lambda: os.killpg(p.pid, signal.SIGKILL))
    watchdog.start()
    try:
        # Stage 2 starts only once n is ready; then wait for both of its lines.
        for line in p.stdout:
            lines.append(line.rstrip("\n"))
            if sum(ln.startswith(("[w] other", "[free] other")) for ln in lines) == 2:
                break
        os.killpg(p.pid, signal.SIGTERM)
        rest, _ = p.communicate(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    lines += rest.splitlines()
    assert "[n] notify ok" in lines, lines
    assert any(re.match(r"^hfinit: info: \[n\] ready in \d+ ms \(READY=1\)", ln)
               for ln in lines), lines
    scoped = landlock_abi() >= 6
    assert "[w] other %s" % ("EPERM" if scoped else "ok") in lines, lines
    assert "[free] other ok" in lines, lines


NOLANDLOCK_PY = r"""
import ctypes, os, struct, sys
# A seccomp filter like a container runtime's that lacks Landlock:
# landlock_create_ruleset (444 on every architecture) gets ENOSYS.
insns = [(0x20, 0, 0, 0), (0x15, 0, 1, 444), (0x06, 0, 0, 0x00050000 | 38),
         (0x06, 0, 0, 0x7fff0000)]
code = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *i) for i in insns))
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
prog = Prog(len(insns), ctypes.addressof(code))
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0, ctypes.get_errno()
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_without_landlock_the_log_and_check_say_so(world):
    """Under a seccomp profile that denies Landlock (ENOSYS), hfinit says so
    once in its log, still runs the filtered services (without a domain), and
    `check` warns, naming each filtered service that shares its uid with an
    unfiltered one."""
    need()
    wrap = write(world, "nolandlock.py", NOLANDLOCK_PY)
    script = write(world, "state.py", "import os\nprint('kill', os.kill(os.getppid(), 0))\n")
    conf = write(world, "hfinit.ini",
                 service("w1", ["/usr/bin/python3", script], "worker")
                 + service("w2", ["/bin/true"], "worker", "user = 1234\n")
                 + service("web", ["/usr/bin/python3", script]))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin",
           "HFINIT_STATUS_DIR": os.path.join(world, "status")}
    r = subprocess.run(["/usr/bin/python3", wrap, HFINIT, "-c", conf], env=env, cwd=world,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    warn = ("hfinit: warn: landlock: not available (ENOSYS: not in the kernel, or denied by "
            "a seccomp profile): filtered services run without a domain")
    assert r.stderr.splitlines().count(warn) == 1, r.stderr
    assert "[w1] kill None" in r.stdout.splitlines(), r.stdout  # no signal scope
    assert "[w1] exited 0" in r.stderr, r.stderr
    r = subprocess.run(["/usr/bin/python3", wrap, HFINIT, "check", "-c", conf], env=env,
                       cwd=world, capture_output=True, text=True, timeout=TIMEOUT)
    lines = r.stdout.splitlines()
    assert ("warn  landlock         not available (ENOSYS: not in the kernel, or denied by a "
            "seccomp profile): filtered services run without a domain") in lines, r.stdout
    me = os.geteuid()
    shared = [ln.strip() for ln in lines if "shares its uid" in ln]
    want = ["service w1 (uid %d) shares its uid with unfiltered web: it can write its memory "
            "(/proc/PID/mem)" % me]
    if not IS_ROOT:  # w2's user = is not applied: it runs as hfinit's uid too
        want.append(want[0].replace("w1", "w2"))
    assert shared == want, r.stdout
    assert "          sandbox: worker (%d rules), no Landlock" % worker_rules() in lines, r.stdout
    # With Landlock (this kernel, no outer filter): no row, no warning.
    r = subprocess.run([HFINIT, "check", "-c", conf], env=env, cwd=world,
                       capture_output=True, text=True, timeout=TIMEOUT)
    if landlock_abi() >= 2:
        assert "landlock" not in r.stdout.replace("own Landlock domain", ""), r.stdout
        assert "sandbox: worker (%d rules), own Landlock domain" % worker_rules() in r.stdout


def worker_rules():
    return 65


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
