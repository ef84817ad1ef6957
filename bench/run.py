#!/usr/bin/python3
"""hfinit side by side with tini, dumb-init and catatonit (see bench/README.md).

Every init runs as PID 1 of a fresh PID namespace:
    unshare --pid --fork --mount-proc --kill-child INIT ... CMD
The inits are interleaved (round-robin, rotated each repetition) so machine noise
hits all of them alike. Standard library only; run with /usr/bin/python3 as root.

Environment: HFINIT_BIN (the static binary), HFINIT_HELPERS (build/helpers with
bench-sleeper and bench-storm). `make bench` sets both.
"""

import argparse
import atexit
import json
import os
import platform
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
REF = "hfinit"

# Bounds on every wait (seconds).
T_RUN = 10.0  # one `INIT /bin/true` or a start-up
T_READY = 10.0  # child's "ready" line
T_TERM = 5.0  # SIGTERM -> child's stamp
T_STORM = 90.0  # one storm, start to "ok" line (the helper's own alarm is 60 s)
T_EXIT = 10.0  # the namespace to go away after its child is done


class BenchError(Exception):
    pass


# --- the inits ------------------------------------------------------------------


def find_binary(name, extra=()):
    for cand in (shutil.which(name), *extra):
        if cand and os.access(cand, os.X_OK):
            return os.path.realpath(cand)
    return None


def dpkg_version(pkg):
    try:
        r = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg],
            capture_output=True,
            text=True,
            timeout=T_RUN,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def file_kind(path):
    try:
        r = subprocess.run(["file", "-b", path], capture_output=True, text=True, timeout=T_RUN)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    out = r.stdout
    linked = "static" if "statically linked" in out or "static-pie" in out else "dynamic"
    return linked + (", stripped" if ", stripped" in out else ", not stripped")


