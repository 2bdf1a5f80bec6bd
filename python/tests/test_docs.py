"""docs/python.md stays true: its Python blocks run, in order, on the data its shell block makes."""

import os
import pathlib
import re

from conftest import run_cli

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"


def blocks(kind):
    return re.findall(r"```" + kind + r"\n(.*?)```", DOC.read_text(), flags=re.S)


def test_python_md_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    synth = [line for b in blocks("bash") for line in b.splitlines() if "driftrec synth" in line]
    assert len(synth) == 1
    run_cli(*synth[0].split()[1:])
    code = blocks("python")
    assert len(code) >= 6
    scope = {}
    for block in code:
        exec(compile(block, str(DOC), "exec"), scope)  # noqa: S102  (the documentation's own examples)
    assert os.path.isdir(tmp_path / "models" / "sasrec")
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "->" in out
