"""nmrilt never deletes or moves what it did not create (reliability issue, item 0).

Each case points the output at a place that holds raw data — the experiment folder, its
parent, the batch root — or at a folder with foreign files, with and without ``--force``,
and checks that every raw file is byte-identical afterwards and that the refusal is a clean
one-line error.
"""

from __future__ import annotations

import pytest
from conftest import copy_example as _copy
from pipeline_helpers import tree_digest

from nmrilt.cli import main
from nmrilt.output.files import MANIFEST_NAME, is_nmrilt_result

FAST = ["--formats", "png", "--set", 'shift_mode="sum"', "--set", "max_iter=20"]


@pytest.fixture
def exp(tmp_path):
    return _copy("bruker_t2cpmg_pseudo2d", tmp_path / "data" / "user" / "exp")


def _one_clean_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_run_refuses_out_equal_to_the_experiment(exp, force, capsys):
    root = exp.parent.parent
    before = tree_digest(root)
    assert main(["-q", "run", str(exp), "--out", str(exp), *force, *FAST]) == 3
    assert "parents" in _one_clean_error(capsys)
    assert tree_digest(root) == before


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_run_refuses_out_above_the_experiment(exp, force, capsys):
    root = exp.parent.parent
    before = tree_digest(root)
    assert main(["-q", "run", str(exp), "--out", str(exp.parent), *force, *FAST]) == 3
    _one_clean_error(capsys)
    assert tree_digest(root) == before


def test_run_refuses_another_experiment_as_out(exp, tmp_path, capsys):
    other = _copy("bruker_t1ir_pseudo2d", tmp_path / "other")
    before = tree_digest(other)
    assert main(["-q", "run", str(exp), "--out", str(other), "--force", *FAST]) == 3
    assert "experiment folder" in _one_clean_error(capsys)
    assert tree_digest(other) == before


def test_force_never_replaces_a_folder_with_foreign_files(exp, tmp_path, capsys):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("months of work\n")
    assert main(["-q", "run", str(exp), "--out", str(out), "--force", *FAST]) == 3
    assert "did not write" in _one_clean_error(capsys)
    assert (out / "chapter1.tex").read_text() == "months of work\n"


def test_force_refuses_a_result_folder_the_user_added_files_to(exp, capsys):
    assert main(["-q", "run", str(exp), *FAST]) == 0
    notes = exp / "nmrilt" / "my_notes.txt"
    notes.write_text("keep me\n")
    assert main(["-q", "run", str(exp), "--force", *FAST]) == 3
    _one_clean_error(capsys)
    assert notes.read_text() == "keep me\n"


def test_force_replaces_nmrilt_s_own_result(exp):
    raw = tree_digest(exp)
    assert main(["-q", "run", str(exp), *FAST]) == 0
    assert is_nmrilt_result(exp / "nmrilt") and (exp / "nmrilt" / MANIFEST_NAME).is_file()
    assert main(["-q", "run", str(exp), "--force", *FAST]) == 0
    assert is_nmrilt_result(exp / "nmrilt")
    after = {k: v for k, v in tree_digest(exp).items() if not k.startswith("nmrilt/")}
    assert after == raw


def test_a_result_of_version_0_1_without_manifest_is_still_replaceable(exp):
    assert main(["-q", "run", str(exp), *FAST]) == 0
    (exp / "nmrilt" / MANIFEST_NAME).unlink()
    from nmrilt.output.files import LEGACY_RESULT_FILES

    for extra in (exp / "nmrilt").iterdir():  # a 0.1 result held only its own files
        if extra.name not in LEGACY_RESULT_FILES:
            extra.unlink()
    assert is_nmrilt_result(exp / "nmrilt")
    assert main(["-q", "run", str(exp), "--force", *FAST]) == 0


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_batch_with_out_equal_to_root_deletes_nothing(exp, force, capsys):
    root = exp.parent.parent
    before = tree_digest(root)
    code = main(["-q", "batch", str(root), "--out", str(root), *force, *FAST])
    assert code != 0
    assert "Traceback" not in capsys.readouterr().err
    assert tree_digest(root) == before


def test_mistyped_experiment_path_creates_nothing(exp, capsys):
    before = sorted(p.name for p in exp.iterdir())
    assert main(["-q", "run", str(exp / "nope")]) == 2
    _one_clean_error(capsys)
    assert sorted(p.name for p in exp.iterdir()) == before
