"""The Section-5 study and its sweeps: claims on synthetic runs (PASS and FAIL), the best-iterate
rule, Dask against serial, and an interrupted study that resumes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from scipy.stats import spearmanr

from bea.errors import InputError

jax = pytest.importorskip("jax")

from bea.deep import data as deep_data  # noqa: E402
from bea.deep.study import (  # noqa: E402
    StudyRuns,
    StudySettings,
    best_index,
    bootstrap_seeds,
    claims,
    spearman,
)
from bea.deep.sweep import config_key, run_sweep, train_config  # noqa: E402


# ---------------------------------------------------------------------------- pure parts
def test_best_index_takes_max_test_accuracy_among_iterates_at_full_train_accuracy():
    test = [0.50, 0.97, 0.95, 0.96, 0.96]
    train = [0.60, 0.99, 1.00, 1.00, 1.00]
    assert best_index(test, train) == (3, True)  # not 1 (train 0.99), first of the tie
    assert best_index(test, train, threshold=0.99) == (1, True)
    assert best_index([0.5, 0.9, 0.8], [0.5, 0.9, 0.95]) == (1, False)  # flagged fallback


def test_training_picks_the_iterate_of_the_rule():
    from bea.deep import mlp, problem, train

    prob = problem("digits", mlp([64, 8, 10]), n_train=200, dtype="float32")
    run = train(prob, "gd", lr=1.0, steps=120, evaluate_every=10)
    i, met = best_index(run.history["test_accuracy"], run.history["train_accuracy"])
    assert run.best == i
    assert met == ("no iterate" not in run.best_rule)


@pytest.mark.parametrize("seed", range(5))
def test_spearman_matches_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, 12).astype(float)
    y = rng.normal(size=(3, 12))
    y[0, :4] = 1.0
    ours = spearman(x, y)
    for row, value in zip(y, ours, strict=True):
        assert value == pytest.approx(spearmanr(x, row).statistic, abs=1e-12)


def test_bootstrap_interval_covers_the_estimate_and_shrinks_with_agreement():
    rng = np.random.default_rng(1)

    def mean(s):
        return s.mean(axis=(-1, -2))

    loose = rng.normal(size=(5, 4))
    tight = 0.01 * loose
    e1, lo1, hi1 = bootstrap_seeds(loose, mean)
    e2, lo2, hi2 = bootstrap_seeds(tight, mean)
    assert lo1 <= e1 <= hi1 and lo2 <= e2 <= hi2
    assert hi2 - lo2 < 0.05 * (hi1 - lo1)
    assert bootstrap_seeds(loose[:1], mean)[1:] == (None, None)


def _fake_runs(sign: int, *, diverge=None, egr_sign=None) -> StudyRuns:
    """Synthetic results: R_IG ∝ h^(-sign), robustness and accuracy rising with sign·h."""
    settings = StudySettings(
        widths=(8, 16),
        fractions=(0.25, 0.5, 1.0),
        seeds=(0, 1, 2),
        noise=(0.1,),
        egr_widths=(8,),
        egr_mu=(1.0,),
    )
    egr_sign = sign if egr_sign is None else egr_sign
    edges = {8: {"edge": 1.0, "parameters": 100}, 16: {"edge": 2.0, "parameters": 300}}
    rng = np.random.default_rng(0)
    runs = []

    def add(w, f, seed, mu_units, rig, acc, rob):
        e = edges[w]
        lr = f * e["edge"]
        runs.append(
            {
                "config": {
                    "widths": [4, w, w, 3],
                    "lr": lr,
                    "egr": mu_units * e["edge"] * e["parameters"] / 4,
                    "seed": seed,
                },
                "parameters": e["parameters"],
                "lambda": lr * e["parameters"] / 4,
                "best_metrics": {"test_accuracy": acc, "r_ig": rig, "loss": 0.1, "step": 1.0},
                "robustness": {"0.1": rob},
                "diverged": diverge == (w, f, seed),
                "rule_met": True,
            }
        )

    for w in settings.widths:
        for f in settings.fractions:
            for seed in settings.seeds:
                noise = 0.02 * rng.normal()
                add(
                    w,
                    f,
                    seed,
                    0.0,
                    1e-6 * f ** (-sign) / w * (1 + noise),
                    0.9 + sign * 0.02 * f + 0.001 * noise,
                    0.8 + sign * 0.05 * f + 0.001 * noise,
                )
    for seed in settings.seeds:
        base = next(
            r
            for r in runs
            if r["config"]["widths"][1] == 8
            and r["config"]["lr"] == 0.25
            and r["config"]["seed"] == seed
        )
        b = base["best_metrics"]
        add(
            8,
            0.25,
            seed,
            1.0,
            b["r_ig"] * 10 ** (-egr_sign * 0.3),
            b["test_accuracy"],
            base["robustness"]["0.1"] + egr_sign * 0.02,
        )
    return StudyRuns(settings, edges, tuple(runs), data_name="synthetic")


def test_claims_pass_on_data_that_follow_the_predictions():
    found, notes = claims(_fake_runs(+1))
    assert {c.key: c.passed for c in found} == {
        "s5-rig-vs-lambda": True,
        "s5-rig-vs-h": True,
        "s5-test-accuracy": True,
        "s5-robustness": True,
        "s5-egr-rig": True,
        "s5-egr-robustness": True,
    }
    assert all("95 % CI" in c.measured for c in found)


def test_claims_fail_on_data_that_contradict_them():
    found, _ = claims(_fake_runs(-1))
    passed = {c.key: c.passed for c in found}
    assert not passed["s5-rig-vs-h"] and not passed["s5-test-accuracy"]
    assert not passed["s5-robustness"] and not passed["s5-egr-rig"]
    mixed, _ = claims(_fake_runs(+1, egr_sign=-1))
    mixed = {c.key: c.passed for c in mixed}
    assert mixed["s5-rig-vs-h"] and not mixed["s5-egr-robustness"]


def test_a_diverged_seed_removes_its_cell_and_says_so():
    found, notes = claims(_fake_runs(+1, diverge=(16, 1.0, 2)))
    assert any("1 of 6" in n for n in notes)
    assert {c.key for c in found} >= {"s5-rig-vs-h", "s5-robustness"}


# ---------------------------------------------------------------------------- data files
def test_npz_data_are_read_without_pickle_and_checked(tmp_path):
    good = tmp_path / "ok.npz"
    rng = np.random.default_rng(0)
    np.savez(
        good,
        x_train=rng.normal(size=(30, 4)),
        y_train=np.arange(30) % 3,
        x_test=rng.normal(size=(9, 4)),
        y_test=np.arange(9) % 3,
    )
    d = deep_data.from_npz(good)
    assert (d.n_inputs, d.n_outputs, d.task) == (4, 3, "classification")
    evil = tmp_path / "evil.npz"
    np.savez(
        evil,
        x_train=np.array([object()], dtype=object),
        y_train=np.arange(1),
        x_test=np.zeros((1, 1)),
        y_test=np.arange(1),
    )
    with pytest.raises(InputError, match="cannot read"):
        deep_data.from_npz(evil)
    short = tmp_path / "short.npz"
    np.savez(short, x_train=np.zeros((2, 2)))
    with pytest.raises(InputError, match="lacks the arrays"):
        deep_data.from_npz(short)
    with pytest.raises(InputError, match="does not exist"):
        deep_data.from_npz(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------- sweeps
def _tiny(n=3):
    return [
        train_config([64, 8, 10], h, seed=s, time=8.0, noise=(0.1,), draws=2)
        for h, s in [(0.5, 0), (1.0, 0), (1.0, 1)][:n]
    ]


def _serial_on_one_core(configs, folder, queue):
    from bea.deep.backend import pin_to_core
    from bea.deep.sweep import run_sweep as sweep

    pin_to_core(0)
    queue.put([r["best_metrics"] for r in sweep(configs, folder, progress=False).results])


def test_local_dask_cluster_gives_the_results_of_a_serial_run(tmp_path):
    pytest.importorskip("distributed")
    configs = _tiny()
    local = run_sweep(configs, tmp_path / "local", executor="local", workers=2, progress=False)
    assert local.computed == 3
    assert {r["versions"]["jax"] for r in local.results} == {jax.__version__}
    ctx = multiprocessing.get_context("spawn")  # one core, like each pinned worker
    queue = ctx.Queue()
    proc = ctx.Process(target=_serial_on_one_core, args=(configs, tmp_path / "serial", queue))
    proc.start()
    serial = queue.get(timeout=120)
    proc.join(30)
    assert serial == [r["best_metrics"] for r in local.results]  # bit for bit


def test_a_damaged_result_file_is_recomputed_and_unknown_executors_refused(tmp_path):
    configs = _tiny(1)
    first = run_sweep(configs, tmp_path, progress=False)
    path = tmp_path / f"{config_key(configs[0])}.json"
    path.write_text("{not json")
    again = run_sweep(configs, tmp_path, progress=False)
    assert (again.computed, again.reused) == (1, 0)
    assert again.results[0]["best_metrics"] == first.results[0]["best_metrics"]
    with pytest.raises(InputError, match="unknown executor"):
        run_sweep(_tiny(2)[1:], tmp_path, executor="threads", progress=False)


# ---------------------------------------------------------------------------- the study
def test_interrupted_study_resumes_and_the_smoke_study_writes_its_report(tmp_path):
    """SIGTERM midway; a rerun computes only the missing runs; no JSON is partial."""
    out = tmp_path / "s5"
    cmd = [
        sys.executable,
        "-m",
        "bea",
        "deep",
        "study",
        "--out",
        str(out),
        "--quick",
        "--executor",
        "serial",
        "--no-progress",
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = out / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if runs.is_dir() and len(list(runs.glob("*.json"))) >= 4:  # 2 edges + 2 runs
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the study finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert b"terminated" in err
    finished = list(runs.glob("*.json"))
    assert not [p for p in runs.iterdir() if p.name.endswith(".tmp")]
    for p in finished:
        json.loads(p.read_text())  # every file whole
    assert not (out / "report.md").exists()

    from bea.deep.report import study

    report = study(out, quick=True, executor="serial", progress=False)
    summary = json.loads((out / "s5_summary.json").read_text())
    total = summary["runs"] + 2  # and two stability edges
    assert (summary["computed"] + summary["reused"], summary["reused"]) == (total, len(finished))
    assert summary["computed"] == total - len(finished) > 0
    assert len(report.claims) == 6
    assert all(c.key.startswith("s5-") for c in report.claims)
    for name in (
        "s5_rig_vs_lambda",
        "s5_test_accuracy_vs_lambda",
        "s5_robustness",
        "s5_egr",
        "s5_rig_along_training",
    ):
        assert (out / f"{name}.png").stat().st_size > 10_000
        assert (out / f"{name}.pdf").exists()
    page = (out / "report.html").read_text()
    assert "stand-in" in page and "Figure 2" in page
    rows = (out / "s5_runs.csv").read_text().splitlines()
    assert len(rows) == 1 + summary["runs"]
    stamped = json.loads(next(runs.glob("*.json")).read_text())
    assert {"bea", "jax", "jaxlib"} <= set(stamped["versions"])


def test_study_refuses_bad_settings_and_data(tmp_path):
    from bea.deep.report import study

    with pytest.raises(InputError, match="σ = 0.1"):
        study(tmp_path / "a", StudySettings.quick(noise=(0.05,)), executor="serial")
    with pytest.raises(InputError, match="does not exist"):
        study(tmp_path / "b", quick=True, data=tmp_path / "nope.npz", executor="serial")


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--executor", "dask"], "needs --address"),
        (["--address", "tcp://h:1"], "applies to --executor dask"),
        (["--executor", "dask", "--address", "nowhere"], "must look like"),
        (["--workers", "0"], "at least 1"),
    ],
)
def test_cli_study_refuses_inconsistent_executor_options(tmp_path, capsys, extra, message):
    from bea.cli import main

    argv = ["deep", "study", "--out", str(tmp_path / "x"), "--quick", *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
