"""`hfinit check` on broken images: each broken-image case is named
with a fix, the text report is compared with a golden file (tests/golden/check/),
and --json carries the same verdicts. Set HFINIT_UPDATE_GOLDEN=1 to rewrite the
golden files after an intended change (then review the diff)."""

import json
import os
import re
import resource

import pytest

from fakeimage import Image

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "check")

SPACE = """[hfinit]
app_dirs = /app /home/user/app
python_timeout = 2s

[service:web]
command = node dist/index.js
env = HF_TOKEN=hf_s3cr3t_value NODE_ENV=production

[service:tts]
stage = 2
script = server/ml-services/worker_pool.py
args = --workers 1 --worker-type tts
required = yes
seccomp = worker
"""


def golden(name, text):
    path = os.path.join(GOLDEN, name + ".txt")
    if os.environ.get("HFINIT_UPDATE_GOLDEN") == "1":
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    with open(path) as f:
        want = f.read()
    assert text == want, f"output differs from {path}:\n{text}"


@pytest.fixture
def img(tmp_path):
    i = Image(tmp_path / "root")
    i.write("usr/bin/node", "#!/bin/sh\nexit 0\n", 0o755)
    i.write("app/server/ml-services/worker_pool.py", "print('ready')\n")
    i.config(SPACE)
    return i


def run_both(img, name, want_code, **kw):
    """Text report (golden-compared) and JSON report; returns the JSON doc."""
    r = img.check(**kw)
    assert r.returncode == want_code, r.stdout + r.stderr
    assert r.stderr == ""
    golden(name, r.stdout)
    code, doc = img.check_json(**kw)
    assert code == want_code
    assert doc["exit"] == want_code
    return r.stdout, doc


def test_all_ok(img):
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    text, doc = run_both(img, "ok", 0)
    assert text.endswith("all checks passed.\n")
    assert doc["result"] == "ok" and doc["problems"] == 0
    assert doc["python"]["path"] == "/app/.venv/bin/python3"
    assert doc["services"]["tts"]["resolved"] == "/app/server/ml-services/worker_pool.py"
    assert doc["services"]["web"]["resolved"] == "/usr/bin/node"
    assert doc["seccomp"]["status"] == "ok"


def test_secret_values_never_printed(img):
    img.fake_python("usr/bin/python3")
    env = {"HF_TOKEN": "hf_from_env_123", "OPENAI_API_KEY": "sk-abc"}
    r = img.check(env=env)
    rj = img.check("--json", env=env)
    for out in (r.stdout + r.stderr, rj.stdout + rj.stderr):
        assert "hf_s3cr3t_value" not in out
        assert "hf_from_env_123" not in out and "sk-abc" not in out
    assert "env HF_TOKEN=***" in r.stdout
    assert "env NODE_ENV=production" in r.stdout
    assert json.loads(rj.stdout)["services"]["web"]["env"] == [
        "HF_TOKEN=***", "NODE_ENV=production"]


# --- the eight broken images -------------------------------------------------------------

def test_no_python_at_all(img):
    text, doc = run_both(img, "no-python", 1)
    assert "FAIL  python           no working Python among 16 candidates" in text
    assert "hint: Install Python 3 in the image" in text
    assert doc["python"]["status"] == "FAIL"


def test_python_path_is_a_directory(img):
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    text, doc = run_both(img, "python-path-dir", 1, env={"PYTHON_PATH": "/app/.venv"})
    assert "PYTHON_PATH must name the interpreter file, not a directory " \
           "(did you mean /app/.venv/bin/python3?)" in text
    assert "PYTHONPATH (no underscore)" in text


def test_venv_python_dangles(img):
    img.symlink("/usr/local/bin/python3.11", "app/.venv/bin/python3")
    img.symlink("python3", "app/.venv/bin/python")
    text, doc = run_both(img, "venv-dangling", 1)
    assert "/app/.venv/bin/python3: dangling link: -> /usr/local/bin/python3.11 " \
           "(does not exist)" in text
    assert "venvs are not relocatable; create the venv in the final stage" in text


def test_venv_belongs_to_root(img):
    img.mkdir("app/.venv", 0o700)
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    text, doc = run_both(img, "venv-root-only", 1, as_user=True)
    assert "/app/.venv/bin/python3: permission denied" in text
    assert "is not usable by the service user: create the venv as that user" in text


