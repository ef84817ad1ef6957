"""One planner: `hfinit check` and a real start (hfinit as PID 1 in the same
fake image, same config, same environment, same uid) must agree: check exits
0 exactly when the start gets every required service past set-up. Each case
below disagreed before check ran the start's planner."""

import json
import re
import shutil

import pytest

from fakeimage import Image
from status_schema import SCHEMA_PATH, validate

BASE = """[hfinit]
app_dirs = /app
python_timeout = 2s

[service:web]
command = /bin/sh -c 'echo HOME=$HOME'
restart = no
%s
[service:tts]
stage = 2
script = w.py
required = no
restart = no
"""

OOM = ("[web] cannot start: oom_score_adj = -500: Permission denied (lowering needs "
       "CAP_SYS_RESOURCE; remove the key or raise it)")

# name: (web keys, env, as uid 1000 (or root without CAP_SYS_RESOURCE), read-only root,
#        check exit, a line of the start's log)
CASES = {
    "oom-lowering-as-user": ("oom_score_adj = -500", {}, True, False, 1,
                             "hfinit: error: " + OOM),
    "oom-lowering-docker-root": ("oom_score_adj = -500", {}, "root-nocap", False, 1,
                                 "hfinit: error: " + OOM),
    "oom-raising-as-user": ("oom_score_adj = 500", {}, True, False, 0, "[web] HOME=/home/user"),
    "env-file-malformed": ("env_file = /app/bad.env", {}, False, False, 1,
                           "hfinit: error: [web] cannot start: /app/bad.env:2: expected "
                           "NAME=VALUE"),
    "env-file-missing": ("env_file = /app/none.env", {}, False, False, 1,
                         "hfinit: error: [web] cannot start: env_file /app/none.env: No such "
                         "file or directory"),
    "user-self-not-root": ("user = user", {}, True, False, 0, "[web] HOME=/home/user"),
    "user-other-not-root": ("user = root", {}, True, False, 0,
                            "hfinit: warn: [web] user = root (uid 0 gid 0): hfinit runs as uid "
                            "1000 gid 1000, not root: it cannot switch, the service runs as "
                            "uid 1000"),
    "home-slash-as-user": ("", {"HOME": "/"}, True, False, 0, "[web] HOME=/home/user"),
    "home-unset-as-user": ("", {"HOME": None}, True, False, 0, "[web] HOME=/home/user"),
    "home-unset-as-root": ("", {"HOME": None}, False, False, 0, "[web] HOME=/root"),
    "read-only-as-user": ("", {"HOME": "/"}, True, True, 0, "[web] HOME=/home/user"),
    "read-only-no-passwd-home": ("user = 1234", {"HOME": None}, False, True, 0,
                                 "hfinit: warn: [web] HOME: cannot create /tmp/home-1234: "
                                 "Read-only file system"),
    "env-home-read-only": ("env = HOME=/srv/private", {"HOME": None}, False, True, 0,
                           "[web] HOME=/srv/private"),
    "workdir-missing": ("workdir = /srv/none", {}, False, False, 1,
                        "hfinit: error: [web] cannot start: workdir = /srv/none: No such file "
                        "or directory (create it in the image or fix the key)"),
    "workdir-not-enterable": ("workdir = /srv/private\nuser = user", {}, False, False, 1,
                              "hfinit: error: [web] cannot start: workdir = /srv/private: "
                              "Permission denied (the service's user cannot enter it)"),
    "rlimit-above-hard": ("rlimit_nofile = unlimited", {}, True, False, 1,
                          "hfinit: error: [web] cannot start: rlimit_nofile = unlimited: "
                          "Operation not permitted (above the hard limit hfinit has, "),
    "seccomp-worker": ("seccomp = worker", {}, False, False, 0, "[web] HOME=/root"),
    "seccomp-worker-as-user": ("seccomp = worker", {}, True, False, 0, "[web] HOME=/home/user"),
    "group-only-as-root": ("group = user", {}, False, False, 0, "[web] HOME=/root"),
    "unknown-user-as-root": ("user = ghost", {}, False, False, 1,
                             "hfinit: error: [web] cannot start: user ghost does not exist "
                             "(not in /etc/passwd)"),
}


@pytest.fixture
def img(tmp_path):
    i = Image(tmp_path / "root")
    i.fake_python("usr/bin/python3", "3.11.2")
    i.write("app/w.py", "print('ready')\n")
    i.write("app/bad.env", "A=1\nthis is not an assignment\n")
    i.mkdir("srv/private", 0o700)
    return i


def start_passed_setup(r):
    """Every required service (web) got past set-up: it was started."""
    return r.returncode != 3 and re.search(r"\[web\] started pid \d+", r.stderr) is not None


