#!/usr/bin/env python3
"""Independent verifier of a kbix audit log, from docs/audit-log.md alone (standard library only).

  verify_audit.py AUDIT_DIR             exit 0 when the chain is intact, 1 naming the first bad line
  verify_audit.py --self-test AUDIT_DIR also proves it notices an edited entry (on a copy)
Checks: each line is the canonical JSON of its entry, hash = SHA-256 of the entry without "hash",
seq counts up from 1, prev links to the previous hash, across rotated files.
"""
import hashlib, json, os, shutil, sys, tempfile

def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def log_files(directory):
    rotated = sorted(n for n in os.listdir(directory) if n.startswith("audit-") and n.endswith(".jsonl"))
    return [os.path.join(directory, n) for n in rotated + ["audit.jsonl"]]

def verify(directory):
    seq, head = 1, "0" * 64
    for path in log_files(directory):
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            return f"{os.path.basename(path)}: torn final line"
        for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
            where = f"{os.path.basename(path)}:{number}"
            line = raw.decode("utf-8")
            entry = json.loads(line)
            if canonical(entry) != line:
                return f"{where}: not canonical"
            stored = entry.pop("hash")
            if hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest() != stored:
                return f"{where}: hash mismatch"
            if entry["seq"] != seq:
                return f"{where}: seq {entry['seq']}, expected {seq}"
            if entry["prev"] != head:
                return f"{where}: prev does not link"
            seq, head = seq + 1, stored
    return None

def main(argv):
    self_test = argv[1:2] == ["--self-test"]
    directory = argv[-1]
    problem = verify(directory)
    if problem:
        print("NOT intact:", problem)
        return 1
    print(f"intact: {verify_count(directory)} entries")
    if self_test:
        with tempfile.TemporaryDirectory() as scratch:
            copy = os.path.join(scratch, "audit")
            shutil.copytree(directory, copy)
            path = log_files(copy)[0]
            lines = open(path, encoding="utf-8").read().split("\n")
            middle = len(lines) // 2
            edited = lines[middle].replace('"test.event"', '"test.EVENT"', 1)
            if edited == lines[middle]:
                print("self-test could not find an entry to edit")
                return 1
            lines[middle] = edited
            open(path, "w", encoding="utf-8").write("\n".join(lines))
            if verify(copy) is None:
                print("self-test FAILED: an edited entry was not noticed")
                return 1
            print("self-test: edited entry noticed:", verify(copy))
    return 0

def verify_count(directory):
    return sum(open(p, "rb").read().count(b"\n") for p in log_files(directory))

if __name__ == "__main__":
    sys.exit(main(sys.argv))
