"""`bea figures` and `bea reproduce`: files, report, determinism, atomic overwrite, bad --out."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bea import io as figures_module
from bea import io as output
from bea.cli import main
from bea.io import MANIFEST, OutputFolder
from bea.study import FIGURES

EXPECTED = {f"{n}.{ext}" for n in FIGURES for ext in ("png", "pdf")} | {
    "trajectories.json",
    "error_vs_h.json",
    "flatness_vs_h.csv",
    "rig_along_path.json",
    "explicit_regularization.csv",
    "curl_order2.json",
    "summary.json",
}


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "new" / "folder"  # parents are created
    status = main(["reproduce", "--out", str(out), "--quick", "--no-progress", "--section4-only"])
    return out, status


def test_reproduce_writes_every_figure_data_file_and_report(reproduced):
    out, status = reproduced
    assert status == 0
    names = {p.name for p in out.iterdir()} - {MANIFEST}
    assert names == EXPECTED | {"report.md", "report.html", "report.json"}
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] and set(manifest["files"]) == names
    for name in names:
        assert (out / name).stat().st_size > 100, name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if name.endswith(".pdf"):
            assert (out / name).read_bytes()[:5] == b"%PDF-"


def test_report_states_each_claim_with_its_number_and_pass(reproduced):
    out, _ = reproduced
    report = json.loads((out / "report.json").read_text())
    keys = [c["key"] for c in report["claims"]]
    assert {
        "modified-loss",
        "theorem-3.1",
        "flatter-minima",
        "rig-along-path",
        "explicit-regularization",
        "no-loss-at-order-2",
    } <= set(keys)
    assert report["passed"] and all(c["passed"] for c in report["claims"])
    md = (out / "report.md").read_text()
    assert md.count("| PASS |") == len(keys) and "![trajectories](trajectories.png)" in md
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(FIGURES)


def test_the_report_typesets_its_formulas_and_states_its_data_and_scope(reproduced):
    import xml.etree.ElementTree as ET

    out, _ = reproduced
    html = (out / "report.html").read_text()
    formulas = [ET.fromstring(m) for m in re.findall(r"<math>.*?</math>", html)]
    assert len(formulas) >= 5  # modified loss (derived, expected), ratio (two), curl
    tags = {e.tag for f in formulas for e in f.iter()}
    assert {"mfrac", "msup", "mi", "mo", "mn"} <= tags
    table = html.split("<table>")[1].split("</table>")[0]
    assert "**" not in table and "<math>" in table  # no Python syntax in the claims table
    assert "x = 1.0, y = 0.6" in html
    assert "Scope: Section 4" in html and "Section 5" in html
    md = (out / "report.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| PASS |")]
    assert "$Ẽ = \\frac{" in md and rows and not any("**" in r for r in rows)
    report = json.loads((out / "report.json").read_text())
    loss = next(c for c in report["claims"] if c["key"] == "modified-loss")
    assert loss["measured"].startswith("Ẽ = ") and "**" not in loss["measured"]
    assert loss["measured_latex"].startswith("Ẽ = \\frac{")
    assert {"bea", "sympy", "numpy"} <= set(report["versions"])
    assert report["options"]["x"] == 1.0 and report["options"]["y"] == 0.6


def test_summary_has_the_headline_numbers(reproduced):
    out, _ = reproduced
    s = json.loads((out / "summary.json").read_text())
    near = s["starts"]["near"]
    assert near["start"] == [2.8, 3.5]
    row = near["sweep"][0]
    assert {"h", "status", "gd", "modified_flow", "stable_at_start"} <= set(row)
    assert set(row["gd"]) == {"end", "sharpness", "imbalance"}
    assert near["gradient_flow"]["imbalance"] == pytest.approx(2.8**2 - 3.5**2)
    assert s["verification"]["local_slopes"]["1"] == pytest.approx(3, abs=0.15)
    assert sorted(s["files"]) == sorted(EXPECTED)


def test_rerun_overwrites_with_identical_bytes(reproduced, tmp_path):
    out, _ = reproduced
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name in EXPECTED}
    assert main(["figures", "--out", str(out), "--quick", "--no-progress"]) == 0
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name in EXPECTED}
    assert before.keys() == after.keys()
    changed = [n for n in before if before[n] != after[n]]
    assert changed == []
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_failed_write_keeps_the_old_file_whole_and_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    output.atomic_write(target, "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        output.atomic_write(target, "new" * 1000)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


@pytest.mark.parametrize("command", ["figures", "reproduce"])
def test_bad_out_is_a_one_line_error(command, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert main([command, "--out", str(a_file), "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"bea: error: --out {a_file} is a file, not a folder"
    assert main([command, "--out", str(a_file / "sub"), "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bea: error: cannot create the output folder") and "\n" not in err


def test_unwritable_out_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # root ignores chmod
    with pytest.raises(figures_module.InputError, match="not writable"):
        figures_module.prepare_folder(tmp_path)


def test_figures_need_out(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["figures"])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_model_data_from_the_command_line(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path), "--x", "0", "--quick"]) == 2
    assert "x must be non-zero" in capsys.readouterr().err
    assert not list(Path(tmp_path).iterdir())


def test_a_folder_with_a_users_file_is_refused_without_force_and_the_file_survives(
    tmp_path, capsys
):
    mine = tmp_path / "notes.txt"
    mine.write_text("my notes")
    assert main(["figures", "--out", str(tmp_path), "--quick", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds files bea did not write (notes.txt)" in err and "\n" not in err
    assert main(["figures", "--out", str(tmp_path), "--quick", "--no-progress", "--force"]) == 0
    assert mine.read_text() == "my notes"
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert "notes.txt" not in manifest["files"] and "summary.json" in manifest["files"]


def test_a_users_file_with_one_of_beas_names_is_never_replaced(tmp_path, capsys):
    theirs = tmp_path / "summary.json"
    theirs.write_text("theirs")
    assert main(["figures", "--out", str(tmp_path), "--quick", "--no-progress", "--force"]) == 2
    assert "bea did not write it" in capsys.readouterr().err
    assert theirs.read_text() == "theirs"


def _bea(*argv):
    return subprocess.Popen(
        [sys.executable, "-m", "bea", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 60) -> None:
    start = time.monotonic()
    while not path.exists():
        assert time.monotonic() - start < timeout, f"{path} never appeared"
        time.sleep(0.05)


def test_sigterm_halfway_keeps_only_whole_files_and_a_rerun_completes(tmp_path):
    out = tmp_path / "rep"
    proc = _bea("reproduce", "--out", str(out), "--quick", "--no-progress", "--section4-only")
    _wait_for(out / "trajectories.pdf")  # figures are being written
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "terminated" in err and err.strip().count("\n") == 0
    names = {p.name for p in out.iterdir()}
    assert not [n for n in names if n.endswith(".tmp")]
    assert not names & {"report.md", "report.html", "report.json"}  # no report over new figures
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is False
    for name in names - {MANIFEST, ".bea.lock"}:
        data = (out / name).read_bytes()
        if name.endswith(".png"):
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and data.endswith(b"IEND\xaeB`\x82")
        elif name.endswith(".pdf"):
            assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:]
        elif name.endswith(".json"):
            json.loads(data)
    assert not (out / ".bea.lock").exists()
    assert (
        main(["reproduce", "--out", str(out), "--quick", "--no-progress", "--section4-only"]) == 0
    )
    assert json.loads((out / MANIFEST).read_text())["complete"] is True


def test_two_runs_into_one_folder_do_not_interleave(tmp_path):
    out = tmp_path / "both"
    first = _bea("figures", "--out", str(out), "--quick", "--no-progress")
    _wait_for(out / ".bea.lock")
    second = _bea("figures", "--out", str(out), "--quick", "--no-progress")
    _, err2 = second.communicate(timeout=120)
    _, err1 = first.communicate(timeout=180)
    assert first.returncode == 0, err1
    assert second.returncode == 2 and "another bea run" in err2
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["files"]) == sorted(EXPECTED)


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / ".bea.lock").write_text(dead.stdout.strip())
    with OutputFolder(tmp_path) as folder:
        folder.write("x.txt", "x")
    assert (tmp_path / "x.txt").read_text() == "x" and not (tmp_path / ".bea.lock").exists()


class _Part:
    """A stand-in for a further part of the paper (the real one is bea.deep.report.Section5)."""

    stale = ("part.txt",)

    def __init__(self, passed: bool):
        self.passed = passed

    def run(self, folder, *, quick, progress):
        from bea.reporting import Claim, Section

        folder.write("part.txt", "ran")
        claim = Claim("part", "a further claim", "a further section", "1.0", "2.0", self.passed)
        return Section("§9", "Section 9: more", "what ran", (claim,), ("a note",), (), {"x": "1"})


def test_further_parts_join_the_report_and_its_one_claims_table(tmp_path):
    from bea.study import reproduce

    passed = False  # Section 4's claims pass: one failing claim elsewhere fails the report
    report = reproduce(tmp_path, quick=True, more=[_Part(passed)])
    assert report.passed is passed
    assert [c.key for c in report.claims][-1] == "part" and len(report.claims) == 12
    md = (tmp_path / "report.md").read_text()
    assert md.count("| claim | source |") == 1 and "| §9 | a further claim |" in md
    assert "## Section 4: the two-parameter model" in md and "## Section 9: more" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert {c["section"] for c in data["claims"]} == {"§4", "§9"}
    assert data["versions"]["x"] == "1" and data["passed"] is passed
    assert "a note" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "part.txt").read_text() == "ran"


def test_bea_reproduce_adds_section_5_when_the_deep_extra_is_there(tmp_path, monkeypatch, capsys):
    pytest.importorskip("jax")
    import bea.deep.report as deep_report

    made = []

    class Fake(_Part):
        def __init__(self, *, executor, workers):
            super().__init__(True)
            made.append((executor, workers))

    monkeypatch.setattr(deep_report, "Section5", Fake)
    argv = ["reproduce", "--out", str(tmp_path), "--quick", "--no-progress"]
    assert main([*argv, "--executor", "serial", "--workers", "1"]) == 0
    assert made == [("serial", 1)]
    assert "a further claim" in capsys.readouterr().out
    import bea.study.report as study_report

    seen = []

    def fake_reproduce(out, **options):
        seen.append(options["more"])
        return type("R", (), {"passed": True, "__str__": lambda self: "ok"})()

    monkeypatch.setattr(study_report, "reproduce", fake_reproduce)
    assert main([*argv, "--section4-only"]) == 0
    assert seen == [()] and len(made) == 1
