"""Files and JSON, one way: atomic writes that never replace what is not a regular file, output
folders checked before any work starts, and one JSON style for every file bea writes.

* :func:`atomic_write` writes through a temporary file in the target's folder and renames it, so a
  failed or interrupted run leaves either the old file or the new one, never half of one. It
  refuses targets that are not regular files (devices, folders, symbolic links, sockets).
* :func:`jsonable` turns results into plain data: arrays to lists, NumPy scalars to Python
  numbers, sympy objects to strings, and every non-finite float to ``None``.
* :func:`dumps` is the JSON style of every file and of every ``to_json``: two-space indent,
  keys in insertion order, no NaN, a final newline.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from pathlib import Path

from ._version import __version__
from .errors import InputError

__all__ = [
    "MANIFEST",
    "OutputFolder",
    "atomic_write",
    "csv_text",
    "dumps",
    "jsonable",
    "prepare_folder",
    "versions",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_target(path: Path) -> None:
    """Refuse to replace anything that is not a regular file (or missing)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(f"cannot write {path}: it is a symbolic link (bea replaces only files)")
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"cannot write {path}: it is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"cannot write {path}: it is not a regular file (a device, pipe or socket)"
        )


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Parameters
    ----------
    path : path
        The target: missing or a regular file (anything else is refused).
    data : str or bytes

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> atomic_write(os.path.join(folder, "a.txt"), "hello").read_text()
    'hello'
    >>> atomic_write(folder, "x")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: cannot write ...: it is a folder
    """
    path = Path(path)
    if not str(path) or path.name in ("", ".", ".."):
        raise InputError(f"cannot write {str(path)!r}: not a file name")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {path}: folder {folder} does not exist")
    _check_target(path)
    mode = "w" if isinstance(data, str) else "wb"
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise InputError(f"cannot write in {folder}: {err.strerror}") from None
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        _check_target(path)  # again: the target may have changed while we wrote
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None and err.strerror:
            if err.errno in (28, 122):  # ENOSPC, EDQUOT
                raise InputError(f"cannot write {path}: {err.strerror}") from None
        raise
    return path


def prepare_folder(out: str | os.PathLike, *, what: str = "--out") -> Path:
    """Create the output folder (and its parents) or check it; a clear error if it cannot be used.

    Examples
    --------
    >>> import tempfile, os
    >>> prepare_folder(os.path.join(tempfile.mkdtemp(), "new", "figs")).is_dir()
    True
    >>> prepare_folder("")
    Traceback (most recent call last):
    ...
    bea.errors.InputError: --out is empty: name a folder
    """
    if not str(out).strip():
        raise InputError(f"{what} is empty: name a folder")
    out = Path(out)
    if out.is_symlink() and not out.is_dir():
        raise InputError(f"{what} {out} is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise InputError(f"{what} {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder {out}: {err.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"the output folder {out} is not writable")
    return out


def jsonable(value):
    """Plain JSON data: arrays to lists, NumPy scalars to numbers, non-finite floats to None,
    sympy objects and paths to strings, tuples to lists, keys to strings.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.array([1.0, np.nan]), 2: (np.float64(3.5), float("inf"))})
    {'a': [1.0, None], '2': [3.5, None]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "free_symbols"):  # sympy
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def csv_text(header, rows) -> str:
    """A CSV table as text: one header row, then ``rows``; a missing value (None) or a
    non-finite float is an empty cell.

    Examples
    --------
    >>> print(csv_text(["h", "slope"], [[0.1, 2.0], [0.2, float("nan")], [0.4, None]]), end="")
    h,slope
    0.1,2.0
    0.2,
    0.4,
    """
    import csv
    import io

    def cell(v):
        if v is None:
            return ""
        try:
            return "" if not math.isfinite(v) else v
        except TypeError:  # not a number
            return v

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue()


