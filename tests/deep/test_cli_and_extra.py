"""`bea deep` from the shell, and the behaviour without the optional extra."""

import json
import subprocess
import sys

from bea.cli import main


def test_deep_verify_json(capsys, tmp_path):
    plot = tmp_path / "v.png"
    status = main(
        [
            "deep",
            "verify",
            "--widths",
            "64",
            "4",
            "10",
            "--n-train",
            "100",
            "--orders",
            "0",
            "1",
            "--n-steps",
            "4",
            "--json",
            "--plot",
            str(plot),
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert abs(data["local_slopes"]["0"] - 2) < 0.1 and abs(data["local_slopes"]["1"] - 3) < 0.1
    assert data["dtype"] == "float64" and data["parameters"] == 310
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_deep_verify_rmsprop(capsys):
    argv = "deep verify --widths 64 4 10 --n-train 100 --orders 0 1 --n-steps 4 --json"
    status = main([*argv.split(), "--method", "rmsprop", "--beta", "0.8", "--eps", "0.01"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0 and data["method"] == "rmsprop"
    assert abs(data["local_slopes"]["0"] - 2) < 0.1 and abs(data["local_slopes"]["1"] - 3) < 0.1


def test_deep_verify_sgd_epochs(capsys):
    argv = "deep verify --widths 64 4 10 --n-train 100 --orders 0 1 --n-steps 4 --json"
    status = main([*argv.split(), "--method", "sgd", "--batch-size", "50"])
    data = json.loads(capsys.readouterr().out)
    assert status == 0 and data["method"] == "sgd (batch 50, fixed order)"
    assert abs(data["local_slopes"]["0"] - 2) < 0.1 and abs(data["local_slopes"]["1"] - 3) < 0.1


def test_deep_train_writes_json(capsys, tmp_path):
    out = tmp_path / "run.json"
    status = main(
        [
            "deep",
            "train",
            "--widths",
            "64",
            "8",
            "10",
            "--n-train",
            "100",
            "--lr",
            "0.5",
            "--steps",
            "60",
            "--evaluate-every",
            "20",
            "--noise",
            "0.1",
            "--json",
            str(out),
            "--no-progress",
            "--sharpness",
        ]
    )
    assert status == 0
    data = json.loads(out.read_text())
    assert data["history"]["step"] == [0, 20, 40, 60] and "0.1" in data["robustness"]
    assert data["versions"]["jax"] and len(data["history"]["sharpness"]) == 4
    assert "best iterate" in capsys.readouterr().out


def test_deep_bad_input_is_one_line(capsys):
    for argv, needle in [
        (["deep", "verify", "--widths", "63", "10"], "64 inputs"),
        (["deep", "verify", "--method", "heavy-ball"], "--beta"),
        (["deep", "verify", "--method", "adam", "--beta", "0.5"], "--beta2"),
        (["deep", "verify", "--method", "rmsprop", "--beta", "x", "--eps", "1"], "number"),
        (["deep", "verify", "--method", "rmsprop", "--beta", "0.5", "--eps", "nan"], "eps"),
        (["deep", "verify", "--eps", "0.1"], "adam and rmsprop only"),
        (["deep", "train", "--lr", "-1", "--steps", "3"], "learning rate"),
        (["deep", "verify", "--n-train", "5000"], "n_train"),
        (["deep", "verify", "--method", "sgd"], "--batch-size"),
        (["deep", "verify", "--batch-size", "10"], "sgd only"),
        (["deep", "verify", "--method", "sgd", "--batch-size", "7"], "does not divide"),
        (
            ["deep", "verify", "--method", "sgd", "--batch-size", "150", "--shuffle", "x"],
            "--shuffle",
        ),
        (["deep", "verify", "--method", "sgd", "--batch-size", "30", "--shuffle", "all"], "orders"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("bea: error:") and needle in err and "\n" not in err


def test_without_the_extra_a_clear_error():
    code = (
        "import sys; sys.modules['jax'] = None\n"
        "import bea\n"
        "try:\n"
        "    import bea.deep\n"
        "except bea.InputError as err:\n"
        "    print('ERR', err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ERR bea.deep needs JAX and scikit-learn" in out.stdout
    assert "pip install 'bea[deep]'" in out.stdout


def test_import_bea_does_not_import_jax():
    code = "import bea, sys; bea.modified_flow; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