class Staged:
    """Every binary measured runs from a copy made here, all by the same
    copy: how a file was written (a linker's small writes, dpkg, cp) decides
    how the kernel caches it and so what each exec of it costs. Two files of
    one build measured A/A differed by 8-18% in `INIT /bin/true` until both
    were copies; the copies of one file measured 0.99 [0.87-1.07]."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hfinit-bench-bin-")
        self.copies = {}
        atexit.register(shutil.rmtree, self.dir, True)

    def copy(self, path):
        """The copy of path (one per file; the name is kept: hfinit reads it)."""
        if path not in self.copies:
            d = os.path.join(self.dir, str(len(self.copies)))
            os.mkdir(d)
            self.copies[path] = os.path.join(d, os.path.basename(path))
            shutil.copy2(path, self.copies[path])
        return self.copies[path]


def make_inits(hfinit_bin, baseline_bin=None):
    """name -> dict(argv=prefix before CMD, binary, version)."""
    inits = {}
    if hfinit_bin:
        inits["hfinit"] = {"argv": [hfinit_bin, "--"], "binary": hfinit_bin}
    if baseline_bin:
        # an older build of hfinit, measured in the same interleaved run (--baseline)
        inits["hfinit-base"] = {"argv": [baseline_bin, "--"], "binary": baseline_bin}
    tini = find_binary("tini")
    if tini:
        inits["tini"] = {"argv": [tini, "-s", "--"], "binary": tini, "version": dpkg_version("tini")}
    tini_static = find_binary("tini-static")
    if tini_static:
        inits["tini-static"] = {
            "argv": [tini_static, "-s", "--"],
            "binary": tini_static,
            "version": dpkg_version("tini"),
        }
    dumb = find_binary("dumb-init")
    if dumb:
        inits["dumb-init"] = {"argv": [dumb], "binary": dumb, "version": dpkg_version("dumb-init")}
    cata = find_binary("catatonit", ("/usr/libexec/podman/catatonit", "/usr/libexec/catatonit/catatonit"))
    if cata:
        inits["catatonit"] = {
            "argv": [cata, "--"],
            "binary": cata,
            "version": dpkg_version("catatonit"),
        }
    for spec in inits.values():
        spec["size"] = os.stat(spec["binary"]).st_size
        spec["kind"] = file_kind(spec["binary"])
    return inits


# --- one namespace ------------------------------------------------------------------

LIVE = {}  # pid -> Popen of every unshare we started and have not yet reaped


class Ns:
    """`unshare ... INIT CMD` with the child's stdout on a pipe."""

    def __init__(self, init_argv, cmd):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            UNSHARE + init_argv + cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.err,
        )
        LIVE[self.proc.pid] = self.proc
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.eof = False
        self.init_pid = None

    def line(self, timeout):
        """Next line of the child's stdout, or BenchError after timeout."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                raise BenchError("stdout closed before a full line" + self.stderr_tail())
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("timed out after %.0f s waiting for a line" % timeout + self.stderr_tail())
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    self.eof = True
                self.buf += chunk
        out, self.buf = self.buf.split(b"\n", 1)
        return out.decode(errors="replace")

    def find_init(self):
        """Host PID of the init: the child of unshare (the only one, with --fork)."""
        if self.init_pid is None:
            kids = children_of(self.proc.pid)
            if len(kids) != 1:
                raise BenchError("unshare %d has children %r, want exactly one" % (self.proc.pid, kids))
            self.init_pid = kids[0]
        return self.init_pid

    def wait_asleep(self, timeout=T_RUN):
        """Wait until the init is in state S (blocked in its wait), bounded."""
        pid = self.find_init()
        deadline = time.monotonic() + timeout
        while proc_state(pid) != "S":
            if time.monotonic() > deadline:
                raise BenchError("init %d never went to sleep" % pid)
            # Nothing signals "went to sleep"; poll briefly.
            time.sleep(0.0002)

    def wait_settled(self, quiet=0.2, timeout=T_RUN):
        """Wait until the init's context-switch count has not moved for `quiet`
        seconds (bounded): start-up work is over. A periodic wake-up (tini's
        1 s) still lands in the idle window; a one-off write just after start
        (hfinit's single-child status files, 10 ms after exec) does not."""
        pid = self.find_init()
        deadline = time.monotonic() + timeout

        def switches():
            st = proc_status(pid)
            return int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])

        last, since = switches(), time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise BenchError("init %d never settled" % pid)
            time.sleep(0.01)  # nothing signals "settled"; poll
            now = switches()
            if now != last:
                last, since = now, time.monotonic()

    def finish(self, timeout=T_EXIT):
        """Wait for unshare to exit; kill it (and so the namespace) on timeout."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is None:
            kill_ns(self.proc)
        LIVE.pop(self.proc.pid, None)
        self.proc.stdout.close()
        self.err.close()
        return rc

    def kill(self):
        kill_ns(self.proc)
        LIVE.pop(self.proc.pid, None)
        self.proc.stdout.close()
        self.err.close()

    def stderr_tail(self):
        try:
            self.err.seek(0)
            data = self.err.read()[-600:].decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return (": stderr: " + data) if data else ""


def kill_ns(proc):
    """SIGKILL our unshare; --kill-child takes the init and so the namespace with it."""
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        try:
            proc.wait(T_EXIT)
        except subprocess.TimeoutExpired:
            print("warning: unshare %d did not die after SIGKILL" % proc.pid, file=sys.stderr)


def kill_all_live():
    for proc in list(LIVE.values()):
        kill_ns(proc)
    LIVE.clear()


def children_of(ppid):
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == ppid:
            kids.append(int(name))
    return kids


def proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    return stat[stat.rindex(")") + 2]


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            out[k] = v.strip()
    return out


def kib(v):
    num, unit = v.split()
    assert unit == "kB", v
    return int(num)


# --- timing a short run -------------------------------------------------------------


def timed_run(argv, timeout=T_RUN):
    """Wall time in ns of posix_spawn .. reaped, and the exit code. Bounded by a pidfd."""
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    pidfd = os.pidfd_open(pid)
    try:
        r, _, _ = select.select([pidfd], [], [], timeout)
        if not r:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)  # SIGKILLed: returns at once
            raise BenchError("%s: no exit within %.0f s" % (" ".join(argv), timeout))
        _, status = os.waitpid(pid, 0)
        t1 = time.perf_counter_ns()
    finally:
        os.close(pidfd)
    return t1 - t0, os.waitstatus_to_exitcode(status)


# --- the measurements ---------------------------------------------------------------


def rotations(names, reps):
    """The order of each repetition: a new shuffle each time (seeded: the same
    orders every run), so that no init is always first and none always runs
    right after the same other one. (A fixed rotation did that: in an A/A run
    of one binary under two names, the `INIT /bin/true` overhead differed by
    11%, [0.82-0.96], from which run came before.)"""
    rng = random.Random(14)
    for rep in range(reps):
        order = list(names)
        rng.shuffle(order)
        yield rep, order


def bench_overhead(inits, names, reps, res):
    unshare = [shutil.which("unshare")] + UNSHARE[1:]
    true = ["/bin/true"]
    base = unshare + true
    for name in names:  # warm caches, check the command works
        for _ in range(3):
            _, rc = timed_run(base)
            if rc != 0:
                raise BenchError("baseline `unshare /bin/true` exited %d" % rc)
            _, rc = timed_run(unshare + inits[name]["argv"] + true)
            if rc != 0:
                raise BenchError("%s /bin/true exited %d" % (name, rc))
    diffs = {n: [] for n in names}
    walls = {n: ([], []) for n in names}  # (baseline, with init) wall times, us
    for rep, order in rotations(names, reps):
        for name in order:
            cmd = unshare + inits[name]["argv"] + true
            # alternate which of the pair goes first so drift cancels too
            if rep % 2 == 0:
                tb, rb = timed_run(base)
                ti, ri = timed_run(cmd)
            else:
                ti, ri = timed_run(cmd)
                tb, rb = timed_run(base)
            if rb != 0 or ri != 0:
                raise BenchError("%s: /bin/true run exited %d (baseline %d)" % (name, ri, rb))
            diffs[name].append((ti - tb) / 1000.0)
            walls[name][0].append(tb / 1000.0)
            walls[name][1].append(ti / 1000.0)
    for name in names:
        res[name]["overhead_us"] = diffs[name]
        res[name]["true_base_us"] = walls[name][0]
        res[name]["true_init_us"] = walls[name][1]


def bench_idle(inits, names, reps, seconds, res, helpers):
    """All inits idle at once over the same window: RSS and wake-ups."""
    sleeper = os.path.join(helpers, "bench-sleeper")
    for name in names:
        for key in ("vmrss_kib", "rssanon_kib", "idle_wakeups"):
            res[name][key] = []
    for _ in range(reps):
        nss = {}
        try:
            for name in names:
                nss[name] = Ns(inits[name]["argv"], [sleeper, str(int(seconds) + 60)])
            for name, ns in nss.items():
                if ns.line(T_READY) != "ready":
                    raise BenchError("%s: bad ready line" % name)
                ns.wait_asleep()
                ns.wait_settled()
            before = {n: proc_status(ns.find_init()) for n, ns in nss.items()}
            # The measurement window itself (not synchronisation).
            time.sleep(seconds)
            after = {n: proc_status(ns.find_init()) for n, ns in nss.items()}
            for name in names:
                b, a = before[name], after[name]
                wake = sum(
                    int(a[k]) - int(b[k]) for k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")
                )
                res[name]["idle_wakeups"].append(wake)
                res[name]["vmrss_kib"].append(kib(a["VmRSS"]))
                res[name]["rssanon_kib"].append(kib(a["RssAnon"]))
            for name, ns in nss.items():
                os.kill(ns.find_init(), signal.SIGTERM)
                ns.line(T_TERM)  # the child's "term" stamp: it got the signal
        except BaseException:
            for ns in nss.values():
                ns.kill()
            raise
        for ns in nss.values():
            ns.finish()


def bench_term(inits, names, reps, res, helpers):
    sleeper = os.path.join(helpers, "bench-sleeper")
    for name in names:
        res[name]["sigterm_us"] = []
    for _, order in rotations(names, reps):
        for name in order:
            ns = Ns(inits[name]["argv"], [sleeper, "30"])
            try:
                if ns.line(T_READY) != "ready":
                    raise BenchError("%s: bad ready line" % name)
                pid = ns.find_init()
                ns.wait_asleep()
                t0 = time.monotonic_ns()  # CLOCK_MONOTONIC, as the child's stamp
                os.kill(pid, signal.SIGTERM)
                ln = ns.line(T_TERM)
                word, _, num = ln.partition(" ")
                if word != "term":
                    raise BenchError("%s: unexpected line %r" % (name, ln))
                res[name]["sigterm_us"].append((int(num) - t0) / 1000.0)
            except BaseException:
                ns.kill()
                raise
            rc = ns.finish()
            if rc != 0:
                raise BenchError("%s: exit %r after the child exited 0" % (name, rc))


def bench_storm(inits, names, reps, mode, count, key, res, helpers):
    storm = os.path.join(helpers, "bench-storm")
    for name in names:
        res[name][key] = []
        res[name][key + "_wall_ms"] = []
        res[name][key + "_wakeups"] = []
    for _, order in rotations(names, reps):
        for name in order:
            ns = Ns(inits[name]["argv"], [storm, mode, str(count)])
            try:
                ln = ns.line(T_STORM)
                parts = ln.split()
                if not parts or parts[0] != "ok":
                    raise BenchError("%s: storm said %r" % (name, ln))
                kv = dict(p.split("=", 1) for p in parts[1:])
                res[name][key].append(int(kv["init_cpu_ns"]) / 1e6)
                res[name][key + "_wall_ms"].append(int(kv["wall_ns"]) / 1e6)
                res[name][key + "_wakeups"].append(int(kv["init_wakeups"]))
            except BaseException:
                ns.kill()
                raise
            rc = ns.finish(T_STORM)
            if rc != 0:
                raise BenchError("%s: storm %s exited %r" % (name, mode, rc))


def preflight(inits, names, helpers):
    """Drop inits that cannot run the bench (e.g. an unfinished hfinit); say why."""
    ok, skipped = [], {}
    unshare = [shutil.which("unshare")] + UNSHARE[1:]
    for name in names:
        try:
            _, rc = timed_run(unshare + inits[name]["argv"] + ["/bin/true"])
            if rc != 0:
                raise BenchError("`%s /bin/true` exited %d" % (name, rc))
            res = {name: {}}
            bench_term(inits, [name], 1, res, helpers)
            ok.append(name)
        except (BenchError, OSError) as e:
            skipped[name] = str(e)
            kill_all_live()
    return ok, skipped


# --- supervision: the readiness gate and the 3-service comparison ----------------------

T_SETTLE = 15.0  # a supervisor to be up and quiet after its 3 programs started

# name, hfinit probe, bench-stamp arguments of the stage-1 service
GATE_MODES = [
    ("line", "line:ready", ["line"]),
    ("notify", "notify", ["notify"]),
    ("fd", "fd:3", ["fd", "3"]),
]

# columns of the comparison: s6-svscan alone, and s6 = s6-svscan + its 3 s6-supervise
SUPS = ("hfinit", "supervisord", "s6-svscan", "s6")
SUP_NAMES = ("a", "b", "c")  # the three programs

SUP_METRICS = [
    ("startup_ms", "start-up to 3 programs running", "ms", 1),
    ("quiet_vmrss_kib", "VmRSS, 3 quiet programs", "KiB", 0),
    ("quiet_rssanon_kib", "RssAnon, 3 quiet programs", "KiB", 0),
    ("quiet_cpu_us", "CPU / {idle_s:g} s, 3 quiet programs", "us", 0),
    ("quiet_wakeups", "wake-ups / {idle_s:g} s, 3 quiet programs", "", 0),
    ("tick_cpu_us", "CPU / {idle_s:g} s, 3 programs x 1 line/s", "us", 0),
    ("tick_wakeups", "wake-ups / {idle_s:g} s, 3 programs x 1 line/s", "", 0),
    ("tick_vmrss_kib", "VmRSS, 3 programs x 1 line/s", "KiB", 0),
]


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def bench_gate(hfinit_bin, helpers, reps, warmup, tmp, res):
    """Stage-1 signals ready (stamp just before) -> stage-2's main (stamp first thing)."""
    stamp = os.path.join(helpers, "bench-stamp")
    cfgs = {}
    uniq = "%d" % os.getpid()  # notify sockets are abstract: unique names per bench run
    for mode, probe, args in GATE_MODES:
        cfgs[mode] = os.path.join(tmp, "gate-%s.ini" % mode)
        write_file(
            cfgs[mode],
            "[hfinit]\nstatus_dir = %s\n\n"
            "[service:g1-%s-%s]\ncommand = %s %s\nready = %s\nready_timeout = 10s\nretries = 1\n\n"
            "[service:g2-%s-%s]\ncommand = %s stage2\nstage = 2\nrestart = no\nretries = 1\n"
            % (os.path.join(tmp, "status"), mode, uniq, stamp, " ".join(args), probe, mode, uniq, stamp),
        )
    modes = [m for m, _, _ in GATE_MODES]
    for mode in modes:
        res[mode] = []
    for rep, order in rotations(modes, warmup + reps):
        for mode in order:
            ns = Ns([hfinit_bin, "-c", cfgs[mode]], [])
            try:
                got = {}
                while len(got) < 2:
                    ln = ns.line(T_READY)
                    word, _, num = ln.rpartition(" ")
                    if word.endswith("S1") or word.endswith("S2"):
                        got[word[-2:]] = int(num)
                os.kill(ns.find_init(), signal.SIGTERM)
            except BaseException:
                ns.kill()
                raise
            rc = ns.finish()
            if rc != 0:
                raise BenchError("gate %s: hfinit exited %r after SIGTERM" % (mode, rc))
            if rep >= warmup:
                res[mode].append((got["S2"] - got["S1"]) / 1000.0)


