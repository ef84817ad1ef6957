"""hfinit's main mode (supervision) as a Docker container's ENTRYPOINT.

The image (docker_fixtures.docker_supervise_image) is FROM scratch: /hfinit as
ENTRYPOINT ["/hfinit"] with no arguments, so it reads /etc/hfinit/hfinit.ini, the
static helpers in /bin and the configs of tests/docker/supervise/etc/hfinit/. Services
are tests/helpers/docker-svc.c: it prints "NAME start T", "NAME ready T" after a delay
and "NAME caught SIGNAME T" per signal, T being CLOCK_MONOTONIC in ms (one clock for the
whole container), so the order of events across services can be checked exactly.
"""

import io
import json
import subprocess
import tarfile
import time

import pytest

import status_schema
from docker_fixtures import DOCKER_CLI
from docker_fixtures import docker, docker_supervise_image  # noqa: F401  (pytest fixtures)

RUN_OPTS = ["--network", "none", "--security-opt", "apparmor=unconfined"]


def start(docker, image, *args, opts=()):
    """docker run -d the image (hfinit with ARGS); returns the container name."""
    name = docker.name()
    docker("run", "-d", "--name", name, "--label", docker.label, *RUN_OPTS, *opts, image, *args)
    return name


def events(lines):
    """docker-svc lines "[svc] NAME WHAT... T" as (NAME, WHAT, T) tuples, in log order."""
    out = []
    for ln in lines:
        words = ln.split()
        if len(words) >= 4 and words[0] == f"[{words[1]}]" and words[-1].isdigit():
            out.append((words[1], " ".join(words[2:-1]), int(words[-1])))
    return out


def logs(docker, name):
    r = docker("logs", name)
    return r.stdout.splitlines(), r.stderr.splitlines()


def hfinit(docker, name, *args, user=None):
    """docker exec NAME /hfinit ARGS; returns the CompletedProcess."""
    opts = ["--user", user] if user else []
    return docker("exec", *opts, name, "/hfinit", *args, timeout=15, check=False)


def wait_status(docker, name, pred, timeout=15, user=None):
    """Poll `hfinit status --json` in the container until pred(doc); returns doc."""
    deadline = time.monotonic() + timeout
    doc = None
    while time.monotonic() < deadline:
        r = hfinit(docker, name, "status", "--json", user=user)
        if r.returncode == 0:
            doc = json.loads(r.stdout)
            assert status_schema.validate(doc) == [], doc
            if pred(doc):
                return doc
        time.sleep(0.1)
    pytest.fail(f"{name}: status never matched within {timeout}s; last {doc}")


def read_file(docker, name, path):
    """The contents of PATH in the container (`docker cp` to a tar stream), or None
    when it does not exist."""
    r = subprocess.run([DOCKER_CLI, "cp", f"{name}:{path}", "-"], env=docker.env,
                       capture_output=True, timeout=15)
    if r.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
        return tar.extractfile(tar.getmembers()[0]).read().decode()


def test_stages_start_in_order_and_stop_in_reverse(docker, docker_supervise_image):
    name = start(docker, docker_supervise_image)
    ev = events(docker.read_lines(name, "[two] two ready"))
    assert [(n, w) for n, w, _ in ev] == [("one", "start"), ("one", "ready"),
                                          ("two", "start"), ("two", "ready")], ev
    t = {(n, w): ts for n, w, ts in ev}
    assert t["one", "ready"] - t["one", "start"] >= 300, ev  # its own delay
    # Stage 2 was started only once stage 1 was ready.
    assert t["two", "start"] >= t["one", "ready"], ev

    t0 = time.monotonic()
    docker("stop", "-t", "10", name, timeout=30)
    elapsed = time.monotonic() - t0
    assert docker.wait_exit(name) == 0
    assert elapsed < 3.0, f"docker stop took {elapsed:.2f}s (SIGKILL comes at 10 s)"
    out, err = logs(docker, name)
    caught = [(n, w, ts) for n, w, ts in events(out) if w.startswith("caught")]
    # Reverse order: stage 2 got SIGTERM (and exited) before stage 1 got it.
    assert [(n, w) for n, w, _ in caught] == [("two", "caught SIGTERM"),
                                              ("one", "caught SIGTERM")], out
    assert caught[0][2] <= caught[1][2], caught
    ends = [ln for ln in err if ln.endswith("] exited 0") or "stopped, exit" in ln]
    assert ends == ["hfinit: info: [two] exited 0", "hfinit: info: [one] exited 0",
                    "hfinit: info: stopped, exit 0"], err
    assert docker.inspect(name, "{{.State.OOMKilled}}") == "false"


def test_required_service_failing_every_attempt_exits_1(docker, docker_supervise_image):
    name = start(docker, docker_supervise_image, "-c", "/etc/hfinit/required-fails.ini")
    assert docker.wait_exit(name, timeout=20) == 1
    out, err = logs(docker, name)
    # The healthy service was stopped on the way out.
    assert [(n, w) for n, w, _ in events(out)] == [("up", "start"), ("up", "ready"),
                                                   ("up", "caught SIGTERM")], out
    started = [ln for ln in err if ln.startswith("hfinit: info: [bad] started pid")]
    assert [ln.split("(")[1] for ln in started] == ["attempt 1 of 2)", "attempt 2 of 2)"], err
    assert err[-1] == "hfinit: info: stopped, exit 1", err


