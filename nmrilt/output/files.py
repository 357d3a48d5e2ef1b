"""Files of a result folder: atomic writes, checksums, where results may go and the manifest.

Every file is written atomically: to a temporary name in the same folder, then
:func:`os.replace` — a reader never sees a partial file.

The one rule for output locations: nmrilt never deletes or moves anything it did not
create.  Every result folder carries a small manifest (:data:`MANIFEST_NAME`) listing the
files nmrilt wrote; an existing output folder is replaced only when it is recognisably such
a result — the manifest (or, for results of nmrilt 0.1, ``result.h5``) is there and every
entry of the folder is a file nmrilt writes.  An output location that is, or lies above,
the experiment folder, or that a reader recognises as an experiment, is refused before
anything is read or written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError, ResultExistsError

#: Name of the output folder created inside the experiment folder.
OUTPUT_NAME = "nmrilt"
#: The file whose presence marks a finished result.
RESULT_FILE = "result.h5"
#: The manifest nmrilt writes last into every result folder: its files, its version.
MANIFEST_NAME = ".nmrilt-result.json"
#: Files of a result folder written by nmrilt 0.1 (before manifests existed).
LEGACY_RESULT_FILES = frozenset(
    {RESULT_FILE, "peaks.csv", "report.txt", "map.png", "map.pdf", "map.svg"}
)


def write_manifest(folder: Path, version: str) -> Path:
    """Record the files of ``folder`` (a complete staging folder) in its manifest."""
    from ..staging import MARKER_NAME

    files = sorted(p.name for p in Path(folder).iterdir()
                   if p.name not in (MANIFEST_NAME, MARKER_NAME))
    path = Path(folder) / MANIFEST_NAME
    path.write_text(json.dumps({"nmrilt_version": version, "files": files}, indent=1) + "\n")
    return path


def add_to_manifest(folder: str | Path, names: list[str]) -> Path | None:
    """Add ``names`` (files nmrilt wrote later, e.g. ``nmrilt plot`` figures) to the
    manifest of the result ``folder``, atomically; nothing without a manifest."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        return None
    data["files"] = sorted(set(files) | set(names))
    return write_text(path, json.dumps(data, indent=1) + "\n")


def _manifest_files(folder: Path) -> set[str] | None:
    """The file names the manifest of ``folder`` lists, or None without a usable one."""
    try:
        listed = json.loads((folder / MANIFEST_NAME).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        return None
    return set(listed)


def is_nmrilt_result(folder: str | Path) -> bool:
    """True when ``folder`` holds an nmrilt result and nothing else nmrilt did not write.

    An empty folder counts too (replacing it loses nothing).  Sub-folders, links and any
    file the manifest does not list make it foreign.
    """
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return False
    entries = list(folder.iterdir())
    if not entries:
        return True
    if any(e.is_dir() or e.is_symlink() for e in entries):
        return False
    from ..staging import MARKER_NAME

    names = {e.name for e in entries} - {MARKER_NAME}  # left by a publish killed midway
    listed = _manifest_files(folder)
    if listed is not None:
        return names <= listed | {MANIFEST_NAME}
    return RESULT_FILE in names and names <= LEGACY_RESULT_FILES


def _is_experiment_location(path: Path) -> bool:
    """True when a reader recognises ``path`` as (part of) an experiment."""
    from ..readers import READERS

    try:
        return path.is_dir() and any(r.guess_can_open(path) for r in READERS)
    except OSError:
        return False


def check_output_location(source: str | Path, outdir: str | Path) -> None:
    """Refuse an output folder that would put raw data at risk.

    Parameters
    ----------
    source : path
        The experiment folder or data file being processed.
    outdir : path
        Where its results are to be published.

    Raises
    ------
    OutputError
        ``outdir`` is the experiment folder or one of its parents, is itself an
        experiment folder, or is a file.
    """
    src = Path(source).resolve()
    out = Path(outdir).resolve()
    src_dir = src if src.is_dir() else src.parent
    if out == src_dir or out in src_dir.parents:
        raise OutputError(
            f"--out {outdir} is the experiment folder {src_dir} or one of its parents; results "
            f"would replace raw data — give a new folder (default: {src_dir / OUTPUT_NAME})"
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {outdir} is a file, not a folder; give a new folder")
    if _is_experiment_location(out):
        raise OutputError(
            f"--out {outdir} is an experiment folder; results must go to a folder of their own"
        )


def check_replaceable(outdir: str | Path, force: bool) -> None:
    """Raise unless publishing onto ``outdir`` is allowed.

    A missing or empty folder is always fine; an nmrilt result needs ``force``; anything
    else is never replaced.

    Raises
    ------
    ResultExistsError
        ``outdir`` holds an nmrilt result and ``force`` is False.
    OutputError
        ``outdir`` holds files nmrilt did not write.
    """
    outdir = Path(outdir)
    if not outdir.exists() and not outdir.is_symlink():
        return
    if not is_nmrilt_result(outdir):
        raise OutputError(
            f"{outdir} exists and holds files nmrilt did not write; nmrilt only replaces its "
            "own results — give a new or empty folder with --out"
        )
    if any(outdir.iterdir()) and not force:
        raise ResultExistsError(
            f"{outdir} already holds a result; pass --force (force=True) to replace it"
        )


# --- atomic writing ------------------------------------------------------------------------------


def umask() -> int:
    """The process umask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (opened read-only)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksums(files: tuple[Path, ...] | list[Path], root: Path | None = None) -> dict[str, str]:
    """``{name: sha256}`` of the given files, names relative to ``root`` when possible."""
    out = {}
    for f in files:
        f = Path(f)
        if not f.is_file():
            continue
        try:
            name = str(f.relative_to(root)) if root else str(f)
        except ValueError:
            name = str(f)
        out[name] = sha256(f)
    return out
