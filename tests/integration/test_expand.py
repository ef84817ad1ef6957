"""${VAR} in config values (docs/config.md, "Values from the environment")
and log_timestamps: `hfinit check` lists the values that came from variables
(a secret one as ***), a real start uses them, an unset variable and a bad
value from a variable are config errors naming file, line and variable."""

import datetime
import json
import os
import re
import subprocess
import time

from supervise_util import HFINIT, MODES, need_hfinit, start_hfinit, write_config  # noqa: F401

import pytest

SECRET = "sk-live-0123456789abcdef"


def run(args, env, timeout=30):
    full = {k: v for k, v in os.environ.items() if k != "HFINIT_CONFIG"}
    full.update(env)
    return subprocess.run([HFINIT] + args, env=full, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


CONF = """\
[hfinit]
stop_timeout = ${XT_STOP:-1s}

[service:w]
command = sh -c 'echo greeting=${XT_GREETING}; echo home=$HOME; exec sleep 30'
ready = line:${XT_MARK:-greeting=}
ready_timeout = ${XT_READY_TIMEOUT}
env = XT_API_KEY=${XT_API_KEY}
"""


def test_check_lists_values_from_the_environment(tmp_path):
    need_hfinit()
    cfg = write_config(tmp_path, CONF)
    env = {"XT_GREETING": "hello", "XT_READY_TIMEOUT": "5s", "XT_API_KEY": SECRET,
           "HFINIT_STATUS_DIR": str(tmp_path / "st")}
    r = run(["check", "-c", cfg], env)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    i = next(k for k, t in enumerate(lines) if t.startswith("ok    config"))
    assert lines[i + 1:i + 6] == [
        "          %s:2: [hfinit] stop_timeout = 1s (from ${XT_STOP})" % cfg,
        "          %s:5: [service:w] command = sh -c 'echo greeting=hello; echo home=$HOME; "
        "exec sleep 30' (from ${XT_GREETING})" % cfg,
        "          %s:6: [service:w] ready = line:greeting= (from ${XT_MARK})" % cfg,
        "          %s:7: [service:w] ready_timeout = 5s (from ${XT_READY_TIMEOUT})" % cfg,
        "          %s:8: [service:w] env = *** (from ${XT_API_KEY})" % cfg,
    ], r.stdout
    assert SECRET not in r.stdout + r.stderr

    r = run(["check", "--json", "-c", cfg], env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert SECRET not in r.stdout
    doc = json.loads(r.stdout)
    assert doc["config"]["from_env"][3] == {"line": 7, "section": "service:w",
                                            "key": "ready_timeout", "value": "5s",
                                            "from": "${XT_READY_TIMEOUT}"}
    assert doc["config"]["from_env"][4]["value"] == "***"


@pytest.mark.parametrize("mode", MODES)
def test_start_uses_the_values(tmp_path, start_hfinit, mode):  # noqa: F811
    cfg = write_config(tmp_path, CONF)
    h = start_hfinit(cfg, mode=mode, env={"XT_GREETING": "from-env", "XT_READY_TIMEOUT": "5s",
                                          "XT_API_KEY": SECRET})
    h.wait_line(r"^\[w\] greeting=from-env$", stream="out")
    # $HOME is the shell's: the service's HOME, not expanded by hfinit
    h.wait_line(r"^\[w\] home=/", stream="out")
    h.wait_line(r"\[w\] ready in \d+ ms \(ready line on stdout\)")
    assert SECRET not in h.text("out") + h.text("err")


def test_unset_variable_is_a_config_error(tmp_path):
    need_hfinit()
    cfg = write_config(tmp_path, CONF)
    r = run(["-c", cfg], {"XT_GREETING": "x", "XT_API_KEY": SECRET})
    assert r.returncode == 2, r.stderr
    assert ("%s:7: [service:w] ready_timeout: ${XT_READY_TIMEOUT} is not set; expected it in "
            "hfinit's environment, or a default: ${XT_READY_TIMEOUT:-VALUE}\n" % cfg) in r.stderr
    assert "%s: 1 error\n" % cfg in r.stderr
    assert SECRET not in r.stderr


def test_bad_value_from_a_variable_names_it(tmp_path):
    need_hfinit()
    cfg = write_config(tmp_path, CONF.replace("${XT_STOP:-1s}", "${XT_STOP_TOKEN}"))
    env = {"XT_GREETING": "x", "XT_READY_TIMEOUT": "soon", "XT_API_KEY": SECRET,
           "XT_STOP_TOKEN": SECRET}
    r = run(["check", "-c", cfg], env)
    assert r.returncode == 2, r.stdout
    assert ('%s:7: [service:w] ready_timeout: "soon" (from ${XT_READY_TIMEOUT}) is not a '
            'duration' % cfg) in r.stdout
    # a bad value from a secret-named variable is not shown
    assert ("%s:2: [hfinit] stop_timeout: the value from ${XT_STOP_TOKEN} (a secret, not "
            "shown) is not valid; expected a number with a unit" % cfg) in r.stdout
    assert SECRET not in r.stdout
    r = run(["-c", cfg], env)
    assert r.returncode == 2
    assert "(from ${XT_READY_TIMEOUT})" in r.stderr and "${XT_STOP_TOKEN} (a secret" in r.stderr
    assert SECRET not in r.stderr


STAMP = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) "


def stamps(lines, rx):
    """The times of the lines (each must match STAMP + rx), as epoch seconds."""
    out = []
    for t in lines:
        m = re.match(STAMP + rx, t)
        assert m, t
        d = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
        out.append(d.replace(tzinfo=datetime.timezone.utc).timestamp())
    return out


def test_log_timestamps_text(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, """
        [hfinit]
        log_timestamps = ${XT_STAMPS:-yes}
        [service:w]
        command = sh -c 'echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2'
        required = no
        restart = no
        """)
    t0 = time.time()
    h = start_hfinit(cfg)
    assert h.wait_exit() == 0, h.dump()
    t1 = time.time()
    out, err = h.text("out").split("\n"), h.text("err").split("\n")
    so = stamps(out, r"\[w\] out-\d$")
    assert [t[25:] for t in out] == ["[w] out-1", "[w] out-2"]
    svc_err = [t for t in err if "[w] err-" in t and "hfinit:" not in t]
    se = stamps(svc_err, r"\[w\] err-\d$")
    own = stamps([t for t in err if t not in svc_err], r"hfinit: (info|warn|error): ")
    assert len(own) >= 5 and [t[25:] for t in err][-1] == "hfinit: info: stopped, exit 0"
    for ts in (so, se, own):
        assert ts == sorted(ts)
        assert all(t0 - 0.01 <= t <= t1 + 0.01 for t in ts), (t0, ts, t1)


def test_json_lines_carry_ts(tmp_path, start_hfinit):  # noqa: F811
    cfg = write_config(tmp_path, """
        [hfinit]
        log_format = json
        [service:w]
        command = sh -c 'echo out-1; echo err-1 >&2'
        required = no
        restart = no
        """)
    t0 = time.time()
    h = start_hfinit(cfg)
    assert h.wait_exit() == 0, h.dump()
    t1 = time.time()
    docs = [json.loads(t) for s in ("out", "err") for t in h.text(s).split("\n")]
    assert {d.get("msg") for d in docs} >= {"out-1", "err-1", "stopped, exit 0"}
    ts = stamps([d["ts"] + " " for d in docs], "$")
    assert all(t0 - 0.01 <= t <= t1 + 0.01 for t in ts), (t0, ts, t1)
