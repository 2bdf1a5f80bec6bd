"""DriftRec: recommendation from the sequence of what users do.

The same C++ library as the `driftrec` command: datasets, splits, training with early stopping,
evaluation, and models that update a user's recommendations the moment a new event arrives.
See docs/python.md for a walk from a pandas DataFrame to a trained, evaluated, explained model.
"""

from ._driftrec import (  # noqa: F401  (re-exported)
    CorruptModel,
    Dataset,
    Error,
    InvalidInput,
    IoError,
    Model,
    NotFound,
    NotSupported,
    Split,
    __version__,
    compare,
    ensemble,
    evaluate,
    load,
    model_params,
    models,
    ope,
    refit,
    report,
    set_log_level,
    set_threads,
    simulate,
    train,
    tune,
)

__all__ = [
    "CorruptModel", "Dataset", "Error", "InvalidInput", "IoError", "Model", "NotFound", "NotSupported",
    "Split", "__version__", "compare", "ensemble", "evaluate", "load", "model_params", "models", "ope", "refit", "report", "set_log_level",
    "set_threads", "simulate", "train", "tune", "from_pandas",
]


def _column(df, name, what):
    if name not in df.columns:
        raise InvalidInput(f"DataFrame: no column '{name}' (the {what} column; columns: {', '.join(map(str, df.columns))})")
    return df[name]


def _ids(series, name):
    if series.isna().any():
        row = int(series.isna().to_numpy().nonzero()[0][0])
        raise InvalidInput(f"DataFrame row {row}, column '{name}': missing id")
    return series.astype(str).tolist()


def _timestamps(series, name):
    import numpy as np
    import pandas as pd

    if series.isna().any():
        row = int(series.isna().to_numpy().nonzero()[0][0])
        raise InvalidInput(f"DataFrame row {row}, column '{name}': missing timestamp")
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return (series.to_numpy(dtype="datetime64[s]").astype(np.int64)).tolist()
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy()
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            row = int((~np.isfinite(values)).nonzero()[0][0])
            raise InvalidInput(f"DataFrame row {row}, column '{name}': not a finite number")
        return values.astype(np.int64).tolist()
    try:
        return pd.to_datetime(series, utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype(np.int64).tolist()
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"DataFrame: column '{name}': not timestamps ({e})") from None


def _from_pandas(df, user="user_id", item="item_id", time="timestamp", behavior=None, value=None, domain=None,
                 items=None, item_id="item_id", category=None, title=None, name="DataFrame"):
    """A Dataset from a pandas DataFrame of events (and optionally one of items).

    `time`: seconds, datetimes or date strings (None: each user's rows are in time order).
    `items`: a DataFrame with `item_id`, optional `category` ('|'-separated) and `title` columns.
    Errors name the row position and column, as file errors name the line and field.
    """
    users = _ids(_column(df, user, "user"), user)
    item_list = _ids(_column(df, item, "item"), item)
    ts = _timestamps(_column(df, time, "time"), time) if time is not None else None
    beh = _ids(_column(df, behavior, "behavior"), behavior) if behavior is not None else None
    val = _column(df, value, "value").astype("float32").tolist() if value is not None else None
    dom = _ids(_column(df, domain, "domain"), domain) if domain is not None else None
    item_ids = cats = titles = None
    if items is not None:
        item_ids = _ids(_column(items, item_id, "item id"), item_id)
        if category is not None:
            cats = _column(items, category, "category").fillna("").astype(str).tolist()
        if title is not None:
            titles = _column(items, title, "title").fillna("").astype(str).tolist()
    names = [user, item, time or "timestamp", behavior or "behavior", value or "value", domain or "domain"]
    return Dataset._from_columns(users, item_list, ts, beh, val, dom, [str(n) for n in names], name, item_ids, cats,
                                 titles)


Dataset.from_pandas = staticmethod(_from_pandas)
from_pandas = _from_pandas
