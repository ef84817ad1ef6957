"""The command line as users type it.

With the README's `ENTRYPOINT ["/usr/local/bin/hfinit"]`, `docker run IMAGE
hfinit check` hands hfinit the argument list `hfinit check`: a leading word
that names hfinit itself is skipped, so both `docker run IMAGE check` and
`docker run IMAGE hfinit check` work. `-c FILE` may also come before the
mode (`hfinit -c FILE check`). Each case is compared with the canonical
spelling's exact output and exit code.
"""

import os
import subprocess

import pytest

from supervise_util import HFINIT, WAIT, need_hfinit


def run(*args, env=None):
    need_hfinit()
    full = dict(os.environ)
    full.pop("HFINIT_CONFIG", None)
    full.update(env or {})
    r = subprocess.run([HFINIT, *args], executable=HFINIT, capture_output=True, text=True,
                       env=full, timeout=WAIT, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "hfinit.ini"
    path.write_text("[hfinit]\nstatus_dir = %s\n\n[service:web]\ncommand = /bin/sleep 1000\n"
                    % (tmp_path / "status"))
    return str(path)


@pytest.mark.parametrize("self_name", ["hfinit", "/usr/local/bin/hfinit", HFINIT])
def test_leading_hfinit_is_skipped(self_name):
    code, out, err = run(self_name, "version")
    assert (code, out, err) == run("version")
    assert code == 0 and out.startswith("hfinit "), (code, out, err)


@pytest.mark.parametrize("spelling", [
    ["hfinit", "check", "-c", "{conf}"],
    ["-c", "{conf}", "check"],
    ["--config", "{conf}", "check"],
    ["--config={conf}", "check"],
    ["hfinit", "-c", "{conf}", "check"],
])
def test_check_spellings_agree(conf, spelling):
    want = run("check", "-c", conf)
    assert want[0] == 0, want
    assert "web" in want[1]
    got = run(*[w.format(conf=conf) for w in spelling])
    assert got == want


def test_check_json_with_config_first(conf):
    assert run("-c", conf, "check", "--json") == run("check", "--json", "-c", conf)


def test_unknown_mode_still_refused():
    code, out, err = run("frobnicate")
    assert code == 2 and out == ""
    assert 'unknown mode "frobnicate"; to run it as a command use: hfinit -- frobnicate' in err


def test_config_first_without_mode_is_supervision(tmp_path):
    """`hfinit -c FILE -v` is still supervision mode (not rotated): a config
    error there exits 2 naming the file."""
    bad = tmp_path / "bad.ini"
    bad.write_text("[service:web]\ncomand = /bin/true\n")
    code, out, err = run("-c", str(bad), "-v")
    assert code == 2
    assert "%s:2: [service:web] comand" % bad in err, err


# --- options parsed with getopt_long; -h anywhere; one usage table --------------------


@pytest.fixture
def bad_conf(tmp_path):
    path = tmp_path / "bad.ini"
    path.write_text("[service:web]\ncomand = /bin/true\n")
    return str(path)


@pytest.mark.parametrize("spelling", [
    ["--config", "{conf}"],
    ["--config={conf}"],
    ["-v", "--config", "{conf}"],
    ["-c{conf}"],
])
def test_supervise_config_spellings_agree(bad_conf, spelling):
    """`hfinit --config F` is `hfinit -c F` (was "unexpected argument")."""
    want = run("-c", bad_conf)
    assert want[0] == 2 and "%s:2: [service:web] comand" % bad_conf in want[2], want
    assert run(*[w.format(conf=bad_conf) for w in spelling]) == want


@pytest.mark.parametrize("args", [
    ["-c", "{conf}", "-h"],
    ["--config", "{conf}", "--help"],
    ["-v", "-h"],
])
def test_help_after_supervise_options(conf, args):
    """`hfinit -c F -h` prints supervision mode's usage and exits 0 (was
    "unexpected argument -h", 2), starting nothing."""
    code, out, err = run(*[a.format(conf=conf) for a in args])
    assert code == 0, (out, err)
    assert out.startswith("usage: hfinit [-c FILE]"), out
    assert "--config FILE" in out and err == ""


@pytest.mark.parametrize("mode", ["check", "status", "health", "notify", "version", "help"])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_in_every_mode(mode, flag):
    code, out, err = run(mode, flag)
    assert code == 0, (out, err)
    assert ("usage: hfinit " + mode) in out + err or mode == "help", (out, err)
    if mode == "help":
        assert out == run("help")[1]


def test_help_names_every_mode():
    code, out, err = run("-h")
    assert code == 0 and err == ""
    assert (code, out, err) == run("--help") == run("help")
    for synopsis in ["hfinit [-c FILE]", "-- CMD [ARG]...", "hfinit check", "hfinit status",
                     "hfinit health", "hfinit notify", "hfinit version", "hfinit help"]:
        assert synopsis in out, (synopsis, out)


@pytest.mark.parametrize("mode", ["supervise", "single", "check", "status", "health",
                                  "notify", "version"])
def test_help_mode_prints_that_modes_usage(mode):
    code, out, err = run("help", mode)
    assert code == 0 and err == "", (out, err)
    assert out.startswith("usage: hfinit"), out
    assert ("-- CMD" in out) if mode == "single" else True


def test_single_help_is_its_usage():
    code, out, err = run("-g", "-h", "--", "/bin/true")
    assert code == 0 and err == ""
    assert out == run("help", "single")[1]
    assert out.startswith("usage: hfinit [-s] [-g]")


@pytest.mark.parametrize("args", [["help", "frobnicate"], ["version", "extra"],
                                  ["version", "-x"], ["-x"], ["-c"], ["--config"]])
def test_bad_usage_is_2(args):
    code, out, err = run(*args)
    assert code == 2 and out == "" and err, (code, out, err)
    assert "(null)" not in err


@pytest.mark.parametrize("args", [["-c"], ["--config"]])
def test_config_option_without_file(args):
    code, out, err = run(*args)
    assert code == 2
    assert err.startswith("hfinit: error: option -c/--config needs a FILE\nusage: hfinit"), err


def test_config_test_ok(conf, tmp_path):
    """`hfinit -n` (ntpd's config test): parsed and planned, nothing started."""
    code, out, err = run("-n", "-c", conf)
    assert (code, out) == (0, ""), err
    assert err.strip().endswith("configuration OK"), err
    assert run("-c", conf, "-n") == (code, out, err)
    assert not (tmp_path / "status").exists()


def test_config_test_bad(bad_conf):
    code, out, err = run("-n", "-c", bad_conf)
    assert (code, out) == (2, "")
    assert "%s:2: [service:web] comand" % bad_conf in err
    assert "configuration OK" not in err


def test_config_test_unplannable(tmp_path):
    """-n plans as the start does before its first spawn (users, Python,
    scripts, seccomp): a required service that cannot be set up is an error.
    Whether the program runs is `hfinit check`'s question."""
    path = tmp_path / "t.ini"
    path.write_text("[service:web]\ncommand = /bin/true\nuser = no-such-user-hfinit\n")
    code, out, err = run("-n", "-c", str(path))
    assert (code, out) == (2, ""), err
    assert "no-such-user-hfinit" in err and "configuration OK" not in err


@pytest.mark.parametrize("mode", ["check", "status", "health", "notify", "version"])
def test_mode_help_is_the_usage_tables_text(mode):
    """One usage table: what a mode prints for -h is `hfinit help MODE` (health
    prints it on stderr, as it does for bad usage)."""
    code, out, err = run(mode, "-h")
    assert code == 0
    assert (err if mode == "health" else out) == run("help", mode)[1]
