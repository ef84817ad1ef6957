"""The example Space image as its users build and run it (image_fixtures.space_image):
docker/example-space/Dockerfile on Debian bookworm, Debian's nodejs and python3, uid
1000, the venv, `COPY rootfs/ /` (the shipped default config, unmodified), ENTRYPOINT
hfinit and the HEALTHCHECK of the Dockerfile. Each test runs the image the way a Space
maintainer does (`docker run`, `--user 0`, `--read-only`, `--memory`, ...) and asserts
log lines, exit codes, status.json, Docker's health status and `docker stop`.
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import yaml

from docker_fixtures import DOCKER_CLI, REPO
from docker_fixtures import docker  # noqa: F401  (pytest fixture)
from image_fixtures import WAIT, environ_of, variant
from image_fixtures import debian_base, run, space_image  # noqa: F401  (pytest fixtures)

HC_INTERVAL, HC_TIMEOUT = 5, 3  # the Dockerfile's HEALTHCHECK --interval / --timeout
STOP_GRACE = 10  # docker stop's default
ALL_UP = r"^hfinit: info: all stages up after \d+ ms$"
POOLS = ("tts", "voice-clone")


def services(doc):
    return {n: s["state"] for n, s in doc["services"].items()}


def assert_clean_stop(c):
    """docker stop: exit 0, the pools stop before the server, hfinit's last line."""
    assert c.stop(STOP_GRACE) == 0
    c.logs.wait(r"^hfinit: info: stopped, exit 0$", timeout=WAIT)
    order = [ln for ln in c.logs.lines
             if re.match(r"^hfinit: info: \[(web|tts|voice-clone)\] exited 0$", ln)]
    assert len(order) == 3 and order[-1] == "hfinit: info: [web] exited 0", order


def assert_fetched_before_the_pools(c, doc):
    """The stage-1 one-shot put the weights into HF_HOME, was done before a pool
    started (log order and status.json times), and the pools read that copy."""
    c.logs.wait(r"^\[fetch-models\] models in /\S+/example-space: [02] fetched$")
    done = c.logs.wait(r"^hfinit: info: \[fetch-models\] done in \d+ ms \(exited 0\), attempt 1$")
    first_pool = min(c.logs.lines.index(ln) for ln in c.logs.matching(
        r"^hfinit: info: \[(tts|voice-clone)\] started pid"))
    assert c.logs.lines.index(done) < first_pool, c.logs.lines
    f = doc["services"]["fetch-models"]
    assert f["state"] == "done" and f["type"] == "oneshot" and f["finished_at"], f
    for p in POOLS:
        assert doc["services"][p]["started_at"] >= f["finished_at"], doc
        assert c.logs.matching(rf"^\[{p}\] {p} pool: starting \d+ workers, model "
                               rf"/\S+/example-space/{p}\.bin"), c.logs.lines


def assert_ready_space(c, python):
    """The log of a start that reached every stage, status.json, Docker's health."""
    c.logs.wait(r"^hfinit: info: \[web\] ready in \d+ ms \(tcp:7860\), attempt 1$")
    for p in POOLS:
        c.logs.wait(rf"^hfinit: info: \[{p}\] ready in \d+ ms \(ready line on stdout\), attempt 1$")
    c.logs.wait(ALL_UP)
    found = c.logs.matching(r"^hfinit: info: python: ")
    assert len(found) == 1 and re.fullmatch(python, found[0]), found
    doc = c.status()
    assert doc["state"] == "ready" and doc["all_required_ready"] is True
    assert services(doc) == {"web": "ready", "fetch-models": "done", "tts": "ready",
                             "voice-clone": "ready"}
    assert_fetched_before_the_pools(c, doc)
    # Healthy within one interval of readiness (plus the check's own timeout): the
    # bound of this wait, the value the Dockerfile's --interval was chosen for.
    c.health_event("healthy", timeout=HC_INTERVAL + HC_TIMEOUT + 2)
    return doc


