"""The type stubs (driftrec/__init__.pyi) describe the module as it is: same functions, classes,
methods and argument names."""

import ast
import inspect
import pathlib
import re

import driftrec

STUBS = pathlib.Path(driftrec.__file__).with_name("__init__.pyi")


def stub_tree():
    return ast.parse(STUBS.read_text())


def pybind_arg_names(obj):
    """Argument names from a pybind11 docstring signature: 'name(a: T, b: T = ...) -> R'."""
    first = (obj.__doc__ or "").splitlines()[0]
    m = re.match(r"\w+\((.*)\)", first)
    if not m:
        return None
    names = re.findall(r"(?:^|, )(\w+):", m.group(1))
    return [n for n in names if n != "self"]


def test_every_public_name_has_a_stub_and_back():
    tree = stub_tree()
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in tree.body if isinstance(n, ast.AnnAssign) for t in [n.target]}
    public = set(driftrec.__all__)
    assert public - stubbed == set(), "in the module but not in the stubs"
    missing = {n for n in stubbed if not hasattr(driftrec, n)} - {"ProgressFn", "Progress", "Ids"}
    assert missing == set(), "in the stubs but not in the module"


def test_function_arguments_match():
    for node in stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            fn = getattr(driftrec, node.name)
            stub_args = [a.arg for a in node.args.args]
            if inspect.isfunction(fn):  # pure Python (from_pandas)
                assert stub_args == list(inspect.signature(fn).parameters), node.name
            else:
                assert stub_args == pybind_arg_names(fn), node.name


def test_methods_exist():
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef) and hasattr(driftrec, node.name):
            cls = getattr(driftrec, node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    assert hasattr(cls, item.name), f"{node.name}.{item.name}"
