"""Dev Mode watch (docs/devmode.md, issue 12): `watch =` restarts a service
when a file under it changes, as a requested restart (not counted toward
restart_burst), after `watch_debounce` of quiet. Real hfinit (as PID 1 and as
a subreaper) and real python3 services (tests/fixtures/svc.py); every wait is
bounded and awaits a line or a record, never a fixed sleep (the idle check
excepted: it measures a quiet second).

The services' records go outside the watched trees: a write under them would
be a change."""

import json
import os
import subprocess
import time

import pytest

from supervise_util import (HFINIT, MODES, PY, need_hfinit, read_records,  # noqa: F401
                            start_hfinit, svc, wait_for, wait_records, write_config)


def starts(path):
    return [r for r in read_records(path) if r["event"] == "start"]


def write(path, text="x = 1\n"):
    with open(path, "w") as f:
        f.write(text)


def service(h, name):
    with open(os.path.join(h.status_dir, "status.json")) as f:
        return json.load(f)["services"][name]


def setup_app(tmp_path):
    app = tmp_path / "app"
    (app / "pkg").mkdir(parents=True)
    write(str(app / "main.py"))
    write(str(app / "pkg" / "mod.py"))
    return app


def restarted(h, rec, n, what):
    """Wait for the n-th start record."""
    wait_records(rec, lambda r: len([x for x in r if x["event"] == "start"]) >= n, what=what)


