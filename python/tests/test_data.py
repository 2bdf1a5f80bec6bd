"""driftrec.Dataset: reading files, building from pandas, splits, stats, and clear errors."""

import numpy as np
import pandas as pd
import pytest

import driftrec


def test_version_and_models():
    assert driftrec.__version__.count(".") == 2
    names = driftrec.models()
    for name in ("pop", "itemknn", "ials", "bpr", "sasrec", "hstu", "gru4rec"):
        assert name in names
    assert "factors" in driftrec.model_params("ials")
    with pytest.raises(driftrec.NotFound):
        driftrec.model_params("no-such-model")


def test_read_matches_pandas(shop, shop_df):
    assert shop.n_events == len(shop_df) == len(shop)
    assert shop.n_users == shop_df.user_id.nunique()
    assert shop.n_items == shop_df.item_id.nunique()
    assert shop.has_clock
    ds = driftrec.Dataset.from_pandas(shop_df, time="timestamp", behavior="behavior")
    assert (ds.n_events, ds.n_users, ds.n_items) == (shop.n_events, shop.n_users, shop.n_items)
    assert sorted(ds.user_ids) == sorted(shop.user_ids)
    stats = ds.stats()
    assert stats["events"] == len(shop_df)
    assert set(stats["behaviors"]) == set(shop_df.behavior.unique())


def test_from_pandas_datetimes_and_item_table():
    df = pd.DataFrame({
        "u": ["a", "a", "b", "b", "b"],
        "i": [1, 2, 2, 3, 1],
        "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-03", "2024-01-05"]),
    })
    items = pd.DataFrame({"item_id": [1, 2, 3, 99], "cat": ["x|y", "y", None, "z"], "title": ["red shoe", "", "blue", "n"]})
    ds = driftrec.from_pandas(df, user="u", item="i", time="when", items=items, category="cat", title="title")
    assert ds.n_events == 5 and ds.n_items == 3 and ds.has_clock
    stats = ds.stats()
    assert stats["time"]["min"] == 1704067200  # 2024-01-01T00:00:00Z
    assert stats["item_table"]["items_with_category"] == 2 and stats["item_table"]["items_with_text"] == 2


def test_from_pandas_without_clock_keeps_row_order():
    df = pd.DataFrame({"user_id": ["a", "a", "a"], "item_id": ["x", "y", "z"]})
    ds = driftrec.Dataset.from_pandas(df, time=None)
    assert not ds.has_clock and ds.n_events == 3


@pytest.mark.parametrize(
    "frame,kwargs,message",
    [
        (pd.DataFrame({"user_id": ["a"], "item_id": ["x"], "timestamp": [1]}), {"user": "uid"}, "no column 'uid'"),
        (pd.DataFrame({"user_id": ["a", None], "item_id": ["x", "y"], "timestamp": [1, 2]}), {},
         "row 1, column 'user_id': missing id"),
        (pd.DataFrame({"user_id": ["a", ""], "item_id": ["x", "y"], "timestamp": [1, 2]}), {},
         "row 1, column 'user_id': empty id"),
        (pd.DataFrame({"user_id": ["a", "b\tc"], "item_id": ["x", "y"], "timestamp": [1, 2]}), {},
         "row 1, column 'user_id': .*control character"),
        (pd.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "y"], "timestamp": [1.0, np.nan]}), {},
         "row 1, column 'timestamp': missing timestamp"),
        (pd.DataFrame({"user_id": ["a", "b"], "item_id": ["x", "y"], "timestamp": [1, 2], "v": [1.0, np.inf]}),
         {"value": "v"}, "row 1, column 'v': not a finite number"),
    ],
)
def test_from_pandas_errors_name_row_and_column(frame, kwargs, message):
    with pytest.raises(driftrec.InvalidInput, match=message) as err:
        driftrec.Dataset.from_pandas(frame, **kwargs)
    assert isinstance(err.value, ValueError)


def test_read_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,timestamp\nu1,i1,100\nu2,i2,yesterday\n")
    with pytest.raises(ValueError, match=r"bad.csv:3: field 'timestamp'"):
        driftrec.Dataset.read(str(bad))
    with pytest.raises(driftrec.NotFound):
        driftrec.Dataset.read(str(tmp_path / "missing.csv"))
    ds = driftrec.Dataset.read(str(bad), on_error="skip", rejects=str(tmp_path / "rejects.tsv"))
    assert ds.n_events == 1


def test_split(shop):
    loo = shop.split()
    assert loo.summary["protocol"] == "leave_one_out"
    assert loo.summary["test_cases"] > 0 and loo.summary["valid_cases"] > 0
    assert loo.train.n_events == loo.summary["train_events"]
    temporal = shop.split("temporal", valid_start="0.7", test_start="0.85", targets=["buy"])
    assert temporal.summary["protocol"] == "temporal"
    assert temporal.options["target_behaviors"] == ["buy"]
    with pytest.raises(driftrec.InvalidInput):
        shop.split("sideways")


def test_given_split_with_carved_validation(tmp_path):
    lines = (f"{u} " + " ".join(str(i) for i in range(u, u + 10)) + "\n" for u in range(5))
    (tmp_path / "train.txt").write_text("".join(lines))
    (tmp_path / "test.txt").write_text("".join(f"{u} {u + 20}\n" for u in range(5)))
    ds = driftrec.Dataset.read(str(tmp_path))
    plain = ds.split("given")
    assert plain.summary["valid_cases"] == 0 and plain.train.n_events == 50
    carved = ds.split("given", valid_fraction=0.2, valid_seed=7)
    assert carved.summary["valid_cases"] == 5 and carved.train.n_events == 40
    assert carved.summary["test_cases"] == plain.summary["test_cases"] == 5
    assert carved.options["valid_fraction"] == 0.2 and carved.options["valid_seed"] == 7
    assert ds.split("given", valid_fraction=0.2, refit=True).train.n_events == 50
    with pytest.raises(driftrec.InvalidInput, match="valid_fraction"):
        ds.split("given", valid_fraction=1.5)
