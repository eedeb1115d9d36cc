#!/usr/bin/env python3
"""Independent verifier of a kbix audit log, from docs/audit-log.md alone (standard library and
the stock openssl command line only).

  verify_audit.py --certificate CERT [--certificate OLDER_CERT ...] AUDIT_DIR
      exit 0 when the chain and every signed checkpoint verify, 1 naming the first problem;
      after a key rotation every AgII signing certificate that signed checkpoints is given
  verify_audit.py --self-test --certificate CERT AUDIT_DIR
      also proves, on copies, that it notices an edited entry, a log cut short by 20 entries
      (300 -> 280 for the log of write_log.cpp) and a forged checkpoint signature
Chain: each line is the canonical JSON of its entry, hash = SHA-256 of the entry without "hash",
seq counts up from 1, prev links to the previous hash, across rotated files.
Checkpoints: signer_sha256 is the fingerprint of one of the CERTs, the signature over the
documented message verifies with that CERT (with the documented `openssl dgst` command), and the log still holds entry
`seq` with hash `head`. Fields a checkpoint has beyond these are ignored.
"""
import argparse, base64, hashlib, json, os, re, shutil, subprocess, sys, tempfile

def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def log_files(directory):
    rotated = sorted(n for n in os.listdir(directory) if re.fullmatch(r"audit-\d{12}\.jsonl", n))
    return [os.path.join(directory, n) for n in rotated + ["audit.jsonl"]]

def read_chain(directory):
    """Returns (problem or None, {seq: hash})."""
    seq, head, hashes = 1, "0" * 64, {0: "0" * 64}
    for path in log_files(directory):
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            return f"{os.path.basename(path)}: torn final line", hashes
        for number, raw in enumerate(data.split(b"\n")[:-1], start=1):
            where = f"{os.path.basename(path)}:{number}"
            line = raw.decode("utf-8")
            entry = json.loads(line)
            if canonical(entry) != line:
                return f"{where}: not canonical", hashes
            stored = entry.pop("hash")
            if hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest() != stored:
                return f"{where}: hash mismatch", hashes
            if entry["seq"] != seq:
                return f"{where}: seq {entry['seq']}, expected {seq}", hashes
            if entry["prev"] != head:
                return f"{where}: prev does not link", hashes
            hashes[seq] = stored
            seq, head = seq + 1, stored
    return None, hashes

def certificate_fingerprint(certificate):
    pem = open(certificate, encoding="ascii").read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return hashlib.sha256(base64.b64decode("".join(body.split()))).hexdigest()

def signature_verifies(checkpoint, public_key, scratch):
    """The documented openssl commands (docs/audit-log.md, "With the stock OpenSSL command line")."""
    message = os.path.join(scratch, "msg")
    signature = os.path.join(scratch, "sig")
    with open(message, "wb") as f:
        text = ("kbix-audit-checkpoint\nseq=%s\nhead=%s\ntime=%s\n" %
                (checkpoint["seq"], checkpoint["head"], checkpoint["time"]))
        if checkpoint.get("prev_checkpoint"):  # the checkpoint chain (docs/audit-log.md)
            text += "prev=%s\n" % checkpoint["prev_checkpoint"]
        f.write(text.encode("utf-8"))
    with open(signature, "wb") as f:
        f.write(base64.b64decode(checkpoint["signature"]))
    options = {"rsa-pss-sha256": ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"],
               "ecdsa-sha256": []}.get(checkpoint["algorithm"])
    if options is None:
        return False
    command = ["openssl", "dgst", "-sha256", "-verify", public_key, *options,
               "-signature", signature, message]
    return subprocess.run(command, capture_output=True).returncode == 0

