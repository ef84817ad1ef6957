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