def bench_watch(hfinit_bin, helpers, reps, warmup, tmp, res):
    """Dev Mode: a write under `watch =` -> the restarted service's first stamp. With
    watch_debounce = 0s the debounce is left out: what is measured is inotify, the stop of
    the old process (SIGTERM, reaped) and fork+exec of the new one."""
    app = os.path.join(tmp, "app")
    os.mkdir(app)
    src = os.path.join(app, "main.py")
    write_file(src, "x = 0\n")  # exists before: each write is one IN_CLOSE_WRITE
    cfg = os.path.join(tmp, "watch.ini")
    write_file(
        cfg,
        "[hfinit]\nstatus_dir = %s\n\n[service:w]\ncommand = %s line\nready = line:ready\n"
        "watch = %s\nwatch_debounce = 0s\n" % (os.path.join(tmp, "status"), os.path.join(helpers, "bench-stamp"), app),
    )
    ns = Ns([hfinit_bin, "-c", cfg], [])

    def stamp():  # "[w] S1 NS": printed after "ready", so hfinit has seen ready
        while True:
            word, _, num = ns.line(T_READY).rpartition(" ")
            if word.endswith("S1"):
                return int(num)

    res["watch"] = []
    try:
        stamp()
        for rep in range(warmup + reps):
            t0 = time.monotonic_ns()
            write_file(src, "x = %d\n" % rep)
            s1 = stamp()
            if rep >= warmup:
                res["watch"].append((s1 - t0) / 1000.0)
        os.kill(ns.find_init(), signal.SIGTERM)
    except BaseException:
        ns.kill()
        raise
    rc = ns.finish()
    if rc != 0:
        raise BenchError("watch: hfinit exited %r after SIGTERM" % rc)


def proc_comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def proc_cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


class Sup:
    """One supervisor as PID 1 of its own namespace, running 3 bench-stamp tick programs.

    Each program writes "NAME NS" (its CLOCK_MONOTONIC stamp, first thing in main) to
    a FIFO the bench holds open (read and write end, so it never sees EOF)."""

    def __init__(self, kind, tmp, helpers, hfinit_bin, tick_ms):
        self.kind = kind
        self.dir = tempfile.mkdtemp(dir=tmp, prefix=kind + "-")
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo, 0o600)
        self.rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self.wfd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self.buf = b""
        self.stamps = {}
        self.init_pid = None
        stamp = os.path.join(helpers, "bench-stamp")
        env = dict(os.environ)
        if kind == "hfinit":
            cfg = os.path.join(self.dir, "hfinit.ini")
            text = "[hfinit]\nstatus_dir = %s\n" % os.path.join(self.dir, "status")
            for n in SUP_NAMES:
                text += "\n[service:%s]\ncommand = %s tick %s %s %d\n" % (n, stamp, n, fifo, tick_ms)
            write_file(cfg, text)
            argv = [hfinit_bin, "-c", cfg]
        elif kind == "supervisord":
            cfg = os.path.join(self.dir, "supervisord.conf")
            self.log = os.path.join(self.dir, "supervisord.log")
            text = "[supervisord]\nnodaemon=true\nuser=root\nlogfile=%s\npidfile=%s\nchildlogdir=%s\n" % (
                self.log,
                os.path.join(self.dir, "supervisord.pid"),
                self.dir,
            )
            for n in SUP_NAMES:
                text += (
                    "\n[program:%s]\ncommand=%s tick %s %s %d\nstdout_logfile=%s\n"
                    "redirect_stderr=true\nautorestart=true\n"
                    % (n, stamp, n, fifo, tick_ms, os.path.join(self.dir, n + ".log"))
                )
            write_file(cfg, text)
            argv = [shutil.which("supervisord"), "-c", cfg]
        elif kind == "s6":
            scan = os.path.join(self.dir, "scan")
            os.mkdir(scan)
            for n in SUP_NAMES:
                # ./run is bench-stamp itself (no shell); it takes its name from the
                # service directory and the rest from the environment
                os.mkdir(os.path.join(scan, n))
                os.symlink(stamp, os.path.join(scan, n, "run"))
            env["BENCH_STAMP_FIFO"] = fifo
            env["BENCH_STAMP_TICK_MS"] = str(tick_ms)
            argv = [shutil.which("s6-svscan"), scan]
        else:
            raise BenchError("unknown supervisor %s" % kind)
        self.out = open(os.path.join(self.dir, "out"), "wb")
        self.t0 = time.monotonic_ns()
        self.proc = subprocess.Popen(
            UNSHARE + argv, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT, env=env
        )
        LIVE[self.proc.pid] = self.proc
        self.pidfd = os.pidfd_open(self.proc.pid)  # readable once unshare has exited

    def wait_started(self, timeout=T_READY):
        """ms from spawning `unshare SUPERVISOR` to the last of the 3 programs' main()."""
        deadline = time.monotonic() + timeout
        while len(self.stamps) < len(SUP_NAMES):
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(
                    "%s: only %r started within %.0f s%s"
                    % (self.kind, sorted(self.stamps), timeout, self.tail())
                )
            r, _, _ = select.select([self.rfd, self.pidfd], [], [], left)
            if self.pidfd in r and self.rfd not in r:
                raise BenchError(
                    "%s: exited %r before its programs started%s" % (self.kind, self.proc.poll(), self.tail())
                )
            if r:
                try:
                    self.buf += os.read(self.rfd, 4096)
                except BlockingIOError:
                    continue
                while b"\n" in self.buf:
                    ln, self.buf = self.buf.split(b"\n", 1)
                    name, _, num = ln.decode(errors="replace").partition(" ")
                    if name in SUP_NAMES and name not in self.stamps:
                        self.stamps[name] = int(num)
        return (max(self.stamps.values()) - self.t0) / 1e6

    def pids(self):
        """{column: [host pids]}: the supervisor's own processes."""
        if self.init_pid is None:
            kids = children_of(self.proc.pid)
            if len(kids) != 1:
                raise BenchError("unshare %d has children %r, want one" % (self.proc.pid, kids))
            self.init_pid = kids[0]
        if self.kind != "s6":
            return {self.kind: [self.init_pid]}
        sup = [p for p in children_of(self.init_pid) if proc_comm(p) == "s6-supervise"]
        if len(sup) != len(SUP_NAMES):
            raise BenchError("s6-svscan has %d s6-supervise children, want %d" % (len(sup), len(SUP_NAMES)))
        return {"s6-svscan": [self.init_pid], "s6": [self.init_pid] + sup}

    def settle(self, timeout=T_SETTLE):
        """Wait until start-up is over: supervisord has logged its 3 programs RUNNING
        (after its startsecs, 1 s), and every supervisor process is asleep."""
        deadline = time.monotonic() + timeout
        if self.kind == "supervisord":
            while True:
                try:
                    with open(self.log) as f:
                        n = f.read().count("entered RUNNING state")
                except FileNotFoundError:
                    n = 0
                if n >= len(SUP_NAMES):
                    break
                if time.monotonic() > deadline:
                    raise BenchError(
                        "supervisord: programs not RUNNING after %.0f s%s" % (timeout, self.tail())
                    )
                # supervisord only writes a log line; no event to wait on
                time.sleep(0.01)
        for pid in self.pids()[self.kind]:
            while proc_state(pid) != "S":
                if time.monotonic() > deadline:
                    raise BenchError("%s: process %d never went to sleep" % (self.kind, pid))
                time.sleep(0.0002)

    def sample(self):
        """{column: (cpu_ns, ctxt switches, VmRSS KiB, RssAnon KiB)} summed over its pids."""
        out = {}
        for col, pids in self.pids().items():
            cpu = wake = rss = anon = 0
            for pid in pids:
                st = proc_status(pid)
                cpu += proc_cpu_ns(pid)
                wake += int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
                rss += kib(st["VmRSS"])
                anon += kib(st["RssAnon"])
            out[col] = (cpu, wake, rss, anon)
        return out

    def tail(self):
        try:
            with open(os.path.join(self.dir, "out"), "rb") as f:
                data = f.read()[-600:].decode(errors="replace").strip()
        except OSError:
            return ""
        return (": output: " + data) if data else ""

    def kill(self):
        # SIGKILL the namespace's PID 1 (the kernel then kills the rest of the
        # namespace), so unshare reaps it and exits; else SIGKILL unshare itself
        # (--kill-child takes the namespace with it).
        if self.init_pid is not None and self.proc.poll() is None:
            try:
                os.kill(self.init_pid, signal.SIGKILL)
                self.proc.wait(T_EXIT)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        kill_ns(self.proc)
        LIVE.pop(self.proc.pid, None)
        for fd in (self.rfd, self.wfd, self.pidfd):
            os.close(fd)
        self.rfd = self.wfd = self.pidfd = -1
        self.out.close()