def check_checkpoints(directory, certificates, hashes):
    path = os.path.join(directory, "checkpoints.jsonl")
    if not os.path.exists(path):
        return "checkpoints.jsonl: missing (a log without checkpoints can be cut unnoticed)"
    lines = open(path, "rb").read().split(b"\n")
    if lines[-1] != b"":
        return "checkpoints.jsonl: torn final line"
    if len(lines) == 1:
        return "checkpoints.jsonl: empty"
    last_seq = max(hashes)
    with tempfile.TemporaryDirectory() as scratch:
        public_keys = {}  # fingerprint -> public key file, one per pinned certificate
        for index, certificate in enumerate(certificates):
            public_key = os.path.join(scratch, f"pub{index}.pem")
            subprocess.run(["openssl", "x509", "-in", certificate, "-pubkey", "-noout", "-out",
                            public_key], check=True, capture_output=True)
            public_keys[certificate_fingerprint(certificate)] = public_key
        for number, raw in enumerate(lines[:-1], start=1):
            where = f"checkpoints.jsonl:{number}"
            checkpoint = json.loads(raw.decode("utf-8"))
            public_key = public_keys.get(checkpoint.get("signer_sha256"))
            if public_key is None:
                return f"{where}: signed by another certificate"
            if not signature_verifies(checkpoint, public_key, scratch):
                return f"{where}: signature does not verify"
            seq = checkpoint["seq"]
            if seq > last_seq:
                return f"{where}: checkpoint at entry {seq}, the log ends at {last_seq}: cut short"
            if hashes[seq] != checkpoint["head"]:
                return f"{where}: entry {seq} is not the one the checkpoint signed"
    return None

def verify(directory, certificates):
    problem, hashes = read_chain(directory)
    return problem or check_checkpoints(directory, certificates, hashes)

def entry_count(directory):
    return sum(open(p, "rb").read().count(b"\n") for p in log_files(directory) if os.path.exists(p))

def cut_tail(directory, keep):
    """Keeps the first `keep` entries in chain order, as an attacker cutting the log would."""
    kept = 0
    for path in log_files(directory):
        if not os.path.exists(path):
            continue
        lines = open(path, "rb").read().split(b"\n")[:-1]
        take = max(0, min(len(lines), keep - kept))
        kept += take
        if take == 0 and not path.endswith("/audit.jsonl"):
            os.remove(path)
        else:
            with open(path, "wb") as f:
                f.write(b"".join(line + b"\n" for line in lines[:take]))

def self_test(directory, certificates):
    def on_copy(change):
        with tempfile.TemporaryDirectory() as scratch:
            copy = os.path.join(scratch, "audit")
            shutil.copytree(directory, copy)
            change(copy)
            return verify(copy, certificates)

    def edit(copy):
        path = log_files(copy)[0]
        lines = open(path, encoding="utf-8").read().split("\n")
        middle = len(lines) // 2
        lines[middle] = re.sub(r'"event":"([a-z])', lambda m: '"event":"' + m.group(1).upper(),
                               lines[middle], count=1)
        open(path, "w", encoding="utf-8").write("\n".join(lines))

    total = entry_count(directory)
    if total < 21:
        return f"self-test needs at least 21 entries, the log has {total}"

    def forge(copy):
        path = os.path.join(copy, "checkpoints.jsonl")
        lines = open(path, encoding="utf-8").read().split("\n")
        checkpoint = json.loads(lines[0])
        signature = bytearray(base64.b64decode(checkpoint["signature"]))
        signature[len(signature) // 2] ^= 0x01
        checkpoint["signature"] = base64.b64encode(bytes(signature)).decode("ascii")
        lines[0] = json.dumps(checkpoint, separators=(",", ":"))
        open(path, "w", encoding="utf-8").write("\n".join(lines))

    for what, change in [("an edited entry", edit),
                         (f"a log cut from {total} to {total - 20} entries",
                          lambda copy: cut_tail(copy, total - 20)),
                         ("a forged checkpoint signature", forge)]:
        problem = on_copy(change)
        if problem is None:
            return f"self-test FAILED: {what} was not noticed"
        print(f"self-test: {what} noticed: {problem}")
    return None

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--certificate", required=True, action="append",
                        help="AgII's pinned signing certificate (repeat for earlier ones)")
    parser.add_argument("directory")
    args = parser.parse_args(argv[1:])
    problem = verify(args.directory, args.certificate)
    if problem:
        print("NOT intact:", problem)
        return 1
    print(f"intact: {entry_count(args.directory)} entries, checkpoints verified")
    if args.self_test:
        problem = self_test(args.directory, args.certificate)
        if problem:
            print(problem)
            return 1
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
