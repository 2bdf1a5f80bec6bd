"""driftrec.train / load / refit / evaluate: typed histories, save and load, progress, interrupts."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import driftrec


def test_train_reports_typed_epochs_and_validation(shop):
    records, lines = [], []
    model = driftrec.train("bpr", shop, config={"epochs": 4, "eval_every": 1, "factors": 16}, threads=1,
                           progress=lambda stage, done, total, msg: lines.append((stage, done, total, msg)),
                           on_epoch=records.append)
    assert model.name == "bpr"
    assert [r["epoch"] for r in records] == list(range(1, len(records) + 1))
    assert all(isinstance(r["loss"], float) and "valid" in r and r["seconds"] >= 0 for r in records)
    assert model.history == records
    assert any(stage == "train bpr" for stage, *_ in lines)
    assert 0.0 <= model.validation["ndcg@10"] <= 1.0
    assert model.meta["epochs"] == records[-1]["epoch"]
    best = max(records, key=lambda r: r["valid"])["epoch"]
    assert model.meta["best_epoch"] == best


def test_time_budget_stops_training_and_keeps_the_best(shop):
    model = driftrec.train("bpr", shop, config={"epochs": 100000, "patience": 100000, "factors": 8}, threads=1,
                           progress=False, time_budget=0.5)
    last = model.history[-1]
    assert last["out_of_time"] and "valid" in last and last["seconds"] >= 0.5
    assert model.meta["time_budget_s"] == 0.5 and len(model.history) < 100000


def test_unknown_model_and_bad_config(shop):
    with pytest.raises(driftrec.NotFound):
        driftrec.train("no-such-model", shop, progress=False)
    with pytest.raises(driftrec.InvalidInput, match="factors"):
        driftrec.train("ials", shop, config={"factors": -3}, progress=False)
    with pytest.raises(driftrec.InvalidInput):
        driftrec.train("ials", shop, config=[1, 2], progress=False)


def test_save_load_gives_the_same_recommendations(shop, tmp_path):
    model = driftrec.train("ials", shop.split(), config={"factors": 8, "iterations": 3}, threads=1, progress=False)
    users = shop.user_ids[:20]
    ids, scores = model.recommend(users, k=5)
    model.save(str(tmp_path / "ials"))
    again = driftrec.load(str(tmp_path / "ials"), data=shop)
    ids2, scores2 = again.recommend(users, k=5)
    assert (ids == ids2).all()
    np.testing.assert_allclose(scores, scores2, rtol=1e-6)
    assert again.meta["model"] == "ials" and again.history == model.history
    again.save(str(tmp_path / "copy"))  # a loaded model saves as a copy of its directory
    assert driftrec.load(str(tmp_path / "copy")).config == model.config
    with pytest.raises(driftrec.NotFound):
        driftrec.load(str(tmp_path / "nothing-here"))


def test_evaluate_and_refit(shop, tmp_path):
    model = driftrec.train("itemknn", shop, progress=False, threads=1)
    res = driftrec.evaluate(model, shop, k=[5, 10], threads=1)
    assert res["evaluated_on"] == "test" and res["users_evaluated"] > 0
    assert {"hr@5", "ndcg@10", "mrr"} <= set(res["metrics"])
    only = driftrec.evaluate(model, shop, k=[10], metrics=["ndcg", "hr@10"], threads=1)
    assert set(only["metrics"]) == {"ndcg@10", "hr@10"}
    new = driftrec.evaluate(model, shop, k=[10], skip_repeats=True, threads=1)  # targets new to the user only
    assert new["skip_repeats"] and new["users_evaluated"] + new["cases_without_new_targets"] == res["users_evaluated"]
    # Validation on new targets only: what evaluate(split="valid", skip_repeats=True) scores.
    fresh = driftrec.train("itemknn", shop, progress=False, threads=1, skip_repeats=True)
    on_valid = driftrec.evaluate(fresh, shop, split="valid", k=[10], skip_repeats=True, threads=1)
    assert fresh.meta["validation_skip_repeats"] and fresh.validation["ndcg@10"] == on_valid["metrics"]["ndcg@10"]
    with pytest.raises(driftrec.InvalidInput, match="not computed"):
        driftrec.evaluate(model, shop, metrics=["nope"])
    with pytest.raises(driftrec.InvalidInput):
        driftrec.evaluate(model, shop, split="train")
    bpr = driftrec.train("bpr", shop, config={"epochs": 3, "factors": 8}, threads=1, progress=False)
    bpr.save(str(tmp_path / "bpr"))
    refit = driftrec.refit(str(tmp_path / "bpr"), shop, threads=1, progress=False)
    assert refit.meta["refit"]["best_epoch"] == bpr.meta["best_epoch"]
    assert refit.config["epochs"] == bpr.meta["best_epoch"]
    assert driftrec.evaluate(refit, shop, threads=1)["metrics"]["ndcg@10"] >= 0


def test_early_stopping_objective(shop):
    m = driftrec.train("bpr", shop, config={"epochs": 3, "factors": 4, "eval_every": 1}, threads=1, progress=False,
                       objective="recall@20")
    assert m.meta["objective"] == "recall@20" and "recall@20" in m.meta["validation"]
    with pytest.raises(driftrec.InvalidInput, match="objective"):
        driftrec.train("bpr", shop, config={"epochs": 1}, progress=False, objective="auc")


def test_graph_models_fairness_and_reranking(shop, tmp_path):
    model = driftrec.train("gfcf", shop, config={"k": 16}, progress=False, threads=1)
    res = driftrec.evaluate(model, shop, k=[10], fairness=True, threads=1)
    assert {"aplt@10", "pop_rsp@10", "pop_reo@10", "ndcg@10_gap", "miscalibration@10", "ild@10"} <= set(res["metrics"])
    quota = driftrec.evaluate(model, shop, k=[10], rerank="longtail:0.5", threads=1)
    assert quota["rerank"].startswith("longtail") and quota["metrics"]["aplt@10"] >= 0.5 - 1e-9
    with pytest.raises(driftrec.InvalidInput, match="re-ranker"):
        driftrec.evaluate(model, shop, rerank="shuffle:1")
    # Re-ranking served lists: the in-memory model and its saved directory give the same lists.
    users = list(shop.user_ids[:5])
    plain, _ = model.recommend(users, k=10)
    spread, scores = model.recommend(users, k=10, rerank="exposure:0.8", rerank_depth=50)
    assert spread.shape == (5, 10) and (spread != plain).any()
    model.save(str(tmp_path / "gfcf"))
    again, _ = driftrec.load(str(tmp_path / "gfcf"), shop).recommend(users, k=10, rerank="exposure:0.8", rerank_depth=50)
    assert (again == spread).all()
    with pytest.raises(driftrec.InvalidInput, match="re-ranker"):
        model.recommend(users, rerank="shuffle:1")
    html = driftrec.report([model], shop, rerank="calibrated:0.5", sample_users=0, resamples=20)
    assert 'id="fairness"' in html and "gfcf + calibrated" in html
    ease = driftrec.train("ease", shop, progress=False, threads=1)
    assert 0 <= driftrec.evaluate(ease, shop, threads=1)["metrics"]["ndcg@10"] <= 1


def test_progress_true_draws_text(shop, capsys):
    driftrec.train("bpr", shop, config={"epochs": 2, "factors": 4}, threads=1, progress=True)
    assert "train bpr 1/2" in capsys.readouterr().err


def test_an_exception_in_a_callback_stops_training(shop):
    calls = []

    def stop(stage, done, total, msg):
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        driftrec.train("bpr", shop, config={"epochs": 50, "factors": 8}, progress=stop)
    assert calls == [1]


def test_ctrl_c_interrupts_training(shop):
    """A real SIGINT while the C++ loop runs without the GIL ends the call with KeyboardInterrupt."""
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            driftrec.train("bpr", shop, config={"epochs": 100000, "factors": 8, "patience": 100000}, progress=False,
                           validate=False)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 30


def test_training_releases_the_gil(shop):
    """Another Python thread keeps running while a model trains."""
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.monotonic()
    driftrec.train("bpr", shop, config={"epochs": 600, "factors": 16}, threads=1, progress=False, validate=False)
    elapsed = time.monotonic() - start
    done.set()
    t.join()
    # With the GIL held for the whole call the thread would tick only before and after it.
    assert elapsed > 0.3 and len(ticks) > 100


def test_replay_protocol_online_against_frozen(shop_dir, shop, tmp_path):
    """evaluate(protocol="replay") is the CLI's replay: same numbers, online state vs frozen."""
    from conftest import run_cli
    import json

    model = driftrec.train("itemknn", shop, threads=1, progress=False)
    model.save(str(tmp_path / "knn"))
    truth = str(shop_dir / "interests.csv")
    res = driftrec.evaluate(model, shop, protocol="replay", replay_start="0.8", k=[10], threads=1, truth=truth)
    rep = res["replay"]
    assert res["protocol"] == "replay" and rep["online"]["events"] > 0
    assert 0 < rep["online"]["ndcg@10"] < 1 and 0 < rep["frozen"]["ndcg@10"] < 1
    assert "tracking" in rep
    run_cli("--threads", "1", "evaluate", "--model", str(tmp_path / "knn"), "--data", str(shop_dir), "--protocol",
            "replay", "--replay-start", "0.8", "--k", "10", "--json", str(tmp_path / "r.json"))
    cli = json.loads((tmp_path / "r.json").read_text())
    assert cli["replay"]["online"] == rep["online"] and cli["replay"]["frozen"] == rep["frozen"]
    with pytest.raises(driftrec.InvalidInput):
        driftrec.evaluate(model, shop, protocol="sideways")


