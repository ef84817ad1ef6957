"""Secrets never leave hfinit (docs/config.md, "Secrets"): the values of
secret-named variables (from hfinit's environment, a service's env = and its
env_file) and strings shaped like Hub tokens, Bearer tokens or URL passwords
are shown as *** in service output lines, hfinit's own log, status.json,
`hfinit status`, `hfinit check` and config error messages; `redact = no`
keeps a service's own lines as they are (the status files and hfinit's
messages stay redacted)."""

import glob
import json
import os
import re
import signal
import subprocess

import pytest

from supervise_util import (HFINIT, IS_ROOT, PY, WAIT, need_hfinit, q,  # noqa: F401
                            start_hfinit, wait_for, write_config)

TOKEN = "hf_" + "aB3" * 11 + "x"  # hf_ + 34 letters and digits, like a Hub token
DB_URL = "postgres://app:dbpass123@db/x"  # not secret by name: only its shape gives it away
FILE_SECRET = "file-secret-77"  # API_KEY from the env_file
SECRETS = (TOKEN, "dbpass123", FILE_SECRET)
MODE = "pid1" if IS_ROOT else "plain"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LEAKY = r'''
import os, sys
print("argv token " + sys.argv[1], flush=True)
sys.stderr.write("token is %s\n" % os.environ["HF_TOKEN"])
sys.stderr.write("db at %s\n" % os.environ["DATABASE_URL"])
sys.stderr.write("api key %s\n" % os.environ["API_KEY"])
sys.stderr.write("Authorization: Bearer %s\n" % os.environ["HF_TOKEN"])
sys.stderr.write("Traceback (most recent call last):\n")
sys.stderr.write('  File "leaky.py", line 9, in <module>\n')
sys.stderr.write("RuntimeError: login failed for %s\n" % os.environ["HF_TOKEN"])
sys.stderr.flush()
sys.exit(1)
'''


def run(*args, env=None):
    need_hfinit()
    full = dict(os.environ)
    full.pop("HFINIT_STATUS_DIR", None)
    full.update(env or {})
    return subprocess.run([HFINIT, *args], capture_output=True, text=True, env=full,
                          timeout=WAIT, stdin=subprocess.DEVNULL)


def leaky_config(tmp_path, redact=None, head=""):
    script = tmp_path / "leaky.py"
    script.write_text(LEAKY)
    envfile = tmp_path / "env.list"
    envfile.write_text("API_KEY=%s\n" % FILE_SECRET)
    return write_config(tmp_path, head + """
        [service:leaky]
        command = %s
        env = DATABASE_URL=%s
        env_file = %s
        ready = line:never-printed
        retries = 1
        required = no
        %s
        [service:keep]
        command = sleep 60
        """ % (q(PY, script, TOKEN), DB_URL, envfile, "redact = %s" % redact if redact else ""))


def run_leaky(tmp_path, start_hfinit, redact=None, head=""):  # noqa: F811
    """Runs the leaky service to its end; returns (hfinit, status.json text,
    all status files, `status`, `status --json`)."""
    cfg = leaky_config(tmp_path, redact, head)
    h = start_hfinit(cfg, mode=MODE, env={"HF_TOKEN": TOKEN})
    h.wait_line(r"optional service failed")
    sj = os.path.join(h.status_dir, "status.json")

    def failed():
        with open(sj) as f:
            doc = json.load(f)
        return doc if doc["services"]["leaky"]["state"] == "failed" else None

    doc = wait_for(failed, what="leaky failed in status.json")
    files = ""
    for p in sorted(glob.glob(os.path.join(h.status_dir, "*"))):
        if os.path.isfile(p):
            with open(p, errors="replace") as f:
                files += f.read()
    st = run("status", "-d", h.status_dir)
    stj = run("status", "--json", "-d", h.status_dir)
    assert st.returncode == 0 and stj.returncode == 0, st.stderr + stj.stderr
    h.signal(signal.SIGTERM)
    assert h.wait_exit() == 0
    return h, doc, files, st.stdout + st.stderr, stj.stdout + stj.stderr


def assert_clean(what, text):
    for s in SECRETS:
        assert s not in text, "%s shows %r:\n%s" % (what, s, text)


