# Type stubs of the driftrec package (the C++ extension driftrec._driftrec and its Python helpers).
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

class Error(RuntimeError): ...
class InvalidInput(Error, ValueError): ...
class NotFound(Error, LookupError): ...
class NotSupported(Error, NotImplementedError): ...
class IoError(Error, OSError): ...
class CorruptModel(Error, ValueError): ...

ProgressFn = Callable[[str, int, int, str], None]
Progress = Union[bool, None, ProgressFn]
Ids = Union[str, Sequence[Any]]

class Dataset:
    @staticmethod
    def read(
        path: str,
        format: str = "auto",
        items: Optional[str] = None,
        user: Optional[str] = None,
        item: Optional[str] = None,
        time: Optional[str] = None,
        behavior: Optional[str] = None,
        value: Optional[str] = None,
        category: Optional[str] = None,
        domain: Optional[str] = None,
        delimiter: Optional[str] = None,
        header: bool = True,
        on_error: str = "fail",
        rejects: Optional[str] = None,
    ) -> Dataset: ...
    @staticmethod
    def from_pandas(
        df: Any,
        user: str = "user_id",
        item: str = "item_id",
        time: Optional[str] = "timestamp",
        behavior: Optional[str] = None,
        value: Optional[str] = None,
        domain: Optional[str] = None,
        items: Any = None,
        item_id: str = "item_id",
        category: Optional[str] = None,
        title: Optional[str] = None,
        name: str = "DataFrame",
    ) -> Dataset: ...
    def split(
        self,
        method: str = "loo",
        valid_start: str = "0.8",
        test_start: str = "0.9",
        targets: Sequence[str] = ...,
        domains: Sequence[str] = ...,
        target_domains: Sequence[str] = ...,
        new_items: bool = False,
        dedup: bool = False,
        min_user_events: int = 0,
        min_item_events: int = 0,
        refit: bool = False,
        valid_fraction: float = 0.0,
        valid_seed: int = 42,
    ) -> Split: ...
    def stats(self) -> Dict[str, Any]: ...
    @property
    def name(self) -> str: ...
    @property
    def n_users(self) -> int: ...
    @property
    def n_items(self) -> int: ...
    @property
    def n_events(self) -> int: ...
    @property
    def has_clock(self) -> bool: ...
    @property
    def user_ids(self) -> List[str]: ...
    @property
    def item_ids(self) -> List[str]: ...
    def __len__(self) -> int: ...

def from_pandas(df: Any, user: str = "user_id", item: str = "item_id", time: Optional[str] = "timestamp",
                behavior: Optional[str] = None, value: Optional[str] = None, domain: Optional[str] = None,
                items: Any = None, item_id: str = "item_id", category: Optional[str] = None,
                title: Optional[str] = None, name: str = "DataFrame") -> Dataset: ...

class Split:
    @property
    def data(self) -> Dataset: ...
    @property
    def train(self) -> Dataset: ...
    @property
    def options(self) -> Dict[str, Any]: ...
    @property
    def summary(self) -> Dict[str, Any]: ...

class Model:
    @property
    def name(self) -> str: ...
    @property
    def config(self) -> Dict[str, Any]: ...
    @property
    def meta(self) -> Dict[str, Any]: ...
    @property
    def validation(self) -> Dict[str, float]: ...
    @property
    def history(self) -> List[Dict[str, Any]]: ...
    @property
    def item_ids(self) -> List[str]: ...
    @property
    def n_items(self) -> int: ...
    @property
    def capabilities(self) -> Dict[str, bool]: ...
    @property
    def item_embeddings(self) -> Optional[npt.NDArray[np.float32]]: ...
    def recommend(self, user_ids: Ids, k: int = 10, filter_already_liked: bool = True,
                  items: Optional[Sequence[str]] = None,
                  exclude: Optional[Sequence[str]] = None, rerank: str = "",
                  rerank_depth: int = 100,
                  at: Optional[int] = None) -> Tuple[npt.NDArray[np.object_], npt.NDArray[np.float32]]: ...
    def recommend_history(self, histories: Union[Sequence[str], Sequence[Sequence[str]]], k: int = 10,
                          filter_already_liked: bool = True, items: Optional[Sequence[str]] = None,
                          exclude: Optional[Sequence[str]] = None, rerank: str = "",
                          rerank_depth: int = 100) -> Tuple[npt.NDArray[np.object_], npt.NDArray[np.float32]]: ...
    def observe(self, user: str, item: str, behavior: str = "", ts: Optional[int] = None, value: float = 1.0) -> bool: ...
    def set_histories(self, data: Dataset) -> int: ...
    def history_length(self, user: str) -> int: ...
    def explain(self, user: str, item: str) -> List[Dict[str, Any]]: ...
    def similar_items(self, item: str, k: int = 10) -> Tuple[npt.NDArray[np.object_], npt.NDArray[np.float32]]: ...
    def save(self, dir: str) -> None: ...

