"""Supervision mode: what batching the services' output into large writes
could break (docs/supervise.md, "Logs"): lines of two chatty services, long
and short, on stdout and stderr at once, arrive whole and in order per stream;
a partial last line goes out when its service exits, while hfinit runs on; a
line read while everything is idle goes out at once, without waiting for more
output; a slow reader holds the services back, with nothing lost and hfinit's
memory bounded. Behaviour only: no timing is asserted.
"""

import fcntl
import json
import os
import re
import threading
import time

import pytest

from supervise_util import (HFINIT, PY, q, start_hfinit, svc, wait_for,  # noqa: F401
                            write_config)

HELPERS = os.environ.get("HFINIT_HELPERS") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build",
    "helpers")
LINES = os.path.join(HELPERS, "bench-lines")
PIECE = 8192  # LINEBUF_MAX: a longer line comes in pieces of this size

# Writes numbered, checksummed lines of 1..20000 bytes to stdout and stderr,
# in writes cut at arbitrary points (lines split across writes), then exits.
CHATTY_PY = r'''
import os, sys, zlib
name, count = sys.argv[1].encode(), int(sys.argv[2])
sizes = (1, 7, 100, 3000, 8191, 8192, 8193, 20000) if len(sys.argv) < 4 else (1, 7, 100, 1000)
os.write(1, b"svc-is-up\n")
pend = {1: b"", 2: b""}
for seq in range(count):
    fd = 1 if seq % 3 else 2
    k = sizes[seq % len(sizes)] + seq % 5
    head = b"%s %d %d " % (name, fd, seq)
    body = (b"%08x" % zlib.crc32(head)) * (k // 8 + 1)
    line = head + b"%08x " % zlib.crc32(head + body[:k]) + body[:k] + b"\n"
    pend[fd] += line
    cut = len(pend[fd]) * (seq % 7 + 1) // 8  # part of a line stays for the next write
    if cut:
        os.write(fd, pend[fd][:cut])
        pend[fd] = pend[fd][cut:]
for fd in (1, 2):
    os.write(fd, pend[fd])
'''

LINE_RE = re.compile(rb"^(\w+) ([12]) (\d+) ([0-9a-f]{8}) (.*)$", re.S)


def _check_stream(pieces, name, fd, count):
    """Reassemble a service's pieces (PIECE bytes: more follows) and check
    every line of stream fd: whole, checksummed, none lost, in order."""
    import zlib
    lines, cur = [], b""
    for p in pieces:
        cur += p
        if len(p) == PIECE:
            continue
        lines.append(cur)
        cur = b""
    assert cur == b""
    want = [s for s in range(count) if (1 if s % 3 else 2) == fd]
    got = []
    for ln in lines:
        m = LINE_RE.match(ln)
        assert m, ln[:80]
        assert (m.group(1), int(m.group(2))) == (name, fd)
        head = b"%s %s %s " % (m.group(1), m.group(2), m.group(3))
        assert zlib.crc32(head + m.group(5)) == int(m.group(4), 16), ln[:80]
        got.append(int(m.group(3)))
    assert got == want


def test_two_chatty_services_lines_whole_and_ordered(tmp_path, start_hfinit):  # noqa: F811
    script = os.path.join(str(tmp_path), "chatty.py")
    with open(script, "w") as f:
        f.write(CHATTY_PY)
    count = 400
    cfg = write_config(tmp_path, """
        [service:a]
        command = %s
        ready = line:svc-is-up
        restart = no
        [service:b]
        command = %s
        ready = line:svc-is-up
        restart = no
        """ % (q(PY, script, "a", count), q(PY, script, "b", count)))
    out = {b"a": [], b"b": []}

    def on_out(raw):
        m = re.match(rb"^\[(a|b)\] (.*)\n$", raw, re.S)
        assert m, raw[:80]
        if m.group(2) != b"svc-is-up":
            out[m.group(1)].append(m.group(2))

    h = start_hfinit(cfg, stdout_line=on_out)
    h.wait_line(r"every service has ended", timeout=30)
    assert h.wait_exit(timeout=30) == 0, h.dump()
    err = {b"a": [], b"b": []}
    with h.cond:
        for _, t in h.lines["err"]:
            m = re.match(r"^\[(a|b)\] (.*)$", t, re.S)
            if m:
                err[m.group(1).encode()].append(m.group(2).encode())
    for name in (b"a", b"b"):
        _check_stream(out[name], name, 1, count)
        _check_stream(err[name], name, 2, count)
    assert h.find(r"dropped") is None, h.dump()


