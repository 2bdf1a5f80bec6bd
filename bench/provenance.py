#!/usr/bin/env python3
"""Stamps a results file with its provenance: the command that wrote it, the fingerprint of every
data set it used (from `driftrec data inspect --json`, the same fingerprint evaluate and model.json
record), the commit it ran from and the date. Every bench script calls it last.

  bench/provenance.py RESULT.json --command "bench/x.sh ARGS" [--data NAME=PATH ...] [--note TEXT]

PATH is a data file or directory as given to `driftrec`; for generated data, pass the directory
while it still exists (NAME says how it was generated)."""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile


def fingerprint(binary, path):
    # Rows the reader rejects are skipped, as the benches that read raw logs do (--on-error skip);
    # their listing goes to a temporary directory, not rejects.tsv in the working tree.
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([binary, "--log-level", "error", "data", "inspect", path, "--json", "--on-error", "skip",
                              "--rejects", os.path.join(tmp, "rejects.tsv")],
                             check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return {"path": path, "fingerprint": r["fingerprint"], "events": r["events"], "users": r["users"],
            "items": r["items"]}


def commit():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=True, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], check=True,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--command", required=True)
    ap.add_argument("--data", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--note")
    a = ap.parse_args()
    binary = os.environ.get("DRIFTREC_BIN", "build/driftrec")
    r = json.load(open(a.result))
    if "command" in r and r["command"] != a.command:
        r["binary_command"] = r["command"]  # what the script ran, kept beside the script's own command
    r["command"] = a.command
    prov = {"commit": commit(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    if a.data:
        prov["data"] = {}
        for spec in a.data:
            name, _, path = spec.partition("=")
            if not path:
                sys.exit("provenance.py: --data takes NAME=PATH, got " + spec)
            prov["data"][name] = fingerprint(binary, path)
    if a.note:
        prov["note"] = a.note
    r["provenance"] = prov
    with open(a.result, "w") as f:
        json.dump(r, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
