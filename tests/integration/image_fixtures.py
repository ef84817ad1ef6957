"""Fixtures for the real-image tests: the example Space built from
docker/example-space/Dockerfile on Debian bookworm, as an image maintainer builds it.

Base images: scripts/debian-base makes debian:bookworm-slim exist on the private dockerd
(debootstrap --variant=minbase once, cached as build/debian-base/bookworm-minbase.tar),
so the Dockerfile's FROM lines are the public ones and nothing is pulled. The private
dockerd has no bridge network (scripts/dockerd-test), so the builds run with
--network=host: the Dockerfile's apt-get and build-deps reach Debian's mirror through
the host, exactly as on a Docker host with a network.

The image is built from the working tree (its src/, scripts/, rootfs/ and
docker/example-space/), so it runs the hfinit of this tree, compiled inside the build
stage by `make`. It is tagged hfinit-example:test and kept between sessions: Docker's
layer cache keys every step by its inputs, so a warm build only recompiles what
changed. Variants (no Python, a root venv, a missing script, the notify clients) are
small Dockerfiles FROM that image.

Containers are named per session (docker.name()), labelled, and removed by the test
that made them and again at the end of the session.
"""

import io
import json
import os
import re
import subprocess
import tarfile
import threading
import time

import pytest

import status_schema
from docker_fixtures import DOCKER_CLI, REPO

IMAGE = "hfinit-example:test"
DEBIAN_BASE = REPO / "scripts" / "debian-base"
DOCKERFILE = REPO / "docker" / "example-space" / "Dockerfile"
BUILD_TIMEOUT = 1200  # a cold build: apt, libseccomp from source, hfinit
RUN_OPTS = ("--security-opt", "apparmor=unconfined")
WAIT = 30.0  # bound for an awaited event in a container on a loaded 2-CPU machine


def build(docker, tag, context, dockerfile=None, stdin=None, timeout=BUILD_TIMEOUT):
    """docker build --network=host; the Dockerfile from a file or from stdin."""
    args = ["build", "--network=host", "-q", "-t", tag]
    if dockerfile:
        args += ["-f", str(dockerfile)]
    t0 = time.monotonic()
    if stdin is not None:
        r = subprocess.run([DOCKER_CLI, *args, "-"], env=docker.env, input=stdin, text=True,
                           capture_output=True, timeout=timeout)
    else:
        r = subprocess.run([DOCKER_CLI, *args, str(context)], env=docker.env, text=True,
                           capture_output=True, timeout=timeout)
    if r.returncode != 0:
        pytest.fail(f"docker build {tag} failed with {r.returncode}:\n{r.stdout}{r.stderr}")
    print(f"\nimage {tag} built in {time.monotonic() - t0:.1f}s")
    return tag