def train(model: str, data: Union[Dataset, Split], config: Optional[Dict[str, Any]] = None, seed: int = 42,
          validate: bool = True, include_seen: bool = False, threads: int = 0, progress: Progress = True,
          on_epoch: Optional[Callable[[Dict[str, Any]], None]] = None, checkpoint_dir: str = "",
          resume: bool = False, objective: str = "ndcg@10", time_budget: float = 0.0,
          skip_repeats: bool = False, request_at: str = "none") -> Model: ...
def refit(model_dir: str, data: Dataset, config: Optional[Dict[str, Any]] = None, seed: Optional[int] = None,
          threads: int = 0, progress: Progress = True) -> Model: ...
def ensemble(members: Sequence[Union[Model, str]], data: Union[Dataset, Split],
             weights: Optional[Sequence[float]] = None, weights_from: str = "", config: Optional[Dict[str, Any]] = None,
             threads: int = 0, progress: Progress = False, objective: str = "ndcg@10",
             skip_repeats: bool = False, request_at: str = "none") -> Model: ...
def load(dir: str, data: Union[Dataset, Split, None] = None) -> Model: ...
def evaluate(model: Model, data: Union[Dataset, Split], split: str = "test", k: Sequence[int] = (10, 20),
             metrics: Sequence[str] = (), include_seen: bool = False, impressions: int = 0, threads: int = 0,
             progress: Progress = False, protocol: str = "split", replay_start: str = "", windows: int = 10,
             skip_repeats: bool = False, truth: str = "", fairness: bool = False, rerank: str = "",
             rerank_depth: int = 100, long_tail_items: str = "", active_users: str = "",
             request_time: bool = True, request_at: str = "none") -> Dict[str, Any]: ...
def compare(models: Sequence[Model], data: Dataset, split: str = "test",
            metrics: Sequence[str] = ("hr@10", "ndcg@10", "mrr"), resamples: int = 1000, seed: int = 42,
            alpha: float = 0.05, threads: int = 0, labels: Optional[Sequence[str]] = None,
            progress: Progress = False, rerank: Union[str, Sequence[Optional[str]], None] = None,
            rerank_depth: int = 100, long_tail_items: str = "", active_users: str = "", protocol: str = "split",
            replay_start: str = "", skip_repeats: bool = False, truth: str = "", request_time: bool = True,
            request_at: str = "none", include_seen: bool = False) -> Dict[str, Any]: ...
def tune(data: Union[Dataset, Split], space: Union[str, Dict[str, Any]], model: str = "", objective: str = "",
         trials: int = 20, minutes: float = 0.0, strategy: str = "tpe", config: Optional[Dict[str, Any]] = None,
         seed: int = 42, db: str = "", threads: int = 0, early_abandon: bool = True,
         on_trial: Optional[Callable[[Dict[str, Any]], None]] = None, request_at: str = "") -> Dict[str, Any]: ...
def report(models: Sequence[Model], data: Dataset, out: str = "", split: str = "test", title: str = "DriftRec report",
           users: Sequence[str] = (), sample_users: int = 2, resamples: int = 500, truth: str = "", threads: int = 0,
           labels: Optional[Sequence[str]] = None, progress: Progress = False, fairness: bool = False,
           rerank: str = "", rerank_depth: int = 100, long_tail_items: str = "", active_users: str = "",
           request_at: str = "none") -> str: ...
def simulate(policies: Sequence[str] = ("greedy",), model: str = "itemknn", config: Optional[Dict[str, Any]] = None,
             users: int = 1000, items: int = 2000, shift_rate: float = 0.08, drift: float = 0.15, episodes: int = 200,
             k: int = 10, steps: int = 50, shift_step: int = -1, discovery: float = 0.05, satiation: float = 0.3,
             online: bool = True, seed: int = 42, threads: int = 1) -> Dict[str, Any]: ...
def ope(log: str, policy: str = "uniform", prior: str = "", campaign: str = "", simulations: int = 100000,
        probs: str = "", estimators: Sequence[str] = ("ips", "snips", "dm", "dr", "switch-dr"), clip: float = 0.0,
        switch_tau: float = 10.0, reward_model: str = "tabular", folds: int = 3, bootstrap: int = 1000,
        confidence: float = 0.95, seed: int = 42, n_actions: int = 0) -> Dict[str, Any]: ...
def models() -> List[str]: ...
def model_params(name: str) -> str: ...
def set_threads(threads: int) -> None: ...
def set_log_level(level: str) -> None: ...
