"""Python and script resolution, driven through `hfinit check --json` in fake
image trees (see fakeimage.py): each case builds the broken parts, then asserts
which candidate was chosen and the verdict of every other one."""

import time

import pytest

from fakeimage import Image, candidates, verdict_of

BASE = "[hfinit]\npython_timeout = 500ms\napp_dirs = /app\n"
SVC = "[service:tts]\nscript = worker.py\n"


@pytest.fixture
def img(tmp_path):
    i = Image(tmp_path / "root")
    i.write("app/worker.py", "print('ready')\n")
    i.config(BASE + SVC)
    return i


def chosen(doc):
    return doc["python"]["path"]


def test_no_python_at_all(img):
    code, doc = img.check_json()
    assert code == 1
    assert chosen(doc) is None
    assert doc["python"]["status"] == "FAIL"
    assert doc["python"]["error"] == "no working Python among 14 candidates"
    assert "Install Python 3 in the image" in doc["python"]["hint"]
    assert ("PATH", "python3", "not found") in candidates(doc)
    assert ("system", "/usr/bin/python3", "missing") in candidates(doc)
    assert doc["services"]["tts"]["status"] == "FAIL"


def test_order_and_every_verdict(img):
    # .venv: python3 dangles, python has no x bit; venv: python3 exits 1,
    # python hangs past the timeout; $HOME/.venv works; PATH and system too.
    img.symlink("/usr/local/lib/python3.11-gone/bin/python3.11", "app/.venv/bin/python3")
    img.fake_python("app/.venv/bin/python", mode=0o644)
    img.write("app/venv/bin/python3", "#!/bin/sh\necho 'Fatal Python error: init_fs_encoding' >&2\n"
              "echo second line >&2\nexit 1\n", 0o755)
    img.write("app/venv/bin/python", "#!/bin/sh\nexec sleep 30\n", 0o755)
    img.fake_python("root/.venv/bin/python3", "3.12.1")
    img.fake_python("usr/bin/python3", "3.11.2")
    t0 = time.monotonic()
    code, doc = img.check_json()
    elapsed = time.monotonic() - t0
    assert code == 0, doc
    assert chosen(doc) == "/root/.venv/bin/python3"
    assert doc["python"]["version"] == "3.12.1"
    assert doc["python"]["source"] == "venv"
    c = verdict_of(doc, "/app/.venv/bin/python3")
    assert (c["verdict"], c["detail"]) == (
        "dangling link", "-> /usr/local/lib/python3.11-gone/bin/python3.11 (does not exist)")
    c = verdict_of(doc, "/app/.venv/bin/python")
    assert (c["verdict"], c["detail"]) == ("not executable", "mode 0644, no x bit")
    c = verdict_of(doc, "/app/venv/bin/python3")
    assert (c["verdict"], c["detail"]) == ("exited", "1: Fatal Python error: init_fs_encoding")
    c = verdict_of(doc, "/app/venv/bin/python")
    assert (c["verdict"], c["detail"]) == ("timed out", "no answer after 500 ms")
    # the order of docs/design.md "Plan", with the PATH hit (/usr/bin/python3) listed once
    assert [s for s, _, _ in candidates(doc)] == [
        "PYTHON_PATH", "config", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT",
        "venv", "venv", "venv", "venv", "venv", "venv", "venv", "CONDA_PREFIX", "conda",
        "PATH", "PATH", "system"]
    assert [p for s, p, _ in candidates(doc) if s == "venv"] == [
        "/app/.venv/bin/python3", "/app/.venv/bin/python", "/app/venv/bin/python3",
        "/app/venv/bin/python", "/root/.venv/bin/python3", "/root/.venv/bin/python",
        "/opt/venv"]
    assert [p for s, p, _ in candidates(doc) if s == "PATH"] == ["/usr/bin/python3", "python"]
    assert [p for s, p, _ in candidates(doc) if s == "system"] == ["/usr/local/bin/python3"]
    assert elapsed < 10  # one 500 ms timeout, not 30 s


def test_path_order(img):
    img.fake_python("opt/b/python3", "3.10.1")
    img.fake_python("opt/a/python3", "3.10.2")
    img.fake_python("usr/bin/python3", "3.11.2")
    code, doc = img.check_json(env={"PATH": "/opt/b:/opt/a:/usr/bin:/bin"})
    assert code == 0
    assert chosen(doc) == "/opt/b/python3"
    assert doc["python"]["source"] == "PATH"
    assert verdict_of(doc, "/usr/bin/python3")["verdict"] == "ok"  # still reported
    code, doc = img.check_json(env={"PATH": "/opt/a:/opt/b:/usr/bin:/bin"})
    assert chosen(doc) == "/opt/a/python3"


def test_virtual_env_before_path(img):
    img.fake_python("srv/env/bin/python3", "3.9.9")
    img.fake_python("usr/bin/python3", "3.11.2")
    code, doc = img.check_json(env={"VIRTUAL_ENV": "/srv/env", "CONDA_PREFIX": "/nope"})
    assert code == 0
    assert chosen(doc) == "/srv/env/bin/python3"
    assert doc["python"]["source"] == "VIRTUAL_ENV"
    assert ("conda", "/nope", "missing") in candidates(doc)


def test_python_path_is_a_directory(img):
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    img.fake_python("usr/bin/python3", "3.11.2")
    code, doc = img.check_json(env={"PYTHON_PATH": "/app/.venv"})
    assert code == 1
    assert chosen(doc) is None
    first = doc["python"]["candidates"][0]
    assert (first["source"], first["path"], first["verdict"]) == (
        "PYTHON_PATH", "/app/.venv", "not a file")
    assert doc["python"]["error"].startswith(
        "$PYTHON_PATH=/app/.venv is broken (not a file: is a directory); no fallback")
    hint = doc["python"]["hint"]
    assert "did you mean /app/.venv/bin/python3" in hint
    assert "PYTHONPATH (no underscore) is Python's module search path" in hint
    assert "Without it, /app/.venv/bin/python3 (venv, Python 3.11.7) would be used." in hint


