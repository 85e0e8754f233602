#!/usr/bin/env python3
"""Compares two report directories written by `workbench suite` (or `run`, `sweep`,
`experiment`): every run's summary (trace hash included), every sweep point and every
experiment figure must be identical. Fields that are not a function of (scenario, protocol,
seed) are left out: the build's versions and the scaling experiment's wall-clock cost.

Use it to show that a change kept behaviour identical:

    cargo run --release -- suite --out /tmp/before     # on the old commit
    cargo run --release -- suite --out /tmp/after      # on the new one
    python3 scripts/compare-reports.py /tmp/before /tmp/after

Exit code 0 when identical, 1 with the differences listed otherwise.
"""
import json
import sys
from pathlib import Path

# Machine-dependent: wall-clock time per simulated command.
IGNORED_KEYS = {"versions", "wall_ns_per_command"}


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k not in a else 'before'}")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} entries before, {len(b)} after")
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {a!r} before, {b!r} after")


def load(path):
    return strip(json.loads(path.read_text())) if path.exists() else None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    out = []
    runs = {}
    for side, d in (("before", before), ("after", after)):
        summaries = load(d / "summary.json") or []
        runs[side] = {(s["scenario"], s["protocol"], s["seed"]): s for s in summaries}
    keys = sorted(set(runs["before"]) | set(runs["after"]))
    for k in keys:
        if k not in runs["before"] or k not in runs["after"]:
            out.append(f"run {k}: only {'after' if k not in runs['before'] else 'before'}")
        else:
            diff(runs["before"][k], runs["after"][k], f"run {k}", out)
    diff(load(before / "experiments.json"), load(after / "experiments.json"), "experiments", out)
    names = {p.name for d in (before, after) for p in (d / "sweeps").glob("*.json")}
    for name in sorted(names):
        diff(load(before / "sweeps" / name), load(after / "sweeps" / name), f"sweeps/{name}", out)
    for line in out[:200]:
        print(line)
    print(f"{len(keys)} runs compared; {len(out)} differences")
    sys.exit(1 if out else 0)


if __name__ == "__main__":
    main()
