"""driftrec.simulate and driftrec.ope: the same numbers as the CLI's simulate and ope."""

import json

import pytest

import driftrec

from conftest import run_cli


def test_simulate_matches_the_cli(tmp_path):
    args = dict(users=150, items=120, episodes=30, steps=8, k=5, seed=3)
    py = driftrec.simulate(["greedy", "epsilon-greedy:epsilon=0.2"], model="pop", **args)
    run_cli("simulate", "--model", "pop", "--policy", "greedy", "--policy", "epsilon-greedy:epsilon=0.2", "--users",
            "150", "--items", "120", "--episodes", "30", "--steps", "8", "--k", "5", "--seed", "3", "--json",
            str(tmp_path / "sim.json"), "--log-out", str(tmp_path / "log.csv"))
    cli = json.loads((tmp_path / "sim.json").read_text())
    assert [r["policy"] for r in py["reports"]] == ["greedy", "epsilon-greedy:epsilon=0.2"]
    for a, b in zip(py["reports"], cli["reports"]):
        assert a["clicks_mean"] == b["clicks_mean"] and a["regret_mean"] == b["regret_mean"]
    with pytest.raises(driftrec.InvalidInput):
        driftrec.simulate(["no-such-policy"], model="pop", **args)

    # The greedy policy's logged slates, evaluated off-policy for the uniform policy.
    run_cli("ope", "--log", str(tmp_path / "log.csv"), "--bootstrap", "50", "--json", str(tmp_path / "ope.json"))
    ope_cli = json.loads((tmp_path / "ope.json").read_text())
    ope_py = driftrec.ope(str(tmp_path / "log.csv"), bootstrap=50)
    assert ope_py["estimates"] == ope_cli["estimates"]
    assert ope_py["rows"] == ope_cli["rows"] > 0
    with pytest.raises(driftrec.InvalidInput):
        driftrec.ope(str(tmp_path / "log.csv"), estimators=["nope"])
    with pytest.raises(OSError):  # driftrec.IoError
        driftrec.ope(str(tmp_path / "missing.csv"))
