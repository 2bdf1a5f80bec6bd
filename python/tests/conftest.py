"""Shared fixtures: small generated data (driftrec synth through the CLI) and a DataFrame of it."""

import os
import subprocess

import pytest

import driftrec

CLI = os.environ.get("DRIFTREC_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build", "driftrec"))


def run_cli(*args):
    """Runs the driftrec CLI; returns stdout (raises with stderr on failure)."""
    proc = subprocess.run([CLI, "--log-level", "warn", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"driftrec {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop") / "data"
    run_cli("synth", "--preset", "ecommerce", "--users", "300", "--items", "150", "--seed", "7", "--out", str(out))
    return out


@pytest.fixture(scope="session")
def shop(shop_dir):
    return driftrec.Dataset.read(str(shop_dir))


@pytest.fixture(scope="session")
def shop_df(shop_dir):
    pd = pytest.importorskip("pandas")
    return pd.read_csv(shop_dir / "events.csv")
