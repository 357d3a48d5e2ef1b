"""Light modules stay light: importing them loads none of the heavy optional libraries.

Each check runs in a fresh interpreter, so modules imported by other tests do not count.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("nmrglue", "matplotlib", "h5py", "scipy")


def _loaded_after(*modules: str) -> set[str]:
    """Which of :data:`HEAVY` a fresh interpreter has loaded after importing ``modules``."""
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(filter(None, out.stdout.strip().split(",")))


@pytest.mark.parametrize("module", ["nmrilt.model", "nmrilt.output.components",
                                    "nmrilt.output.report"])
def test_model_and_text_output_load_no_reader_plotting_hdf5_or_solver_library(module):
    assert _loaded_after(module) == set()


def test_output_package_loads_neither_matplotlib_nor_nmrglue_nor_the_solver():
    assert _loaded_after("nmrilt.output") & {"matplotlib", "nmrglue", "scipy"} == set()


def test_the_check_sees_a_heavy_import():
    """The probe itself can fail: a module that does load h5py is reported."""
    assert _loaded_after("nmrilt.output", "h5py") >= {"h5py"}
