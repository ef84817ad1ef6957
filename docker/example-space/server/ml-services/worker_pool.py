#!/usr/bin/env python3
"""Example ML worker pool for the hfinit example Space (Python stdlib only).

The pool starts N worker processes. Each worker "loads a model" (reads the
model file and takes --load-seconds in all), then the pool prints exactly
`ready` on stdout and serves jobs on a unix stream socket: one JSON line in,
one JSON line out. See docker/example-space/README.md for the protocol, the
socket path convention and the failure-injection flags used by the tests.

Process model (pre-fork, like gunicorn's sync workers):
  * the pool binds the listening socket under a temporary name, forks the
    workers (they inherit it and accept() on it themselves), and renames the
    socket to its public path only once every worker has loaded its model,
    so a client never connects to a pool that cannot answer yet;
  * each worker holds the read end of a pipe whose write end only the pool
    holds: when the pool dies, even by SIGKILL, the pipe reads EOF and every
    worker exits on its own, so no process lingers;
  * a worker that dies makes the whole pool exit 1 (the supervisor restarts
    the pool); SIGTERM or SIGINT stops the workers, removes the socket and
    exits 0.
"""

import argparse
import errno
import faulthandler
import hashlib
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SPACE_DIR = os.path.dirname(os.path.dirname(HERE))
DEFAULT_RUN_DIR = "/tmp/hfinit-space"
WORKER_TYPES = ("tts", "voice-clone")
MAX_REQUEST = 1 << 20  # bytes in one request line
MAX_TEXT = 2000  # characters of text in one job
CONN_TIMEOUT = 30.0  # seconds a worker waits for a client's next line
STOP_GRACE = 3.0  # seconds workers get after SIGTERM before SIGKILL
SAMPLE_RATE = 22050
BYTES_PER_CHAR = 2 * SAMPLE_RATE * 60 // 1000  # 60 ms of 16-bit mono per char


def socket_path_for(worker_type):
    """The public socket of a pool: $HFINIT_RUN_DIR/<type>.sock, else
    /tmp/hfinit-space/<type>.sock. The Node server uses the same rule."""
    run_dir = os.environ.get("HFINIT_RUN_DIR") or DEFAULT_RUN_DIR
    return os.path.join(run_dir, worker_type + ".sock")


def say(msg):
    """A progress line on stdout. `ready` is the readiness line a supervisor
    waits for (hfinit's `ready = line:ready` matches any stdout or stderr
    line containing it), so no other line of the pool may contain that word."""
    assert "ready" not in msg.lower(), msg
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def warn(msg):
    assert "ready" not in msg.lower(), msg  # stderr lines count for line:ready too
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# --- failure injection -------------------------------------------------------


def _exc_class(module, name, base):
    cls = type(name, (base,), {})
    cls.__module__ = module
    cls.__qualname__ = name
    return cls


def _fake_import_torch():
    raise ModuleNotFoundError("No module named 'torch'", name="torch")


def _fake_cuda_oom():
    oom = _exc_class("torch.cuda", "OutOfMemoryError", RuntimeError)
    # torch >= 2.1 wording; the older one says "already allocated", which
    # would match `ready = line:ready` (hfinit matches stderr lines too).
    raise oom(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
        "capacity of 15.78 GiB of which 1.02 GiB is free. Of the allocated "
        "memory 14.12 GiB is allocated by PyTorch, and 250.00 MiB is reserved "
        "by PyTorch but unallocated."
    )


def _fake_permission():
    raise PermissionError(errno.EACCES, "Permission denied", "/.cache/huggingface")


def _fake_disk_full():
    raise OSError(errno.ENOSPC, "No space left on device")


def _fake_hub_gated():
    gated = _exc_class("huggingface_hub.errors", "GatedRepoError", OSError)
    raise gated(
        "401 Client Error. (Request ID: Root=1-00000000-hfinit)\n\n"
        "Cannot access gated repo for url "
        "https://huggingface.co/example/tts-model/resolve/main/config.json.\n"
        "Access to model example/tts-model is restricted. You must have access "
        "to it and be authenticated to access it. Please log in."
    )


def _fake_addr_in_use():
    raise OSError(errno.EADDRINUSE, "Address already in use")


FAIL_KINDS = {
    "module": _fake_import_torch,
    "oom": _fake_cuda_oom,
    "permission": _fake_permission,
    "disk": _fake_disk_full,
    "hub": _fake_hub_gated,
    "addrinuse": _fake_addr_in_use,
}