def bench_supervise(kinds, hfinit_bin, helpers, start_reps, reps, seconds, tick_ms, tmp, res):
    for col in SUPS:
        res.setdefault(col, {})
    for key, _, _, _ in SUP_METRICS:
        for col in SUPS:
            if key != "startup_ms" or col != "s6-svscan":
                res[col].setdefault(key, [])

    def start(kind, ms):
        sup = Sup(kind, tmp, helpers, hfinit_bin, ms)
        try:
            ms_up = sup.wait_started()
            sup.pids()  # learn the init's host PID (for kill)
        except BaseException:
            sup.kill()
            raise
        res["s6" if kind == "s6" else kind]["startup_ms"].append(ms_up)
        return sup

    # start-up only: one supervisor at a time, killed once its programs run
    for _, order in rotations(list(kinds), start_reps):
        for kind in order:
            start(kind, 0).kill()
    # idle windows: all supervisors at once over the same window
    for scen, ms in (("quiet", 0), ("tick", tick_ms)):
        for _, order in rotations(list(kinds), reps):
            sups = []
            try:
                for kind in order:  # one after another: each start-up is timed alone
                    sups.append(start(kind, ms))
                for sup in sups:
                    sup.settle()
                before = {}
                for sup in sups:
                    before.update(sup.sample())
                # The measurement window itself (not synchronisation).
                time.sleep(seconds)
                after = {}
                for sup in sups:
                    after.update(sup.sample())
            finally:
                for sup in sups:
                    sup.kill()
            for col in after:
                b, a = before[col], after[col]
                res[col][scen + "_cpu_us"].append((a[0] - b[0]) / 1000.0)
                res[col][scen + "_wakeups"].append(a[1] - b[1])
                res[col][scen + "_vmrss_kib"].append(a[2])
                if scen == "quiet":
                    res[col]["quiet_rssanon_kib"].append(a[3])


