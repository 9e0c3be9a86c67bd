"""The hostile-input sweep, counted by class: tried, behaved and defects by severity.

Run:  python benchmarks/hostile_counts.py

The cases are the tests of ``tests/test_hostile.py`` (every public string input × injection
payloads, every order and size parameter × huge values, every write target × device, link and
folder, the command line's one-line errors, the JSON loader) and the unbounded-work case of
``tests/test_ml_losses.py`` (a 10-parameter non-polynomial loss at order 1), and the output-folder
cases of ``tests/study/test_reproduce.py`` (user files, ``--out ""``, SIGTERM, concurrent runs). pytest runs them in
one process and writes a JUnit report; each test case is one hostile input, counted under the
class and severity the issue gave it (a few tests hold several repros). A case *behaved* when its test passed (a clean one-line
error, or a correct result, within seconds); a failed or erroring case is a *defect*. The
baseline is the sweep that opened the issue: 291 cases, 101 defects (14 high, 37 medium, 50 low).
"""

from __future__ import annotations

import collections
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: test function → (class of hostile input, severity the issue gave it)
CLASSES = {
    "test_no_public_input_runs_a_payload": ("user strings evaluated as code", "high"),
    "test_writes_never_replace_what_is_not_a_regular_file": ("writes over non-files", "high"),
    "test_cli_plot_to_a_bad_target_is_one_line": ("writes over non-files", "high"),
    "test_huge_orders_and_sizes_are_refused_in_seconds": ("unbounded order or size", "high"),
    "test_reused_parameters_are_refused_not_silently_wrong": ("reused parameter names", "high"),
    "test_cli_json_round_trips_through_the_loader_for_every_method": ("JSON round trip", "high"),
    "test_cli_json_keeps_assumptions": ("JSON round trip", "high"),
    "test_sympy_expressions_get_the_checks_strings_get": ("unchecked sympy input", "high"),
    "test_a_step_map_not_smooth_in_h_is_refused": ("unchecked sympy input", "high"),
    "test_cli_hostile_input_is_one_line_and_status_2": ("tracebacks on the CLI", "medium"),
    "test_ctrl_c_is_one_line_and_status_130": ("tracebacks on the CLI", "medium"),
    "test_output_to_a_full_device_is_one_line": ("tracebacks on the CLI", "medium"),
    "test_a_huge_integer_in_the_output_prints": ("tracebacks on the CLI", "medium"),
    "test_verify_refuses_step_sizes_it_would_change_and_stationary_starts": (
        "verify changes steps or prints NaN",
        "medium",
    ),
    "test_nan_slopes_never_exit_0": ("verify changes steps or prints NaN", "medium"),
    "test_ten_parameter_non_polynomial_loss_at_order_one": ("unbounded work", "medium"),
    "test_long_derivations_show_progress_on_a_terminal": ("unbounded work", "medium"),
    "test_bad_out_is_a_one_line_error": ("output folders", "medium"),
    "test_a_folder_with_a_users_file_is_refused_without_force_and_the_file_survives": (
        "output folders",
        "medium",
    ),
    "test_a_users_file_with_one_of_beas_names_is_never_replaced": ("output folders", "medium"),
    "test_sigterm_halfway_keeps_only_whole_files_and_a_rerun_completes": (
        "output folders",
        "medium",
    ),
    "test_two_runs_into_one_folder_do_not_interleave": ("output folders", "medium"),
    "test_failed_write_keeps_the_old_file_whole_and_leaves_no_temp_file": (
        "output folders",
        "medium",
    ),
}
#: tests of the sweep itself (that it covers every public callable, that it would see a payload)
META = {
    "test_every_public_callable_is_swept_or_exempt_with_a_reason",
    "test_the_sweep_would_notice_a_payload_that_ran",
}
OUTPUT_FOLDER_TESTS = [name for name, key in CLASSES.items() if key[0] == "output folders"]
BEFORE = {"tried": 291, "defects": 101, "high": 14, "medium": 37, "low": 50}


def main() -> int:
    """Run the sweep, print the table; exit 1 when any case is a defect or unclassified."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            "tests/test_hostile.py",
            "tests/test_ml_losses.py::test_ten_parameter_non_polynomial_loss_at_order_one",
            *(f"tests/study/test_reproduce.py::{name}" for name in OUTPUT_FOLDER_TESTS),
        ]
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
        cases = ET.parse(report).getroot().iter("testcase")
        counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(
            collections.Counter
        )
        unclassified = []
        for case in cases:
            name = case.get("name", "").split("[")[0]
            if name in META:
                continue
            key = CLASSES.get(name)
            if key is None:
                unclassified.append(name)
                continue
            bad = any(child.tag in ("failure", "error") for child in case)
            counts[key]["tried"] += 1
            counts[key]["defects" if bad else "behaved"] += 1
    print(f"{'class':40s} {'severity':8s} {'tried':>6s} {'behaved':>8s} {'defects':>8s}")
    total: collections.Counter = collections.Counter()
    by_severity: collections.Counter = collections.Counter()
    for (label, severity), c in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"{label:40s} {severity:8s} {c['tried']:6d} {c['behaved']:8d} {c['defects']:8d}")
        total.update(c)
        by_severity[severity] += c["defects"]
    print(
        f"\nnow:    {total['tried']} tried, {total['behaved']} behaved, {total['defects']} defects"
        f" (high {by_severity['high']}, medium {by_severity['medium']}, low {by_severity['low']})"
    )
    print(
        f"before: {BEFORE['tried']} tried, {BEFORE['tried'] - BEFORE['defects']} behaved,"
        f" {BEFORE['defects']} defects (high {BEFORE['high']}, medium {BEFORE['medium']},"
        f" low {BEFORE['low']})"
    )
    if unclassified:
        print(f"unclassified tests: {sorted(set(unclassified))}")
    return 1 if total["defects"] or unclassified else 0


if __name__ == "__main__":
    sys.exit(main())
