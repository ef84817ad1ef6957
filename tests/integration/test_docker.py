"""hfinit as PID 1 (ENTRYPOINT) in real Docker containers.

A private dockerd (scripts/dockerd-test) runs a FROM scratch image holding only the
static hfinit and static helpers (docker_fixtures.py). The child is
tests/helpers/docker-probe.c, which reports on stdout what it sees: signals with their
sender, its parent, orphans reparented and reaped, zombies in /proc. Each behaviour is
checked as root and as --user 1000:1000 (an unprivileged PID 1).
"""

import signal
import time

import pytest

from docker_fixtures import docker, docker_image  # noqa: F401  (pytest fixtures)

PROBE = "/bin/docker-probe"
USERS = [pytest.param(None, id="root"), pytest.param("1000:1000", id="uid1000")]


def run_opts(docker, name, user=None, init=False):
    """`docker run` options every test uses. apparmor=unconfined: on hosts with AppArmor
    and no apparmor_parser (a CI container) docker 20.10 cannot load its default
    profile; confinement is not what these tests are about."""
    opts = ["--name", name, "--label", docker.label, "--network", "none",
            "--security-opt", "apparmor=unconfined"]
    if user:
        opts += ["--user", user]
    if init:
        opts.append("--init")
    return opts


def start(docker, image, *probe_args, user=None, init=False):
    """docker run -d the probe under hfinit; returns the container name."""
    name = docker.name()
    docker("run", "-d", *run_opts(docker, name, user, init), image, PROBE, *probe_args)
    return name


def ready_fields(lines):
    """The probe's "ready k=v ..." line as a dict."""
    ready = [ln for ln in lines if ln.startswith("ready ")]
    assert len(ready) == 1, lines
    return dict(kv.split("=", 1) for kv in ready[0].split()[1:])


def expect_ids(fields, user):
    uid = "1000" if user else "0"
    assert fields["uid"] == uid, fields
    assert fields["init_uid"] == uid, fields  # hfinit itself runs as that user


def top(docker, name):
    """Processes of a running container as seen from the host (docker top runs ps),
    ordered from the container's PID 1 down when they form one parent chain."""
    out = docker("top", name, "-eo", "pid,ppid,stat,comm").stdout.splitlines()
    assert out and out[0].split() == ["PID", "PPID", "STAT", "COMMAND"], out
    procs = [dict(zip(("pid", "ppid", "stat", "comm"), row.split(None, 3))) for row in out[1:]]
    pids = {p["pid"] for p in procs}
    chain = [p for p in procs if p["ppid"] not in pids]
    while len(chain) == 1 or (chain and len(chain) < len(procs)):
        kids = [p for p in procs if p["ppid"] == chain[-1]["pid"]]
        if len(kids) != 1:
            break
        chain.append(kids[0])
    return chain if len(chain) == len(procs) else procs


def caught(lines):
    """Signals the probe reported, in order (SIGCHLD from its own children left out)."""
    return [ln for ln in lines if ln.startswith("caught ") and not ln.startswith("caught SIGCHLD")]


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("code", [0, 3, 255])
def test_exit_code_is_the_childs(docker, docker_image, user, code):
    name = docker.name()
    r = docker("run", *run_opts(docker, name, user), docker_image, PROBE, "exit", str(code),
               check=False)
    assert r.returncode == code, r.stderr
    assert docker.inspect(name, "{{.State.ExitCode}}") == str(code)


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGABRT,
                                 signal.SIGSEGV, signal.SIGUSR1], ids=lambda s: s.name)