@pytest.fixture(scope="session")
def debian_base(docker):
    """debian:bookworm-slim (and debian:bookworm) on the private dockerd."""
    env = dict(docker.env, HFINIT_DOCKER_DIR=str(docker.dir))
    t0 = time.monotonic()
    r = subprocess.run([str(DEBIAN_BASE), "import"], env=env, capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        pytest.fail(f"scripts/debian-base failed with {r.returncode}:\n{r.stdout}{r.stderr}")
    print(f"\ndebian base ready in {time.monotonic() - t0:.1f}s {r.stderr.strip()}")
    return "debian:bookworm-slim"


@pytest.fixture(scope="session")
def space_image(docker, debian_base):
    """The example Space image, built from docker/example-space/Dockerfile.
    $HFINIT_IMAGE_SRC names another source tree to build it from (e.g. an older
    checkout with this Dockerfile copied in, to see a test fail there)."""
    src = os.environ.get("HFINIT_IMAGE_SRC")
    if src:
        return build(docker, IMAGE, src, dockerfile=os.path.join(src, DOCKERFILE.relative_to(REPO)))
    return build(docker, IMAGE, REPO, dockerfile=DOCKERFILE)


def variant(docker, name, lines):
    """An image FROM the example image with the Dockerfile LINES (no context)."""
    text = f"FROM {IMAGE}\n" + "\n".join(lines) + "\n"
    return build(docker, f"hfinit-example-{name}:test", None, stdin=text, timeout=600)


class Logs:
    """`docker logs -f` of a container, stdout and stderr in one stream, collected by a
    thread; wait() blocks until a line matches (bounded)."""

    def __init__(self, docker, name):
        self.name = name
        self.lines = []
        self.ended = False
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([DOCKER_CLI, "logs", "-f", name], env=docker.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait(self, pattern, timeout=WAIT):
        """The first line matching the regex PATTERN (re.search); fails at the deadline
        or when the log ends without one."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for ln in self.lines[seen:]:
                    if rx.search(ln):
                        return ln
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    why = "log ended" if self.ended else f"not within {timeout}s"
                    pytest.fail(f"{self.name}: no line /{pattern}/ ({why}); got:\n"
                                + "\n".join(self.lines[-60:]))
                self.cond.wait(left)

    def matching(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return [ln for ln in self.lines if rx.search(ln)]

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.thread.join(timeout=10)


class Container:
    """One running container of the image, removed by close()."""

    def __init__(self, docker, image, *args, opts=(), name=None, entrypoint=None):
        self.docker = docker
        self.name = name or docker.name()
        ep = ["--entrypoint", entrypoint] if entrypoint else []
        docker("run", "-d", "--name", self.name, "--label", docker.label, *RUN_OPTS, *opts,
               *ep, image, *args, timeout=60)
        self.logs = Logs(docker, self.name)

    def exec(self, *args, user=None, timeout=15):
        opts = ["--user", user] if user else []
        return self.docker("exec", *opts, self.name, *args, timeout=timeout, check=False)

    def status(self):
        """status.json through `hfinit status --json`, validated against the schema."""
        r = self.exec("/usr/local/bin/hfinit", "status", "--json")
        assert r.returncode == 0, (r.stdout, r.stderr)
        doc = json.loads(r.stdout)
        assert status_schema.validate(doc) == [], doc
        return doc

    def status_file(self, path="/tmp/hfinit/status.json"):
        """status.json read with `docker cp` (also once the container has exited)."""
        r = subprocess.run([DOCKER_CLI, "cp", f"{self.name}:{path}", "-"], env=self.docker.env,
                           capture_output=True, timeout=15)
        assert r.returncode == 0, r.stderr
        with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tar:
            doc = json.loads(tar.extractfile(tar.getmembers()[0]).read())
        assert status_schema.validate(doc) == [], doc
        return doc

    def health_event(self, want, timeout=WAIT):
        """Wait for Docker's health_status event WANT (healthy/unhealthy) of this
        container, or its current status already being WANT."""
        proc = subprocess.Popen(
            [DOCKER_CLI, "events", "--filter", f"container={self.name}", "--filter",
             "event=health_status", "--format", "{{.Status}}"],
            env=self.docker.env, stdout=subprocess.PIPE, text=True)
        try:
            if self.docker.inspect(self.name, "{{.State.Health.Status}}") == want:
                return
            done = threading.Event()
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            try:
                for line in proc.stdout:
                    if line.strip() == f"health_status: {want}":
                        done.set()
                        break
            finally:
                timer.cancel()
            if not done.is_set():
                pytest.fail(f"{self.name}: Docker health never {want} within {timeout}s "
                            f"(now {self.docker.inspect(self.name, '{{.State.Health.Status}}')})")
        finally:
            proc.kill()
            proc.wait(timeout=10)

    def stop(self, grace=10):
        """docker stop -t GRACE, bounded by the grace plus a margin; the exit code."""
        self.docker("stop", "-t", str(grace), self.name, timeout=grace + 20)
        return int(self.docker.inspect(self.name, "{{.State.ExitCode}}"))

    def wait_exit(self, timeout=WAIT):
        return self.docker.wait_exit(self.name, timeout=timeout)

    def close(self):
        self.logs.close()
        self.docker("rm", "-f", self.name, timeout=60, check=False)


@pytest.fixture
def run(docker, space_image):
    """run(image=None, *args, opts=...) -> a started Container; all removed afterwards."""
    made = []

    def start(*args, image=None, **kw):
        c = Container(docker, image or space_image, *args, **kw)
        made.append(c)
        return c

    yield start
    for c in made:
        c.close()


def environ_of(container, pid):
    """The environment of process PID in the container, as a dict."""
    r = container.exec("cat", f"/proc/{pid}/environ")
    assert r.returncode == 0, r.stderr
    return dict(kv.split("=", 1) for kv in r.stdout.split("\0") if "=" in kv)