def load_backend(kind):
    """Where a real pool imports torch and friends; with --fail-at-start it
    raises the chosen error so the traceback looks like the real thing."""
    FAIL_KINDS[kind]()


def fail_at_start(code, kind):
    try:
        load_backend(kind)
    except Exception:
        traceback.print_exc()
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(code)


def crash(mode):
    """--crash-after: die like a native extension would (SIGSEGV, with
    faulthandler's report on stderr), or with an exception and exit 1."""
    sys.stdout.flush()
    if mode == "segv":
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
        except (ValueError, OSError):
            pass  # keeping a core limit we cannot lower only costs disk
        faulthandler.enable(file=sys.stderr, all_threads=True)
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(5)  # the signal is delivered before this returns
        os._exit(139)
    try:
        raise RuntimeError("worker pool lost its model (simulated crash, --crash-after)")
    except RuntimeError:
        traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)


# --- sd_notify ---------------------------------------------------------------


class Notifier:
    """sd_notify the way the `sdnotify` package does it: an AF_UNIX
    SOCK_DGRAM socket connected once to $NOTIFY_SOCKET ('@' names are
    abstract: '@' becomes a NUL byte), one sendall() per message. Unlike
    sdnotify, failures are reported on stderr (still never fatal)."""

    def __init__(self):
        self.sock = None
        addr = os.environ.get("NOTIFY_SOCKET")
        if not addr:
            warn("warning: --notify given but NOTIFY_SOCKET is not set")
            return
        if addr[0] == "@":
            addr = "\0" + addr[1:]
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.connect(addr)
            self.sock = sock
        except OSError as e:
            warn("warning: cannot connect to NOTIFY_SOCKET: %s" % e)

    def notify(self, msg):
        if self.sock is None:
            return
        try:
            self.sock.sendall(msg.encode())
        except OSError as e:
            warn("warning: sd_notify %r failed: %s" % (msg.split("=")[0], e))


# --- worker ------------------------------------------------------------------


class Job:
    def __init__(self, worker_type, idx, model_sha):
        self.worker_type = worker_type
        self.idx = idx
        self.model_sha = model_sha

    def answer(self, line):
        try:
            req = json.loads(line)
        except ValueError as e:
            return {"ok": False, "error": "bad json: %s" % e}
        if not isinstance(req, dict):
            return {"ok": False, "error": "request must be a JSON object"}
        default_op = "synthesize" if self.worker_type == "tts" else "clone"
        op = req.get("op", default_op)
        base = {"worker_type": self.worker_type, "worker": self.idx, "pid": os.getpid()}
        if op == "ping":
            return dict(base, ok=True, op="ping", model_sha256=self.model_sha)
        if op != default_op:
            return dict(base, ok=False, error="a %s pool does not do %r" % (self.worker_type, op))
        text = req.get("text")
        if not isinstance(text, str) or not text:
            return dict(base, ok=False, error="text must be a non-empty string")
        if len(text) > MAX_TEXT:
            return dict(base, ok=False, error="text longer than %d characters" % MAX_TEXT)
        voice = req.get("voice", "default")
        if not isinstance(voice, str):
            return dict(base, ok=False, error="voice must be a string")
        delay = req.get("delay_ms", 0)
        if isinstance(delay, (int, float)) and 0 < delay <= 10000:
            time.sleep(delay / 1000.0)  # simulated inference time
        nbytes = BYTES_PER_CHAR * len(text)
        seed = (self.model_sha + "\0" + voice + "\0" + text).encode()
        audio = hashlib.shake_256(seed).digest(nbytes)
        out = dict(
            base,
            ok=True,
            op=op,
            model_sha256=self.model_sha,
            text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            audio_bytes=nbytes,
            audio_sha256=hashlib.sha256(audio).hexdigest(),
            sample_rate=SAMPLE_RATE,
            duration_ms=len(text) * 60,
        )
        if op == "clone":
            out["voice"] = voice
        return out


def serve_conn(conn, job):
    conn.setblocking(True)
    conn.settimeout(CONN_TIMEOUT)
    buf = b""
    with conn:
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > MAX_REQUEST:
                    reply = {"ok": False, "error": "request line too long"}
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                    return
                try:
                    chunk = conn.recv(65536)
                except (socket.timeout, OSError):
                    return
                if not chunk:
                    if buf.strip():  # a last request without its newline
                        nl, buf = len(buf), buf + b"\n"
                    else:
                        return
                else:
                    buf += chunk
                    continue
            line, buf = buf[:nl], buf[nl + 1 :]
            if not line.strip():
                continue
            reply = job.answer(line.decode("utf-8", "replace"))
            try:
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                return