def test_secrets_redacted_everywhere(tmp_path, start_hfinit):  # noqa: F811
    h, doc, files, st, stj = run_leaky(tmp_path, start_hfinit)
    out, err = h.text("out"), h.text("err")
    # the service's lines, exactly, with each secret as ***
    assert "[leaky] argv token ***" in out.splitlines()
    lines = err.splitlines()
    for want in ("[leaky] token is ***", "[leaky] db at postgres://app:***@db/x",
                 "[leaky] api key ***", "[leaky] Authorization: Bearer ***",
                 "[leaky] RuntimeError: login failed for ***"):
        assert want in lines, want + "\n" + err
    # hfinit's own line quoting the service's error
    assert ("hfinit: error: [leaky] attempt 1 of 1 failed: exited 1 before it was ready: "
            "RuntimeError: login failed for ***; no attempts left") in lines
    leaky = doc["services"]["leaky"]
    assert leaky["last_error"]["text"] == ("exited 1 before it was ready: "
                                           "RuntimeError: login failed for ***")
    assert leaky["command"] == "%s %s ***" % (PY, tmp_path / "leaky.py")
    assert "RuntimeError: login failed for ***" in st
    for what, text in (("stdout", out), ("stderr", err), ("status files", files),
                       ("hfinit status", st), ("hfinit status --json", stj)):
        assert_clean(what, text)
    # check shows the config and hfinit's environment without the values
    cfg = str(tmp_path / "hfinit.ini")
    ct = run("check", "-c", cfg, env={"HF_TOKEN": TOKEN})
    cj = run("check", "-c", cfg, "--json", env={"HF_TOKEN": TOKEN})
    assert "env DATABASE_URL=postgres://app:***@db/x" in ct.stdout, ct.stdout
    assert json.loads(cj.stdout)["services"]["leaky"]["env"] == [
        "DATABASE_URL=postgres://app:***@db/x"]
    assert json.loads(cj.stdout)["services"]["leaky"]["redact"] is True
    assert "output: not redacted" not in ct.stdout
    assert_clean("check", ct.stdout + ct.stderr)
    assert_clean("check --json", cj.stdout + cj.stderr)


def test_redact_no_keeps_service_lines(tmp_path, start_hfinit):  # noqa: F811
    """redact = no: the service's own lines keep their text; hfinit's messages
    and the status files are still redacted."""
    h, doc, files, st, stj = run_leaky(tmp_path, start_hfinit, redact="no")
    lines = h.text("err").splitlines()
    assert "[leaky] token is %s" % TOKEN in lines
    assert "[leaky] db at %s" % DB_URL in lines
    assert "[leaky] argv token %s" % TOKEN in h.text("out").splitlines()
    own = "\n".join(ln for ln in lines if ln.startswith("hfinit:"))
    assert ("hfinit: error: [leaky] attempt 1 of 1 failed: exited 1 before it was ready: "
            "RuntimeError: login failed for ***; no attempts left") in own
    assert doc["services"]["leaky"]["last_error"]["text"] == (
        "exited 1 before it was ready: RuntimeError: login failed for ***")
    cfg = str(tmp_path / "hfinit.ini")
    ct = run("check", "-c", cfg, env={"HF_TOKEN": TOKEN})
    cj = run("check", "-c", cfg, "--json", env={"HF_TOKEN": TOKEN})
    assert "          output: not redacted (redact = no)" in ct.stdout.splitlines(), ct.stdout
    assert json.loads(cj.stdout)["services"]["leaky"]["redact"] is False
    for what, text in (("hfinit's lines", own), ("status files", files),
                       ("check", ct.stdout + ct.stderr), ("check --json", cj.stdout),
                       ("hfinit status", st), ("hfinit status --json", stj)):
        assert_clean(what, text)


def test_json_log_lines_redacted(tmp_path, start_hfinit):  # noqa: F811
    """log_format = json: the same, line by line."""
    h, doc, files, st, stj = run_leaky(tmp_path, start_hfinit,
                                       head="[hfinit]\nlog_format = json\n")
    out, err = h.text("out"), h.text("err")
    msgs = [(d.get("svc"), d["msg"]) for d in map(json.loads, err.splitlines())]
    assert ("leaky", "token is ***") in msgs
    assert ("leaky", "db at postgres://app:***@db/x") in msgs
    assert (None, "[leaky] attempt 1 of 1 failed: exited 1 before it was ready: "
            "RuntimeError: login failed for ***; no attempts left") in msgs
    assert json.loads(out.splitlines()[0])["msg"] == "argv token ***"
    for what, text in (("stdout", out), ("stderr", err), ("status files", files)):
        assert_clean(what, text)