@pytest.mark.parametrize("mode", MODES)
def test_write_restarts_not_counted(tmp_path, start_hfinit, mode):  # noqa: F811
    """A write restarts the service (a new process); it is not a restart of the
    burst: restart_burst = 1 is never hit, restarts stays 0."""
    app = setup_app(tmp_path)
    rec = str(tmp_path / "rec")
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        ready = line:svc-is-up
        restart_burst = 1
        watch = %s
        watch_debounce = 100ms
        """ % (svc("--record", rec, "--name", "w"), app))
    h = start_hfinit(cfg, mode=mode)
    h.wait_line(r"\[w\] ready in")
    first, pos = starts(rec)[0]["pid"], 0
    for k in range(3):  # three edits: past restart_burst = 1
        write(str(app / "main.py"), "x = %d\n" % k)
        pos = h.wait_line(r"^hfinit: info: \[w\] changed: %s; restarting$" % (app / "main.py"),
                          start=pos)[0] + 1
        restarted(h, rec, k + 2, "start %d" % (k + 2))
        wait_for(lambda: len(h.find_all(r"\[w\] ready in")) >= k + 2, what="ready again")
    assert starts(rec)[-1]["pid"] != first
    wait_for(lambda: service(h, "w")["state"] == "ready", what="ready in status.json")
    st = service(h, "w")
    assert st["restarts"] == 0, st
    assert st["requested_restarts"] == 3, st
    assert not h.find(r"gave up")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_rename_over_a_watched_file(tmp_path, start_hfinit):  # noqa: F811
    """An editor's save: write a temporary file, rename it over the watched
    file (a new inode). A watched file is watched through its directory, so
    the rename is seen, and the next save too; a sibling is not its change."""
    app = setup_app(tmp_path)
    rec = str(tmp_path / "rec")
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        ready = line:svc-is-up
        watch = %s
        watch_debounce = 100ms
        """ % (svc("--record", rec, "--name", "w"), app / "main.py"))
    h = start_hfinit(cfg)
    h.wait_line(r"\[w\] ready in")
    write(str(app / "other.py"))  # not the watched file: not a change
    pos = 0
    for k in range(2):
        tmp = str(app / (".main.py.%d.tmp" % k))
        write(tmp, "y = %d\n" % k)
        os.rename(tmp, str(app / "main.py"))
        pos = h.wait_line(r"\[w\] changed: %s; restarting$" % (app / "main.py"), start=pos)[0] + 1
        restarted(h, rec, k + 2, "start after save %d" % k)
    assert len(h.find_all(r"\[w\] changed:")) == 2, h.dump()
    assert not h.find(r"other\.py")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_new_subdirectory_and_ignored_names(tmp_path, start_hfinit):  # noqa: F811
    """A new file in a new subdirectory is a change, and the new directory is
    watched from then on. __pycache__/x.pyc and an editor's swap file are not
    changes: a change after them is the one named (the first of a burst)."""
    app = setup_app(tmp_path)
    rec = str(tmp_path / "rec")
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        ready = line:svc-is-up
        watch = %s
        watch_debounce = 200ms
        """ % (svc("--record", rec, "--name", "w"), app))
    h = start_hfinit(cfg)
    h.wait_line(r"\[w\] ready in")
    (app / "__pycache__").mkdir()
    write(str(app / "__pycache__" / "x.pyc"), "compiled")
    write(str(app / ".main.py.swp"), "swap")
    write(str(app / "pkg" / "mod.py"), "z = 2\n")  # after the ignored ones, in one burst
    h.wait_line(r"\[w\] changed: %s; restarting$" % (app / "pkg" / "mod.py"))
    restarted(h, rec, 2, "restart after mod.py")
    (app / "pkg" / "new" / "deeper").mkdir(parents=True)
    write(str(app / "pkg" / "new" / "deeper" / "a.py"))
    h.wait_line(r"\[w\] changed: %s(/deeper)?(/a\.py)?( and \d+ more)?; restarting$"
                % (app / "pkg" / "new"))
    restarted(h, rec, 3, "restart after the new directory")
    write(str(app / "pkg" / "new" / "deeper" / "a.py"), "a = 2\n")  # watched now
    h.wait_line(r"\[w\] changed: %s; restarting$" % (app / "pkg" / "new" / "deeper" / "a.py"))
    restarted(h, rec, 4, "restart after a.py")
    write(str(app / "__pycache__" / "x.pyc"), "again")
    assert not h.find(r"__pycache__|\.swp"), h.dump()
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_debounce_coalesces_a_burst(tmp_path, start_hfinit):  # noqa: F811
    """20 writes in a burst are one restart, after watch_debounce of quiet."""
    app = setup_app(tmp_path)
    rec = str(tmp_path / "rec")
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        ready = line:svc-is-up
        watch = %s
        watch_debounce = 400ms
        """ % (svc("--record", rec, "--name", "w"), app))
    h = start_hfinit(cfg)
    h.wait_line(r"\[w\] ready in")
    t0 = time.monotonic()
    for k in range(20):
        write(str(app / "main.py"), "x = %d\n" % k)
    t_last = time.monotonic()
    _, t_line, _ = h.wait_line(r"\[w\] changed: %s and \d+ more; restarting$" % (app / "main.py"))
    assert t_line - t_last >= 0.39, (t0, t_last, t_line)
    restarted(h, rec, 2, "the restart")
    # a later change is a restart of its own: the burst was one
    write(str(app / "pkg" / "mod.py"))
    h.wait_line(r"\[w\] changed: %s; restarting$" % (app / "pkg" / "mod.py"))
    restarted(h, rec, 3, "the second restart")
    assert len(h.find_all(r"\[w\] changed:")) == 2, h.dump()
    assert len(starts(rec)) == 3
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_fixing_a_crash_starts_a_failed_service(tmp_path, start_hfinit):  # noqa: F811
    """The Dev Mode loop: an edit breaks the script, the service fails (its
    attempts are over); the fix is a change, and it starts again. A missing
    watch path is a warning at start, and the service runs."""
    app = setup_app(tmp_path)
    write(str(app / "main.py"), "raise SystemExit(3)\n")
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s %s
        ready = line:svc-is-up
        retries = 1
        required = no
        watch = %s %s
        watch_debounce = 100ms
        [service:keep]
        command = %s
        """ % (PY, app / "main.py", app, tmp_path / "missing", svc()))
    h = start_hfinit(cfg)
    h.wait_line(r"\[w\] watch = %s: No such file or directory: not watched" % (tmp_path / "missing"))
    h.wait_line(r"\[w\] attempt 1 of 1 failed")
    wait_for(lambda: service(h, "w")["state"] == "failed", what="w failed")
    write(str(app / "main.py"), "import time\nprint('svc-is-up', flush=True)\ntime.sleep(600)\n")
    h.wait_line(r"\[w\] changed: %s; restarting$" % (app / "main.py"))
    h.wait_line(r"\[w\] ready in")
    wait_for(lambda: service(h, "w")["state"] == "ready", what="w ready in status.json")
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_idle_while_watching_makes_no_wakeups(tmp_path, start_hfinit):  # noqa: F811
    """docs/design.md "Supervisor": with a watch on a tree, an idle hfinit
    still makes no wake-ups (inotify is a loop watch; no timer until a
    change)."""
    app = setup_app(tmp_path)
    for k in range(20):
        (app / ("d%d" % k) / "sub").mkdir(parents=True)
    cfg = write_config(tmp_path, """
        [service:w]
        command = %s
        ready = line:svc-is-up
        watch = %s
        """ % (svc(), app))
    h = start_hfinit(cfg)
    h.wait_line(r"all stages up")
    h.wait_line(r"^\[w\] svc-is-up$", stream="out")

    def switches():
        with open("/proc/%d/status" % h.pid) as f:
            return sum(int(line.split()[1]) for line in f
                       if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))

    # the start's last turns (the ready line passed on, the status write) are
    # over once the counters hold still for 100ms (bounded by wait_for)
    def settled():
        a = switches()
        time.sleep(0.1)
        return switches() == a

    wait_for(settled, what="hfinit settled")
    before = switches()
    time.sleep(1.0)  # a "nothing happens" check: idle for a second
    after = switches()
    assert after - before == 0, (before, after)
    h.signal(15)
    assert h.wait_exit() == 0, h.dump()


def test_check_shows_the_watch(tmp_path):
    """`hfinit check` plans the watch as the start does: paths made absolute
    from workdir, a missing one a warning (exit 0), the quiet and the globs;
    --json has them too."""
    need_hfinit()
    app = setup_app(tmp_path)
    cfg = write_config(tmp_path, """
        [service:w]
        command = /bin/sleep 1
        workdir = %s
        watch = pkg missing
        watch_ignore = __pycache__ node_modules
        watch_debounce = 250ms
        """ % app)
    r = subprocess.run([HFINIT, "check", "-c", cfg], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "watch = %s: No such file or directory: not watched" % (app / "missing") in r.stdout
    assert ("watch: %s %s (restart after 250ms of quiet; ignoring __pycache__ node_modules)"
            % (app / "pkg", app / "missing")) in r.stdout, r.stdout
    r = subprocess.run([HFINIT, "check", "-c", cfg, "--json"], capture_output=True, text=True,
                       timeout=30)
    assert json.loads(r.stdout)["services"]["w"]["watch"] == {
        "paths": [str(app / "pkg"), str(app / "missing")],
        "ignore": ["__pycache__", "node_modules"], "debounce_ms": 250}
