"""Hostile input on the command line: wall time, exit status and peak memory of each case of the
bounded-work acceptance list, each in a fresh process.

Run:  python benchmarks/bench_hostile.py

Targets (issue "bounded work"): every case ends within 15 s with exit status 2 and a one-line
message (or, where the input is legal, with status 0), and its peak resident memory stays under
2 GB. The peak is the child's own maximum resident set size (``os.wait4``), so each figure is one
case's, not the largest so far. The baseline for comparison is ``bea --version`` in a fresh
process (start-up and imports only). Each child runs ``bea.cli.main`` on a command line it reads
as JSON on stdin (a 1 MB argument is over the operating system's limit for one argument).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import bea

CASES = [  # label, arguments, expected status
    ("--version (baseline)", ["--version"], 0),
    ("a**999999999, order 3", ["derive", "a**999999999", "--params", "a", "--order", "3"], 2),
    (
        "10,000 nested parentheses",
        ["derive", "(" * 10_000 + "a" + ")" * 10_000, "--params", "a"],
        2,
    ),
    ("a 1 MB loss string", ["derive", "a" * 1_000_000, "--params", "a"], 2),
    ("--order 1000000", ["derive", "a**2", "--params", "a", "--order", "1000000"], 2),
    (
        "order 40 on (y - a*b*x)**2/2",
        ["derive", "(y - a*b*x)**2/2", *"--params a b --order 40".split()],
        2,
    ),
    (
        "log(1 + exp(-w*x)), order 30, --timeout 5",
        ["derive", "log(1 + exp(-w*x))", *"--params w --order 30 --timeout 5".split()],
        2,
    ),
    (
        "4-parameter order 8, --timeout 2",
        ["derive", "(y - a*b*c*d*x)**2/2", *"--params a b c d --order 8 --timeout 2".split()],
        2,
    ),
    ("Abs(a)", ["derive", "Abs(a)", "--params", "a"], 2),
    ("sign(a)", ["derive", "sign(a)", "--params", "a"], 2),
    ("nan*a", ["derive", "nan*a", "--params", "a"], 2),
    ("inf*a", ["derive", "inf*a", "--params", "a"], 2),
    ("a parameter named h", ["derive", "a**2", "--params", "h"], 2),
]


#: The child reads its command line as JSON on stdin: a 1 MB argument is over the operating
#: system's limit for one argument, and bea's command line is the same function either way.
CHILD = "import json, sys; from bea.cli import main; sys.exit(main(json.load(sys.stdin)))"


def run(args: list[str]) -> tuple[float, int, float, str]:
    """(seconds, exit status, peak RSS in MB, last line of stderr) of bea's command line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdin.write(json.dumps(args))  # the child reads all of it before writing anything
    proc.stdin.close()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    lines = err.strip().splitlines()
    return elapsed, proc.returncode, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def main() -> None:
    print(f"bea {bea.__version__}; each case in a fresh process (python -m bea)")
    print(f"{'case':<44} {'time [s]':>8} {'status':>6} {'peak [MB]':>9}  verdict")
    for label, args, expected in CASES:
        elapsed, status, peak, last = run(args)
        ok = elapsed < 15 and status == expected and peak < 2048
        if expected == 2:
            ok &= last.startswith("bea: error:") and len(last.splitlines()) == 1
        print(f"{label:<44} {elapsed:8.2f} {status:>6} {peak:9.0f}  {'ok' if ok else 'FAIL'}")
        if status == 2:
            print(f"    {last[:110]}")


if __name__ == "__main__":
    main()