# Debian bookworm's python3 is 3.11.x.
VENV_PYTHON = r"hfinit: info: python: /home/user/app/\.venv/bin/python3 \(3\.11\.\d+, from venv\)"


def test_as_uid_1000_the_shipped_default_starts_and_stops(run):
    c = run()
    doc = assert_ready_space(c, VENV_PYTHON)
    assert doc["pid"] == 1 and doc["python"]["path"] == "/home/user/app/.venv/bin/python3"
    r = c.exec("cat", "/proc/1/status")
    assert re.search(r"^Uid:\t1000\t1000\t1000\t1000$", r.stdout, re.M), r.stdout
    assert c.exec("id", "-un").stdout.strip() == "user"
    # /health serves a summary: states, no command line, no script path.
    r = c.exec("python3", "-c", "import urllib.request as u;"
               "print(u.urlopen('http://127.0.0.1:7860/health').read().decode())")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"state": "ready", "source": "hfinit", "services": {
        "web": {"state": "ready", "ready": True, "required": True},
        "fetch-models": {"state": "done", "ready": True, "required": False},
        "tts": {"state": "ready", "ready": True, "required": False},
        "voice-clone": {"state": "ready", "ready": True, "required": False}}}
    assert "node" not in r.stdout and "worker_pool" not in r.stdout
    assert_clean_stop(c)


def test_as_docker_root(run):
    c = run(opts=["--user", "0"])
    doc = assert_ready_space(c, VENV_PYTHON)
    # Docker's root lacks CAP_SYS_RESOURCE; the pools' +500 is a raise, which needs none.
    for p in POOLS:
        r = c.exec("cat", f"/proc/{doc['services'][p]['pid']}/oom_score_adj")
        assert r.stdout.strip() == "500"
    assert c.exec("cat", f"/proc/{doc['services']['web']['pid']}/oom_score_adj").stdout.strip() == "0"
    assert c.exec("ls", "/run/hfinit/status.json").returncode == 0  # root: /run/hfinit
    assert_clean_stop(c)


def test_read_only_root_with_tmpfs_tmp(run):
    c = run(opts=["--read-only", "--tmpfs", "/tmp"])
    assert_ready_space(c, VENV_PYTHON)
    assert_clean_stop(c)


def test_read_only_root_without_tmpfs(run):
    """Kubernetes readOnlyRootFilesystem without an emptyDir: the web server needs no
    writable HOME, so the Space still comes up; a warning names HOME."""
    c = run(opts=["--read-only"])
    c.logs.wait(r"^hfinit: info: \[web\] ready in \d+ ms \(tcp:7860\), attempt 1$")
    assert [ln for ln in c.logs.lines if "warn" in ln and "HOME" in ln], c.logs.lines
    assert not c.logs.matching(r"^hfinit: error: .*Read-only file system")
    assert c.stop(STOP_GRACE) == 0


@pytest.mark.parametrize("home", ["/", None], ids=["HOME=/", "HOME-unset"])
def test_home_is_the_passwd_home_of_the_service_user(run, home):
    """HOME=/ or unset: the services get uid 1000's passwd home, /home/user (usable)."""
    if home is None:  # an image ENV cannot be unset by docker run: env -u in front
        c = run("-u", "HOME", "/usr/local/bin/hfinit", entrypoint="/usr/bin/env")
    else:
        c = run(opts=["-e", f"HOME={home}"])
    doc = assert_ready_space(c, VENV_PYTHON)
    for name in ("web", "tts"):
        assert environ_of(c, doc["services"][name]["pid"]).get("HOME") == "/home/user"
    assert_clean_stop(c)


