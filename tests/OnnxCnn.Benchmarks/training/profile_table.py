#!/usr/bin/env python3
"""Sums an ONNX Runtime per-node profile (`onnxcnn bench train --profile PREFIX` writes one Chrome-trace
JSON per session) by operator type: milliseconds per run and share of the node time. Standard library only.

    python3 tests/OnnxCnn.Benchmarks/training/profile_table.py PREFIX_step_*.json [--nodes 15]
"""
import argparse
import collections
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--nodes", type=int, default=0, help="also list the N slowest nodes")
    args = parser.parse_args()
    with open(args.profile) as f:
        events = json.load(f)
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    # The first run is the warm-up (pre-packing, first allocations): leave it out when there are more.
    start = runs[1]["ts"] if len(runs) > 1 else 0
    timed = [r for r in runs if r["ts"] >= start]
    by_op = collections.Counter()
    by_node = collections.Counter()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time") or e["ts"] < start:
            continue
        op = e.get("args", {}).get("op_name", "?")
        by_op[op] += e["dur"]
        by_node[(e["name"][: -len("_kernel_time")], op)] += e["dur"]
    n = max(1, len(timed))
    total = sum(by_op.values())
    wall = sum(r["dur"] for r in timed) / n / 1000
    print(f"{args.profile}: {len(timed)} timed runs, {wall:.1f} ms a run, node time {total / n / 1000:.1f} ms")
    print("| op | ms per run | share |")
    print("| --- | ---: | ---: |")
    for op, dur in by_op.most_common():
        print(f"| {op} | {dur / n / 1000:.1f} | {100 * dur / total:.1f} % |")
    for (name, op), dur in by_node.most_common(args.nodes):
        print(f"  {dur / n / 1000:7.1f} ms  {op:<22} {name}")


if __name__ == "__main__":
    main()