def test_replay_re_ranked_and_compared(shop_dir, shop):
    """A replay's lists can be re-ranked (evaluate and compare alike), and compare takes the replay
    protocol and the truth: the calibrated lists' per-user tracking error is paired with the model's own."""
    knn = driftrec.train("itemknn", shop, threads=1, progress=False)
    truth = str(shop_dir / "interests.csv")
    plain = driftrec.evaluate(knn, shop, protocol="replay", k=[10], threads=1, truth=truth)
    calibrated = driftrec.evaluate(knn, shop, protocol="replay", k=[10], threads=1, truth=truth, rerank="calibrated:0.8")
    assert plain["rerank"] is None and calibrated["rerank"].startswith("calibrated")
    assert calibrated["replay"]["online"]["mrr"] == plain["replay"]["online"]["mrr"]  # the model's scores
    assert calibrated["replay"]["tracking"]["online"] != plain["replay"]["tracking"]["online"]
    res = driftrec.compare([knn, knn], shop, protocol="replay", truth=truth, metrics=["ndcg@10", "tracking_tv"],
                           rerank=[None, "calibrated:0.8"], threads=1, resamples=200)
    assert res["evaluated_on"].startswith("replay") and res["rerank"][1] == calibrated["rerank"]
    assert res["means"][0]["tracking_tv"] != res["means"][1]["tracking_tv"]  # per-user means, paired
    assert {r["metric"] for r in res["comparisons"]} == {"ndcg@10", "tracking_tv"}
    with pytest.raises(driftrec.InvalidInput, match="split protocol only"):
        driftrec.evaluate(knn, shop, protocol="replay", fairness=True)


