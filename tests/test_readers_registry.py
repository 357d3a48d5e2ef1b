"""The reader registry's folder questions: is this an experiment, which files are its data,
how large will they be, is the acquisition complete — asked of the readers, so that batch
and watch hold no vendor knowledge and reader plugins are batched and watched too."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import EXAMPLES, copy_example, edit_jcamp, shared_dataset

import nmrilt.readers as registry
from nmrilt.batch import find_experiments
from nmrilt.errors import ParameterFileError

BRUKER = ["bruker_t1ir_pseudo2d", "bruker_t2cpmg_pseudo2d", "bruker_t1t2_pseudo3d",
          "bruker_diffusion_pseudo2d"]
VARIAN = "varian_t1_arrayed.fid"
#: A parameter-file question that takes longer than this has hung (they take milliseconds).
HANG_TIMEOUT_S = 60


def _varian_not_arrayed(dest: Path) -> Path:
    folder = copy_example(VARIAN, dest)
    head = "arraydim 7 1 1e+18 -1e+18 0 2 1 0 1 64\n"
    text = (folder / "procpar").read_text()
    assert head + "1 12" in text
    (folder / "procpar").write_text(text.replace(head + "1 12", head + "1 1"))
    return folder


def _bruker_1d(dest: Path) -> Path:
    """acqus of the T1 example with only a one-FID ``fid`` beside it."""
    dest.mkdir(parents=True)
    (dest / "acqus").write_bytes((EXAMPLES / BRUKER[0] / "acqus").read_bytes())
    (dest / "fid").write_bytes(b"\0" * 4096)
    return dest


def _cut_inside_array(path: Path) -> None:
    """Cut a parameter file in the middle of its ``##$D=`` array (as a writer would)."""
    text = path.read_text()
    start = text.index("##$D= (0..63)\n")
    path.write_text(text[: start + len("##$D= (0..63)\n0.0 5.0")])


@pytest.mark.parametrize("name", [*BRUKER, VARIAN])
def test_examples_are_experiments(name):
    assert registry.is_experiment(EXAMPLES / name)


def test_one_dimensional_spectra_are_not_experiments(tmp_path):
    assert not registry.is_experiment(_bruker_1d(tmp_path / "bruker1d" / "1"))
    assert not registry.is_experiment(_varian_not_arrayed(tmp_path / "one.fid"))


def test_pdata_files_and_empty_folders_are_not_bruker_experiments(tmp_path):
    assert not registry.is_experiment(EXAMPLES / BRUKER[0] / "pdata" / "1")
    assert not registry.is_experiment(EXAMPLES / BRUKER[0] / "acqus")
    assert not registry.is_experiment(tmp_path)


def test_a_text_data_file_is_an_experiment(tmp_path):
    path = tmp_path / "ir.csv"
    path.write_text("tau (ms),intensity\n1,0.5\n2,0.7\n")
    assert registry.is_experiment(path)
    assert registry.data_files(path) == [path]
    assert registry.expected_data_size(path) is None


@pytest.mark.parametrize("name, data", [*((n, "ser") for n in BRUKER), (VARIAN, "fid")])
def test_expected_size_is_the_size_of_the_complete_data_file(name, data):
    folder = EXAMPLES / name
    assert registry.data_files(folder) == [folder / data]
    assert registry.expected_data_size(folder) == (folder / data).stat().st_size
    assert registry.acquisition_complete(folder)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["dnplab_15n_t1_304", "dnplab_t1_28",
                                  "nmrpy_varian_arrayed_nt/test1.fid", "nmrtools_xste_diffusion"])
def test_expected_size_of_real_spectrometer_folders(name):
    folder = shared_dataset(name)
    assert registry.is_experiment(folder)
    size = sum(f.stat().st_size for f in registry.data_files(folder))
    assert registry.expected_data_size(folder) == size


