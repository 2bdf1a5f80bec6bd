"""driftrec.compare (paired significance) and driftrec.tune (search) over the library workflows."""

import json

import pytest

import driftrec

from conftest import run_cli


def test_compare_matches_the_cli(shop_dir, shop, tmp_path):
    dirs = []
    for name, sets in (("pop", []), ("itemknn", [])):
        out = tmp_path / name
        run_cli("--threads", "1", "train", "--data", str(shop_dir), "--model", name, *sets, "--out", str(out))
        dirs.append(str(out))
    run_cli("--threads", "1", "compare", "--model", dirs[0], "--model", dirs[1], "--data", str(shop_dir),
            "--metrics", "hr@10,ndcg@10", "--json", str(tmp_path / "cli.json"))
    cli = json.loads((tmp_path / "cli.json").read_text())
    models = [driftrec.load(d) for d in dirs]
    py = driftrec.compare(models, shop, metrics=["hr@10", "ndcg@10"], threads=1)
    assert py["comparisons"] == cli["comparisons"]
    assert py["models"] == dirs and py["cases"] == cli["cases"]
    assert len(py["means"]) == 2 and py["means"][1]["ndcg@10"] == py["comparisons"][1]["value"]
    # In-memory models compare too (labelled by name), and a bad metric is refused.
    knn = driftrec.train("itemknn", shop, threads=1, progress=False)
    pop = driftrec.train("pop", shop, threads=1, progress=False)
    again = driftrec.compare([pop, knn], shop, metrics=["ndcg@10"], threads=1)
    assert again["models"] == ["pop#0", "itemknn#1"]
    with pytest.raises(driftrec.InvalidInput, match="per-user metric"):
        driftrec.compare([pop, knn], shop, metrics=["coverage@10"], threads=1)
    with pytest.raises(driftrec.InvalidInput):
        driftrec.compare([pop], shop)


def test_compare_a_model_with_itself_re_ranked(shop):
    knn = driftrec.train("itemknn", shop, threads=1, progress=False)
    metrics = ["ndcg@10", "miscalibration@10", "aplt@10"]
    res = driftrec.compare([knn, knn], shop, metrics=metrics, rerank=[None, "calibrated:0.8"], threads=1, resamples=200)
    assert res["rerank"][0] is None and res["rerank"][1].startswith("calibrated")
    alone = driftrec.evaluate(knn, shop, k=[10], rerank="calibrated:0.8", threads=1)
    for m in metrics:
        assert res["means"][1][m] == pytest.approx(alone["metrics"][m], abs=1e-12), m
    rows = {r["metric"]: r for r in res["comparisons"]}
    assert rows["miscalibration@10"]["diff"] < 0 and rows["miscalibration@10"]["rerank"] == res["rerank"][1]
    # One spec re-ranks every model; a count that fits neither is refused, as is a non-string entry.
    both = driftrec.compare([knn, knn], shop, metrics=["ndcg@10"], rerank="mmr:0.5", threads=1, resamples=50)
    assert both["means"][0] == both["means"][1] and both["rerank"][0] == both["rerank"][1]
    with pytest.raises(driftrec.InvalidInput, match="one per model"):
        driftrec.compare([knn, knn], shop, rerank=["mmr:0.5", None, None])
    with pytest.raises(driftrec.InvalidInput, match="rerank"):
        driftrec.compare([knn, knn], shop, rerank=[None, 3])
    # Seen items rankable, as evaluate(include_seen=True) ranks them.
    seen = driftrec.compare([knn, knn], shop, metrics=["ndcg@10"], include_seen=True, threads=1, resamples=50)
    assert seen["include_seen"]
    assert seen["means"][0]["ndcg@10"] == pytest.approx(
        driftrec.evaluate(knn, shop, k=[10], include_seen=True, threads=1)["metrics"]["ndcg@10"], abs=1e-12)


