"""The README's HEALTHCHECK (`hfinit health --ready`) with the tini drop-in
ENTRYPOINT (`hfinit -- CMD`): single-child mode writes the status files too
(docs/status.md, "Single-child mode").

The image is docker_fixtures.docker_supervise_image (FROM scratch, /run and /tmp,
HEALTHCHECK every second); the container runs `/hfinit -- /bin/docker-svc ...`
through --entrypoint, as root and as uid 1000.
"""

import time

import pytest

from docker_fixtures import docker, docker_supervise_image  # noqa: F401  (pytest fixtures)

RUN_OPTS = ["--network", "none", "--security-opt", "apparmor=unconfined"]


@pytest.mark.parametrize("user,where", [(None, "/run/hfinit"), ("1000:1000", "/tmp/hfinit")],
                         ids=["root", "uid1000"])
def test_single_child_mode_becomes_healthy(docker, docker_supervise_image, user, where):
    name = docker.name()
    opts = ["--user", user] if user else []
    docker("run", "-d", "--name", name, "--label", docker.label, *RUN_OPTS, *opts,
           "--entrypoint", "/hfinit", docker_supervise_image, "--", "/bin/docker-svc", "web",
           "0")
    docker.read_lines(name, "web ready")
    deadline = time.monotonic() + 15
    while docker.inspect(name, "{{.State.Health.Status}}") != "healthy":
        assert time.monotonic() < deadline, docker.inspect(name, "{{json .State.Health}}")
        time.sleep(0.2)
    r = docker("exec", *opts, name, "/hfinit", "health", "--ready", check=False)
    assert (r.returncode, r.stdout) == (
        0, "ready: every required service is ready (state ready)\n"), r.stderr
    r = docker("exec", *opts, name, "/hfinit", "status", "--json", check=False)
    assert r.returncode == 0 and '"docker-svc"' in r.stdout, r.stdout
    r = docker("exec", *opts, name, "/hfinit", "health", "--ready", "-d", where, check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    docker("stop", "-t", "10", name, timeout=30)
    assert docker.wait_exit(name) == 0
    err = docker("logs", name).stderr
    assert err == "", err  # no warning: the status dir was usable