def test_stdout_and_stderr_on_one_pipe_lines_whole(tmp_path):
    """2>&1: hfinit's stdout and stderr are one pipe, read slowly. Each write
    is whole lines (at most PIPE_BUF bytes, all or nothing), so a line of
    one stream is never cut by the other's (lines here up to 1004 bytes)."""
    import subprocess
    script = os.path.join(str(tmp_path), "chatty.py")
    with open(script, "w") as f:
        f.write(CHATTY_PY)
    count = 3000
    cfg = write_config(tmp_path, """
        [hfinit]
        status_dir = %s
        [service:a]
        command = %s
        restart = no
        [service:b]
        command = %s
        restart = no
        """ % (os.path.join(str(tmp_path), "status"), q(PY, script, "a", count, "short"),
               q(PY, script, "b", count, "short")))
    p = subprocess.Popen([HFINIT, "-c", cfg], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    data = b""
    while True:
        chunk = p.stdout.read(1000)  # small reads: the pipe is often full
        if not chunk:
            break
        data += chunk
    assert p.wait(30) == 0
    got = {(b"a", 1): [], (b"a", 2): [], (b"b", 1): [], (b"b", 2): []}
    for raw in data.split(b"\n")[:-1]:
        if raw.startswith(b"hfinit: ") or raw.endswith(b"svc-is-up"):
            continue
        m = re.match(rb"^\[(a|b)\] (.*)$", raw, re.S)
        assert m, raw[:80]
        lm = LINE_RE.match(m.group(2))
        assert lm and lm.group(1) == m.group(1), raw[:80]
        got[(m.group(1), int(lm.group(2)))].append(m.group(2))
    for (name, fd), pieces in got.items():
        _check_stream(pieces, name, fd, count)


def test_partial_last_line_goes_out_when_its_service_exits(tmp_path, start_hfinit):  # noqa: F811
    """While hfinit runs on (another service is up), the unterminated last
    line of a service that exited appears, on stdout and on stderr."""
    cfg = write_config(tmp_path, """
        [service:stay]
        command = %s
        [service:part]
        command = %s
        restart = no
        """ % (svc("--hang", "--no-ready-line"),
               q(PY, "-c", "import os; os.write(1, b'one\\ntail-out'); os.write(2, b'tail-err')")))
    h = start_hfinit(cfg)
    h.wait_line(r"^\[part\] tail-out$", stream="out")
    h.wait_line(r"^\[part\] tail-err$")
    assert h.running()
    out = h.text("out").split("\n")
    assert out.index("[part] one") < out.index("[part] tail-out")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


@pytest.mark.parametrize("stream", ["out", "err"])
def test_line_when_idle_goes_out_at_once(tmp_path, start_hfinit, stream):  # noqa: F811
    """A service writes one line, then nothing for a minute: the line appears
    (awaited with a bounded wait), and so does the next one after a pause
    that hfinit spends asleep."""
    fifo = os.path.join(str(tmp_path), "go")
    os.mkfifo(fifo)
    fd = 1 if stream == "out" else 2
    code = ("import os, time; os.write(%d, b'first\\n'); f = open(%r); f.read(1); "
            "os.write(%d, b'second\\n'); time.sleep(60)" % (fd, fifo, fd))
    cfg = write_config(tmp_path, """
        [service:idle]
        command = %s
        """ % q(PY, "-c", code))
    h = start_hfinit(cfg)
    h.wait_line(r"^\[idle\] first$", stream=stream, timeout=5)
    assert h.find(r"^\[idle\] second$", stream=stream) is None
    wfd = os.open(fifo, os.O_WRONLY)
    os.write(wfd, b"x")
    os.close(wfd)
    h.wait_line(r"^\[idle\] second$", stream=stream, timeout=5)
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_log_pipes_raised_to_the_buffer_size(tmp_path, start_hfinit):  # noqa: F811
    """hfinit's stdout and stderr pipes hold 1 MiB, the size of its buffer per
    stream, once it runs (fewer, larger writes for the log reader): the pipes
    the test reads are 64 KiB when they are made."""
    cfg = write_config(tmp_path, """
        [service:one]
        command = %s
        """ % q(PY, "-c", "import os, time; os.write(1, b'up\\n'); time.sleep(60)"))
    h = start_hfinit(cfg)
    h.wait_line(r"^\[one\] up$", stream="out", timeout=5)
    with open("/proc/sys/fs/pipe-max-size") as f:
        cap = int(f.read())
    want = 1 << 20 if os.geteuid() == 0 or cap >= 1 << 20 else 65536
    for f in (h.p.stdout, h.p.stderr):
        assert fcntl.fcntl(f.fileno(), fcntl.F_GETPIPE_SZ) == want
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


# One write of many stderr lines: plain ones (near misses of the classifier's
# words among them) around errors, warnings, tracebacks and a failure
# signature. Each is (line, errors it adds, warnings it adds).
STDERR_KINDS = [
    ("plain {} 0 Errors found, errorless run, WARNINGS: none", 0, 0),
    ("plain {} FATALITY mode step 00000401 done 403.5 Conn ok", 0, 0),
    ("ValueError: bad shape {}", 1, 0),
    ("UserWarning: slow {}", 0, 1),
    ("OSError: [Errno 28] No space left on device ({})", 1, 0),
]
TRACEBACK = ["Traceback (most recent call last):", '  File "w.py", line {}, in <module>',
             "    run()", "KeyError: 'k{}'"]


def stderr_burst():
    """(lines, errors, warnings, the last error line)"""
    lines, errors, warnings, last = [], 0, 0, None
    for i in range(4000):
        k = i * 7919 % 101
        if k == 0:
            lines += [t.format(i) for t in TRACEBACK]
            errors += 1
            last = lines[-1]
        else:
            t, e, w = STDERR_KINDS[0 if k > 8 else 1 if k > 4 else k % 3 + 2]
            lines.append(t.format(i))
            errors += e
            warnings += w
            last = lines[-1] if e else last
    return lines, errors, warnings, last


def test_stderr_burst_classified_line_by_line(tmp_path, start_hfinit):  # noqa: F811
    """A burst on stderr: every line comes out as written and in order, and
    status.json counts exactly its errors (a traceback once) and warnings,
    keeps its last error line and the signature's category; the signature's
    hint is logged once."""
    lines, errors, warnings, last = stderr_burst()
    data = tmp_path / "lines.txt"
    data.write_text("".join(ln + "\n" for ln in lines))
    code = ("import os, sys, time; os.write(2, open(sys.argv[1], 'rb').read()); "
            "time.sleep(60)")
    cfg = write_config(tmp_path, """
        [service:burst]
        command = %s
        """ % q(PY, "-c", code, str(data)))
    h = start_hfinit(cfg)
    sj = os.path.join(h.status_dir, "status.json")

    def counted():
        try:
            with open(sj) as f:
                svc = json.load(f)["services"].get("burst")
        except (OSError, ValueError):
            return None
        return svc if svc and svc["errors"] + svc["warnings"] >= errors + warnings else None

    svc_doc = wait_for(counted, what="the burst's errors in status.json")
    assert (svc_doc["errors"], svc_doc["warnings"]) == (errors, warnings)
    assert svc_doc["last_error"]["text"] == last
    assert svc_doc["last_error"]["category"] == "disk-full"
    h.wait_line(r"^\[burst\] %s$" % re.escape(lines[-1]), timeout=10)
    got = [m.group(1) for m in (re.match(r"^\[burst\] (.*)$", t) for t in h.text("err").split("\n"))
           if m]
    assert got == lines
    assert len(h.find_all(r"disk-full: the disk is full")) == 1, h.dump()
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def _vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
    return None


RATE = 16_000_000  # bytes/s: the slow reader


@pytest.mark.skipif(not os.access(LINES, os.X_OK), reason="no bench-lines helper (make helpers)")
def test_slow_reader_backpressure_nothing_lost_memory_bounded(tmp_path, start_hfinit):  # noqa: F811
    """Two services write 24 MiB each as fast as they can; hfinit's stdout is
    read at 16 MB/s. Every line arrives, in order per service, none dropped,
    and hfinit's peak memory (VmHWM) stays below 12 MiB, less than one
    stream's buffer may grow to (16 MiB): the services wait for the reader,
    their output is not piled up in hfinit."""
    mib = 24
    cfg = write_config(tmp_path, """
        [service:x]
        command = %s
        restart = no
        [service:y]
        command = %s
        restart = no
        """ % (q(LINES, mib << 20), q(LINES, mib << 20)))
    st = {"x": 0, "y": 0, "bad": [], "n": 0, "t0": None}

    def on_out(raw):
        if st["t0"] is None:
            st["t0"] = time.monotonic()
        st["n"] += len(raw)
        ahead = st["n"] / RATE - (time.monotonic() - st["t0"])
        if ahead > 0:
            time.sleep(ahead)  # the rate limit, not a synchronisation
        m = re.match(rb"^\[(x|y)\] (\d{8}) INFO worker: ", raw)
        if not m or int(m.group(2)) != st[m.group(1).decode()]:
            st["bad"].append(raw[:40])
        else:
            st[m.group(1).decode()] += 1

    h = start_hfinit(cfg, stdout_line=on_out)
    h.wait_line(r"every service has ended", timeout=60)
    hwm = _vm_hwm_kib(h.pid)
    assert h.wait_exit(timeout=30) == 0, h.dump()
    per = (mib << 20) // 100
    assert (st["x"], st["y"], st["bad"][:3]) == (per, per, [])
    assert h.find(r"dropped") is None, h.dump()
    assert hwm is not None and hwm < 12 * 1024, "VmHWM %d KiB" % hwm
