#!/usr/bin/python3
"""What a municipality sends back for the template protocol, made from the list it received.

  municipal_status.py LIST.xlsx PASSWORD_FILE OUT.csv KIND STATUS[,STATUS...]

Decrypts the list with msoffcrypto-tool (as the municipality's Excel would), reads its
"referentie" column with openpyxl and writes OUT.csv, "referentie;status", one status per row
taken in turn from the STATUS list. KIND: good | unknown_reference | bad_value |
duplicate_reference | oversized | dump (OUT.csv is then OUT.json: every row of the decrypted
list, the header first). Prints the references, one a line, on stdout (good only).
"""
import io
import sys

import msoffcrypto
import openpyxl


def decrypted_list(listing, password_file):
    """The list's plain workbook (a file object), decrypted as the municipality's Excel would."""
    with open(password_file, encoding="utf-8") as f:
        password = f.read().strip()
    with open(listing, "rb") as f:
        office = msoffcrypto.OfficeFile(f)
        office.load_key(password=password)
        plain = io.BytesIO()
        office.decrypt(plain, verify_integrity=True)
    return plain


def main():
    listing, password_file, out, kind, statuses = sys.argv[1:6]
    statuses = statuses.split(",")
    sheet = openpyxl.load_workbook(decrypted_list(listing, password_file)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if kind == "dump":
        import json
        with open(out, "w", encoding="utf-8") as f:
            json.dump([["" if v is None else v for v in row] for row in rows], f, ensure_ascii=False)
        return 0
    column = list(rows[0]).index("referentie")
    references = [row[column] for row in rows[1:]]
    lines = ["referentie;status"]
    for i, reference in enumerate(references):
        lines.append("%s;%s" % (reference, statuses[i % len(statuses)]))
    if kind == "unknown_reference":
        lines.append("R-2345-6789-ABCD-EFGH-JKMN;%s" % statuses[0])
    elif kind == "bad_value":
        lines[len(lines) // 2] = "%s;%s" % (references[0], "misschien")
    elif kind == "duplicate_reference":
        lines.append("%s;%s" % (references[0], statuses[0]))
    elif kind == "oversized":
        filler = "%s;%s" % (references[0], statuses[0])
        lines = ["referentie;status"] + [filler] * (17 * 1024 * 1024 // len(filler) + 1)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")
    if kind == "good":
        print("\n".join(references))


if __name__ == "__main__":
    sys.exit(main())