def test_replay_of_the_validation_period(shop):
    """split="valid" with the replay protocol walks a temporal split's validation period, stopping at
    its test cutoff; without a temporal split there is no such period."""
    temporal = shop.split("temporal", valid_start="0.7", test_start="0.85")
    model = driftrec.train("pop", temporal, threads=1, progress=False)
    valid = driftrec.evaluate(model, temporal, protocol="replay", split="valid", threads=1)
    test = driftrec.evaluate(model, temporal, protocol="replay", threads=1)
    assert valid["replayed_on"] == "valid" and test["replayed_on"] == "test"
    assert valid["replay_end_ts"] == test["replay_start_ts"] and test["replay_end_ts"] is None
    assert valid["replay_start_ts"] < valid["replay_end_ts"]
    loo = driftrec.train("pop", shop, threads=1, progress=False)
    with pytest.raises(driftrec.InvalidInput, match="temporal split"):
        driftrec.evaluate(loo, shop, protocol="replay", split="valid")


def test_private_and_federated_models_report_their_budget(shop):
    private = driftrec.train("ials", shop, config={"factors": 8, "iterations": 2, "dp_epsilon": 8.0}, threads=1,
                             progress=False)
    assert 7.9 < private.meta["privacy"]["epsilon"] <= 8.0
    fed = driftrec.train("fedbpr", shop, config={"factors": 8, "rounds": 3, "dp_epsilon": 4.0, "client_rate": 0.5},
                         threads=1, progress=False)
    assert fed.meta["federated"]["bytes_up"] > 0
    assert fed.meta["privacy"]["epsilon"] <= 4.0
    assert 0.0 <= driftrec.evaluate(fed, shop)["metrics"]["ndcg@10"] <= 1.0
    with pytest.raises(driftrec.InvalidInput, match="refused"):
        driftrec.train("bpr", shop, config={"dp_epsilon": 1.0, "dp_noise": 0.1}, progress=False)
