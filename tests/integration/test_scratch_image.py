"""hfinit in an image with no /tmp and no usable HOME (a FROM scratch image):
the fallback HOME under /tmp is created, /tmp with it (sticky, world-writable),
instead of failing the start. Runs hfinit as PID 1 chrooted into a fake image
(fakeimage.py), in supervision mode with a static service."""

import os
import shutil
import stat
import subprocess

from fakeimage import Image  # copies $HFINIT_BIN to the image's /hfinit


def test_fallback_home_created_with_tmp(tmp_path):
    img = Image(tmp_path / "root")
    shutil.rmtree(img.path("tmp"), ignore_errors=True)  # FROM scratch: no /tmp
    os.remove(img.path("etc/passwd"))  # nor a passwd home to fall back to first
    exitwith = os.path.join(os.environ["HFINIT_HELPERS"], "exitwith")
    shutil.copy(exitwith, img.path("exitwith"))
    img.config("[service:job]\ncommand = /exitwith 0\nrestart = no\n")
    cmd = ["/usr/sbin/chroot", img.root, "/hfinit", "-c", "/etc/hfinit/hfinit.ini"]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "HFINIT_STATUS_DIR": "/run/st"}
    r = subprocess.run(["/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child",
                        "--", *cmd], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "[job] HOME=/tmp/home" in r.stderr, r.stderr
    st = os.stat(img.path("tmp"))
    assert stat.S_IMODE(st.st_mode) == 0o1777, oct(st.st_mode)
    home = os.stat(img.path("tmp/home"))
    assert stat.S_ISDIR(home.st_mode) and stat.S_IMODE(home.st_mode) == 0o700