def test_optional_service_failing_leaves_it_degraded(docker, docker_supervise_image):
    name = start(docker, docker_supervise_image, "-c", "/etc/hfinit/optional-fails.ini")
    doc = wait_status(docker, name, lambda d: d["state"] == "degraded")
    assert doc["pid"] == 1
    bad, up = doc["services"]["bad"], doc["services"]["up"]
    assert (bad["state"], bad["required"], bad["attempt"], bad["attempts"]) == \
        ("failed", False, 2, 2), bad
    assert bad["last_exit"]["code"] == 3, bad
    assert up["state"] == "ready", up
    assert docker.inspect(name, "{{.State.Running}}") == "true"
    # As root the status files are in /run/hfinit.
    assert read_file(docker, name, "/run/hfinit/state") == "degraded\n"
    assert read_file(docker, name, "/tmp/hfinit/state") is None
    # Degraded still counts as ready (an optional service failed).
    r = hfinit(docker, name, "health", "--ready")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("ready: ") and "degraded" in r.stdout, r.stdout
    docker("stop", "-t", "10", name, timeout=30)
    assert docker.wait_exit(name) == 0


def test_health_and_docker_healthcheck(docker, docker_supervise_image):
    name = start(docker, docker_supervise_image, "-c", "/etc/hfinit/slow.ini")
    # Stage 1 needs 3 s: not ready yet, but alive.
    r = hfinit(docker, name, "health", "--ready")
    assert r.returncode == 1, (r.stdout, r.stderr)
    r = hfinit(docker, name, "health", "--live")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert docker.inspect(name, "{{.State.Health.Status}}") == "starting"
    # The image's HEALTHCHECK (hfinit health --ready every second) turns healthy.
    deadline = time.monotonic() + 15
    while docker.inspect(name, "{{.State.Health.Status}}") != "healthy":
        assert time.monotonic() < deadline, docker.inspect(name, "{{json .State.Health}}")
        time.sleep(0.2)
    # Not before the service said it was ready.
    out, _ = logs(docker, name)
    assert ("slow", "ready") in [(n, w) for n, w, _ in events(out)], out
    for flag in ("--ready", "--live", "--started"):
        r = hfinit(docker, name, "health", flag)
        assert r.returncode == 0, (flag, r.stdout, r.stderr)
    docker("stop", "-t", "10", name, timeout=30)
    assert docker.wait_exit(name) == 0


@pytest.mark.parametrize("env_dir", [None, "/tmp/hfinit-env"], ids=["fallback", "env"])
def test_unprivileged_status_files_and_health(docker, docker_supervise_image, env_dir):
    """--user 1000:1000: /run is root's, so status files go to /tmp/hfinit (the
    automatic fallback) or to $HFINIT_STATUS_DIR; status and health find them."""
    opts = ["--user", "1000:1000"] + (["-e", f"HFINIT_STATUS_DIR={env_dir}"] if env_dir else [])
    name = start(docker, docker_supervise_image, opts=opts)
    docker.read_lines(name, "[two] two ready")
    doc = wait_status(docker, name, lambda d: d["state"] == "ready")
    assert [doc["services"][s]["state"] for s in ("one", "two")] == ["ready", "ready"], doc
    r = hfinit(docker, name, "health", "--ready")
    assert r.returncode == 0, (r.stdout, r.stderr)
    where = env_dir or "/tmp/hfinit"
    assert read_file(docker, name, f"{where}/state") == "ready\n"
    assert json.loads(read_file(docker, name, f"{where}/status.json"))["state"] == "ready"
    assert read_file(docker, name, "/run/hfinit/state") is None
    if env_dir:
        assert read_file(docker, name, "/tmp/hfinit/state") is None
    docker("stop", "-t", "10", name, timeout=30)
    assert docker.wait_exit(name) == 0


def test_seccomp_worker_stacks_on_dockers_profile(docker, docker_supervise_image):
    """Docker's default seccomp profile already refuses unshare, mount, CLONE_NEWUSER
    to a container without CAP_SYS_ADMIN; the worker profile adds chroot (Docker
    grants CAP_SYS_CHROOT) and personality(PER_LINUX32) (Docker allows it)."""
    name = docker.name()
    r = docker("run", "--name", name, "--label", docker.label, *RUN_OPTS,
               docker_supervise_image, "-c", "/etc/hfinit/seccomp.ini", timeout=30, check=False)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    by = {svc: [ln.split(None, 1)[1] for ln in lines if ln.startswith(f"[{svc}] ")]
          for svc in ("sandboxed", "plain")}
    assert by["sandboxed"] == ["getpid ok", "unshare errno=EPERM", "mount errno=EPERM",
                               "chroot errno=EPERM", "personality-linux32 errno=EPERM",
                               "clone-newuser errno=EPERM"], lines
    assert by["plain"] == ["getpid ok", "unshare errno=EPERM", "mount errno=EPERM",
                           "chroot errno=EFAULT", "personality-linux32 ok",
                           "clone-newuser errno=EPERM"], lines


def test_docker_kill_hup_reaches_every_service(docker, docker_supervise_image):
    name = start(docker, docker_supervise_image)
    docker.read_lines(name, "[two] two ready")
    docker("kill", "-s", "HUP", name)
    docker.read_lines(name, "[one] one caught SIGHUP")
    docker.read_lines(name, "[two] two caught SIGHUP")
    assert docker.inspect(name, "{{.State.Running}}") == "true"
    docker("stop", "-t", "10", name, timeout=30)
    assert docker.wait_exit(name) == 0
    out, _ = logs(docker, name)
    caught = sorted((n, w) for n, w, _ in events(out) if w.startswith("caught"))
    assert caught == [("one", "caught SIGHUP"), ("one", "caught SIGTERM"),
                      ("two", "caught SIGHUP"), ("two", "caught SIGTERM")], out