def worker_main(idx, args, listener, death_r, load_w):
    # Exit quietly on SIGTERM/SIGINT (the supervisor signals the whole group).
    def stop(signo, frame):
        os._exit(0)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if args.ignore_term else stop)
    signal.signal(signal.SIGINT, stop)

    t0 = time.monotonic()
    with open(args.model, "rb") as f:
        model = f.read()
    model_sha = hashlib.sha256(model).hexdigest()
    remaining = args.load_seconds - (time.monotonic() - t0)
    if remaining > 0:
        sel = selectors.DefaultSelector()
        sel.register(death_r, selectors.EVENT_READ)
        if sel.select(remaining):
            return 0  # the pool died while we were loading
        sel.close()
    took = time.monotonic() - t0
    os.write(load_w, ("%d %d %.3f %s\n" % (idx, os.getpid(), took, model_sha)).encode())
    os.close(load_w)

    job = Job(args.worker_type, idx, model_sha)
    sel = selectors.DefaultSelector()
    sel.register(death_r, selectors.EVENT_READ, "death")
    sel.register(listener, selectors.EVENT_READ, "listen")
    while True:
        for key, _ in sel.select():
            if key.data == "death":
                return 0
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                continue  # another worker took it
            except OSError as e:
                warn("worker %d: accept: %s" % (idx, e))
                continue
            serve_conn(conn, job)


# --- pool --------------------------------------------------------------------