def dumps(data) -> str:
    """The one JSON style of bea: :func:`jsonable` data, two-space indent, final newline.

    Examples
    --------
    >>> print(dumps({"slope": float("nan"), "orders": (0, 1)}), end="")
    {
      "slope": null,
      "orders": [
        0,
        1
      ]
    }
    """
    return json.dumps(jsonable(data), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def versions(*packages: str) -> dict[str, str]:
    """Versions of bea, Python and the numeric stack (and of ``packages``), for result files.

    Examples
    --------
    >>> sorted(versions())
    ['bea', 'matplotlib', 'numpy', 'python', 'scipy', 'sympy']
    """
    import platform
    from importlib import metadata

    out = {"bea": __version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "sympy", "matplotlib", *packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


#: The file in which bea lists what it wrote into an output folder.
MANIFEST = ".bea-manifest.json"
_LOCK = ".bea.lock"


class OutputFolder:
    """An output folder that bea shares safely with its user, and with other bea runs.

    The guarantees, each tested:

    * **Never another's file.** bea lists every file it writes in ``.bea-manifest.json``. A
      folder that holds files bea did not write is refused unless ``force=True``; even then bea
      writes only files that are missing or its own, and refuses to replace a user's file that
      happens to have one of bea's names.
    * **Never half a file.** Every file is written atomically (:func:`atomic_write`); an
      interruption (Ctrl-C, SIGTERM) leaves each file whole, old or new, and no temporary file.
    * **Never a mixed result.** Files that summarise a run (``stale``, e.g. the report) are
      removed when a new run starts and written last, so an interrupted run never leaves the old
      report beside new figures; the manifest says whether the last run completed.
    * **One run at a time.** A lock file makes a second run into the same folder stop with an
      error instead of interleaving its files; a lock left by a process that died is taken over.

    Use it as a context manager.

    Parameters
    ----------
    path : path
        The folder (created with its parents if missing).
    force : bool
        Accept a folder that also holds files bea did not write (they are never touched).
    stale : iterable of str
        File names of a previous run to remove before this run writes anything.
    what : str
        How the folder was given (for messages), e.g. ``"--out"``.

    Examples
    --------
    >>> import tempfile
    >>> with OutputFolder(tempfile.mkdtemp()) as out:
    ...     _ = out.write("a.json", "{}")
    >>> sorted(out.manifest["files"]), out.manifest["complete"]
    (['a.json'], True)
    """

    def __init__(self, path, *, force: bool = False, stale=(), what: str = "--out"):
        self.path = prepare_folder(path, what=what)
        self.force = force
        self.stale = tuple(stale)
        self.what = what
        self.manifest: dict = {"files": [], "complete": False}
        self._locked = False

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> OutputFolder:
        self._lock()
        try:
            self._check_contents()
            previous = self._read_manifest()
            self.manifest = {"files": list(previous.get("files", [])), "complete": False}
            for name in self.stale:
                if name in self.manifest["files"]:
                    (self.path / name).unlink(missing_ok=True)
                    self.manifest["files"].remove(name)
            self._write_manifest()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self.manifest["complete"] = True
            self._write_manifest()
        finally:
            self._unlock()

    # ------------------------------------------------------------------ writing
    def write(self, name: str, data: str | bytes) -> Path:
        """Write one file atomically and record it as bea's."""
        if not name or "/" in name or name.startswith("."):
            raise InputError(f"bad output file name {name!r}")
        target = self.path / name
        if target.exists() and name not in self.manifest["files"]:
            raise InputError(
                f"{target} exists and bea did not write it: move it away (bea never replaces "
                "a file it did not write)"
            )
        out = atomic_write(target, data)
        if name not in self.manifest["files"]:
            self.manifest["files"].append(name)
            self._write_manifest()
        return out

    def subfolder(self, name: str) -> Path:
        """Create (or reuse) a folder of bea's inside this one and record it as bea's.

        Files in it are the caller's to write (atomically, with :func:`atomic_write`); a
        subfolder is never listed as stale, so a rerun finds what an earlier run finished.

        Examples
        --------
        >>> import tempfile
        >>> with OutputFolder(tempfile.mkdtemp()) as out:
        ...     runs = out.subfolder("runs")
        >>> runs.is_dir(), out.manifest["files"]
        (True, ['runs'])
        """
        if not name or "/" in name or name.startswith("."):
            raise InputError(f"bad output folder name {name!r}")
        target = self.path / name
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise InputError(f"{target} exists and is not a folder bea made: move it away")
        if target.exists() and name not in self.manifest["files"]:
            raise InputError(
                f"{target} exists and bea did not make it: move it away (bea never writes into "
                "a folder it did not make)"
            )
        target.mkdir(exist_ok=True)
        for p in target.iterdir():  # temporary files of an interrupted run of ours
            if p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():
                p.unlink(missing_ok=True)
        if name not in self.manifest["files"]:
            self.manifest["files"].append(name)
            self._write_manifest()
        return target

    # ------------------------------------------------------------------ internals
    def _check_contents(self) -> None:
        own = set(self._read_manifest().get("files", [])) | {MANIFEST, _LOCK}
        others = sorted(
            p.name
            for p in self.path.iterdir()
            if p.name not in own and not (p.name.startswith(".") and p.name.endswith(".tmp"))
        )
        if others and not self.force:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise InputError(
                f"{self.what} {self.path} holds files bea did not write ({shown}); choose an "
                "empty or new folder, or pass --force (force=True) to write beside them "
                "(they are never touched)"
            )
        for p in self.path.iterdir():  # temporary files of an interrupted run of ours
            if p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():
                p.unlink(missing_ok=True)

    def _read_manifest(self) -> dict:
        path = self.path / MANIFEST
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"{path} is damaged; remove it to start afresh") from None
        if not isinstance(data, dict) or not isinstance(data.get("files", []), list):
            raise InputError(f"{path} is not a bea manifest; remove it to start afresh")
        return data

    def _write_manifest(self) -> None:
        atomic_write(self.path / MANIFEST, dumps({**self.manifest, "versions": versions()}))

    def _lock(self) -> None:
        lock = self.path / _LOCK
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    pid = int(lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and _alive(pid):
                    raise InputError(
                        f"another bea run (process {pid}) is writing into {self.path}; wait for "
                        "it or choose another folder"
                    ) from None
                lock.unlink(missing_ok=True)  # left by a process that died: take it over
                continue
            except OSError as err:
                raise InputError(f"cannot lock {self.path}: {err.strerror}") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self._locked = True
            return
        raise InputError(f"cannot lock {self.path}: another run keeps taking it")

    def _unlock(self) -> None:
        if self._locked:
            (self.path / _LOCK).unlink(missing_ok=True)
            self._locked = False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