def test_space_variable_disables_the_pools(run):
    """The shipped default's `condition = !env:HFINIT_NO_POOLS` on both pools: with
    the Space Variable set, stage 2 disables them (named in the log and in
    status.json), the web server serves alone, and the Space is ready, not degraded."""
    c = run(opts=["-e", "HFINIT_NO_POOLS=1"])
    for p in ("fetch-models",) + POOLS:
        c.logs.wait(rf"^hfinit: info: \[{p}\] disabled: condition !env:HFINIT_NO_POOLS failed "
                    r"\(is set\)$")
    c.logs.wait(ALL_UP)
    doc = c.status()
    assert doc["state"] == "ready" and doc["all_required_ready"] is True
    assert {n: (s["state"], s["disabled_reason"]) for n, s in doc["services"].items()} == {
        "web": ("ready", None),
        "fetch-models": ("disabled", "condition !env:HFINIT_NO_POOLS failed (is set)"),
        "tts": ("disabled", "condition !env:HFINIT_NO_POOLS failed (is set)"),
        "voice-clone": ("disabled", "condition !env:HFINIT_NO_POOLS failed (is set)")}
    assert not c.logs.matching(r"\[(fetch-models|tts|voice-clone)\] started")
    c.health_event("healthy", timeout=HC_INTERVAL + HC_TIMEOUT + 2)
    assert c.stop(STOP_GRACE) == 0
    c.logs.wait(r"^hfinit: info: stopped, exit 0$", timeout=WAIT)


def test_port_7860_taken_by_another_process(run, space_image):
    """Another process of the netns holds 7860 (a second container sharing the
    network): web is never reported ready, no pool starts, web fails port-in-use."""
    squat = run("-u", "-m", "http.server", "7860", entrypoint="python3")
    squat.logs.wait(r"Serving HTTP on .* port 7860")
    c = run(opts=["--network", f"container:{squat.name}"])
    c.logs.wait(r"^hfinit: info: \[web\] started pid \d+ \(attempt 1 of 3\)$")
    doc = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # polling status.json: the state has no event
        running = c.docker.inspect(c.name, "{{.State.Running}}") == "true"
        doc = c.status_file()
        if not running or (doc["services"]["web"].get("last_error") or {}).get(
                "category") == "port-in-use":
            break
        time.sleep(0.2)
    web = doc["services"]["web"]
    assert web["last_error"]["category"] == "port-in-use", doc
    assert web["ready_at"] is None, doc
    assert not c.logs.matching(r"\[web\] ready in"), c.logs.lines
    assert not c.logs.matching(r"\[(tts|voice-clone)\] started"), c.logs.lines
    # The squatter is in another container: its pid is outside hfinit's PID namespace.
    assert c.logs.matching(r"^hfinit: warn: \[web\] port 7860 is in use by a process outside "
                           r"hfinit's view: not ready$"), c.logs.lines
    if running:
        assert web["state"] in ("starting", "retrying", "restarting"), doc
        assert c.stop(STOP_GRACE) in (0, 1)  # 1 once the required web has given up
    else:
        assert c.wait_exit() == 1 and web["state"] == "failed"


def test_memory_limit_and_a_leaking_pool(run):
    """--memory 64m, the pools leak: the OOM killer takes a pool (oom_score_adj 500),
    hfinit reports out-of-memory (cgroup v1 here, Docker's host cgroup namespace), and
    the web server is untouched."""
    c = run(opts=["--memory", "64m", "--memory-swap", "64m", "-e", "HFINIT_TEST_LEAK_MB=20"])
    c.logs.wait(ALL_UP)
    web_pid = c.status()["services"]["web"]["pid"]
    line = c.logs.wait(r"^hfinit: warn: \[(tts|voice-clone)\] out-of-memory: killed by the "
                       r"kernel's OOM killer: the container ran out of memory; use fewer "
                       r"workers or a smaller model, or give it more memory$")
    pool = re.search(r"\[(.*?)\]", line).group(1)
    doc = c.status()
    assert doc["services"][pool]["last_error"]["category"] == "out-of-memory"
    assert doc["services"][pool]["last_exit"]["signal_name"] == "SIGKILL"
    web = doc["services"]["web"]
    assert web["state"] == "ready" and web["restarts"] == 0 and web["pid"] == web_pid
    assert web["last_exit"] == {"code": None, "signal": None, "signal_name": None}
    assert doc["state"] in ("ready", "degraded")
    assert c.stop(STOP_GRACE) == 0


