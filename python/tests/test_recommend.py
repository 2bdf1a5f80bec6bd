"""driftrec.Model: batch recommendations as numpy arrays, online updates, explanations, embeddings."""

import numpy as np
import pytest

import driftrec


@pytest.fixture(scope="module")
def knn(shop):
    return driftrec.train("itemknn", shop, progress=False, threads=1)


@pytest.fixture(scope="module")
def sasrec(shop):
    config = {"epochs": 3, "dim": 16, "layers": 1, "heads": 1, "max_len": 20, "batch_size": 64}
    return driftrec.train("sasrec", shop, config=config, threads=1, progress=False)


@pytest.fixture(scope="module")
def ials(shop):
    return driftrec.train("ials", shop, config={"factors": 8, "iterations": 3}, threads=1, progress=False)


def test_recommend_batch_shapes_and_types(knn, shop):
    users = shop.user_ids[:7]
    ids, scores = knn.recommend(users, k=4)
    assert ids.shape == (7, 4) and scores.shape == (7, 4)
    assert ids.dtype == object and scores.dtype == np.float32
    assert all(isinstance(x, str) for x in ids.ravel())
    assert (np.diff(scores, axis=1) <= 0).all()  # best first
    one_ids, one_scores = knn.recommend(users[0], k=4)
    assert one_ids.shape == (4,) and (one_ids == ids[0]).all()


def test_filter_already_liked_candidates_and_exclude(knn, shop_df):
    user = str(shop_df.user_id.iloc[0])
    seen = set(shop_df[shop_df.user_id.astype(str) == user].item_id.astype(str))
    ids, _ = knn.recommend([user], k=20)
    assert not seen & set(ids[0])
    with_seen, _ = knn.recommend([user], k=20, filter_already_liked=False)
    assert seen & set(with_seen[0])
    pool = [str(i) for i in shop_df.item_id.astype(str).unique()[:30]]
    only, _ = knn.recommend([user], k=5, items=pool, filter_already_liked=False)
    assert set(only[0]) <= set(pool)
    top = with_seen[0][0]
    without, _ = knn.recommend([user], k=5, exclude=[top], filter_already_liked=False)
    assert top not in set(without[0])
    with pytest.raises(driftrec.InvalidInput, match="candidate"):
        knn.recommend([user], items=["no-such-item"])
    with pytest.raises(driftrec.InvalidInput):
        knn.recommend([user], k=0)


def test_short_rows_are_padded(knn, shop):
    pool = shop.item_ids[:3]
    ids, scores = knn.recommend(shop.user_ids[:2], k=5, items=pool, filter_already_liked=False)
    assert (ids[:, 3:] == "").all() and np.isneginf(scores[:, 3:]).all()


def test_unknown_users_get_popular_items(knn):
    ids, scores = knn.recommend(["nobody-1", "nobody-2"], k=3)
    assert (ids[0] == ids[1]).all() and (ids[0] != "").all()


def test_observe_moves_a_sequential_model_at_once(sasrec, shop):
    user = shop.user_ids[0]
    before, _ = sasrec.recommend([user], k=10)
    n = sasrec.history_length(user)
    for item in shop.item_ids[-3:]:
        assert sasrec.observe(user, item, behavior="view")
    assert sasrec.history_length(user) == n + 3
    after, _ = sasrec.recommend([user], k=10)
    assert list(before[0]) != list(after[0])
    assert not sasrec.observe(user, "no-such-item")