def test_killed_by_signal_is_128_plus_n(docker, docker_image, user, sig):
    name = docker.name()
    r = docker("run", *run_opts(docker, name, user), docker_image, PROBE, "raise",
               str(int(sig)), check=False)
    assert r.returncode == 128 + sig, r.stderr
    assert docker.inspect(name, "{{.State.ExitCode}}") == str(128 + sig)


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("code", [None, 42], ids=["dies-by-TERM", "exits-42"])
def test_docker_stop_forwards_sigterm(docker, docker_image, user, code):
    args = ["signals"] + ([str(code)] if code is not None else [])
    name = start(docker, docker_image, *args, user=user)
    fields = ready_fields(docker.read_lines(name, "ready"))
    assert fields["ppid"] == "1" and fields["init"] == "hfinit", fields
    expect_ids(fields, user)
    t0 = time.monotonic()
    docker("stop", "-t", "5", name, timeout=20)
    elapsed = time.monotonic() - t0
    status = docker.wait_exit(name)
    lines = docker("logs", name).stdout.splitlines()
    # From pid 1: hfinit forwarded docker's SIGTERM to the child.
    assert caught(lines) == ["caught SIGTERM from=1"], lines
    assert status == (143 if code is None else code)
    # Exited on the forwarded SIGTERM, long before docker's SIGKILL at 5 s (which would be 137).
    assert elapsed < 3.0, f"docker stop took {elapsed:.2f}s"
    assert docker.inspect(name, "{{.State.OOMKilled}}") == "false"


@pytest.mark.parametrize("user", USERS)
def test_docker_kill_signals_are_forwarded(docker, docker_image, user):
    name = start(docker, docker_image, "signals", user=user)
    expect_ids(ready_fields(docker.read_lines(name, "ready")), user)
    for sig in ("USR1", "HUP", "USR2"):
        docker("kill", "-s", sig, name)
        lines = docker.read_lines(name, f"caught SIG{sig}")
        assert lines[-1] == f"caught SIG{sig} from=1", lines
    # Still running: none of them ended hfinit or the child.
    assert docker.inspect(name, "{{.State.Running}}") == "true"
    docker("kill", "-s", "TERM", name)
    assert docker.wait_exit(name) == 143
    lines = docker("logs", name).stdout.splitlines()
    assert caught(lines) == ["caught SIGUSR1 from=1", "caught SIGHUP from=1",
                             "caught SIGUSR2 from=1", "caught SIGTERM from=1"], lines


@pytest.mark.parametrize("user", USERS)
def test_orphans_are_reaped_by_pid1(docker, docker_image, user):
    name = start(docker, docker_image, "orphans", "200", user=user)
    lines = docker.read_lines(name, "ready", timeout=20)
    assert lines[:4] == ["orphans 200 reparented 200 parent 1", "reaped 200 of 200",
                         "zombies 0", "done"], lines
    expect_ids(ready_fields(lines), user)
    procs = top(docker, name)
    assert [p["comm"] for p in procs] == ["hfinit", "docker-probe"], procs
    assert not [p for p in procs if p["stat"].startswith("Z")], procs
    assert procs[1]["ppid"] == procs[0]["pid"], procs
    docker("stop", "-t", "5", name, timeout=20)
    assert docker.wait_exit(name) == 143


def test_docker_run_init_hfinit_is_subreaper(docker, docker_image):
    """docker run --init: Docker's docker-init (tini) is PID 1 and hfinit its child.
    hfinit must make itself a subreaper, so the orphans come to it, not to PID 1."""
    init_binary = docker("info", "--format", "{{.InitBinary}}").stdout.strip()
    assert init_binary, "dockerd reports no init binary (docker.io ships /usr/bin/docker-init)"
    name = start(docker, docker_image, "orphans", "200", init=True)
    lines = docker.read_lines(name, "ready", timeout=20)
    fields = ready_fields(lines)
    assert fields["init"] == "docker-init" and fields["parent"] == "hfinit", fields
    hfinit_pid = fields["ppid"]
    assert hfinit_pid != "1", fields
    assert lines[:4] == [f"orphans 200 reparented 200 parent {hfinit_pid}", "reaped 200 of 200",
                         "zombies 0", "done"], lines
    procs = top(docker, name)
    assert [p["comm"] for p in procs] == ["docker-init", "hfinit", "docker-probe"], procs
    assert not [p for p in procs if p["stat"].startswith("Z")], procs
    assert procs[1]["ppid"] == procs[0]["pid"] and procs[2]["ppid"] == procs[1]["pid"], procs
    # docker stop: docker-init forwards SIGTERM to hfinit, hfinit to the probe.
    docker("stop", "-t", "5", name, timeout=20)
    assert docker.wait_exit(name) == 143
    lines = docker("logs", name).stdout.splitlines()
    assert caught(lines) == [f"caught SIGTERM from={hfinit_pid}"], lines
