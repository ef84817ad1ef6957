"""Fixtures for the Docker integration tests: a private dockerd and one test image.

The daemon is Debian's docker.io run by scripts/dockerd-test (socket, data and exec
roots in DIR = $HFINIT_DOCKER_DIR, else <directory of $HFINIT_BIN>/docker, i.e.
build/docker for the default build). The session reuses a daemon already running there
and stops it at the end only if it started it. If it cannot start, every test FAILS with
the tail of DIR/dockerd.log: a skipped suite would be no test.

The image is built once per session FROM scratch (tests/docker/single/Dockerfile) with
the binary under test as /hfinit and every static helper of $HFINIT_HELPERS in /bin.
$HFINIT_DOCKER_INIT, when set, replaces the binary copied to /hfinit (e.g.
/usr/bin/tini-static, to check the tests themselves against a known-good init).

Every docker command runs with a timeout; containers carry a per-session label and are
removed at the end.
"""

import itertools
import os
import selectors
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERD_TEST = REPO / "scripts" / "dockerd-test"
DOCKER_CONTEXT_SRC = REPO / "tests" / "docker" / "single"
# Debian's docker.io CLI, by full path: /usr/local/bin/docker may be a newer, unrelated one.
DOCKER_CLI = os.environ.get("DOCKER_CLI", "/usr/bin/docker")
SESSION = f"hft{os.getpid()}"
# Container names are numbered per process, not per Docker object: each test module that
# imports the `docker` fixture gets its own session-scoped instance of it.
_NAMES = itertools.count(1)


def _need_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (run the suite through `make integration`)")
    return value


def _tail(path, lines=40):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"(cannot read {path}: {e})"
    # dockerd's gRPC chatter buries the line that says why it stopped.
    kept = [ln for ln in text.splitlines() if "module=grpc" not in ln]
    return "\n".join(kept[-lines:])


def _is_dynamic_elf(path):
    """True if the ELF file has a PT_INTERP header (needs a dynamic loader)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit ELF only (x86_64)
            return False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


class Docker:
    """The docker CLI bound to the private daemon."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")}
        self.env["DOCKER_HOST"] = f"unix://{self.dir}/docker.sock"
        self.env["DOCKER_CONFIG"] = str(self.dir / "cli")
        self.env["DOCKER_BUILDKIT"] = "0"  # the classic builder: FROM scratch, no pulls
        self.label = f"hfinit-test={SESSION}"

    def __call__(self, *args, timeout=30, check=True):
        """Run `docker ARGS`; returns the CompletedProcess (text). check: rc must be 0."""
        try:
            r = subprocess.run([DOCKER_CLI, *args], env=self.env, capture_output=True,
                               text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"docker {' '.join(args)}: no answer within {timeout}s "
                        f"(stdout {e.stdout!r}, stderr {e.stderr!r})")
        if check and r.returncode != 0:
            pytest.fail(f"docker {' '.join(args)} failed with {r.returncode}:\n"
                        f"{r.stdout}{r.stderr}")
        return r

    def remove_containers(self):
        """Remove every container of this session (running or not)."""
        r = self("ps", "-aq", "--filter", f"label={self.label}", check=False)
        ids = r.stdout.split()
        if ids:
            self("rm", "-f", *ids, timeout=60, check=False)

    def name(self):
        return f"{SESSION}-{next(_NAMES)}"

    def inspect(self, name, fmt):
        return self("inspect", "-f", fmt, name).stdout.strip()

    def wait_exit(self, name, timeout=15):
        """Block until the container exits (docker wait); returns its exit code."""
        r = self("wait", name, timeout=timeout)
        return int(r.stdout.strip())

    def read_lines(self, name, until, timeout=10):
        """Follow the container's stdout (docker logs -f) until a line equal to `until`
        or starting with `until + " "` arrives; returns all stdout lines so far. Fails at
        the deadline or when the log ends first (the container exited)."""
        proc = subprocess.Popen([DOCKER_CLI, "logs", "-f", name], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lines, buf = [], b""
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"{name}: no line {until!r} within {timeout}s; got {lines}")
                if not sel.select(left):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    pytest.fail(f"{name}: log ended before a line {until!r}; got {lines}")
                buf += chunk
                *done, buf = buf.split(b"\n")
                for raw in done:
                    line = raw.decode(errors="replace")
                    lines.append(line)
                    if line == until or line.startswith(until + " "):
                        return lines
        finally:
            sel.close()
            proc.kill()
            proc.wait(timeout=5)
            proc.stdout.close()