def test_without_python(run, docker):
    """An image without any Python: the optional pools fail with the full hint (not cut
    off mid-word), web serves, the Space is degraded and healthy."""
    img = variant(docker, "nopython", [
        "USER root",
        "RUN rm -rf /home/user/app/.venv /usr/bin/python3* /usr/lib/python3* /usr/local/bin/python3*",
        "USER user"])
    c = run(image=img)
    c.logs.wait(r"^hfinit: info: \[web\] ready in \d+ ms \(tcp:7860\), attempt 1$")
    hint = [ln for ln in c.logs.lines if "Install Python 3 in the image" in ln]
    assert hint, c.logs.lines
    assert all(ln.endswith("or set PYTHON_PATH to a working interpreter.") for ln in hint), hint
    doc = c.status()
    assert doc["state"] == "degraded"
    assert services(doc) == {"web": "ready", "fetch-models": "done", "tts": "failed",
                             "voice-clone": "failed"}
    c.health_event("healthy", timeout=HC_INTERVAL + HC_TIMEOUT + 2)
    assert c.stop(STOP_GRACE) == 0


def test_root_venv_is_skipped_and_named(run, docker):
    """A venv made by root under /root (VIRTUAL_ENV set, as `RUN python -m venv` as root
    leaves it): uid 1000 cannot enter /root; the Space starts on the system Python and
    the start-up log names the skipped venv."""
    img = variant(docker, "rootvenv", [
        "USER root",
        "RUN rm -rf /home/user/app/.venv && python3 -m venv /root/.venv",
        "ENV VIRTUAL_ENV=/root/.venv PATH=/root/.venv/bin:$PATH",
        "USER user"])
    c = run(image=img)
    doc = assert_ready_space(c, r"hfinit: info: python: /usr/bin/python3 \(3\.11\.\d+, from PATH\)")
    assert doc["python"]["path"] == "/usr/bin/python3"
    warn = [ln for ln in c.logs.lines if "warn" in ln and "/root/.venv" in ln]
    assert warn, c.logs.lines
    assert_clean_stop(c)


def test_missing_optional_script_degrades(run, docker):
    img = variant(docker, "noscript", ["RUN rm /home/user/app/server/ml-services/worker_pool.py"])
    c = run(image=img)
    c.logs.wait(r"^hfinit: info: \[web\] ready in \d+ ms \(tcp:7860\), attempt 1$")
    doc = None
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:  # polling status.json: the state has no event
        doc = c.status()
        if doc["state"] != "starting":
            break
        time.sleep(0.2)
    assert doc["state"] == "degraded"
    assert services(doc) == {"web": "ready", "fetch-models": "done", "tts": "failed",
                             "voice-clone": "failed"}
    for p in POOLS:
        assert "server/ml-services/worker_pool.py" in doc["services"][p]["last_error"]["text"]
    c.health_event("healthy", timeout=HC_INTERVAL + HC_TIMEOUT + 2)
    assert c.stop(STOP_GRACE) == 0


# --- real sd_notify clients nobody here wrote --------------------------------------------

NOTIFY_INI = r"""
[hfinit]
app_dirs = /home/user/app
stop_timeout = 8s

[service:web]
stage = 1
command = node server/index.js
ready = tcp:7860
required = yes

[service:sdpool]
stage = 2
script = sd_pool.py
ready = notify
ready_timeout = 20s
required = yes

[service:shell]
stage = 2
command = /home/user/app/warm.sh
ready = notify
ready_timeout = 20s
required = yes
"""

SD_POOL = r"""
import signal, sys, time
import sdnotify  # Debian's python3-sdnotify
print("sd pool loading", flush=True)
time.sleep(0.5)
n = sdnotify.SystemdNotifier(debug=True)
n.notify("STATUS=serving from sdnotify")
n.notify("READY=1")
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    signal.pause()
"""

WARM_SH = r"""#!/bin/sh
echo "warming up"
systemd-notify --status="warm" --ready
exec sleep infinity
"""


