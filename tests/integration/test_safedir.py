"""Paths that hfinit (as root) creates in world-writable /tmp: the fallback HOME
/tmp/home-UID and the automatic status dir /tmp/hfinit (src/safedir.c,
docs/supervise.md "Environment of a service", docs/status.md).

Each test gets a private mount namespace whose /tmp is a fresh tmpfs (mode
1777), held open by a `sleep` process; commands run in it with nsenter, and the
test looks at its files through /proc/PID/root. Attackers are real processes of
another uid (setpriv): a RENAME_EXCHANGE racer (tests/helpers/rename-racer.c)
that swaps a directory and a symlink to a root-owned 0600 file while hfinit
starts 50 times, and directories prepared in advance with planted files.

Every wait is bounded; nothing sleeps to synchronise.
"""

import os
import shutil
import stat
import subprocess

import pytest

from supervise_util import HFINIT, WAIT, need_hfinit, wait_for

ATTACKER = 4321  # the other uid
SERVICE = 1234  # the services' uid (no passwd entry: numeric)
STARTS = 100
HFINIT_IN = "/tmp/.bin/hfinit"  # HFINIT, copied into the private /tmp

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount namespaces, uids)")


def helper(name):
    d = os.environ.get("HFINIT_HELPERS")
    if not d:
        pytest.fail("HFINIT_HELPERS is not set (run the suite through `make integration`)")
    p = os.path.join(d, name)
    if not os.access(p, os.X_OK):
        pytest.fail("helper %s missing (built by `make helpers`)" % p)
    return p


def as_attacker(*argv):
    return ["setpriv", "--reuid", str(ATTACKER), "--regid", str(ATTACKER), "--clear-groups",
            "--", *argv]