@pytest.mark.parametrize("name", sorted(CASES))
def test_check_and_start_agree(img, name):
    keys, env, as_user, ro, want_check, want_line = CASES[name]
    img.config(BASE % keys)
    c = img.check("--json", env=env, as_user=as_user, read_only=ro, proc=True)
    doc = json.loads(c.stdout)
    s = img.start(env=env, as_user=as_user, read_only=ro)
    log = s.stdout + s.stderr
    assert c.returncode == want_check, c.stdout
    assert (c.returncode == 0) == start_passed_setup(s), log
    assert want_line in log, log
    if want_check == 1:
        assert s.returncode == 3, log
        assert doc["services"]["web"]["status"] == "FAIL"
        assert "hfinit: error: a required service cannot be set up: nothing started" in log
        assert "attempt" not in log  # failed at once, no retries
        # check names it in the start's words
        t = img.check(env=env, as_user=as_user, read_only=ro, proc=True)
        assert want_line.split("cannot start: ", 1)[1] in t.stdout, t.stdout
    else:
        # the HOME the service printed is the one check announced
        home = [e["home"] for e in doc["environment"]]
        printed = re.findall(r"^\[web\] HOME=(.*)$", s.stdout, re.M)
        assert printed and printed[0] in home, (printed, home, log)


def test_optional_missing_script_degrades(img):
    """An optional service whose script is missing is failed with its reason;
    the rest starts (was: exit 3, the whole Space down)."""
    img.config(BASE % "" + "")
    img.config((BASE % "").replace("script = w.py", "script = gone.py"))
    c = img.check(proc=True)
    assert c.returncode == 0, c.stdout
    assert "warn  service tts      script gone.py not found (3 paths tried)" in c.stdout
    assert c.stdout.endswith("all checks passed, 1 warning: hfinit would start, degraded.\n")
    s = img.start()
    assert s.returncode != 3, s.stderr
    assert re.search(r"\[web\] started pid \d+", s.stderr), s.stderr
    assert "hfinit: error: [tts] cannot start: script gone.py not found (3 paths tried)\n" \
        in s.stderr
    assert "[tts] attempt 1 of 3 failed: script gone.py not found (3 paths tried); not " \
        "retried (it would fail the same way)" in s.stderr
    with open(img.path("run/hfinit/status.json")) as f:
        doc = json.load(f)
    assert validate(doc, json.load(open(SCHEMA_PATH))) == []
    tts = doc["services"]["tts"]
    assert (tts["state"], tts["attempt"]) == ("failed", 1)
    assert tts["last_error"] == {"text": "script gone.py not found (3 paths tried)",
                                 "category": "setup",
                                 "hint": "set app_dirs in [hfinit] to the directory that holds "
                                         "it, or fix `script =` (line 11); `hfinit check` "
                                         "lists every path tried"}


def test_no_python_required_whole_hint(img):
    """No Python for a required script service: check FAILs, the start exits 3
    before anything runs, and the log has every candidate and the whole hint
    on its own line (was: one 1024-byte message, cut at `apt-get install py`)."""
    import os
    os.remove(img.path("usr/bin/python3"))
    # app dirs an image might have: more candidates, a longer report
    img.config((BASE % "").replace("required = no\n", "required = yes\n").replace(
        "app_dirs = /app", "app_dirs = /app /home/user/app /srv/space-application "
        "/opt/space-application-server"))
    c = img.check(proc=True)
    assert c.returncode == 1, c.stdout
    assert "FAIL  python           no working Python among 20 candidates" in c.stdout
    s = img.start()
    assert s.returncode == 3, s.stderr
    lines = s.stderr.splitlines()
    assert "hfinit: error: no working Python: no working Python among 20 candidates" in lines
    assert "hfinit: error:   system                 /usr/bin/python3: missing" in lines
    assert ("hfinit: error:   hint: Install Python 3 in the image (e.g. apt-get install "
            "python3, or a python:3 base image), or set PYTHON_PATH to a working "
            "interpreter.") in lines
    assert "hfinit: error: [tts] cannot start: no working Python to run it" in lines
    assert "hfinit: error: a required service cannot be set up: nothing started" in lines
    assert "[web] started" not in s.stderr


def test_setup_failure_at_a_later_start_is_not_retried(img):
    """The workdir exists when the plan is made and is gone when the stage-2
    service starts: spawn's set-up step fails the same way each time, so it
    fails at once with the key named (was: every retry, retry_delay apart)."""
    img.mkdir("srv/wd")
    shutil.copy2("/bin/rmdir", img.path("usr/bin/rmdir"))
    img.config("""[service:web]
command = /bin/sh -c 'rmdir /srv/wd && echo removed'
ready = line:removed
restart = no

[service:late]
stage = 2
command = /bin/sh -c 'exit 0'
workdir = /srv/wd
required = no
retries = 3
retry_delay = 1h
""")
    s = img.start(timeout=30)
    assert s.returncode == 0, s.stderr
    assert ("hfinit: error: [late] cannot start: workdir = /srv/wd: No such file or directory "
            "(create it in the image or fix the key)\n") in s.stderr
    assert ("hfinit: error: [late] attempt 1 of 3 failed: workdir = /srv/wd: No such file or "
            "directory (create it in the image or fix the key); not retried (it would fail the "
            "same way)\n") in s.stderr
    assert "next attempt" not in s.stderr