@pytest.fixture(scope="session")
def docker():
    """The private daemon (started for the session unless already running)."""
    directory = os.environ.get("HFINIT_DOCKER_DIR") or str(
        Path(_need_env("HFINIT_BIN")).resolve().parent / "docker")
    log = Path(directory) / "dockerd.log"
    if os.geteuid() != 0:
        pytest.fail("the Docker tests need root (they run a private dockerd)")
    status = subprocess.run([str(DOCKERD_TEST), "status", directory], capture_output=True,
                            text=True, timeout=30)
    started = False
    if status.returncode != 0:
        t0 = time.monotonic()
        try:
            r = subprocess.run([str(DOCKERD_TEST), "start", directory], capture_output=True,
                               text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"scripts/dockerd-test start hung\n--- {log}:\n{_tail(log)}")
        if r.returncode != 0:
            pytest.fail(f"cannot start the private dockerd:\n{r.stdout}{r.stderr}\n"
                        f"--- {log}:\n{_tail(log)}")
        started = True
        print(f"\ndockerd started in {time.monotonic() - t0:.2f}s: {r.stdout.strip()}")
    d = Docker(directory)
    try:
        yield d
    finally:
        d.remove_containers()
        if started:
            subprocess.run([str(DOCKERD_TEST), "stop", directory], timeout=90)


@pytest.fixture(scope="session")
def docker_image(docker, tmp_path_factory):
    """Tag of the FROM scratch test image: /hfinit + helpers, ENTRYPOINT /hfinit --."""
    init = Path(os.environ.get("HFINIT_DOCKER_INIT") or _need_env("HFINIT_BIN"))
    helpers = Path(_need_env("HFINIT_HELPERS"))
    if not init.is_file():
        pytest.fail(f"{init}: no such file (build it first)")
    if _is_dynamic_elf(init):
        pytest.fail(f"{init} is dynamically linked; a FROM scratch image needs a static binary")
    if not (helpers / "docker-probe").is_file():
        pytest.fail(f"{helpers}/docker-probe missing (built from tests/helpers/docker-probe.c)")
    ctx = tmp_path_factory.mktemp("docker-context")
    shutil.copy(DOCKER_CONTEXT_SRC / "Dockerfile", ctx / "Dockerfile")
    yield from _build_image(docker, ctx, init, helpers, f"hfinit-test:{SESSION}")


def _build_image(docker, ctx, init, helpers, tag):
    """Add hfinit and every static helper to the build context ctx, build it as
    tag, yield the tag, and remove the image and its containers afterwards."""
    shutil.copy(init, ctx / "hfinit")
    (ctx / "helpers").mkdir()
    for h in helpers.iterdir():
        if h.is_file() and os.access(h, os.X_OK) and not _is_dynamic_elf(h):
            shutil.copy(h, ctx / "helpers" / h.name)
    t0 = time.monotonic()
    docker("build", "-q", "--label", docker.label, "-t", tag, str(ctx), timeout=120)
    print(f"\nimage {tag} built in {time.monotonic() - t0:.2f}s")
    try:
        yield tag
    finally:
        docker.remove_containers()
        docker("rmi", "-f", tag, timeout=60, check=False)


SUPERVISE_CONTEXT_SRC = REPO / "tests" / "docker" / "supervise"


@pytest.fixture(scope="session")
def docker_supervise_image(docker, tmp_path_factory):
    """Tag of the FROM scratch image for the main (supervision) mode: /hfinit as
    ENTRYPOINT with no arguments, the helpers in /bin, tests/docker/supervise/etc/ as
    /etc (/etc/hfinit/hfinit.ini is the default config), HEALTHCHECK hfinit health."""
    init = Path(_need_env("HFINIT_BIN"))
    helpers = Path(_need_env("HFINIT_HELPERS"))
    if not init.is_file() or _is_dynamic_elf(init):
        pytest.fail(f"{init}: missing or dynamically linked (a FROM scratch image needs it static)")
    if not (helpers / "docker-svc").is_file():
        pytest.fail(f"{helpers}/docker-svc missing (built from tests/helpers/docker-svc.c)")
    ctx = tmp_path_factory.mktemp("docker-supervise-context")
    shutil.copy(SUPERVISE_CONTEXT_SRC / "Dockerfile", ctx / "Dockerfile")
    shutil.copytree(SUPERVISE_CONTEXT_SRC / "etc", ctx / "etc")
    # A scratch image has no /tmp or /run; hfinit's HOME fallback (/tmp/home) and its
    # status dirs (/run/hfinit, /tmp/hfinit) need them, as any real base image has them.
    for d, mode in (("tmp", 0o1777), ("run", 0o755)):
        (ctx / "dirs" / d).mkdir(parents=True)
        os.chmod(ctx / "dirs" / d, mode)
    yield from _build_image(docker, ctx, init, helpers, f"hfinit-test-supervise:{SESSION}")