def bench_control(hfinit_bin, helpers, reps, tmp, res):
    """Control round trip: `hfinit restart` of a `ready = started` service and
    `supervisorctl restart` (startsecs=0, the same promise) of the same program,
    interleaved: client spawn -> the new process's first stamp -> the client's
    exit. Both supervisors run as PID 1 of their own namespace; the clients
    from outside it, as an operator's would."""
    stamp, sd = os.path.join(helpers, "bench-stamp"), os.path.join(tmp, "status")
    sock, fifo, sconf = os.path.join(tmp, "sv.sock"), os.path.join(tmp, "fifo"), os.path.join(tmp, "s.conf")
    os.mkfifo(fifo, 0o600)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    wfd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # never EOF
    prog = "%s tick %%s %s 0" % (stamp, fifo)
    write_file(
        os.path.join(tmp, "h.ini"),
        "[hfinit]\nstatus_dir = %s\n[service:h]\ncommand = %s\nready = started\n" % (sd, prog % "h"),
    )
    write_file(
        sconf,
        "[supervisord]\nnodaemon=true\nuser=root\nlogfile=%s/s.log\npidfile=%s/s.pid\n"
        "[unix_http_server]\nfile=%s\n[supervisorctl]\nserverurl=unix://%s\n[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        "[program:s]\ncommand=%s\nstartsecs=0\nstdout_logfile=%s/s.out\n" % (tmp, tmp, sock, sock, prog % "s", tmp),
    )
    servers = {"hfinit": [hfinit_bin, "-c", os.path.join(tmp, "h.ini")]}
    clients = {"hfinit": [hfinit_bin, "restart", "-d", sd, "h"]}
    if shutil.which("supervisord") and shutil.which("supervisorctl"):
        servers["supervisord"] = [shutil.which("supervisord"), "-c", sconf]
        clients["supervisord"] = [shutil.which("supervisorctl"), "-c", sconf, "restart", "s"]
    kinds, procs, buf = list(servers), [], [b""]

    def next_stamp(kind):
        """CLOCK_MONOTONIC ns of the next start of kind's program."""
        deadline = time.monotonic() + T_READY
        while True:
            head, sep, rest = buf[0].partition(b"\n")
            if sep:
                buf[0] = rest
                if head.startswith(kind[0].encode() + b" "):
                    return int(head.split()[1])
                continue
            if not select.select([rfd], [], [], max(0, deadline - time.monotonic()))[0]:
                raise BenchError("control: %s did not start its program" % kind)
            buf[0] += os.read(rfd, 4096)

    try:
        for k in kinds:
            procs.append(subprocess.Popen(UNSHARE + servers[k], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            LIVE[procs[-1].pid] = procs[-1]
            next_stamp(k)  # up (hfinit's socket exists before its first spawn)
            res[k] = {"round_trip_ms": [], "exec_ms": []}
        for rep, order in rotations(kinds, reps + 3):
            for k in order:
                t0 = time.monotonic_ns()
                r = subprocess.run(clients[k], stdin=subprocess.DEVNULL, capture_output=True, timeout=T_RUN)
                t1 = time.monotonic_ns()
                if r.returncode != 0:
                    raise BenchError("control: %s exited %d: %s" % (clients[k][0], r.returncode, r.stderr))
                st = next_stamp(k)
                if rep >= 3:  # 3 warm-up rounds
                    res[k]["round_trip_ms"].append((t1 - t0) / 1e6)
                    res[k]["exec_ms"].append((st - t0) / 1e6)
    finally:
        for pr in procs:
            kill_ns(pr)
            LIVE.pop(pr.pid, None)
        os.close(rfd)
        os.close(wfd)
    s = {k: {m: summary(v) for m, v in res[k].items()} for k in kinds}
    print("\n  control round trip, restart of a ready=started service, %d requests each (ms):" % reps)
    for k in kinds:
        print("    %-22s median %7.2f  p90 %7.2f  (request -> new exec: median %.2f)"
              % ("hfinit restart" if k == "hfinit" else "supervisorctl restart",
                 s[k]["round_trip_ms"]["median"], s[k]["round_trip_ms"]["p90"], s[k]["exec_ms"]["median"]))
    if "supervisord" in s:
        print("    ratio supervisorctl / hfinit (median round trip): %.1f"
              % (s["supervisord"]["round_trip_ms"]["median"] / s["hfinit"]["round_trip_ms"]["median"]))


# --- output throughput: one chatty service through hfinit, against a raw pipe,
# s6-log and supervisord -------------------------------------------------------------

OUT_KINDS = ("pipe", "hfinit", "hfinit-base", "hfinit-stderr", "base-stderr", "s6-log", "supervisord")
OUT_METRICS = [
    ("out_wall_s", "{out_mib:g} MiB of 100-byte lines: wall time", "s", 3),
    ("out_cpu_s_gib", "  ... CPU of the middle per GiB", "s", 3),
]


def sched_ns(pid):
    """ns on CPU of pid (a zombie's too, until it is reaped)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def exited_cpu_ns(proc, timeout):
    """Wait (bounded) until proc has exited, read its CPU while it is a zombie,
    then reap it."""
    pidfd = os.pidfd_open(proc.pid)
    try:
        if not select.select([pidfd], [], [], timeout)[0]:
            raise BenchError("pid %d still running after %.0f s" % (proc.pid, timeout))
    finally:
        os.close(pidfd)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    ns = sched_ns(proc.pid)
    proc.wait()
    return ns


def out_run(kind, binary, lines, nbytes, tmp):
    """One run: (wall s, CPU ns of the middle: hfinit, cat, s6-log, supervisord)."""
    d = tempfile.mkdtemp(dir=tmp, prefix=kind + "-")
    gen = [lines, str(nbytes)]
    t_out = 120.0
    if kind in ("hfinit", "hfinit-base", "hfinit-stderr", "base-stderr"):
        # the -stderr kinds: the lines on the service's stderr (as Python's
        # logging writes them), classified, to hfinit's stderr
        err = kind.endswith("stderr")
        cmd = "/bin/sh -c 'exec %s >&2'" % " ".join(gen) if err else " ".join(gen)
        cfg = os.path.join(d, "hfinit.ini")
        write_file(cfg, "[hfinit]\nstatus_dir = %s\n\n[service:gen]\ncommand = %s\nrestart = no\n"
                   % (os.path.join(d, "status"), cmd))
        t0 = time.monotonic()
        mid = subprocess.Popen([binary, "-c", cfg], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL if err else subprocess.PIPE,
                               stderr=subprocess.PIPE if err else subprocess.DEVNULL)
        out = mid.stderr if err else mid.stdout
        rd = subprocess.Popen(["cat"], stdin=out, stdout=subprocess.DEVNULL)
        out.close()
        cpu = exited_cpu_ns(mid, t_out)
        rd.wait(t_out)
        wall = time.monotonic() - t0
    elif kind in ("pipe", "s6-log"):
        t0 = time.monotonic()
        g = subprocess.Popen(gen, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        argv = ["cat"] if kind == "pipe" else [binary, "-b", "s16777215", os.path.join(d, "log")]
        mid = subprocess.Popen(argv, stdin=g.stdout,
                               stdout=subprocess.DEVNULL if kind == "pipe" else None)
        g.stdout.close()
        cpu = exited_cpu_ns(mid, t_out)
        wall = time.monotonic() - t0
        g.wait(t_out)
    else:  # supervisord: its own log capture of the program's stdout, to a file
        fifo = os.path.join(d, "go")
        os.mkfifo(fifo, 0o600)
        log = os.path.join(d, "gen.log")
        write_file(os.path.join(d, "s.conf"),
                   "[supervisord]\nnodaemon=true\nuser=root\nlogfile=%s\npidfile=%s\n"
                   "[program:gen]\ncommand=/bin/sh -c 'read x < %s; exec %s'\n"
                   "stdout_logfile=%s\nstdout_logfile_maxbytes=0\nautorestart=false\n"
                   "startsecs=0\n" % (os.path.join(d, "sd.log"), os.path.join(d, "sd.pid"),
                                       fifo, " ".join(gen), log))
        mid = subprocess.Popen([binary, "-c", os.path.join(d, "s.conf")], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + T_SETTLE
            while not os.path.exists(log) or proc_state(mid.pid) != "S":
                if time.monotonic() > deadline:
                    raise BenchError("supervisord did not start its program")
                time.sleep(0.01)  # nothing signals "started"; poll
            c0 = sched_ns(mid.pid)
            t0 = time.monotonic()
            with open(fifo, "w") as f:
                f.write("go\n")
            deadline = t0 + t_out
            while os.path.getsize(log) < nbytes // 100 * 100:
                if time.monotonic() > deadline:
                    raise BenchError("supervisord logged %d of %d bytes" % (os.path.getsize(log), nbytes))
                time.sleep(0.005)  # nothing signals "written"; poll the file
            wall = time.monotonic() - t0
            cpu = sched_ns(mid.pid) - c0
        finally:
            mid.terminate()
            mid.wait(T_EXIT)
    shutil.rmtree(d, ignore_errors=True)
    return wall, cpu


def bench_output(hfinit_bin, baseline, helpers, reps, mib, tmp, res):
    """One service writes MIB MiB of 100-byte lines; each kind carries them to a
    reader (cat > /dev/null) or to files. Interleaved, rotated each repetition."""
    lines = os.path.join(helpers, "bench-lines")
    bins = {"pipe": "cat", "hfinit": hfinit_bin, "hfinit-base": baseline,
            "hfinit-stderr": hfinit_bin, "base-stderr": baseline,
            "s6-log": shutil.which("s6-log"), "supervisord": shutil.which("supervisord")}
    kinds = [k for k in OUT_KINDS if bins.get(k)]
    nbytes = mib << 20
    for k in kinds:
        res[k] = {"out_cpu_s_gib": [], "out_wall_s": []}
    out_run("hfinit", hfinit_bin, lines, 1 << 20, tmp)  # warm the caches
    for _, order in rotations(kinds, reps):
        for k in order:
            wall, cpu = out_run(k, bins[k], lines, nbytes, tmp)
            res[k]["out_wall_s"].append(wall)
            res[k]["out_cpu_s_gib"].append(cpu / 1e9 * (1 << 30) / nbytes)


def print_output(res, mib, out=sys.stdout):
    """The table, then MB/s per kind and hfinit's share of a raw pipe's speed."""
    cols = [k for k in OUT_KINDS if res.get(k)]
    stats = {k: {m: summary(v) for m, v in res[k].items()} for k in cols}
    print_table(stats, cols, {"out_mib": mib}, all_ratio_cis(res, cols, OUT_METRICS), out, OUT_METRICS)
    mbs = {k: (mib << 20) / 1e6 / stats[k]["out_wall_s"]["median"] for k in cols}
    print("  MB/s: " + ", ".join("%s %.0f" % (k, v) for k, v in mbs.items()), file=out)
    if "pipe" in mbs and REF in mbs:
        print("  hfinit / raw pipe throughput: %.2f; CPU per GiB, s6-log / hfinit: %s" % (
            mbs[REF] / mbs["pipe"],
            "%.2f" % (stats["s6-log"]["out_cpu_s_gib"]["median"] / stats[REF]["out_cpu_s_gib"]["median"])
            if "s6-log" in stats else "-"), file=out)
    if "pipe" in mbs and "hfinit-stderr" in mbs:
        print("  the same on stderr: hfinit-stderr / raw pipe throughput: %.2f; CPU per GiB, %s" % (
            mbs["hfinit-stderr"] / mbs["pipe"],
            "base-stderr / hfinit-stderr: %.2f" % (stats["base-stderr"]["out_cpu_s_gib"]["median"]
                                                  / stats["hfinit-stderr"]["out_cpu_s_gib"]["median"])
            if "base-stderr" in stats else "-"), file=out)
    print("  middle = hfinit (-c, the generator its service, cat reading its stdout; -stderr: the"
          " lines on the service's and hfinit's stderr, classified), cat (raw pipe),"
          " s6-log (to files), supervisord (its log capture to a file)", file=out)
    return stats


def sup_kinds():
    """The supervisors found, and why the others are left out."""
    kinds, missing = ["hfinit"], {}
    for kind, binary in (("supervisord", "supervisord"), ("s6", "s6-svscan")):
        if shutil.which(binary):
            kinds.append(kind)
        else:
            missing[kind] = "%s not installed (scripts/setup-debian)" % binary
    return kinds, missing


def print_gate(gate, out=sys.stdout):
    header = ["readiness gate: stage-1 signal -> stage-2 exec", "unit", "hfinit", "p10", "p90", "n", "< 1 ms"]
    rows = []
    for mode, probe, _ in GATE_MODES:
        s = gate.get(mode)
        if s is None:
            continue
        rows.append(
            [
                "ready = %s" % probe,
                "us",
                cell(s, 0),
                fmt(s["p10"], 0),
                fmt(s["p90"], 0),
                str(s["n"]),
                "yes" if s["median"] < 1000 else "NO",
            ]
        )
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |"
    print(line(header), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for r in rows:
        print(line(r), file=out)



# --- status publishing: CPU per status-changing event at N services ---------------------

STATUS_SIZES = (10, 100, 1000)
T_STATUS_UP = 60.0  # 1000 services to be started (hfinit-base renders the whole file per turn)


def status_config(path, sleeper, n):
    """n - 1 quiet services and "noisy", an error line every 10 ms: each line is one
    status change (its `errors` count), published in a loop turn of its own. No
    [hfinit] section: 1000 sections is the most a file may have."""
    parts = ["[service:q%d]\ncommand = %s 600\n" % (i, sleeper) for i in range(n - 1)]
    parts.append(
        "[service:noisy]\nrequired = no\ncommand = /bin/sh -c"
        " 'while :; do echo \"Error: status bench\" >&2; sleep 0.01; done'\n"
    )
    write_file(path, "\n".join(parts))


def svc_count(sdir, svc, field):
    """(overall state, svc's field) from status.json; (None, 0) before it exists."""
    try:
        with open(os.path.join(sdir, "status.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None, 0
    return doc.get("state"), doc.get("services", {}).get(svc, {}).get(field, 0)


def event_run(binary, cfg, sdir, window, svc, field, what):
    """One hfinit: up, then its CPU (schedstat) over the window / the events in it
    (us), the events counted by svc's field in status.json (what: their name)."""
    ns = Ns(["env", "HFINIT_STATUS_DIR=" + sdir, binary, "-c", cfg], [])
    try:
        deadline = time.monotonic() + T_STATUS_UP
        while True:
            state, n = svc_count(sdir, svc, field)
            if state not in (None, "starting") and n > 0:
                break
            if time.monotonic() > deadline:
                raise BenchError(
                    "%s: not up within %.0f s (state %s)%s" % (binary, T_STATUS_UP, state, ns.stderr_tail())
                )
            time.sleep(0.05)  # nothing signals "all started"; poll
        pid = ns.find_init()
        c0, (_, e0) = proc_cpu_ns(pid), svc_count(sdir, svc, field)
        time.sleep(window)  # the measurement window itself
        c1, (_, e1) = proc_cpu_ns(pid), svc_count(sdir, svc, field)
        os.kill(pid, signal.SIGTERM)
    except BaseException:
        ns.kill()
        raise
    ns.finish(T_STATUS_UP)
    if e1 - e0 < 10:
        raise BenchError("%s: only %d %s in %.1f s" % (binary, e1 - e0, what, window))
    return (c1 - c0) / 1000.0 / (e1 - e0)


def bench_events(kind, config, svc, field, what, hfinit_bin, baseline, helpers, reps, window, tmp, res):
    """hfinit's CPU per event at 10, 100 and 1000 services (res[bin]["KIND_N_us"]),
    interleaved with --baseline (an earlier build) when given. config(path, sleeper, n)
    writes the services. The status dir is on tmpfs (/dev/shm) when there is one, as
    /run is in practice."""
    bins = {"hfinit": hfinit_bin}
    if baseline:
        bins["hfinit-base"] = baseline
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else tmp
    sleeper = os.path.join(helpers, "bench-sleeper")
    for n in STATUS_SIZES:
        for b in bins:
            res.setdefault(b, {})["%s_%d_us" % (kind, n)] = []
    for _, order in rotations(list(bins), reps):
        for n in STATUS_SIZES:
            for b in order:
                sdir = tempfile.mkdtemp(dir=shm, prefix="hfinit-bench-%s-" % kind)
                try:
                    cfg = os.path.join(tmp, "%s-%d.ini" % (kind, n))
                    config(cfg, sleeper, n)
                    res[b]["%s_%d_us" % (kind, n)].append(event_run(bins[b], cfg, sdir, window, svc, field, what))
                finally:
                    shutil.rmtree(sdir, ignore_errors=True)


def bench_status(hfinit_bin, baseline, helpers, reps, window, tmp, res):
    """CPU per status change: noisy's `errors` count."""
    bench_events("status", status_config, "noisy", "errors", "status changes",
                 hfinit_bin, baseline, helpers, reps, window, tmp, res)


def print_events(res, kind, title, label, out=sys.stdout):
    cols = [c for c in ("hfinit", "hfinit-base") if c in res]
    header = [title, "unit"] + cols
    if len(cols) == 2:
        header.append("ratio base/hfinit")
    rows = []
    for n in STATUS_SIZES:
        key = "%s_%d_us" % (kind, n)
        st = {c: summary(res[c][key]) for c in cols}
        row = ["%d services (%s)" % (n, label), "us"] + [cell(st[c], 0) for c in cols]
        if len(cols) == 2:
            r = ratio(st["hfinit-base"], st["hfinit"])
            row.append(fmt(r, 1) if r is not None else "n/a")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |"
    print(line(header), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for r in rows:
        print(line(r), file=out)


def print_status(res, out=sys.stdout):
    print_events(res, "status", "status publish: hfinit CPU per status change", "1 error line / 10 ms", out)


# --- restart: CPU per crash-loop restart at N services ----------------------------------

RESTART_SIZES = STATUS_SIZES


def restart_config(path, sleeper, n):
    """n - 1 quiet services and "crash", which exits at once and is restarted every
    10 ms (restart_delay's minimum) for ever: each restart is a run's end and a start,
    so two passes over what its runs left (docs/supervise.md). No [hfinit] section."""
    parts = ["[service:q%d]\ncommand = %s 600\n" % (i, sleeper) for i in range(n - 1)]
    parts.append(
        "[service:crash]\nrequired = no\ncommand = /bin/sh -c 'exit 1'\nrestart = always\n"
        "restart_delay = 10ms\nrestart_max_delay = 10ms\nrestart_burst = 1000000\n"
        "restart_window = 100ms\n"
    )
    write_file(path, "\n".join(parts))


def bench_restart(hfinit_bin, baseline, helpers, reps, window, tmp, res):
    """CPU per crash-loop restart: crash's `restarts` count."""
    bench_events("restart", restart_config, "crash", "restarts", "restarts",
                 hfinit_bin, baseline, helpers, reps, window, tmp, res)


def print_restart(res, out=sys.stdout):
    print_events(res, "restart", "restart: hfinit CPU per crash-loop restart", "1 restart / 10 ms", out)


# --- statistics and output ------------------------------------------------------------


def summary(xs):
    xs = sorted(xs)
    if not xs:
        return None
    if len(xs) == 1:
        q = [xs[0]] * 3
        d = [xs[0]] * 9
    else:
        q = statistics.quantiles(xs, n=4, method="inclusive")
        d = statistics.quantiles(xs, n=10, method="inclusive")
    return {
        "n": len(xs),
        "median": statistics.median(xs),
        "p25": q[0],
        "p75": q[2],
        "p10": d[0],
        "p90": d[8],
        "min": xs[0],
        "max": xs[-1],
    }


STEPS = ("overhead", "idle", "reap", "term", "fork", "gate", "supervise", "watch", "control", "status", "restart", "output")

# key, label, unit, digits; lower is better for all of them
METRICS = [
    ("overhead_us", "INIT /bin/true overhead", "us", 0),
    ("overhead_p10_us", "  ... p10(INIT run) - p10(baseline)", "us", 0),
    ("vmrss_kib", "VmRSS idle", "KiB", 0),
    ("rssanon_kib", "RssAnon idle", "KiB", 0),
    ("idle_wakeups", "idle wake-ups / {idle_s:g} s", "", 0),
    ("reap_cpu_ms", "reap {reap_n} orphans: init CPU", "ms", 2),
    ("reap_cpu_ms_wakeups", "  ... init wake-ups", "", 0),
    ("fork_cpu_ms", "fork storm {fork_n} orphans: init CPU", "ms", 1),
    ("fork_cpu_ms_wakeups", "  ... init wake-ups", "", 0),
    ("fork_cpu_ms_wall_ms", "  ... storm wall time", "ms", 0),
    ("sigterm_us", "SIGTERM -> child handler", "us", 0),
    ("size", "binary size, stripped", "B", 0),
    ("size_static", "static build size", "B", 0),
]


def fmt(v, digits):
    if v is None:
        return "-"
    return "%.*f" % (digits, v)


def cell(s, digits):
    if s is None:
        return "-"
    if s["n"] == 1 or (s["p25"] == s["median"] == s["p75"]):
        return fmt(s["median"], digits)
    return "%s (%s-%s)" % (fmt(s["median"], digits), fmt(s["p25"], digits), fmt(s["p75"], digits))


def ratio(peer, ref):
    if peer is None or ref is None:
        return None
    if ref["median"] <= 0:
        return None
    return peer["median"] / ref["median"]


def ratio_ci(peer_xs, ref_xs, iters=1000, seed=1):
    """95% bootstrap interval of median(peer) / median(ref), or None."""
    if not peer_xs or not ref_xs or len(peer_xs) + len(ref_xs) < 6:
        return None
    rng = random.Random(seed)  # fixed seed: the same samples give the same interval
    out = []
    for _ in range(iters):
        ref = statistics.median(rng.choices(ref_xs, k=len(ref_xs)))
        if ref <= 0:
            continue
        out.append(statistics.median(rng.choices(peer_xs, k=len(peer_xs))) / ref)
    if len(out) < iters * 0.9:
        return None
    out.sort()
    return out[int(0.025 * len(out))], out[int(0.975 * len(out)) - 1]


def all_ratio_cis(res, names, metrics=None):
    cis = {}
    if REF not in names:
        return cis
    for key, _, _, _ in metrics or METRICS:
        for p in names:
            if p != REF and key in res[p] and key in res[REF]:
                cis.setdefault(key, {})[p] = ratio_ci(res[p][key], res[REF][key])
    return cis


def print_table(stats, names, params, cis, out=sys.stdout, metrics=None):
    cols = list(names)
    peers = [n for n in cols if n != REF] if REF in cols else []
    header = ["metric", "unit"] + cols + ["%s/%s" % (p, REF) for p in peers]
    rows = []
    for key, label, unit, digits in metrics or METRICS:
        if all(stats[n].get(key) is None for n in cols):
            continue  # not measured in this run (--only)
        row = [label.format(**params), unit]
        for n in cols:
            row.append(cell(stats[n].get(key), digits))
        for p in peers:
            r = ratio(stats[p].get(key), stats[REF].get(key))
            if r is None:
                ref = stats[REF].get(key)
                row.append("n/a (%s=0)" % REF if ref is not None and ref["median"] == 0 else "-")
            else:
                ci = cis.get(key, {}).get(p)
                row.append("%.2f [%.2f-%.2f]" % (r, ci[0], ci[1]) if ci else "%.2f" % r)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |"
    print(line(header), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for r in rows:
        print(line(r), file=out)


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    u = os.uname()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "kernel": "%s %s" % (u.sysname, u.release),
        "machine": u.machine,
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
    }


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def hfinit_version(binary):
    try:
        r = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=T_RUN)
        return r.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


# --- main ---------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short run (< 30 s): fewer repetitions")
    ap.add_argument("--runs", type=int, help="paired /bin/true runs per init (default 400; quick 100)")
    ap.add_argument(
        "--reps",
        type=int,
        help="fork-storm repetitions per init; reap gets 5x, SIGTERM 15x"
        " (default 7; quick: 1 storm, 4 reaps, 30 SIGTERMs)",
    )
    ap.add_argument("--idle-reps", type=int, help="idle windows (default 3; quick 1)")
    ap.add_argument("--idle-s", type=float, default=5.0, help="idle window in seconds (default 5)")
    ap.add_argument("--reap-n", type=int, default=2000, help="orphans+zombies to reap (default 2000)")
    ap.add_argument("--fork-n", type=int, default=10000, help="orphans in the fork storm (default 10000)")
    ap.add_argument(
        "--inits",
        default="hfinit,tini,dumb-init,catatonit",
        help="comma-separated inits to run (also: tini-static); default hfinit,tini,dumb-init,catatonit",
    )
    ap.add_argument(
        "--only",
        default=",".join(STEPS),
        help="comma-separated subset of the measurements: %s (default all)" % ",".join(STEPS),
    )
    ap.add_argument("--gate-reps", type=int, help="hfinit runs per readiness probe (default 40; quick 10)")
    ap.add_argument(
        "--sup-reps",
        type=int,
        help="idle windows per scenario in the 3-service comparison (default 3; quick 1)",
    )
    ap.add_argument(
        "--sup-start-reps", type=int, help="extra start-ups per supervisor, on their own (default 4; quick 1)"
    )
    ap.add_argument(
        "--tick-ms", type=int, default=1000, help="line interval of the ticking programs (default 1000)"
    )
    ap.add_argument("--status-reps", type=int, help="runs per binary and service count, status and restart (default 2; quick 1)")
    ap.add_argument(
        "--status-s", type=float, help="measurement window per status or restart run in seconds (default 2; quick 1)"
    )
    ap.add_argument("--out-mib", type=int, default=200, help="MiB of lines in the output bench (default 200)")
    ap.add_argument("--out-reps", type=int, help="output runs per kind (default 5; quick 1)")
    ap.add_argument("--json", help="machine-readable results (default: bench.json next to HFINIT_BIN)")
    ap.add_argument("--hfinit", default=os.environ.get("HFINIT_BIN"), help="hfinit binary (env HFINIT_BIN)")
    ap.add_argument(
        "--baseline",
        help="another hfinit binary (e.g. an earlier commit's) run as init 'hfinit-base' beside the others",
    )
    ap.add_argument(
        "--helpers", default=os.environ.get("HFINIT_HELPERS"), help="helpers dir (env HFINIT_HELPERS)"
    )
    a = ap.parse_args()

    runs = a.runs if a.runs is not None else (100 if a.quick else 400)
    reps = a.reps if a.reps is not None else (2 if a.quick else 7)
    # reaping 2000 takes ~0.3 s and is noisy: 5x the reps; SIGTERM ~20 ms: 15x
    reap_reps = 4 if a.quick and a.reps is None else 5 * reps
    term_reps = 15 * reps
    idle_reps = a.idle_reps if a.idle_reps is not None else (1 if a.quick else 3)
    fork_reps = 1 if a.quick and a.reps is None else reps
    gate_reps = a.gate_reps if a.gate_reps is not None else (10 if a.quick else 40)
    sup_reps = a.sup_reps if a.sup_reps is not None else (1 if a.quick else 3)
    sup_start_reps = a.sup_start_reps if a.sup_start_reps is not None else (1 if a.quick else 4)
    status_reps = a.status_reps if a.status_reps is not None else (1 if a.quick else 2)
    status_s = a.status_s if a.status_s is not None else (1.0 if a.quick else 2.0)
    out_reps = a.out_reps if a.out_reps is not None else (1 if a.quick else 5)
    only = [k.strip() for k in a.only.split(",") if k.strip()]
    if not only or any(k not in STEPS for k in only):
        ap.error("--only takes a comma-separated subset of %s" % ",".join(STEPS))
    for v, what in (
        (runs, "--runs"),
        (reps, "--reps"),
        (idle_reps, "--idle-reps"),
        (gate_reps, "--gate-reps"),
        (sup_reps, "--sup-reps"),
        (a.tick_ms, "--tick-ms"),
    ):
        if v < 1:
            ap.error("%s must be >= 1" % what)
    if sup_start_reps < 0:
        ap.error("--sup-start-reps must be >= 0")

    if os.geteuid() != 0:
        sys.exit("bench: needs root (unshare --pid --mount-proc)")
    need = ("bench-sleeper", "bench-storm", "bench-stamp", "bench-lines")
    if not a.helpers or not all(os.access(os.path.join(a.helpers, h), os.X_OK) for h in need):
        sys.exit(
            "bench: HFINIT_HELPERS must name a dir with bench-sleeper, bench-storm,"
            " bench-stamp (make helpers)"
        )
    hfinit_bin = os.path.abspath(a.hfinit) if a.hfinit else None
    if hfinit_bin and not os.access(hfinit_bin, os.X_OK):
        print("bench: HFINIT_BIN %s is not executable; hfinit left out" % hfinit_bin, file=sys.stderr)
        hfinit_bin = None
    json_path = a.json or os.path.join(os.path.dirname(hfinit_bin) if hfinit_bin else "build", "bench.json")

    baseline = os.path.abspath(a.baseline) if a.baseline else None
    if baseline and not os.access(baseline, os.X_OK):
        sys.exit("bench: --baseline %s is not executable" % baseline)
    inits = make_inits(hfinit_bin, baseline)
    wanted = [n.strip() for n in a.inits.split(",") if n.strip()]
    if baseline and "hfinit-base" not in wanted:
        wanted.insert(1, "hfinit-base")
    for n in wanted:
        if n not in inits and not (n == REF and a.hfinit):
            print("bench: %s not found; left out" % n, file=sys.stderr)
    names = [n for n in wanted if n in inits]
    stage = Staged()
    for n in names:
        inits[n]["argv"] = [stage.copy(inits[n]["argv"][0])] + inits[n]["argv"][1:]
    hfinit_bin = stage.copy(hfinit_bin) if hfinit_bin else None
    baseline = stage.copy(baseline) if baseline else None

    meta = machine()
    if hfinit_bin:
        meta["hfinit_version"] = hfinit_version(hfinit_bin)
        if meta["hfinit_version"] and REF in inits:
            inits[REF]["version"] = meta["hfinit_version"].splitlines()[0]
    print("hfinit bench  %s" % meta["date"])
    print("kernel %s, %s, %s x%s" % (meta["kernel"], meta["machine"], meta["cpu"], meta["cpus"]))
    print("load average at start: %s" % meta["loadavg_start"])
    for n in names:
        s = inits[n]
        version = "(%s)" % s["version"] if s.get("version") else ""
        print("  %-12s %s CMD %s" % (n, " ".join(s["argv"]), version))

    t_start = time.monotonic()
    names, skipped = preflight(inits, names, a.helpers)
    for n, why in skipped.items():
        print("bench: %s skipped, it cannot run the bench: %s" % (n, why), file=sys.stderr)
    if not names:
        sys.exit("bench: no init left to measure")

    res = {n: {} for n in names}
    params = {"idle_s": a.idle_s, "reap_n": a.reap_n, "fork_n": a.fork_n}
    steps = [
        ("overhead", "overhead (%d pairs each)" % runs, lambda: bench_overhead(inits, names, runs, res)),
        (
            "idle",
            "idle (%d x %g s, all at once)" % (idle_reps, a.idle_s),
            lambda: bench_idle(inits, names, idle_reps, a.idle_s, res, a.helpers),
        ),
        (
            "reap",
            "reap %d (%d reps)" % (a.reap_n, reap_reps),
            lambda: bench_storm(inits, names, reap_reps, "reap", a.reap_n, "reap_cpu_ms", res, a.helpers),
        ),
        (
            "term",
            "SIGTERM latency (%d reps)" % term_reps,
            lambda: bench_term(inits, names, term_reps, res, a.helpers),
        ),
        (
            "fork",
            "fork storm %d (%d reps)" % (a.fork_n, fork_reps),
            lambda: bench_storm(inits, names, fork_reps, "fork", a.fork_n, "fork_cpu_ms", res, a.helpers),
        ),
    ]
    try:
        for key, label, fn in steps:
            if key not in only:
                continue
            t = time.monotonic()
            print("  ... %s" % label, end="", flush=True)
            fn()
            print(" %.1f s" % (time.monotonic() - t), flush=True)
    finally:
        kill_all_live()

    # Supervision (hfinit's supervise mode, `hfinit -c FILE`): its own failures are
    # reported and leave the rest of the bench standing.
    gate_res, sup_res, sup_skipped, status_res = {}, {}, {}, {}
    restart_res = {}
    watch_res, watch_reps = {}, 10 if a.quick else 50
    ctl_res, ctl_reps = {}, 20 if a.quick else 200
    out_res = {}
    kinds, sup_skipped = sup_kinds()
    sup_steps = [
        (
            "gate",
            "readiness gate (%d runs per probe)" % gate_reps,
            lambda tmp: bench_gate(hfinit_bin, a.helpers, gate_reps, 2, tmp, gate_res),
        ),
        (
            "supervise",
            "3 services under %s (%d start-ups, %d x 2 windows of %g s)"
            % (", ".join(kinds), sup_start_reps + 2 * sup_reps, sup_reps, a.idle_s),
            lambda tmp: bench_supervise(
                kinds, hfinit_bin, a.helpers, sup_start_reps, sup_reps, a.idle_s, a.tick_ms, tmp, sup_res
            ),
        ),
        ("watch", "watch latency (%d writes)" % watch_reps, lambda tmp: bench_watch(hfinit_bin, a.helpers, watch_reps, 2, tmp, watch_res)),
        ("control", "control round trip", lambda tmp: bench_control(hfinit_bin, a.helpers, ctl_reps, tmp, ctl_res)),
        ("status", "status publish at 10/100/1000 services (%d x %g s each)" % (status_reps, status_s), lambda tmp: bench_status(hfinit_bin, baseline, a.helpers, status_reps, status_s, tmp, status_res)),
        ("restart", "crash-loop restart at 10/100/1000 services (%d x %g s each)" % (status_reps, status_s), lambda tmp: bench_restart(hfinit_bin, baseline, a.helpers, status_reps, status_s, tmp, restart_res)),
        ("output", "output, %d MiB x %d per kind" % (a.out_mib, out_reps), lambda tmp: bench_output(hfinit_bin, baseline, a.helpers, out_reps, a.out_mib, tmp, out_res)),
    ]
    for key, label, fn in sup_steps:
        if key not in only:
            continue
        if REF not in names:
            sup_skipped[key] = "hfinit is not measured in this run"
            continue
        t = time.monotonic()
        print("  ... %s" % label, end="", flush=True)
        tmp = tempfile.mkdtemp(prefix="hfinit-bench-%s-" % key)
        try:
            fn(tmp)
            print(" %.1f s" % (time.monotonic() - t), flush=True)
        except (BenchError, OSError) as e:
            print(" failed", flush=True)
            print("bench: %s left out: %s" % (key, e), file=sys.stderr)
            sup_skipped[key] = str(e)
            if key == "gate":
                gate_res.clear()
            elif key == "watch":
                watch_res.clear()
            elif key == "control":
                ctl_res.clear()
            elif key == "status":
                status_res.clear()
            elif key == "restart":
                restart_res.clear()
            elif key == "output":
                out_res.clear()
            else:
                sup_res.clear()
        finally:
            kill_all_live()
            shutil.rmtree(tmp, ignore_errors=True)

    stats = {}
    for n in names:
        stats[n] = {k: summary(v) for k, v in res[n].items()}
        stats[n]["size"] = summary([inits[n]["size"]])
        if res[n].get("true_init_us"):
            # the fast tail of each distribution: what is left when no one else runs
            p10 = stats[n]["true_init_us"]["p10"] - stats[n]["true_base_us"]["p10"]
            stats[n]["overhead_p10_us"] = summary([p10])
        static = inits[n]
        if n == "tini" and "tini-static" in inits:
            static = inits["tini-static"]
        if static.get("kind", "").startswith("static"):
            stats[n]["size_static"] = summary([static["size"]])
    cis = all_ratio_cis(res, names)
    print()
    print_table(stats, names, params, cis)
    print()
    for n in names:
        print("  %-12s %s, %s bytes: %s" % (n, inits[n]["binary"], inits[n]["size"], inits[n]["kind"]))
    if "tini" in names and "tini-static" in inits and "tini-static" not in names:
        ts = inits["tini-static"]
        print("  %-12s %s, %s bytes: %s" % ("tini-static", ts["binary"], ts["size"], ts["kind"]))
    print("median (p25-p75); ratio = peer median / %s median, > 1 means %s costs less;" % (REF, REF))
    print("[a-b] = 95% bootstrap interval of the ratio: if it holds 1, the two do not differ measurably")
    gate_stats = {m: summary(v) for m, v in gate_res.items()}
    sup_cols = [c for c in SUPS if sup_res.get(c) and any(sup_res[c].values())]
    sup_stats = {c: {k: summary(v) for k, v in sup_res[c].items()} for c in sup_cols}
    sup_cis = all_ratio_cis(sup_res, sup_cols, SUP_METRICS)
    if gate_stats:
        print()
        print_gate(gate_stats)
        print("median (p25-p75); stamps: stage 1 just before its ready signal, stage 2 first thing in main")
    ws = summary(watch_res.get("watch", []))
    if ws:
        print("watch latency, write -> new process (watch_debounce = 0s): %s us, p90 %s, n %d"
              % (cell(ws, 0), fmt(ws["p90"], 0), ws["n"]))
    if sup_cols:
        print()
        print_table(sup_stats, sup_cols, params, sup_cis, metrics=SUP_METRICS)
        print("s6-svscan = s6-svscan alone; s6 = s6-svscan + its 3 s6-supervise (start-up: the whole)")
        print("  versions: supervisor %s, s6 %s" % (dpkg_version("supervisor"), dpkg_version("s6")))
    if status_res:
        print()
        print_status(status_res)
        print("median (p25-p75) of the runs; ratio = hfinit-base / hfinit, > 1 means hfinit costs less")
    if restart_res:
        print()
        print_restart(restart_res)
        print("median (p25-p75) of the runs; ratio = hfinit-base / hfinit, > 1 means hfinit costs less")
    out_stats = None
    if out_res:
        print()
        out_stats = print_output(out_res, a.out_mib)
    for key, why in sup_skipped.items():
        print("  %s: left out: %s" % (key, why))
    elapsed = time.monotonic() - t_start
    meta["loadavg_end"] = loadavg()
    print("total %.1f s; load average at end: %s" % (elapsed, meta["loadavg_end"]))

    doc = {
        "meta": meta,
        "params": {
            **params,
            "runs": runs,
            "reap_reps": reap_reps,
            "term_reps": term_reps,
            "idle_reps": idle_reps,
            "fork_reps": fork_reps,
            "gate_reps": gate_reps,
            "sup_reps": sup_reps,
            "sup_start_reps": sup_start_reps,
            "status_reps": status_reps,
            "status_s": status_s,
            "tick_ms": a.tick_ms,
            "quick": a.quick,
            "only": only,
            "elapsed_s": round(elapsed, 1),
        },
        "inits": {n: inits[n] for n in inits},
        "skipped": skipped,
        "metrics": {
            key: {
                "label": label.format(**params),
                "unit": unit,
                "per_init": {n: stats[n].get(key) for n in names},
                "ratio_to_%s" % REF: (
                    {p: ratio(stats[p].get(key), stats[REF].get(key)) for p in names if p != REF}
                    if REF in names
                    else None
                ),
                "ratio_ci95_to_%s" % REF: cis.get(key),
            }
            for key, label, unit, _ in METRICS
        },
        "samples": res,
        "supervision": {
            "skipped": sup_skipped,
            "versions": {"supervisor": dpkg_version("supervisor"), "s6": dpkg_version("s6")},
            "gate": {
                m: {"probe": probe, "unit": "us", "stats": gate_stats.get(m), "samples": gate_res.get(m)}
                for m, probe, _ in GATE_MODES
                if m in gate_res
            },
            "watch": {"unit": "us", "debounce": "0s", "stats": ws, "samples": watch_res.get("watch")},
            "compare": {
                key: {
                    "label": label.format(**params),
                    "unit": unit,
                    "per_supervisor": {c: sup_stats[c].get(key) for c in sup_cols},
                    "ratio_to_%s" % REF: (
                        {
                            c: ratio(sup_stats[c].get(key), sup_stats[REF].get(key))
                            for c in sup_cols
                            if c != REF
                        }
                        if REF in sup_cols
                        else None
                    ),
                    "ratio_ci95_to_%s" % REF: sup_cis.get(key),
                }
                for key, label, unit, _ in SUP_METRICS
            },
            "samples": sup_res,
            "control": ctl_res,
            "status": {
                "sizes": list(STATUS_SIZES),
                "unit": "us of hfinit CPU per status change",
                "stats": {b: {k: summary(v) for k, v in status_res[b].items()} for b in status_res},
                "samples": status_res,
            },
            "restart": {
                "sizes": list(RESTART_SIZES),
                "unit": "us of hfinit CPU per crash-loop restart",
                "stats": {b: {k: summary(v) for k, v in restart_res[b].items()} for b in restart_res},
                "samples": restart_res,
            },
        },
        "output": {"mib": a.out_mib, "reps": out_reps, "stats": out_stats, "samples": out_res},
    }
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    tmp = json_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, json_path)
    print("wrote %s" % json_path)


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        kill_all_live()
        sys.exit("bench: error: %s" % e)
    except KeyboardInterrupt:
        kill_all_live()
        sys.exit("bench: interrupted")
