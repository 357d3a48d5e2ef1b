"""Shared test helpers: the bundled examples, their truths, and the public datasets.

Test modules import the helpers (``from conftest import EXAMPLES, copy_example``); pytest
puts this folder on ``sys.path`` (rootdir-relative "prepend" import mode), as it does for
``pipeline_helpers``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

#: The bundled example datasets (``example_datasets/make_examples.py`` writes them).
EXAMPLES = Path(__file__).resolve().parents[1] / "example_datasets"

#: Public real datasets beside the repository (``../shared/datasets``), never copied into
#: it; ``NMRILT_SHARED_DATASETS`` points elsewhere.  Tests that need them skip when absent.
SHARED_DATASETS = Path(
    os.environ.get("NMRILT_SHARED_DATASETS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
)


def truth(name: str) -> dict[str, Any]:
    """The ``<name>.truth.json`` written with an example (what it was simulated from)."""
    return json.loads((EXAMPLES / f"{name}.truth.json").read_text())


def copy_example(name: str, dest: Path) -> Path:
    """Copy example ``name`` to ``dest`` (the new folder) and return ``dest``.

    Skips the test when the example is absent; ``nmrilt`` result folders left in the
    example by an earlier run are not copied.
    """
    src = EXAMPLES / name
    if not src.is_dir():
        pytest.skip(f"example dataset {name} not generated (run example_datasets/make_examples.py)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("nmrilt"))
    return dest


def edit_jcamp(path: Path, **changes: Any) -> None:
    """Rewrite a TopSpin parameter file with some parameters changed (through nmrglue)."""
    import nmrglue as ng

    dic = ng.bruker.read_jcamp(str(path))
    dic.update(changes)
    ng.bruker.write_jcamp(dic, str(path), overwrite=True)


def shared_dataset(relative: str) -> Path:
    """``SHARED_DATASETS / relative``; skips the test when it is absent."""
    path = SHARED_DATASETS / relative
    if not path.exists():
        pytest.skip(f"{path} not present (public datasets live in ../shared/datasets)")
    return path


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``shared`` skip when ``SHARED_DATASETS`` is absent."""
    if item.get_closest_marker("shared") and not SHARED_DATASETS.is_dir():
        pytest.skip(f"{SHARED_DATASETS} not present (public datasets live in ../shared/datasets)")
