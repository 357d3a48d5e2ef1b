"""Staging folders: a killed run leaves nothing the next start does not remove."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from nmrilt.output.files import MANIFEST_NAME, is_nmrilt_result
from nmrilt.staging import MARKER_NAME, STALE_AFTER_S, clean_stale, make_staging, publish


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _result(folder):
    folder.mkdir()
    (folder / "result.h5").write_bytes(b"x")
    (folder / MANIFEST_NAME).write_text(json.dumps({"files": ["result.h5"]}))


def _mark(folder, pid, created=None, host=None):
    (folder / MARKER_NAME).write_text(json.dumps({
        "tool": "nmrilt", "pid": pid, "host": host or socket.gethostname(),
        "created": time.time() if created is None else created}))


def test_staging_of_a_dead_process_is_removed_and_live_or_foreign_ones_kept(tmp_path):
    out = tmp_path / "nmrilt"
    dead = tmp_path / ".nmrilt.dead1.tmp"
    live = tmp_path / ".nmrilt.live1.tmp"
    foreign = tmp_path / ".nmrilt.user1.tmp"       # same name pattern, no marker
    other_host = tmp_path / ".nmrilt.host1.tmp"
    for f in (dead, live, foreign, other_host):
        f.mkdir()
    _mark(dead, _dead_pid())
    _mark(live, os.getpid())
    _mark(other_host, _dead_pid(), host="elsewhere.invalid")
    assert clean_stale(out) == [dead]
    assert not dead.exists() and live.exists() and foreign.exists() and other_host.exists()


def test_staging_older_than_a_day_is_removed_from_any_host(tmp_path):
    old = tmp_path / ".nmrilt.old1.tmp"
    old.mkdir()
    _mark(old, os.getpid() + 1, created=time.time() - STALE_AFTER_S - 60, host="x.invalid")
    assert clean_stale(tmp_path / "nmrilt") == [old]


def test_publish_killed_between_renames_is_undone_by_the_next_start(tmp_path):
    out = tmp_path / "nmrilt"
    aside = tmp_path / ".nmrilt.aside1.tmp"
    aside.mkdir()
    _mark(aside, _dead_pid())
    _result(aside / "previous")              # moved aside, new one never renamed in
    clean_stale(out)
    assert is_nmrilt_result(out) and (out / "result.h5").is_file() and not aside.exists()


def test_legacy_old_folder_of_a_dead_run_is_removed_only_when_it_is_a_result(tmp_path):
    pid = _dead_pid()
    result, other = tmp_path / f".nmrilt.old-{pid}", tmp_path / f".nmrilt.old-{pid + 100000}"
    _result(result)
    other.mkdir()
    (other / "data.txt").write_text("user file")
    clean_stale(tmp_path / "nmrilt")
    assert not result.exists() and other.exists()


def test_publish_replaces_a_result_and_leaves_no_marker_or_aside(tmp_path):
    out = tmp_path / "nmrilt"
    _result(out)
    staging = make_staging(out, 0o022)
    (staging / "result.h5").write_bytes(b"new")
    (staging / MANIFEST_NAME).write_text(json.dumps({"files": ["result.h5"]}))
    publish(staging, out, True, 0o022)
    assert (out / "result.h5").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nmrilt"]
    assert not (out / MARKER_NAME).exists()


def test_run_after_a_killed_run_removes_its_staging_and_leaves_the_raw_folder_clean(tmp_path):
    from conftest import copy_example
    from pipeline_helpers import tree_digest

    from nmrilt.cli import main

    exp = copy_example("bruker_t2cpmg_pseudo2d", tmp_path / "exp")
    raw = tree_digest(exp)
    killed = exp / ".nmrilt.k1ll3d.tmp"          # what kill -9 mid-write leaves behind
    killed.mkdir()
    _mark(killed, _dead_pid())
    (killed / "map.png").write_bytes(b"half")
    fast = ["--formats", "png", "--set", 'shift_mode="sum"', "--set", "max_iter=20"]
    assert main(["-q", "run", str(exp), *fast]) == 0
    assert not killed.exists()
    assert {k: v for k, v in tree_digest(exp).items() if not k.startswith("nmrilt/")} == raw
    assert sorted(p.name for p in (exp / "nmrilt").iterdir() if p.name.startswith(".")) == [
        MANIFEST_NAME]