def describe_status(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return "was killed by %s" % signal.Signals(sig).name
        except ValueError:
            return "was killed by signal %d" % sig
    return "exited with code %d" % os.WEXITSTATUS(status)


class Pool:
    def __init__(self, args):
        self.args = args
        self.path = args.socket
        self.tmp_path = "%s.%d.tmp" % (self.path, os.getpid())
        self.workers = {}  # pid -> index
        self.loaded = {}  # index -> (pid, seconds, model sha)
        self.published_ino = None
        self.pending = []
        self.notifier = Notifier() if args.notify else None

    def notify(self, msg):
        if self.notifier:
            self.notifier.notify(msg)

    def on_signal(self, signo, frame):
        self.pending.append(signo)

    def open_listener(self):
        if len(self.tmp_path.encode()) >= 108:
            warn("error: socket path too long for AF_UNIX (max 107 bytes): %s" % self.tmp_path)
            sys.exit(2)
        os.makedirs(os.path.dirname(self.path) or ".", mode=0o755, exist_ok=True)
        try:
            os.unlink(self.tmp_path)
        except FileNotFoundError:
            pass
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(self.tmp_path)
        ls.listen(64)
        ls.setblocking(False)
        self.listener = ls

    def spawn(self, idx):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (self.wake_r, self.wake_w, self.death_w, self.load_r):
                    os.close(fd)
                code = worker_main(idx, self.args, self.listener, self.death_r, self.load_w)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                warn("worker %d failed while loading its model:" % idx)
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        self.workers[pid] = idx

    def publish(self):
        os.rename(self.tmp_path, self.path)
        self.published_ino = os.stat(self.path).st_ino

    def remove_socket(self):
        if self.published_ino is None:
            paths = [self.tmp_path]
        else:
            paths = [self.path]
        for p in paths:
            try:
                # Remove only our own socket, not one a newer pool renamed there.
                if self.published_ino is None or os.stat(p).st_ino == self.published_ino:
                    os.unlink(p)
            except FileNotFoundError:
                pass

    def reap(self, stopping):
        """Reap exited workers; a worker lost outside shutdown fails the pool."""
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == 0:
                return None
            idx = self.workers.pop(pid, None)
            if idx is None or stopping:
                continue
            phase = "serving" if idx in self.loaded else "loading its model"
            warn("error: worker %d (pid %d) %s while %s" % (idx, pid, describe_status(status), phase))
            return 1
        return None

    def stop(self, code):
        self.remove_socket()
        self.notify("STOPPING=1")
        os.close(self.death_w)  # workers also see EOF and exit
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE
        while self.workers and time.monotonic() < deadline:
            self.reap(stopping=True)
            if self.workers:
                time.sleep(0.01)  # bounded poll, only during shutdown
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self.workers.pop(pid, None)
        say("%s pool stopped" % self.args.worker_type)
        return code

    def handle_loaded(self, data):
        self.load_buf += data
        while b"\n" in self.load_buf:
            line, self.load_buf = self.load_buf.split(b"\n", 1)
            idx, pid, took, sha = line.decode().split()
            self.loaded[int(idx)] = (int(pid), float(took), sha)
            say(
                "%s worker %d/%d (pid %s) loaded %s (sha256 %s) in %.2fs"
                % (self.args.worker_type, len(self.loaded), self.args.workers, pid,
                   os.path.basename(self.args.model), sha[:12], float(took))
            )
            self.notify("STATUS=loaded %d/%d workers" % (len(self.loaded), self.args.workers))

    def run(self):
        a = self.args
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self.wake_w)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(s, self.on_signal)
        if a.ignore_term:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            warn("warning: --ignore-term: this pool ignores SIGTERM")
        self.death_r, self.death_w = os.pipe()
        self.load_r, self.load_w = os.pipe()
        self.load_buf = b""
        self.open_listener()

        say("%s pool: starting %d workers, model %s, load time %.2fs"
            % (a.worker_type, a.workers, a.model, a.load_seconds))
        self.notify("STATUS=loading %s model on %d workers" % (a.worker_type, a.workers))
        for idx in range(a.workers):
            self.spawn(idx)
        os.close(self.load_w)
        os.close(self.death_r)

        sel = selectors.DefaultSelector()
        sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        sel.register(self.load_r, selectors.EVENT_READ, "load")
        crash_at = None
        leak_at, leaked = None, []
        up = False
        while True:
            timeout = None if crash_at is None else max(0.0, crash_at - time.monotonic())
            if leak_at is not None:
                timeout = max(0.0, leak_at - time.monotonic()) if timeout is None else \
                    min(timeout, max(0.0, leak_at - time.monotonic()))
            for key, _ in sel.select(timeout):
                if key.data == "wake":
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    data = os.read(self.load_r, 4096)
                    if data:
                        self.handle_loaded(data)
                    else:
                        sel.unregister(self.load_r)
                        os.close(self.load_r)
            if not up and len(self.loaded) == a.workers:
                up = True
                if a.hang:
                    warn("--hang: all workers loaded, but this pool never reports readiness")
                else:
                    self.publish()
                    self.notify("READY=1")
                    self.notify("STATUS=%d %s workers serving on %s" % (a.workers, a.worker_type, self.path))
                    if not a.no_ready_line:
                        sys.stdout.write("ready\n")
                        sys.stdout.flush()
                    say("%s pool: serving on %s" % (a.worker_type, self.path))
                    if a.crash_after is not None:
                        crash_at = time.monotonic() + a.crash_after
                    if a.leak_mb:
                        leak_at = time.monotonic()
            pending, self.pending = self.pending, []
            for signo in pending:
                if signo in (signal.SIGTERM, signal.SIGINT):
                    say("%s pool: got %s, stopping workers" % (a.worker_type, signal.Signals(signo).name))
                    return self.stop(0)
            if signal.SIGCHLD in pending:
                failed = self.reap(stopping=False)
                if failed is not None:
                    return self.stop(failed)
            if crash_at is not None and time.monotonic() >= crash_at:
                crash(a.crash_mode)
            if leak_at is not None and time.monotonic() >= leak_at:
                # A leak as a model cache that never evicts: touched pages, a tenth of
                # the rate every 0.1 s, until the kernel's OOM killer ends it.
                leaked.append(b"\x01" * ((a.leak_mb << 20) // 10))
                leak_at += 0.1


def env_default(name, conv, fallback):
    value = os.environ.get(name)
    if value is None or value == "":
        return fallback
    try:
        return conv(value)
    except ValueError:
        warn("error: bad value for %s: %r" % (name, value))
        sys.exit(2)


def env_flag(name):
    return os.environ.get(name, "") not in ("", "0", "no", "false")


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Example ML worker pool: N workers load a model, then `ready` is printed "
        "and jobs are served on a unix socket (one JSON line per request and per answer).",
        epilog="Every failure-injection flag can also be set through the environment "
        "variable named in its help (handy in hfinit's config: env = HFINIT_TEST_FAIL=1).",
    )
    p.add_argument("--workers", type=int, default=1, help="number of worker processes (default 1)")
    p.add_argument("--worker-type", choices=WORKER_TYPES, required=True, help="what the pool serves")
    p.add_argument("--socket", help="unix socket path (default $HFINIT_RUN_DIR/<type>.sock, "
                   "else %s/<type>.sock)" % DEFAULT_RUN_DIR)
    p.add_argument("--model", help="model file each worker reads (default "
                   "$HF_HOME/example-space/<type>.bin when server/fetch-models.sh put it "
                   "there, else models/<type>.bin of the example Space)")
    p.add_argument("--load-seconds", type=float, default=None,
                   help="time each worker takes to load its model (default 1; env HFINIT_TEST_LOAD_SECONDS)")
    p.add_argument("--notify", action="store_true",
                   help="also send STATUS=, READY=1 and STOPPING=1 to $NOTIFY_SOCKET, as the sdnotify package does")
    p.add_argument("--no-ready-line", action="store_true",
                   help="do not print the `ready` line (use with --notify)")
    p.add_argument("--fail-at-start", type=int, metavar="CODE", default=None,
                   help="print a realistic traceback and exit CODE before ready (env HFINIT_TEST_FAIL)")
    p.add_argument("--fail-kind", choices=sorted(FAIL_KINDS), default=None,
                   help="which error --fail-at-start shows (default module: No module named 'torch'; "
                   "env HFINIT_TEST_FAIL_KIND)")
    p.add_argument("--hang", action="store_true",
                   help="load the workers but never become ready (env HFINIT_TEST_HANG=1)")
    p.add_argument("--crash-after", type=float, metavar="SECONDS", default=None,
                   help="die SECONDS after ready (env HFINIT_TEST_CRASH_AFTER)")
    p.add_argument("--crash-mode", choices=("segv", "exit"), default=None,
                   help="how --crash-after dies: segv = killed by SIGSEGV (default), exit = traceback "
                   "and exit 1 (env HFINIT_TEST_CRASH_MODE)")
    p.add_argument("--leak-mb", type=int, metavar="MB", default=None,
                   help="after ready the pool grows by MB MiB per second, without end, as a "
                   "leaking cache does (env HFINIT_TEST_LEAK_MB)")
    p.add_argument("--ignore-term", action="store_true",
                   help="pool and workers ignore SIGTERM; only SIGKILL stops them (env HFINIT_TEST_IGNORE_TERM=1)")
    a = p.parse_args(argv)
    if a.workers < 1:
        p.error("--workers must be at least 1")
    if a.fail_at_start is None:
        a.fail_at_start = env_default("HFINIT_TEST_FAIL", int, None)
    a.fail_kind = a.fail_kind or env_default("HFINIT_TEST_FAIL_KIND", str, "module")
    if a.fail_kind not in FAIL_KINDS:
        p.error("unknown fail kind %r (one of %s)" % (a.fail_kind, ", ".join(sorted(FAIL_KINDS))))
    if a.load_seconds is None:
        a.load_seconds = env_default("HFINIT_TEST_LOAD_SECONDS", float, 1.0)
    a.hang = a.hang or env_flag("HFINIT_TEST_HANG")
    if a.crash_after is None:
        a.crash_after = env_default("HFINIT_TEST_CRASH_AFTER", float, None)
    a.crash_mode = a.crash_mode or env_default("HFINIT_TEST_CRASH_MODE", str, "segv")
    if a.crash_mode not in ("segv", "exit"):
        p.error("crash mode must be segv or exit")
    a.ignore_term = a.ignore_term or env_flag("HFINIT_TEST_IGNORE_TERM")
    if a.leak_mb is None:
        a.leak_mb = env_default("HFINIT_TEST_LEAK_MB", int, 0)
    if a.leak_mb < 0:
        p.error("--leak-mb must not be negative")
    a.socket = a.socket or socket_path_for(a.worker_type)
    a.model = a.model or default_model(a.worker_type)
    return a


def default_model(worker_type):
    """The copy server/fetch-models.sh put into $HF_HOME (hfinit.ini's stage-1
    one-shot), else the image's own models/<type>.bin."""
    name = worker_type + ".bin"
    hf = os.environ.get("HF_HOME")
    fetched = os.path.join(hf, "example-space", name) if hf else None
    if fetched and os.path.isfile(fetched):
        return fetched
    return os.path.join(SPACE_DIR, "models", name)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.fail_at_start is not None:
        fail_at_start(args.fail_at_start, args.fail_kind)
    return Pool(args).run()


if __name__ == "__main__":
    sys.exit(main())
