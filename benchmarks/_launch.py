"""Run one command and report its wall time, CPU time and peak RSS as JSON.

    python benchmarks/_launch.py OUT.json CMD [ARG...]

Why a launcher: Linux carries a process's peak RSS across fork and exec, so a child
forked from run.py (which holds the corpus and the query mix) would report run.py's
size as its own. Forked from this small process, the child's ``ru_maxrss`` (read with
wait4, for that child alone and the descendants it waited for) is its own. Exits with
the command's exit status.
"""
import json
import os
import subprocess
import sys
import time


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = rc = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "wall_s": wall,
                "rc": rc,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "max_single_rss_mb": usage.ru_maxrss / 1024.0,  # KiB on Linux
            },
            f,
        )
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