def test_models_of_other_data_are_refused(shop, shop_df):
    other = driftrec.Dataset.from_pandas(shop_df.iloc[: len(shop_df) // 2], time="timestamp")
    a = driftrec.train("pop", shop, progress=False)
    b = driftrec.train("pop", other, progress=False)
    with pytest.raises(driftrec.InvalidInput, match="other data"):
        driftrec.compare([a, b], shop)


def test_tune_finds_and_records_the_best(shop, tmp_path):
    space = {"model": "ials", "objective": "ndcg@10", "fixed": {"iterations": 2},
             "params": {"factors": {"type": "choice", "values": [4, 16]}, "reg": {"type": "loguniform", "low": 0.01, "high": 1.0}}}
    seen = []
    res = driftrec.tune(shop, space, trials=4, strategy="random", seed=3, threads=1, on_trial=seen.append)
    assert res["model"] == "ials" and len(res["trials"]) == 4 and len(seen) == 4
    best = res["best"]
    assert best["value"] == max(t["value"] for t in res["trials"] if t["status"] == "complete")
    assert best["config"]["iterations"] == 2 and best["config"]["factors"] == best["params"]["factors"]
    # The same search again gives the same trials (seeded); a db file is resumed, not redone.
    again = driftrec.tune(shop, space, trials=4, strategy="random", seed=3, threads=1)
    assert [t["params"] for t in again["trials"]] == [t["params"] for t in res["trials"]]
    db = str(tmp_path / "t.sqlite")
    driftrec.tune(shop, space, trials=2, strategy="random", seed=3, threads=1, db=db)
    resumed = driftrec.tune(shop, space, trials=3, strategy="random", seed=3, threads=1, db=db)
    assert len(resumed["trials"]) == 3
    with pytest.raises(driftrec.InvalidInput, match="not a parameter"):
        driftrec.tune(shop, {"model": "ials", "params": {"nope": {"type": "uniform", "low": 0, "high": 1}}})
    # Trials asked at a time (tests/nn/request_time_test.cpp checks the figures): leave-one-out has
    # no cutoff, refused before any trial.
    with pytest.raises(driftrec.InvalidInput, match="no cutoff"):
        driftrec.tune(shop, space, trials=1, threads=1, request_at="cutoff")


def test_report_writes_the_html_page(shop_dir, shop, tmp_path):
    knn = driftrec.train("itemknn", shop, threads=1, progress=False)
    bpr = driftrec.train("bpr", shop, config={"epochs": 3, "factors": 8}, threads=1, progress=False)
    out = tmp_path / "report.html"
    html = driftrec.report([knn, bpr], shop, out=str(out), title="From Python", truth=str(shop_dir / "interests.csv"),
                           threads=1)
    assert out.read_text() == html
    for section in ("summary", "comparison", "training", "metric-vs-k", "popularity", "tracking", "users"):
        assert f'<section id="{section}">' in html
    assert "From Python" in html and "itemknn" in html and "<svg" in html
    with pytest.raises(driftrec.InvalidInput, match="users"):
        driftrec.report([knn], shop, users=["no-such-user"])


def test_ensemble_of_saved_models(shop, tmp_path):
    for name, config in (("ials", {"factors": 8, "iterations": 3}), ("itemknn", {})):
        driftrec.train(name, shop, config=config, threads=1, progress=False).save(str(tmp_path / name))
    ens = driftrec.ensemble([driftrec.load(str(tmp_path / "ials")), str(tmp_path / "itemknn")], shop, threads=1)
    assert ens.name == "ensemble" and len(ens.meta["member_weights"]) == 2
    assert ens.meta["members"] == [str(tmp_path / "ials"), str(tmp_path / "itemknn")]
    assert ens.meta["objective"] == "ndcg@10"
    assert not ens.meta["validation_skip_repeats"]
    new = driftrec.ensemble([str(tmp_path / "ials"), str(tmp_path / "itemknn")], shop, threads=1, skip_repeats=True)
    assert new.meta["validation_skip_repeats"]  # weights fitted on targets new to their user
    hr = driftrec.ensemble([str(tmp_path / "ials"), str(tmp_path / "itemknn")], shop, threads=1, objective="hr@5")
    assert hr.meta["validation_request_at"] == "none"
    arrival = driftrec.ensemble([str(tmp_path / "ials"), str(tmp_path / "itemknn")], shop, threads=1,
                                request_at="arrival")
    assert arrival.meta["validation_request_at"] == "arrival"  # static members: the same figures
    assert arrival.meta["validation"] == ens.meta["validation"]
    with pytest.raises(driftrec.InvalidInput, match="no cutoff"):
        driftrec.ensemble([str(tmp_path / "ials"), str(tmp_path / "itemknn")], shop, threads=1, request_at="cutoff")
    assert hr.meta["objective"] == "hr@5" and "hr@5" in hr.meta["validation"]
    with pytest.raises(driftrec.InvalidInput, match="nope"):
        driftrec.ensemble([str(tmp_path / "ials"), str(tmp_path / "itemknn")], shop, objective="nope@3")
    fixed = driftrec.ensemble([str(tmp_path / "ials"), str(tmp_path / "itemknn")], shop, weights=[1.0, 3.0], threads=1)
    assert fixed.meta["member_weights"] == [0.25, 0.75]  # normalised to sum to 1
    ids, _ = fixed.recommend(shop.user_ids[:3], k=5)
    assert ids.shape == (3, 5)
    fixed.save(str(tmp_path / "ens"))
    assert driftrec.load(str(tmp_path / "ens")).meta["member_weights"] == [0.25, 0.75]
    with pytest.raises(driftrec.InvalidInput, match="save"):
        driftrec.ensemble([driftrec.train("pop", shop, progress=False), str(tmp_path / "ials")], shop)