def bad_configs():
    names = ("env-unterminated-single", "env-unterminated-double", "env-unterminated-unnamed",
             "env-bad-name", "env-trailing-backslash", "env-value-with-blank",
             "no-equals-token", "colon-secret", "no-equals-secret")
    out = []
    for n in names:
        out += glob.glob(os.path.join(REPO, "tests", "configs", "bad", "*-%s.ini" % n))
    assert len(out) == len(names)
    return sorted(out)


@pytest.mark.parametrize("path", bad_configs(), ids=os.path.basename)
def test_config_errors_never_show_values(path, tmp_path, start_hfinit):  # noqa: F811
    """A malformed env = line: the error names the variable (or the word's
    position), in check, check --json and the start-up log, never the value."""
    with open(path) as f:
        want = [ln[len("; expect: "):].rstrip("\n").split(": ", 1)[1]
                for ln in f if ln.startswith("; expect: ")]
    h = start_hfinit(path, mode=MODE)
    assert h.wait_exit() == 2
    ct = run("check", "-c", path)
    cj = run("check", "-c", path, "--json")
    assert ct.returncode == 2 and cj.returncode == 2
    msgs = [e["message"] for e in json.loads(cj.stdout)["config"]["errors"]]
    for w in want:
        assert w in h.text("err"), h.text("err")
        assert w in ct.stdout, ct.stdout
        assert any(w.endswith(m) for m in msgs), msgs
    for what, text in (("start-up log", h.text("err") + h.text("out")),
                       ("check", ct.stdout + ct.stderr), ("check --json", cj.stdout)):
        for s in ("aB3aB3aB3", "dbpass123", "pass123", "hunter22x", "sk-live-123456"):
            assert s not in text, "%s shows %r:\n%s" % (what, s, text)


# Many lines in one write, so that hfinit reads them in runs: clean lines
# between lines with secrets (values from hfinit's environment, more of them
# than the vector scan's four, and the three shapes), first, last, next to one
# another, and lines cut across reads. (template, redacted) pairs; {} is the
# secret.
BURST_VALUES = {"A_TOKEN": "alpha-secret-1", "B_KEY": "bravo-secret-2",
                "C_SECRET": "charlie-secret", "D_PASSWORD": "delta-pass-44",
                "E_TOKEN": "echo-secret-55", "F_API_KEY": "foxtrot-key-6"}
BURST_SHAPES = [("auth Bearer abcDEF123.x-y", "auth Bearer ***"),
                ("url https://u:pw4567@h/p", "url https://u:***@h/p"),
                ("tok " + TOKEN + " end", "tok *** end")]
BURST_PY = r'''
import json, os, sys
with open(sys.argv[1]) as f:
    lines = json.load(f)
os.write(1, "".join(l + "\n" for l in lines).encode())
'''


def burst_lines():
    """(lines written, lines expected with redaction)"""
    secret = [("v %s" % v, "v ***") for v in BURST_VALUES.values()] + BURST_SHAPES
    raw, red = [], []
    for i in range(3000):
        k = i * 7919 % 97
        if i in (0, 2999) or k < len(secret) or i % 500 in (1, 2):
            t, r = secret[i % len(secret)]
        else:
            t = r = "clean line %d%s" % (i, " be:/f_b" if i % 10 == 0 else "") + "x" * (i % 180)
        raw.append("%d %s" % (i, t))
        red.append("%d %s" % (i, r))
    return raw, red


@pytest.mark.parametrize("variant", ["redact", "redact-stamps", "no-redact"])
def test_stdout_burst_redacted_line_by_line(tmp_path, start_hfinit, variant):  # noqa: F811
    """A burst on stdout of a ready service: every line comes out exactly, in
    order, with its secrets as *** (or as written with redact = no), the
    clean ones untouched."""
    raw, red = burst_lines()
    script, data = tmp_path / "burst.py", tmp_path / "lines.json"
    script.write_text(BURST_PY)
    data.write_text(json.dumps(raw))
    cfg = write_config(tmp_path, """
        [hfinit]
        log_timestamps = %s
        [service:burst]
        command = %s
        restart = no
        %s
        """ % ("yes" if variant == "redact-stamps" else "no", q(PY, str(script), str(data)),
               "redact = no" if variant == "no-redact" else ""))
    h = start_hfinit(cfg, mode=MODE, env=BURST_VALUES)
    h.wait_line(r"every service has ended")
    assert h.wait_exit() == 0, h.dump()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z " if variant == "redact-stamps" else ""
    got = []
    for ln in h.text("out").splitlines():
        m = re.match(r"^%s\[burst\] (.*)$" % stamp, ln)
        assert m, ln
        got.append(m.group(1))
    assert got == (raw if variant == "no-redact" else red)
