"""The same configuration through the CLI and through Python gives identical metrics."""

import json

import pytest

import driftrec

from conftest import run_cli


@pytest.mark.parametrize("model,config", [("itemknn", {"neighbors": 50}), ("bpr", {"epochs": 3, "factors": 8}),
                                          ("ials", {"factors": 8, "iterations": 3})])
def test_cli_and_python_agree(shop_dir, shop, tmp_path, model, config):
    sets = [a for k, v in config.items() for a in ("--set", f"{k}={v}")]
    out = tmp_path / model
    run_cli("--threads", "1", "train", "--data", str(shop_dir), "--model", model, *sets, "--seed", "5", "--out", str(out))
    run_cli("--threads", "1", "evaluate", "--model", str(out), "--data", str(shop_dir), "--k", "5,10",
            "--json", str(tmp_path / "cli.json"))
    cli = json.loads((tmp_path / "cli.json").read_text())
    py_model = driftrec.train(model, shop, config=config, seed=5, threads=1, progress=False)
    py = driftrec.evaluate(py_model, shop, k=[5, 10], threads=1)
    assert py["metrics"] == cli["metrics"]
    assert py_model.validation == json.loads((out / "model.json").read_text())["validation"]
    # And the CLI's model directory, loaded in Python, evaluates the same again.
    assert driftrec.evaluate(driftrec.load(str(out)), shop, k=[5, 10], threads=1)["metrics"] == cli["metrics"]
