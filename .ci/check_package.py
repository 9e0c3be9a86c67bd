"""Build the wheel and sdist, check what they contain, install the wheel in a fresh venv and run
`bea --help` and `bea --version` from there (not from the checkout)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*cmd, cwd=None) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bea._version import __version__

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run(sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), str(ROOT))
        (wheel,) = (tmp / "dist").glob("bea-*.whl")
        (sdist,) = (tmp / "dist").glob("bea-*.tar.gz")
        names = set(zipfile.ZipFile(wheel).namelist())
        need = {str(p.relative_to(ROOT)) for p in (ROOT / "bea").rglob("*.py")}
        assert need <= names, f"wheel lacks {need - names}"
        assert not [n for n in names if n.startswith(("tests/", "docs/", "benchmarks/"))], names
        assert "bea/py.typed" in names, "wheel lacks bea/py.typed"
        assert any(n.endswith("LICENSE") for n in names), "wheel lacks the LICENSE"
        entry = [n for n in names if n.endswith("entry_points.txt")]
        assert entry, "wheel has no entry points"
        members = tarfile.open(sdist).getnames()
        for part in ("README.rst", "setup.cfg", "pyproject.toml", "bea/__init__.py", "LICENSE"):
            assert any(m.endswith(part) for m in members), f"sdist lacks {part}"
        venv.create(tmp / "venv", with_pip=True)
        py = tmp / "venv" / "bin" / "python"
        run(str(py), "-m", "pip", "install", "-q", str(wheel))
        bea = tmp / "venv" / "bin" / "bea"
        assert "bea reproduce" in run(str(bea), "--help", cwd=tmp)
        version = run(str(bea), "--version", cwd=tmp).strip()
        assert version == f"bea {__version__}", version
        # the core install has no JAX: bea deep says which extra to install, in one line (exit 2)
        deep = subprocess.run(
            [str(bea), "deep", "verify"], cwd=tmp, capture_output=True, text=True, check=False
        )
        assert deep.returncode == 2 and "pip install 'bea[deep]'" in deep.stderr, deep.stderr
        assert len(deep.stderr.strip().splitlines()) == 1, deep.stderr
        print(f"package ok: {wheel.name} ({len(names)} files), {sdist.name}; {version}")


if __name__ == "__main__":
    main()