def test_bruker_expected_size_follows_the_readers_padding_rule(tmp_path):
    """TD = 1000 int32 points -> 4000 bytes padded to 4096 per FID; 11 rows from the
    status file acqu2s, as the reader takes them (not the start parameter in acqu2)."""
    folder = copy_example(BRUKER[0], tmp_path / "t1")
    edit_jcamp(folder / "acqus", TD=1000)
    edit_jcamp(folder / "acqu2", TD=20)
    assert registry.expected_data_size(folder) == 11 * 4096
    edit_jcamp(folder / "acqus", TD=1000, DTYPA=2)   # float64: 8000 bytes -> 8192
    assert registry.expected_data_size(folder) == 11 * 8192


def test_a_short_data_file_is_an_incomplete_acquisition(tmp_path):
    folder = copy_example(BRUKER[2], tmp_path / "t1t2")
    ser = (folder / "ser").read_bytes()
    (folder / "ser").write_bytes(ser[: len(ser) // 3])
    assert not registry.acquisition_complete(folder)
    (folder / "ser").write_bytes(ser)
    assert registry.acquisition_complete(folder)
    (folder / "ser").unlink()
    assert registry.data_files(folder) == []
    assert not registry.acquisition_complete(folder)


def test_a_cut_acqus_neither_hangs_the_size_check_nor_the_reader(tmp_path):
    """nmrglue's JCAMP parser never returns from a file cut inside an array; the size
    check scans the file itself and the reader refuses it first.  Run in a child process
    so that a hang fails the test instead of stopping the suite."""
    folder = copy_example(BRUKER[0], tmp_path / "t1")
    for name in ("acqus", "acqu"):
        _cut_inside_array(folder / name)
    code = textwrap.dedent(f"""
        import nmrilt.readers as r
        from nmrilt.errors import ParameterFileError
        folder = {str(folder)!r}
        print(r.is_experiment(folder), r.expected_data_size(folder),
              r.acquisition_complete(folder))
        try:
            r.read(folder)
        except ParameterFileError as exc:
            print("refused:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=HANG_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "True None True"     # TD lies beyond the cut: size unknown
    assert lines[1].startswith("refused:") and "cut short" in lines[1]
    assert str(folder / "acqus") in lines[1]


def test_reader_refuses_a_parameter_file_without_its_end_record(tmp_path):
    folder = copy_example(BRUKER[0], tmp_path / "t1")
    text = (folder / "acqu2s").read_text()
    (folder / "acqu2s").write_text(text[: text.index("##END=")])
    with pytest.raises(ParameterFileError, match="cut short"):
        registry.read(folder)


class _Plugin:
    """A third-party reader offering only the required ``guess_can_open`` and ``read``."""

    @staticmethod
    def guess_can_open(path):
        return Path(path).is_dir() and (Path(path) / "scan.bin").is_file()

    @staticmethod
    def read(path, **overrides):
        raise NotImplementedError


def test_plugin_readers_without_the_questions_get_the_documented_fallbacks(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(registry, "_all_readers", lambda: [_Plugin])
    folder = tmp_path / "data" / "run1"
    folder.mkdir(parents=True)
    (folder / "scan.bin").write_bytes(b"\1" * 10)
    (folder / "notes.txt").write_text("x")
    (folder / ".hidden").write_text("x")
    assert registry.is_experiment(folder)
    assert registry.data_files(folder) == [folder / "notes.txt", folder / "scan.bin"]
    assert registry.expected_data_size(folder) is None
    assert registry.acquisition_complete(folder)
    assert find_experiments(tmp_path / "data") == [folder]


def test_the_kind_table_and_the_command_line_load_no_vendor_library():
    """``nmrilt --help`` and the kind table must not pay for nmrglue: the registry imports
    its vendor readers on first use."""
    code = ("import sys, nmrilt.cli, nmrilt.readers, nmrilt.readers.experiment; "
            "print('nmrglue' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=HANG_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
