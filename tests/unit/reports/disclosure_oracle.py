#!/usr/bin/env python3
"""Independent k-anonymity figures for the disclosure tests: csv + collections.Counter only.

disclosure_oracle.py OUTPUT.csv K QI[,QI...] [BEFORE.csv]
Prints JSON: classes, smallest, below_k, rows_in_small, unique, all_empty, and per
quasi-identifier the smallest class and the rows in small classes without it. With BEFORE.csv
(the output before suppression) it also checks that only quasi-identifier cells of rows that were
in small classes changed, and that those changes only emptied cells.
"""
import csv
import json
import sys
from collections import Counter


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))
    return rows[0], rows[1:]


def figures(rows, idx, k):
    counts = Counter(tuple(r[i] for i in idx) for r in rows)
    empty = tuple("" for _ in idx)
    all_empty = counts.pop(empty, 0)
    sizes = list(counts.values())
    return {
        "classes": len(sizes),
        "smallest": min(sizes) if sizes else 0,
        "below_k": sum(1 for s in sizes if s < k),
        "rows_in_small": sum(s for s in sizes if s < k),
        "unique": sum(1 for s in sizes if s == 1),
        "all_empty": all_empty,
    }, counts


def main():
    path, k, qis = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    header, rows = read(path)
    idx = [header.index(q) for q in qis]
    result, _ = figures(rows, idx, k)
    result["without"] = {}
    for q in qis:
        rest = [header.index(o) for o in qis if o != q]
        w, _ = figures(rows, rest, k)
        result["without"][q] = [w["smallest"], w["rows_in_small"]]
    if len(sys.argv) > 4:
        before_header, before = read(sys.argv[4])
        assert before_header == header and len(before) == len(rows)
        _, before_counts = figures(before, idx, k)
        empty = tuple("" for _ in idx)
        changed_cells = 0
        violations = 0
        for old, new in zip(before, rows):
            key = tuple(old[i] for i in idx)
            small = key != empty and before_counts[key] < k
            for i, (a, b) in enumerate(zip(old, new)):
                if a != b:
                    changed_cells += 1
                    if not (small and i in idx and b == ""):
                        violations += 1
        result["changed_cells"] = changed_cells
        result["violations"] = violations
    print(json.dumps(result))


main()
