#!/usr/bin/python3
"""The seccomp filter's cost (docs/sandbox.md "Cost").

bench-getpid (a static helper) times getpid(2) in a tight loop. It runs as the
only service of hfinit, once without a profile and once under the built-in
`worker` profile; the two runs alternate (ABAB...) so machine noise hits both
alike. Reported: the median over runs of each run's best ns per call, and the
difference (the filter's cost per system call; getpid is near the cheapest
call there is, so this is the filter's whole added cost, not a fraction of it).

Environment: HFINIT_BIN, HFINIT_HELPERS (`make bench` sets both). Standard
library only; any user.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

T_RUN = 120.0  # bound on one hfinit run
PROFILES = [("none", None), ("worker", "worker")]


class BenchError(Exception):
    pass


def one_run(hfinit, helper, profile, iters, repeats, tmp):
    conf = os.path.join(tmp, "bench-seccomp.ini")
    with open(conf, "w") as f:
        f.write("[service:bench]\ncommand = %s %d %d\nrestart = no\n%s"
                % (helper, iters, repeats, "seccomp = %s\n" % profile if profile else ""))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HFINIT_STATUS_DIR": os.path.join(tmp, "status")}
    try:
        r = subprocess.run([hfinit, "-c", conf], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=T_RUN, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError("hfinit did not finish within %.0fs" % T_RUN)
    m = re.search(r"^\[bench\] getpid ns_best=([\d.]+) ns_median=([\d.]+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise BenchError("hfinit exited %d without a result\nstdout:\n%s\nstderr:\n%s"
                         % (r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    if profile and "Seccomp" in r.stderr and "SIGSYS" in r.stderr:
        raise BenchError("the helper died under %s:\n%s" % (profile, r.stderr[-2000:]))
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="hfinit runs per profile (10)")
    ap.add_argument("--iters", type=int, default=1000000, help="getpid calls per timing (1e6)")
    ap.add_argument("--repeats", type=int, default=5, help="timings per run; best kept (5)")
    ap.add_argument("--quick", action="store_true", help="3 runs of 200000 calls")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.iters = 3, 200000
    hfinit = os.environ.get("HFINIT_BIN")
    helper = os.path.join(os.environ.get("HFINIT_HELPERS", ""), "bench-getpid")
    if not hfinit or not os.access(hfinit, os.X_OK) or not os.access(helper, os.X_OK):
        print("seccomp bench: set HFINIT_BIN and HFINIT_HELPERS (make bench does)",
              file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="hfinit-bench-seccomp-")
    os.chmod(tmp, 0o755)
    res = {name: [] for name, _ in PROFILES}
    try:
        for i in range(a.runs):
            order = PROFILES if i % 2 == 0 else PROFILES[::-1]
            for name, prof in order:
                res[name].append(one_run(hfinit, helper, prof, a.iters, a.repeats, tmp))
    except BenchError as e:
        print("seccomp bench: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    cost = med["worker"] - med["none"]
    print("seccomp filter cost: ns per getpid (median of %d hfinit runs, each the best of %d "
          "timings of %d calls)" % (a.runs, a.repeats, a.iters))
    print("  %-8s %10s %10s %10s" % ("profile", "median", "min", "max"))
    for name, _ in PROFILES:
        xs = res[name]
        print("  %-8s %10.1f %10.1f %10.1f" % (name, med[name], min(xs), max(xs)))
    print("  worker - none: %+.1f ns per call (%+.0f%%)" % (cost, 100.0 * cost / med["none"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"runs": a.runs, "iters": a.iters, "repeats": a.repeats,
                       "ns_best_per_run": res, "median": med, "cost_ns": cost}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
