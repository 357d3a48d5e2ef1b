"""The fast part of the reliability campaign (benchmarks/reliability_campaign.py).

A seeded sample of broken experiment copies goes through ``nmrilt run`` in subprocesses,
plus one kill of ``run --force`` and one watcher kill/restart.  Every case must end as a
complete result or a clean refusal: no traceback, hang, raw-file change, partial output,
silently accepted bad input or non-finite result.  The full campaign (>= 400 cases) is a
benchmark: ``python benchmarks/reliability_campaign.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES

CAMPAIGN = Path(__file__).resolve().parents[1] / "benchmarks" / "reliability_campaign.py"


def _campaign():
    spec = importlib.util.spec_from_file_location("reliability_campaign", CAMPAIGN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_sampled_campaign_has_no_bad_outcome(tmp_path, monkeypatch):
    if not (EXAMPLES / "bruker_t1t2_pseudo3d").is_dir():
        pytest.skip("example datasets not generated")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # crash logs, if any
    campaign = _campaign()
    # 50 cases, two at a time: ~110 s, so that the suite stays under 10 minutes on a slow
    # 2-core machine (60 cases one at a time took 200 s there)
    report = campaign.run_campaign(sample=50, seed=11, timeout=60.0, kills=1, watches=1,
                                   verbose=False, jobs=2)
    assert report["cases"] >= 42
    assert report["failures"] == [], campaign.summary_line(report)
    assert campaign.bad_scenarios(report) == 0, report["scenarios"]
    assert report["counts"].get("result", 0) > 0 and report["counts"].get("refused", 0) > 0
