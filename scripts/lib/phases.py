#!/usr/bin/env python3
"""Wall time per phase of the newest run, from the audit log's timestamps (kbix's own record).

  phases.py STATE_DIR
"""
import glob, json, os, sys
from datetime import datetime

def when(entry):
    return datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ")

files = sorted(glob.glob(os.path.join(sys.argv[1], "audit", "audit-*.jsonl")))
files.append(os.path.join(sys.argv[1], "audit", "audit.jsonl"))
entries = [json.loads(line) for path in files if os.path.exists(path) for line in open(path)]
runs = [e["run_id"] for e in entries if e["run_id"]]
if not runs:
    sys.exit("no run in the audit log")
newest = runs[-1]
first = {}
for e in entries:
    if e["run_id"] == newest:
        first.setdefault(e["event"], when(e))
first.setdefault("run.start", first.get("run.start_forced"))
phases = [("run.start", "validate + seal the extract", "run.extract_sealed"),
          ("run.extract_sealed", "export + seal the outbound file", "run.outbound_sealed"),
          ("run.outbound_sealed", "upload", "run.upload"),
          ("run.upload", "partner (simulator) + polling", "run.return_detected"),
          ("run.return_detected", "download", "run.download"),
          ("run.download", "open + verify the return", "run.return_verified"),
          ("run.return_verified", "merge + pseudonymise + scan", "run.merged"),
          ("run.merged", "publish", "run.published"),
          ("run.published", "remote clean-up", "run.done")]
for a, name, b in phases:
    if first.get(a) and first.get(b):
        print(f"  {name:34s} {(first[b] - first[a]).total_seconds():7.2f} s")
if first.get("run.done") and first.get("run.start"):
    print(f"  {'total (run start to done)':34s} {(first['run.done'] - first['run.start']).total_seconds():7.2f} s")
