#!/usr/bin/env python3
"""Checks the layer graph at link level: every DriftRec symbol a layer's archive needs must be
defined in that layer or in a layer it links (directly or through them).

scripts/check-layers.sh checks includes; this catches what includes cannot show: a function
declared by hand instead of through its header, or a header-only inline that calls into a layer
the target does not link. Usage: check-layer-links.py BUILD_DIR (reads BUILD_DIR/layers.tsv,
written by CMake: layer, archive, direct layer dependencies)."""
import subprocess
import sys
from pathlib import Path

OWN = ("driftrec::", "vtable for driftrec::", "typeinfo for driftrec::",
       "typeinfo name for driftrec::", "VTT for driftrec::")


def symbols(archive, flag):
    out = subprocess.run(["nm", "-C", flag, archive], check=True, capture_output=True,
                         text=True).stdout
    found = set()
    for line in out.splitlines():
        # "ADDRESS TYPE NAME" (defined) or "U NAME" (undefined); demangled names hold spaces, and
        # archive member headers end in ':'.
        text = line.strip()
        if text.startswith("U "):
            name = text[2:]
        else:
            parts = text.split(None, 2)
            if len(parts) != 3 or len(parts[1]) != 1:
                continue
            name = parts[2]
        if name.startswith(OWN):
            found.add(name)
    return found


def main():
    if len(sys.argv) != 2:
        print("usage: check-layer-links.py BUILD_DIR", file=sys.stderr)
        return 2
    table = Path(sys.argv[1]) / "layers.tsv"
    layers = {}
    for line in table.read_text().splitlines():
        name, archive, deps = line.split("\t")
        layers[name] = (archive, [d for d in deps.split(",") if d])

    def closure(name, seen=None):
        seen = set() if seen is None else seen
        for dep in layers[name][1]:
            if dep not in seen:
                seen.add(dep)
                closure(dep, seen)
        return seen

    defined = {name: symbols(archive, "--defined-only") for name, (archive, _) in layers.items()}
    owner = {}
    for name, syms in defined.items():
        for sym in syms:
            owner.setdefault(sym, set()).add(name)
    bad = 0
    for name, (archive, _) in layers.items():
        allowed = closure(name) | {name}
        for sym in sorted(symbols(archive, "--undefined-only") - defined[name]):
            where = owner.get(sym, set())
            if where & allowed:
                continue
            place = ", ".join(sorted(where)) if where else "no layer"
            print(f"check-layer-links: layer '{name}' needs {sym}, defined in {place}, "
                  f"which '{name}' does not link", file=sys.stderr)
            bad += 1
    if bad:
        return 1
    print(f"check-layer-links: {len(layers)} layers, every DriftRec symbol resolves inside the "
          "layer's own dependencies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