class TmpNs:
    """A private mount namespace with a fresh tmpfs on /tmp (and, with ro_run,
    a read-only one on /run, so that /run/hfinit cannot be made)."""

    def __init__(self, ro_run=False):
        need_hfinit()
        mounts = "mount -t tmpfs -o mode=1777 tmpfs /tmp"
        if ro_run:
            mounts += " && mount -t tmpfs -o ro,mode=755 tmpfs /run"
        self.p = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
             mounts + " && echo up && exec sleep 600"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.p.stdout.readline()  # EOF (b"") when the mount failed
        if line != b"up\n":
            self.close()
            pytest.fail("cannot set up a private /tmp: %r" % self.p.stderr.read())
        # the binaries under test may live in the /tmp that is now hidden
        os.mkdir(self.path("/tmp/.bin"), 0o755)
        for src, name in ((HFINIT, "hfinit"), (helper("rename-racer"), "rename-racer")):
            shutil.copy(src, self.path("/tmp/.bin/" + name))

    def path(self, p):
        """p (absolute, as seen inside) from outside."""
        return "/proc/%d/root%s" % (self.p.pid, p)

    def argv(self, *argv):
        return ["nsenter", "-t", str(self.p.pid), "-m", "--", *argv]

    def run(self, *argv, env=None):
        try:
            return subprocess.run(self.argv(*argv), env=env, capture_output=True, text=True,
                                  timeout=WAIT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail("%s: no exit within %ss" % (" ".join(argv), WAIT))

    def write(self, p, text, mode=0o644):
        with open(self.path(p), "w") as f:
            f.write(text)
        os.chmod(self.path(p), mode)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(WAIT)
        self.p.stdout.close()
        self.p.stderr.close()


@pytest.fixture
def tmpns():
    ns = TmpNs()
    yield ns
    ns.close()


def env_for_hfinit(**extra):
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent"}
    env.update(extra)
    return env


JOB = """[service:job]
command = /bin/sh -c 'echo "HOME=$HOME"; ls -A "$HOME"; echo end-of-listing'
user = %d
restart = no
""" % SERVICE


def start_job(ns):
    """One start of hfinit as root with a service of uid SERVICE whose HOME is
    the fallback: (exit code, the service's HOME, what it saw in it, stderr)."""
    r = ns.run(HFINIT_IN, "-c", "/tmp/hfinit.ini",
               env=env_for_hfinit(HFINIT_STATUS_DIR="/tmp/st"))
    out = (r.stdout + r.stderr).splitlines()
    homes = [ln.split("HOME=", 1)[1] for ln in out if ln.startswith("[job] HOME=")]
    start = [i for i, ln in enumerate(out) if ln.startswith("[job] HOME=")]
    stop = [i for i, ln in enumerate(out) if ln == "[job] end-of-listing"]
    seen = [ln[len("[job] "):] for ln in out[start[0] + 1:stop[0]]] if start and stop else None
    return r.returncode, homes[0] if homes else None, seen, r.stderr


def assert_fresh_home(ns, home):
    """home is a new /tmp/home-UID.XXXXXX of the service's own, 0700."""
    prefix = "/tmp/home-%d." % SERVICE
    assert home.startswith(prefix) and len(home) == len(prefix) + 6, home
    st = os.lstat(ns.path(home))
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    assert (st.st_uid, st.st_gid) == (SERVICE, SERVICE), (st.st_uid, st.st_gid)


class Racer:
    """rename-racer as uid ATTACKER on /tmp/home-SERVICE and /tmp/swap -> victim.
    A swap fails once root has taken the racer's directory (chowned it: in
    sticky /tmp only its owner may move it); then the test, playing the
    attacker's next try, clears both names and starts a new racer."""

    def __init__(self, ns, target):
        self.ns, self.target, self.p, self.swaps, self.restarts = ns, target, None, 0, -1

    def ensure(self):
        if self.p is not None and self.p.poll() is None:
            return
        if self.p is not None:
            self.stop()
            for name in ("/tmp/home-%d" % SERVICE, "/tmp/swap"):
                p = self.ns.path(name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                elif os.path.lexists(p):
                    os.unlink(p)
        self.restarts += 1
        self.p = subprocess.Popen(
            self.ns.argv(*as_attacker("/tmp/.bin/rename-racer", "/tmp/home-%d" % SERVICE,
                                      "/tmp/swap", self.target, "120")),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line == "racing\n", (line, self.p.stderr.read())

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
        out, err = self.p.communicate(timeout=WAIT)
        if out.startswith("swaps "):
            self.swaps += int(out.split()[1])
        return out, err


def test_rename_exchange_racer_never_gets_a_file_chowned(tmpns):
    """P1: while another uid swaps /tmp/home-1234 (its own dir) and a symlink to
    a root-owned 0600 file as fast as it can, hfinit starts 100 times; the
    file's owner and mode never change (the old code chowned it within a few
    starts), the racer's directory is never taken over, and no start hands
    the service anything of the racer's."""
    os.mkdir(tmpns.path("/tmp/root-only"), 0o700)
    victim = tmpns.path("/tmp/root-only/victim")
    tmpns.write("/tmp/root-only/victim", "secret\n", 0o600)
    tmpns.write("/tmp/hfinit.ini", JOB)
    racer = Racer(tmpns, "/tmp/root-only/victim")
    results = []
    try:
        for _ in range(STARTS):
            racer.ensure()
            results.append(start_job(tmpns))
            st = os.stat(victim)
            if (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (0, 0, 0o600):
                break
    finally:
        out, err = racer.stop()
    st = os.stat(victim)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o600), (
        "the victim became %d:%d %o at start %d" % (st.st_uid, st.st_gid, st.st_mode,
                                                   len(results)))
    assert racer.restarts == 0 and racer.p.returncode == 0, (racer.restarts, out, err)
    assert racer.swaps > 10 * STARTS, racer.swaps  # it really raced the whole time
    for rc, home, seen, log in results:
        assert rc == 0, log
        assert_fresh_home(tmpns, home)
        assert seen == [], (home, seen)  # nothing of the racer's in it
        assert "HOME /tmp/home-%d not used (" % SERVICE in log, log
    with open(victim) as f:
        assert f.read() == "secret\n"


@pytest.mark.parametrize("mode", [0o755, 0o777, 0o700], ids=oct)
def test_home_prepared_by_another_uid_is_not_adopted(tmpns, mode):
    """P2: /tmp/home-1234 made in advance by uid 4321, with a planted
    usercustomize.py and ~/.cache: the service gets a fresh HOME and never sees
    them; the planted dir is left as it was; one warning names path and owner."""
    home = "/tmp/home-%d" % SERVICE
    r = tmpns.run(*as_attacker("/bin/sh", "-c", "mkdir -m %o %s && mkdir %s/.cache && "
                               "echo 'import os' > %s/usercustomize.py && chmod %o %s"
                               % (mode, home, home, home, mode, home)))
    assert r.returncode == 0, r.stderr
    tmpns.write("/tmp/hfinit.ini", JOB)
    rc, got, seen, log = start_job(tmpns)
    assert rc == 0, log
    assert_fresh_home(tmpns, got)
    assert seen == [], seen
    st = os.lstat(tmpns.path(home))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (ATTACKER, mode)
    assert sorted(os.listdir(tmpns.path(home))) == [".cache", "usercustomize.py"]
    warn = [ln for ln in log.splitlines() if "not used" in ln]
    assert warn == ["hfinit: warn: HOME %s not used (owned by uid %d, neither root nor uid %d); "
                    "HOME=%s instead" % (home, ATTACKER, SERVICE, got)], log


def test_home_of_the_service_itself_is_kept(tmpns):
    """The other side: a /tmp/home-1234 of uid 1234 (0700), from an earlier
    start, is the service's own and is used as it is, files included."""
    home = "/tmp/home-%d" % SERVICE
    os.mkdir(tmpns.path(home), 0o700)
    tmpns.write(home + "/mine", "x")
    os.chown(tmpns.path(home + "/mine"), SERVICE, SERVICE)
    os.chown(tmpns.path(home), SERVICE, SERVICE)
    tmpns.write("/tmp/hfinit.ini", JOB)
    rc, got, seen, log = start_job(tmpns)
    assert (rc, got, seen) == (0, home, ["mine"]), log
    assert "not used" not in log


def test_home_in_a_tmp_that_is_not_sticky_is_refused(tmpns):
    """/tmp writable by everyone but not sticky: anyone could swap the HOME
    after the check, so no HOME is made there; the error names /tmp."""
    os.chmod(tmpns.path("/tmp"), 0o777)
    tmpns.write("/tmp/hfinit.ini", JOB)
    rc, got, seen, log = start_job(tmpns)
    assert got is None or not got.startswith("/tmp/"), log  # (a failed start or no HOME)
    assert "/tmp is writable by others and not sticky (mode 0777)" in log, log
    assert not os.path.exists(tmpns.path("/tmp/home-%d" % SERVICE))


PLANTS = {  # what the attacker runs, the directory it owns, why hfinit refuses
    "symlink": ("mkdir -m 755 /tmp/target && ln -s /tmp/target /tmp/hfinit", "/tmp/target",
                "a symlink or not a directory"),
    "dir-of-4321": ("mkdir -m 755 /tmp/hfinit", "/tmp/hfinit",
                    "owned by uid %d, neither root nor uid 0" % ATTACKER),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_status_dir_planted_in_tmp_gets_nothing_written(plant):
    """P7: /run/hfinit cannot be made (read-only /run), and another uid planted
    /tmp/hfinit: a symlink to a directory of its own, or its own directory.
    The status dir is refused with a message naming it and why, and nothing
    was created or removed in the attacker's directory: its listing, mtime
    and ctime are unchanged."""
    ns = TmpNs(ro_run=True)
    try:
        r = ns.run(*as_attacker("/bin/sh", "-c", PLANTS[plant][0]))
        assert r.returncode == 0, r.stderr
        target = ns.path(PLANTS[plant][1])

        def look():
            st = os.stat(target)
            return sorted(os.listdir(target)), st.st_mtime_ns, st.st_ctime_ns

        before = look()
        ns.write("/tmp/hfinit.ini", "[service:job]\ncommand = /bin/true\nrestart = no\n")
        r = ns.run(HFINIT_IN, "-c", "/tmp/hfinit.ini", env=env_for_hfinit())
        after = look()
    finally:
        ns.close()
    assert r.returncode == 0, r.stderr
    assert after == before
    warn = [ln for ln in r.stderr.splitlines() if "status files disabled" in ln]
    assert warn == ["hfinit: warn: status files disabled (the services run anyway): no usable "
                    "status dir: /run/hfinit (cannot create it: Read-only file system); "
                    "/tmp/hfinit (%s)" % PLANTS[plant][2]], r.stderr


def test_automatic_status_dir_removed_is_made_again_the_same_way():
    """W2 with the automatic /tmp/hfinit (read-only /run): removed while hfinit
    runs, it is made again as at the start (root's, 0755, every file in it)."""
    ns = TmpNs(ro_run=True)
    ns.write("/tmp/hfinit.ini", "[service:web]\ncommand = /bin/sleep 1000\n")
    h = subprocess.Popen(ns.argv(HFINIT_IN, "-c", "/tmp/hfinit.ini"), env=env_for_hfinit(),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    d = ns.path("/tmp/hfinit")
    names = ["lock", "ready", "state", "status.json"]
    try:
        wait_for(lambda: os.path.isdir(d) and sorted(os.listdir(d)) == ["control"] + names,
                 what="files")
        shutil.rmtree(d, ignore_errors=True)  # refilled under it, maybe: fine
        # (the control socket comes back too: test_control.py)
        wait_for(lambda: os.path.isdir(d) and set(names) <= set(os.listdir(d)),
                 what="files made again")
        st = os.lstat(d)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755
        assert st.st_uid == 0
        with open(os.path.join(d, "state")) as f:
            assert f.read() == "ready\n"
    finally:
        h.terminate()
        out, err = h.communicate(timeout=WAIT)
        ns.close()
    assert h.returncode == 0, err
    assert "warn" not in err, err