def test_missing_script(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    os.remove(img.path("app/server/ml-services/worker_pool.py"))
    text, doc = run_both(img, "missing-script", 1)
    tried = [t["path"] for t in doc["services"]["tts"]["tried"]]
    assert tried == [
        "/app/server/ml-services/worker_pool.py",
        "/app/dist/server/ml-services/worker_pool.py",
        "/app/src/server/ml-services/worker_pool.py",
        "/home/user/app/server/ml-services/worker_pool.py",
        "/home/user/app/dist/server/ml-services/worker_pool.py",
        "/home/user/app/src/server/ml-services/worker_pool.py"]
    for p in tried:
        assert f"- {p}: missing" in text
    assert "fix `script =` (line 11)" in text


def test_unwritable_status_dir(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    img.mkdir("srv/status", 0o755)  # root's; hfinit runs as uid 1000
    # the start runs without status files (a warning): check warns the same way
    text, doc = run_both(img, "status-dir-unwritable", 0, as_user=True,
                         env={"HFINIT_STATUS_DIR": "/srv/status"})
    assert "warn  status dir       no usable status directory: no status files" in text
    assert "/srv/status (HFINIT_STATUS_DIR): cannot create files in it: Permission denied" in text
    assert "hint: make /srv/status a directory writable by uid 1000" in text
    assert doc["status_dir"]["status"] == "warn"


def test_status_dir_auto_falls_back_as_user(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    code, doc = img.check_json(as_user=True)
    assert code == 0
    assert doc["status_dir"]["path"] == "/tmp/hfinit"
    assert doc["status_dir"]["tried"][0]["why"] == \
        "missing, and /run is not writable: Permission denied"


def test_typo_key(img):
    img.config(SPACE.replace("python_timeout", "pyhton_timeout"))
    text, doc = run_both(img, "typo-key", 2)
    assert "hfinit.ini:3: [hfinit] pyhton_timeout: unknown key (did you mean " \
           "python_timeout?)" in text
    assert doc["config"]["errors"][0]["line"] == 3
    assert doc["result"] == "config error"


def test_bad_duration(img):
    img.config(SPACE.replace("python_timeout = 2s", "python_timeout = 2 secs"))
    text, doc = run_both(img, "bad-duration", 2)
    assert "hfinit.ini:3: [hfinit] python_timeout:" in text
    assert doc["config"]["errors"][0]["key"] == "python_timeout"


def test_missing_module(img):
    img.real_python()
    img.write("app/server/ml-services/helper_mod.py", "X = 1\n")
    img.config(SPACE + "requires = json helper_mod nosuchmodule_h5 cv2 broken_mod\n")
    img.write("app/server/ml-services/broken_mod.py", "raise RuntimeError('CUDA missing')\n")
    r = img.check()
    assert r.returncode == 1, r.stdout
    text = re.sub(r"Python 3\.\d+\.\d+", "Python 3.X.Y", r.stdout)
    golden("missing-module", text)
    assert "requires nosuchmodule_h5: ModuleNotFoundError: No module named " \
           "'nosuchmodule_h5'" in text
    assert "hint: module nosuchmodule_h5 is missing: /usr/bin/python3 -m pip install " \
           "nosuchmodule_h5" in text
    assert "hint: module cv2 is missing: /usr/bin/python3 -m pip install " \
           "opencv-python-headless" in text
    assert "hint: module broken_mod is installed but fails to import: RuntimeError: " \
           "CUDA missing" in text
    assert "helper_mod" not in text.replace("requires json helper_mod", "")
    code, doc = img.check_json()
    req = doc["services"]["tts"]["requires"]
    assert [(m["module"], m["missing"]) for m in req["failed"]] == [
        ("nosuchmodule_h5", True), ("cv2", True), ("broken_mod", False)]


def test_requires_as_service_user(img):
    # the module is importable for root only: checked as the service user
    img.real_python()
    img.mkdir("opt/private", 0o700)
    img.write("opt/private/only_root.py", "X = 1\n")
    img.config(SPACE + "requires = only_root\nuser = user\nenv = PYTHONPATH=/opt/private\n")
    code, doc = img.check_json()
    assert code == 1
    assert [m["module"] for m in doc["services"]["tts"]["requires"]["failed"]] == ["only_root"]
    img.config(SPACE + "requires = only_root\nenv = PYTHONPATH=/opt/private\n")
    code, doc = img.check_json()
    assert code == 0, doc["services"]["tts"]


def test_requires_imports_see_the_service_home(img):
    # hfinit inherits HOME=/root; the service user gets its own writable HOME
    img.real_python()
    img.write("app/server/ml-services/homecheck.py",
              "import os\nh = os.environ['HOME']\n"
              "assert h == '/home/user', h\n"
              "assert os.environ['HF_HOME'] == '/home/user/.cache/huggingface'\n")
    img.config(SPACE + "requires = homecheck\nuser = user\n")
    code, doc = img.check_json()
    assert code == 0, doc["services"]["tts"]["requires"]


# --- more failures named with a fix -----------------------------------------------------

def test_unknown_user_and_command(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    os.remove(img.path("usr/bin/node"))
    img.config(SPACE + "user = ghost\n")
    text, doc = run_both(img, "user-and-command", 1)
    assert "user ghost does not exist (not in /etc/passwd)" in text
    assert "hint: create the user in the image" in text
    assert "command node not found on $PATH=/usr/local/bin:/usr/bin:/bin" in text
    assert doc["services"]["tts"]["user"]["ok"] is False


def test_user_switch_needs_root(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    img.config(SPACE + "user = user\n")
    code, doc = img.check_json(as_user=True)  # already that user: fine
    assert code == 0, doc["services"]["tts"]
    assert doc["services"]["tts"]["user"] == {
        "name": "user", "group": None, "ok": True, "uid": 1000, "gid": 1000}
    # another user cannot be switched to: the start runs it as uid 1000 with
    # a warning, and check says the same (a warning, not a failure)
    img.config(SPACE + "user = root\n")
    code, doc = img.check_json(as_user=True)
    assert code == 0
    assert doc["services"]["tts"]["status"] == "warn"
    assert doc["services"]["tts"]["user"]["error"] == (
        "user = root (uid 0 gid 0): hfinit runs as uid 1000 gid 1000, not root: it cannot "
        "switch, the service runs as uid 1000")


def test_seccomp_row_and_json_matches_text(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    r = img.check()
    code, doc = img.check_json()
    assert doc["seccomp"] == {"status": "ok", "needed": True,
                              "detail": "the kernel accepts seccomp filters (libseccomp 2.5.4)"}
    rows = {line[6:22].strip(): line[:5].strip() for line in r.stdout.splitlines()
            if line[:5].strip() in ("ok", "FAIL", "warn", "skip")}
    assert rows["python"] == doc["python"]["status"]
    assert rows["status dir"] == doc["status_dir"]["status"]
    assert rows["service tts"] == doc["services"]["tts"]["status"]
    assert rows["service web"] == doc["services"]["web"]["status"]


def test_workdir_and_env_file(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    img.mkdir("srv/private", 0o700)
    img.config(SPACE + "user = user\nworkdir = /srv/private\nenv_file = /etc/app.env\n")
    code, doc = img.check_json()
    tts = doc["services"]["tts"]
    assert code == 1
    # the planner reports the first verdict of a service: the env_file
    assert tts["env_file_error"] == "env_file /etc/app.env: No such file or directory"
    assert "create /etc/app.env in the image or fix `env_file =` (line 17)" in tts["hints"]
    img.write("etc/app.env", "A=1\n")
    code, doc = img.check_json(proc=True)
    tts = doc["services"]["tts"]
    assert code == 1
    assert tts["workdir_error"] == ("workdir = /srv/private: Permission denied (the "
                                    "service's user cannot enter it)")
    img.config(SPACE + "workdir = /srv/private\nenv_file = /etc/app.env\n")
    code, doc = img.check_json()
    assert code == 0, doc["services"]["tts"]


def test_missing_config_file(tmp_path):
    i = Image(tmp_path / "root")
    r = i.check()
    assert r.returncode == 2
    assert "cannot read config /etc/hfinit/hfinit.ini (given with -c): No such file" in r.stdout


def test_bad_usage(img):
    r = img.check("--bogus")
    assert r.returncode == 2
    assert 'unexpected argument "--bogus"' in r.stderr
    assert "usage: hfinit check" in r.stderr


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(img, flag):
    r = img.check(flag)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: hfinit check [-c FILE] [--json]\n")
    assert r.stderr == ""


@pytest.mark.parametrize("spelling", [["--config", "/etc/hfinit/hfinit.ini"],
                                      ["--config=/etc/hfinit/hfinit.ini"],
                                      ["-c", "/etc/hfinit/hfinit.ini"]])
def test_config_spellings(img, spelling):
    want = img.check()
    got = img.check(*spelling)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)


@pytest.mark.parametrize("args,word", [(["-c"], "-c"), (["--config"], "--config"),
                                       (["stray"], "stray"), (["--json", "-x"], "-x")])
def test_bad_usage_names_the_word(img, args, word):
    r = img.check(*args)
    assert r.returncode == 2
    assert 'unexpected argument "%s"' % word in r.stderr
    assert "usage: hfinit check" in r.stderr


def test_root_venv_skipped_is_said(img):
    """A venv made as root (0700) and a system Python: the venv is skipped;
    check's python row is a warning naming the directory, its owner and mode,
    and the start-up log says the same in one line (was: silent, `ok`)."""
    img.mkdir("app/.venv", 0o700)
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    img.fake_python("usr/bin/python3", "3.11.2")
    line = ("python: /app/.venv/bin/python3 (venv) skipped: permission denied: /app/.venv "
            "(mode 0700, owner uid 0) cannot be entered (as uid 1000); using /usr/bin/python3 "
            "(Python 3.11.2, from PATH)")
    r = img.check(as_user=True)
    assert r.returncode == 0, r.stdout
    assert "warn  python           /usr/bin/python3 (Python 3.11.2, from PATH)\n" in r.stdout
    assert "          " + line + "\n" in r.stdout
    img.config(SPACE.replace("command = node dist/index.js", "command = /bin/sh -c 'exit 0'")
               + "restart = no\n")
    s = img.start(as_user=True)
    assert "hfinit: warn: " + line + "\n" in s.stderr, s.stderr


def test_missing_module_hint_names_the_skipped_venv(img):
    """The module is missing from the Python used because the venv that has
    it was skipped: the hint names that venv, not `pip install` into a
    Python that has no pip."""
    img.mkdir("app/.venv", 0o700)
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    img.real_python()
    img.config(SPACE + "requires = nosuchmodule_v\n")
    r = img.check(as_user=True)
    assert r.returncode == 1, r.stdout
    assert ("hint: module nosuchmodule_v is missing from /usr/bin/python3; "
            "/app/.venv/bin/python3 was skipped (see python above) and is probably where it "
            "is installed: make it usable by the service user (chown -R it, or create the "
            "venv as that user)\n") in r.stdout
    assert "pip install" not in r.stdout


def test_read_only_root(img):
    """docker run --read-only as uid 1000 (Kubernetes readOnlyRootFilesystem):
    nothing stops the Space; the status dir and HOME are warnings whose fix
    works for uid 1000 (a writable /tmp), never `--tmpfs /run`."""
    img.fake_python("usr/bin/python3", "3.11.2")
    text, doc = run_both(img, "read-only", 0, as_user=True, read_only=True, env={"HOME": "/"})
    assert "hint: without status files `hfinit health` cannot answer: give hfinit a " \
           "writable /tmp (docker run --tmpfs /tmp, or a Kubernetes emptyDir volume at " \
           "/tmp), or set $HFINIT_STATUS_DIR" in text
    assert "HOME: cannot create /tmp/home: Read-only file system; it runs with " \
           "HOME=/home/user, not writable" in text
    assert "tmpfs /run" not in text
    assert doc["environment"][0]["status"] == "warn"


def test_rlimits_the_start_cannot_set(img):
    """rlimit_nofile above fs.nr_open (as root) or above hfinit's own hard limit
    (as uid 1000) fails check with the start's own words, naming the key, its
    value and the limit (was a bare `setrlimit ... Operation not permitted` at
    every start); an rlimit_nproc on a root service is a warning (the kernel
    exempts root)."""
    img.fake_python("usr/bin/python3")
    img.config(SPACE.replace("command = node dist/index.js",
                             "command = node dist/index.js\nrlimit_nofile = 99999999\n"
                             "rlimit_nproc = 100"))
    img.bind("/proc/sys/fs/nr_open", "proc/sys/fs/nr_open")  # the image has no /proc
    with open("/proc/sys/fs/nr_open") as f:
        nr_open = int(f.read())
    r = img.check()
    assert r.returncode == 1, r.stdout + r.stderr
    assert ("cannot start: rlimit_nofile = 99999999: Operation not permitted (fs.nr_open is "
            "%d; a hard nofile above it cannot be set, even as root: lower the value)\n"
            % nr_open) in r.stdout, r.stdout
    assert ("hint: rlimit_nproc does not bind a service that runs as root: the kernel does "
            "not count root's processes against it; set `user =` for it to apply\n") \
        in r.stdout, r.stdout
    assert re.search(r"^FAIL +service web", r.stdout, re.M), r.stdout
    code, doc = img.check_json()
    assert code == 1 and doc["services"]["web"]["status"] == "FAIL"
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # what hfinit inherits
    r = img.check(as_user=True)
    assert ("cannot start: rlimit_nofile = 99999999: Operation not permitted (above the hard "
            "limit hfinit has, %d; raising it needs CAP_SYS_RESOURCE: lower the value or "
            "remove the key)\n" % hard) in r.stdout, r.stdout
    assert "rlimit_nproc does not bind" not in r.stdout  # runs as uid 1000: it binds
    # only the warning: a root service with a settable nofile
    img.config(SPACE.replace("command = node dist/index.js",
                             "command = node dist/index.js\nrlimit_nproc = 100"))
    r = img.check()
    assert re.search(r"^warn +service web", r.stdout, re.M), r.stdout
    assert r.returncode == 0, r.stdout
