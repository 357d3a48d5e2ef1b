"""Result -> files: ``result.h5``, ``peaks.csv``, ``report.txt`` and the figures.

``hdf5`` (the only module importing h5py), ``files`` (atomic writes, checksums, output
locations and the manifest), ``components`` (connected blobs of the distribution),
``columns`` (the registry of extra ``peaks.csv`` columns), ``report`` (text output) and ``plotting`` (figures; matplotlib is imported inside its
functions).  Importing this package loads neither h5py nor matplotlib.
"""

from __future__ import annotations

from .columns import register_column_provider, unregister_column_provider
from .components import SUPPORT_FRACTION, components, ppm_segments
from .files import (
    MANIFEST_NAME,
    OUTPUT_NAME,
    RESULT_FILE,
    atomic_path,
    check_output_location,
    check_replaceable,
    checksums,
    is_nmrilt_result,
    sha256,
    write_manifest,
    write_text,
)
from .hdf5 import read_result, write_h5
from .plotting import axis_label, make_figure, plot_result
from .report import report_text, write_peaks_csv, write_report

__all__ = [
    "MANIFEST_NAME",
    "OUTPUT_NAME",
    "RESULT_FILE",
    "SUPPORT_FRACTION",
    "atomic_path",
    "axis_label",
    "check_output_location",
    "check_replaceable",
    "checksums",
    "components",
    "is_nmrilt_result",
    "make_figure",
    "plot_result",
    "ppm_segments",
    "read_result",
    "register_column_provider",
    "report_text",
    "sha256",
    "unregister_column_provider",
    "write_h5",
    "write_manifest",
    "write_peaks_csv",
    "write_report",
    "write_text",
]