@pytest.fixture(scope="module")
def notify_image(docker, space_image):
    def put(path, text, mode="644"):
        b = base64.b64encode(text.encode()).decode()
        return f"RUN echo {b} | base64 -d > {path} && chmod {mode} {path}"

    return variant(docker, "notify", [
        "USER root",
        "RUN apt-get update && apt-get install -y --no-install-recommends systemd "
        "&& rm -rf /var/lib/apt/lists/*",
        "USER user",
        put("/home/user/app/notify.ini", NOTIFY_INI),
        put("/home/user/app/sd_pool.py", SD_POOL),
        put("/home/user/app/warm.sh", WARM_SH, "755")])


def test_real_notify_clients_python3_sdnotify_and_systemd_notify(run, notify_image):
    c = run("-c", "/home/user/app/notify.ini", image=notify_image)
    c.logs.wait(r"^hfinit: info: \[sdpool\] ready in \d+ ms \(READY=1\), attempt 1$")
    c.logs.wait(r"^hfinit: info: \[shell\] ready in \d+ ms \(READY=1\), attempt 1$")
    c.logs.wait(ALL_UP)
    doc = c.status()
    assert services(doc) == {"web": "ready", "sdpool": "ready", "shell": "ready"}
    assert doc["services"]["sdpool"]["notify_status"] == "serving from sdnotify"
    assert doc["services"]["shell"]["notify_status"] == "warm"
    c.health_event("healthy", timeout=HC_INTERVAL + HC_TIMEOUT + 2)
    assert c.stop(STOP_GRACE) == 0


# --- Kubernetes, by simulation -----------------------------------------------------------

