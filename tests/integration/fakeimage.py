"""A throw-away container image tree for `hfinit check` tests.

The tree is a small merged-/usr root (like Debian images): /bin -> usr/bin,
/lib -> usr/lib, with the host's /usr/lib and /usr/lib64 bind-mounted so a
dynamically linked /bin/sh (dash) works, but with an empty /usr/bin, so there
is no Python unless a test puts one there. hfinit (static) runs chrooted in a
private mount namespace (unshare --mount), optionally as uid 1000 through
setpriv, so every path it reports is an image path: output is deterministic.
It is PID 1 of a fresh PID namespace, like `docker run IMAGE hfinit check`.
"""

import json
import os
import shutil
import stat
import subprocess

import pytest

HFINIT = os.environ.get("HFINIT_BIN", "")
USER_UID = 1000

IMAGE_PATH = "/usr/local/bin:/usr/bin:/bin"

FAKE_PY = '#!/bin/sh\necho "$0"\necho {version}\n'


class Image:
    def __init__(self, root):
        if not HFINIT or not os.access(HFINIT, os.X_OK):
            pytest.fail(f"HFINIT_BIN={HFINIT!r} is not an executable (run `make integration`)")
        if os.geteuid() != 0:
            pytest.fail("the check tests need root (chroot, bind mounts, uid switches)")
        self.root = str(root)
        self.binds = []  # (host path, image path)
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        for d in ("usr/bin", "usr/lib", "usr/lib64", "usr/local/bin", "etc/hfinit", "dev", "proc",
                  "run", "root", "home/user", "app", ".host"):
            os.makedirs(self.path(d), exist_ok=True)
        for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"),
                             ("sbin", "usr/bin")):
            os.symlink(target, self.path(link))
        os.makedirs(self.path("tmp"), exist_ok=True)
        os.chmod(self.path("tmp"), 0o1777)
        os.chmod(self.path("root"), 0o700)
        os.chown(self.path("home/user"), USER_UID, USER_UID)
        shutil.copy2("/bin/dash", self.path("usr/bin/sh"))
        shutil.copy2("/bin/sleep", self.path("usr/bin/sleep"))
        shutil.copy2(HFINIT, self.path("hfinit"))
        self.write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                   "user:x:1000:1000::/home/user:/bin/sh\n")
        self.write("etc/group", "root:x:0:\nuser:x:1000:\n")
        self.bind("/usr/lib", "usr/lib")
        if os.path.isdir("/usr/lib64"):  # the x86_64 ELF loader lives there
            self.bind("/usr/lib64", "usr/lib64")
        self.bind("/dev/null", "dev/null")
        self.bind("/usr/bin/setpriv", ".host/setpriv")

    def path(self, rel):
        return os.path.join(self.root, rel.lstrip("/"))

    def write(self, rel, text, mode=0o644, uid=None):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        if uid is not None:
            os.chown(p, uid, uid)
        return p

    def mkdir(self, rel, mode=0o755, uid=None):
        p = self.path(rel)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        if uid is not None:
            os.chown(p, uid, uid)
        return p

    def symlink(self, target, rel):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)

    def fake_python(self, rel, version="3.11.7", mode=0o755):
        return self.write(rel, FAKE_PY.format(version=version), mode)

    def bind(self, host, rel):
        """Bind-mount a host file or directory at rel when hfinit runs."""
        p = self.path(rel)
        if os.path.isdir(host):
            os.makedirs(p, exist_ok=True)
        elif not os.path.exists(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").close()
        self.binds.append((host, p))

    def real_python(self, rel="usr/bin/python3"):
        """The host's Debian python3 (its stdlib comes with /usr/lib)."""
        self.bind(os.path.realpath("/usr/bin/python3"), rel)

    def config(self, text):
        self.write("etc/hfinit/hfinit.ini", text)

    def check(self, *args, env=None, as_user=False, timeout=60, read_only=False,
              mode=("check",), proc=False):
        """Run `hfinit check ARGS` in the image; returns CompletedProcess.
        read_only: the image's root is mounted read-only (docker --read-only).
        env values None unset the variable (HOME=None: no HOME at all)."""
        mounts = ""
        if read_only:
            mounts = f"mount --bind '{self.root}' '{self.root}' && " \
                     f"mount -o remount,bind,ro '{self.root}' && "
        mounts += "".join(f"mount --bind '{h}' '{p}' && " for h, p in self.binds)
        if proc:
            mounts += f"mount -t proc proc '{self.path('proc')}' && "
        cmd = ["/usr/sbin/chroot", self.root]
        if as_user == "root-nocap":  # Docker's default root: no CAP_SYS_RESOURCE
            cmd += ["/.host/setpriv", "--bounding-set=-sys_resource"]
        elif as_user:
            cmd += ["/.host/setpriv", f"--reuid={USER_UID}", f"--regid={USER_UID}",
                    "--clear-groups"]
        cmd += ["/hfinit", *mode, "-c", "/etc/hfinit/hfinit.ini", *args]
        script = mounts + 'exec "$@"'
        full_env = {"PATH": IMAGE_PATH,
                    "HOME": "/home/user" if as_user is True else "/root"}
        full_env.update(env or {})
        full_env = {k: v for k, v in full_env.items() if v is not None}
        # PID 1 of its own namespace, as in `docker run IMAGE hfinit check`.
        return subprocess.run(["/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child",
                               "--", "/bin/sh", "-c", script,
                               "sh", *cmd], env=full_env, capture_output=True, text=True,
                              timeout=timeout)

    def start(self, env=None, as_user=False, timeout=60, read_only=False, proc=True):
        """Run hfinit itself (the start) as PID 1 in the image, with the same
        config and environment as check(); returns CompletedProcess. The
        services of a start test must end by themselves (restart = no)."""
        return self.check(env=env, as_user=as_user, timeout=timeout, read_only=read_only,
                          mode=[], proc=proc)

    def check_json(self, *args, **kw):
        r = self.check("--json", *args, **kw)
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            raise AssertionError(f"not JSON (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.returncode, doc


def candidates(doc):
    """[(source, path, verdict)] of the Python candidates."""
    return [(c["source"], c["path"], c["verdict"]) for c in doc["python"]["candidates"]]


def verdict_of(doc, path):
    for c in doc["python"]["candidates"]:
        if c["path"] == path:
            return c
    raise AssertionError(f"{path} not among {candidates(doc)}")


def is_executable(p):
    return bool(os.stat(p).st_mode & stat.S_IXUSR)