def test_recommend_at_a_time_moves_a_model_that_reads_it(shop):
    config = {"epochs": 3, "dim": 16, "layers": 1, "heads": 1, "max_len": 20, "batch_size": 64,
              "request_time": True}
    timed = driftrec.train("sasrec", shop, config=config, threads=1, progress=False)
    users = shop.user_ids[:20]
    _, plain = timed.recommend(users, k=10)
    _, soon = timed.recommend(users, k=10, at=2_000_000_000)
    _, again = timed.recommend(users, k=10)
    assert not np.array_equal(plain, soon)  # asked at a time: encoded as of then
    assert np.array_equal(plain, again)  # the next call without one is as before
    # Evaluation: the split protocol asks without a time unless told; leave-one-out has no cutoff,
    # each case's arrival (its target's time) it has. The replay asks at each event's time.
    none = driftrec.evaluate(timed, shop, k=[10], threads=1)
    arrival = driftrec.evaluate(timed, shop, k=[10], threads=1, request_at="arrival")
    assert none["request_at"] == "none" and arrival["request_at"] == "arrival"
    assert none["metrics"] != arrival["metrics"]
    with pytest.raises(driftrec.InvalidInput, match="no cutoff"):
        driftrec.evaluate(timed, shop, k=[10], threads=1, request_at="cutoff")
    replay = driftrec.evaluate(timed, shop, protocol="replay", threads=1, request_time=False)
    assert replay["request_time"] is False
    with pytest.raises(driftrec.InvalidInput, match="split protocol"):
        driftrec.evaluate(timed, shop, protocol="replay", threads=1, request_at="arrival")
    with pytest.raises(driftrec.InvalidInput, match="replay protocol"):
        driftrec.evaluate(timed, shop, threads=1, request_time=False)
    # The report takes request_at too (tests/nn/request_time_test.cpp checks what it does with it).
    html = driftrec.report([timed], shop, request_at="arrival", sample_users=0, resamples=20, threads=1)
    assert "asked for at each case's first target" in html
    with pytest.raises(driftrec.InvalidInput, match="no cutoff"):
        driftrec.report([timed], shop, request_at="cutoff", sample_users=0, resamples=20, threads=1)
    # So does training's validation (early stopping and the recorded metrics).
    asked = driftrec.train("sasrec", shop, config=config, threads=1, progress=False, request_at="arrival")
    assert asked.meta["validation_request_at"] == "arrival"
    assert timed.meta["validation_request_at"] == "none"
    assert asked.validation != timed.validation
    with pytest.raises(driftrec.InvalidInput, match="no cutoff"):
        driftrec.train("sasrec", shop, config=config, threads=1, progress=False, request_at="cutoff")


def test_recommend_history_for_anonymous_sessions(sasrec, shop):
    session = shop.item_ids[:5]
    ids, _ = sasrec.recommend_history(session, k=5)
    assert ids.shape == (5,) and not set(session) & set(ids)
    batch, _ = sasrec.recommend_history([session, shop.item_ids[5:8], []], k=5)
    assert batch.shape == (3, 5) and (batch[0] == ids).all()


def test_explain_and_similar(knn, ials, shop):
    user = shop.user_ids[1]
    top, _ = knn.recommend([user], k=1)
    because = knn.explain(user, top[0][0])
    assert because and {"item", "ts", "behavior", "weight"} <= set(because[0])
    assert because[0]["weight"] >= because[-1]["weight"]
    pop = driftrec.train("pop", shop, progress=False)
    assert not pop.capabilities["explain"]
    with pytest.raises(driftrec.NotSupported):
        pop.explain(user, top[0][0])
    assert ials.explain(user, top[0][0])  # the MF model explains through its fold-in
    with pytest.raises(driftrec.NotFound):
        knn.explain(user, "no-such-item")
    item = shop.item_ids[0]
    sim, sim_scores = knn.similar_items(item, k=5)
    assert sim.shape == (5,) and item not in set(sim)


def test_item_embeddings_are_a_read_only_view(ials, knn):
    emb = ials.item_embeddings
    assert emb.shape == (ials.n_items + 1, 8) and emb.dtype == np.float32
    assert not emb.flags.writeable and not emb.flags.owndata
    with pytest.raises(ValueError):
        emb[1, 0] = 1.0
    assert np.shares_memory(emb, ials.item_embeddings)  # the same buffer each time: no copy
    assert knn.item_embeddings is None