def k8s_container():
    with open(REPO / "docker" / "kubernetes" / "deployment.yaml") as f:
        dep = yaml.safe_load(f)
    spec = dep["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


def probe_params(p):
    """kubelet's defaults for what the manifest leaves out."""
    return {"cmd": p["exec"]["command"], "period": p.get("periodSeconds", 10),
            "timeout": p.get("timeoutSeconds", 1), "failure": p.get("failureThreshold", 3),
            "delay": p.get("initialDelaySeconds", 0), "success": p.get("successThreshold", 1)}


def test_kubernetes_probes_and_termination_by_simulation(run):
    """The three exec probes of docker/kubernetes/deployment.yaml, run as kubelet runs
    them (initial delay, period, timeout, failureThreshold; readiness and liveness only
    after the startup probe succeeded), against the image as uid 1000 with the
    manifest's env; then SIGTERM and a clean exit inside terminationGracePeriodSeconds."""
    spec, ctr = k8s_container()
    user = spec["securityContext"]["runAsUser"]
    env = [f"{e['name']}={e['value']}" for e in ctr.get("env", [])]
    opts = ["--user", f"{user}:{spec['securityContext']['runAsGroup']}"]
    for e in env:
        opts += ["-e", e]
    probes = {k: probe_params(ctr[k]) for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    c = run(opts=opts)

    def probe(p):
        # kubelet: exec with the probe's timeout; a timeout counts as a failure.
        r = c.docker("exec", c.name, *p["cmd"], timeout=p["timeout"] + 10, check=False)
        return r.returncode == 0

    timeline = []
    sp = probes["startupProbe"]
    time.sleep(sp["delay"])
    fails = 0
    while True:  # the startup probe, every period, until success or failureThreshold
        ok = probe(sp)
        timeline.append(("startup", ok))
        if ok:
            break
        fails += 1
        assert fails < sp["failure"], f"startup probe failed {fails} times: kubelet restarts"
        time.sleep(sp["period"])  # kubelet's probe period, not a synchronisation
    for kind in ("readinessProbe", "livenessProbe"):
        p = probes[kind]
        ok = probe(p)
        fails = 0
        while not ok:
            fails += 1
            assert fails < p["failure"], (kind, timeline)
            time.sleep(p["period"])
            ok = probe(p)
        timeline.append((kind, ok))
    assert [t for t, ok in timeline if ok] == ["startup", "readinessProbe", "livenessProbe"]
    doc = c.status()
    assert doc["state"] == "ready"
    r = c.exec("ls", "/tmp/hfinit/status.json")  # the manifest's HFINIT_STATUS_DIR
    assert r.returncode == 0
    # Pod deletion: SIGTERM to PID 1, SIGKILL after the grace period.
    grace = spec["terminationGracePeriodSeconds"]
    c.docker("kill", "-s", "TERM", c.name)
    assert c.wait_exit(timeout=grace) == 0
    c.logs.wait(r"^hfinit: info: stopped, exit 0$")


# --- podman --sdnotify=container: the manager hears READY=1 when the Space is ready ------

def podman_cmd(docker):
    """podman with a private root next to the private dockerd's directory; cgroupfs and
    file events: no systemd here."""
    base = docker.dir.parent / "podman"
    return ["podman", "--root", str(base / "root"), "--runroot", str(base / "run"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]


@pytest.fixture(scope="module")
def podman_image(docker, space_image):
    """The example image in podman's private store (docker save | podman load), loaded
    again only when the image changed."""
    if shutil.which("podman") is None:
        pytest.fail("podman not found (scripts/setup-debian installs it)")
    pm = podman_cmd(docker)
    want = docker.inspect(space_image, "{{.Id}}").removeprefix("sha256:")
    r = subprocess.run([*pm, "image", "inspect", "--format", "{{.Id}}", space_image],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or r.stdout.strip() != want:
        save = subprocess.Popen([DOCKER_CLI, "save", space_image], env=docker.env,
                                stdout=subprocess.PIPE)
        r = subprocess.run([*pm, "load"], stdin=save.stdout, capture_output=True, text=True,
                           timeout=600)
        save.stdout.close()
        assert save.wait(timeout=60) == 0 and r.returncode == 0, r.stderr
        # The image this one replaces is left untagged: free its space.
        subprocess.run([*pm, "image", "prune", "-f"], capture_output=True, timeout=120)
    return pm, f"localhost/{space_image}"


def test_podman_sdnotify_container_gets_ready_when_the_space_is(podman_image, tmp_path):
    """`podman run --sdnotify=container`: podman hands the container its own notify
    socket and forwards READY=1 to podman's $NOTIFY_SOCKET (as systemd's Type=notify
    unit would get it). READY=1 must come when every required service is ready, not at
    container start: at that moment `hfinit health --ready` passes inside.
    RLIMIT_NOFILE/NPROC are lowered: podman sets them in every container and raising
    needs CAP_SYS_RESOURCE, which this machine's root lacks."""
    pm, image = podman_image
    sock_path = str(tmp_path / "notify.sock")
    mgr = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    mgr.bind(sock_path)
    mgr.settimeout(WAIT)
    name = f"hfinit-pm-{os.getpid()}"
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    proc = subprocess.Popen([*pm, "run", "-d", "--name", name, "--network", "none",
                             "--no-healthcheck", "--ulimit", "nofile=1024:1024",
                             "--ulimit", "nproc=1024:1024", "--sdnotify=container", image],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        msgs = []
        while not any(m.startswith("READY=1") for m in msgs):
            try:
                msgs += mgr.recv(4096).decode().split("\n")
            except socket.timeout:
                pytest.fail(f"no READY=1 within {WAIT}s; got {msgs}; podman: "
                            f"{proc.poll()} {proc.stderr.read() if proc.poll() is not None else ''}")
        r = subprocess.run([*pm, "exec", name, "/usr/local/bin/hfinit", "health", "--ready"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (msgs, r.stdout, r.stderr)
        assert [m.split("=")[0] for m in msgs if m] == ["MAINPID", "READY"], msgs
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        r = subprocess.run([*pm, "stop", "-t", str(STOP_GRACE), name], capture_output=True,
                           text=True, timeout=STOP_GRACE + 30)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([*pm, "inspect", "--format", "{{.State.ExitCode}}", name],
                           capture_output=True, text=True, timeout=30)
        assert r.stdout.strip() == "0"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        subprocess.run([*pm, "rm", "-f", name], capture_output=True, timeout=60)
        mgr.close()