def test_python_path_colon_list(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    code, doc = img.check_json(env={"PYTHON_PATH": "/app/lib:/app/src"})
    assert code == 1
    assert "one path, not a colon-separated list" in doc["python"]["hint"]


def test_python_path_broken_file_no_fallback(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    img.write("opt/py/python3", "#!/bin/sh\necho 'error while loading shared libraries: "
              "libpython3.11.so.1.0' >&2\nexit 127\n", 0o755)
    code, doc = img.check_json(env={"PYTHON_PATH": "/opt/py/python3"})
    assert code == 1
    assert chosen(doc) is None
    c = verdict_of(doc, "/opt/py/python3")
    assert c["verdict"] == "exited"
    assert c["detail"] == "127: error while loading shared libraries: libpython3.11.so.1.0"
    assert "fix or unset PYTHON_PATH." in doc["python"]["hint"]
    # a working interpreter exists, and is named, but not silently used
    assert "/usr/bin/python3 (PATH, Python 3.11.2) would be used" in doc["python"]["hint"]
    code, doc = img.check_json(env={"PYTHON_PATH": "/usr/bin/python3.9"})
    assert code == 1
    assert verdict_of(doc, "/usr/bin/python3.9")["verdict"] == "missing"


def test_python_path_wins(img):
    img.fake_python("opt/py/python3", "3.8.18")
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    code, doc = img.check_json(env={"PYTHON_PATH": "/opt/py/python3"})
    assert code == 0
    assert (chosen(doc), doc["python"]["source"]) == ("/opt/py/python3", "PYTHON_PATH")


def test_config_python_path_broken(img):
    img.fake_python("usr/bin/python3", "3.11.2")
    img.config(BASE + "python = /opt/missing/python3\n" + SVC)
    code, doc = img.check_json()
    assert code == 1
    assert doc["python"]["error"].startswith("config python=/opt/missing/python3 is broken")


def test_root_only_venv_as_uid_1000(img):
    # uv as root: the venv (and what it links to) is readable by root only.
    img.mkdir("app/.venv", 0o700)
    img.fake_python("app/.venv/bin/python3", "3.11.7")
    img.fake_python("usr/bin/python3", "3.11.2")
    code, doc = img.check_json(as_user=True)
    assert code == 0, doc
    c = verdict_of(doc, "/app/.venv/bin/python3")
    assert c["verdict"] == "permission denied"
    assert chosen(doc) == "/usr/bin/python3"


def test_root_only_venv_checked_as_service_user(img):
    # hfinit runs as root; the service runs as user: verified as that user.
    img.mkdir("root/.local/share/uv/python/cpython-3.11/bin")
    img.fake_python("root/.local/share/uv/python/cpython-3.11/bin/python3.11", "3.11.9")
    img.mkdir("app/.venv/bin")
    img.symlink("/root/.local/share/uv/python/cpython-3.11/bin/python3.11",
                "app/.venv/bin/python3")
    img.fake_python("usr/bin/python3", "3.11.2")
    img.config(BASE + SVC + "user = user\n")
    code, doc = img.check_json()
    assert code == 0, doc
    assert doc["python"]["verified_as"] == ["user"]
    c = verdict_of(doc, "/app/.venv/bin/python3")
    assert c["verdict"] == "permission denied"
    assert c["detail"] == ("/root (mode 0700, owner uid 0) cannot be entered "
                           "(as user user, uid 1000)")
    assert chosen(doc) == "/usr/bin/python3"
    # without a user the same venv is fine for root
    img.config(BASE + SVC)
    code, doc = img.check_json()
    assert chosen(doc) == "/app/.venv/bin/python3"


def test_script_paths(img):
    img.fake_python("usr/bin/python3")
    img.config(BASE.replace("app_dirs = /app", "app_dirs = /app /srv") +
               "[service:a]\nscript = server/w.py\n"
               "[service:b]\nscript = ./only_src.py\n"
               "[service:c]\nscript = /abs/x.py\n")
    img.mkdir("app/server/w.py")  # a directory
    img.symlink("/gone", "app/dist/server/w.py")
    img.write("srv/dist/server/w.py", "x\n")
    img.write("srv/src/only_src.py", "x\n")
    code, doc = img.check_json()
    a = doc["services"]["a"]
    assert a["resolved"] == "/srv/dist/server/w.py"
    assert [(t["path"], t["verdict"]) for t in a["tried"]] == [
        ("/app/server/w.py", "not a file"),
        ("/app/dist/server/w.py", "dangling link"),
        ("/app/src/server/w.py", "missing"),
        ("/srv/server/w.py", "missing"),
        ("/srv/dist/server/w.py", "ok")]
    assert doc["services"]["b"]["resolved"] == "/srv/src/only_src.py"
    c = doc["services"]["c"]
    assert (c["status"], c["resolved"]) == ("FAIL", None)
    assert [t["path"] for t in c["tried"]] == ["/abs/x.py"]
    assert code == 1


def test_script_unreadable_for_service_user(img):
    img.fake_python("usr/bin/python3")
    img.write("app/worker.py", "secret\n", 0o600)
    img.config(BASE + SVC + "user = user\n")
    code, doc = img.check_json()
    t = doc["services"]["tts"]
    assert code == 1
    assert t["tried"][0]["verdict"] == "not readable"
    assert t["tried"][0]["detail"] == "mode 0600, owner uid 0 (checked as the service user)"
    assert any("readable by the service user" in h for h in t["hints"])
