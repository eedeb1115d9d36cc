#!/usr/bin/python3
"""Independent writer of status-return workbooks for the municipal tests (Debian's openpyxl).

  status_workbook_writer.py SPEC.json OUT.xlsx

SPEC (JSON):
  "base":   "openpyxl" (default): a new workbook made by openpyxl from "sheets", "empty": a ZIP
            without entries, or the path of an existing .xlsx (e.g. one kbix's own writer made)
            taken as it is;
  "sheets": [{"title": "Lijst", "cells": [[ROW, COLUMN, VALUE], ...]}, ...] in workbook order;
            VALUE a string, a number, a boolean or null (openpyxl: strings become inline strings);
  "edits":  [{"part": NAME, "old": TEXT, "new": TEXT, "latin1": false}, ...] each replaces the
            first occurrence of old in the part (it must occur); with "latin1" new is written
            byte for byte (code points 0-255), to plant bytes that are not UTF-8; with "regex"
            old is a regular expression and new its replacement;
  "add":    [{"name": NAME, "text": TEXT} | {"name": NAME, "zeros": N}, ...] extra entries;
  "store":  true: entries are stored, not deflated;
  "corrupt": NAME: one byte in the middle of that entry's compressed data is flipped.
The result is a ZIP written by Python's zipfile (deflate, level 9), entries in the base's order.
Exit 0 written, 2 a bad spec (an edit that does not apply).
"""
import io
import json
import re
import sys
import zipfile

import openpyxl


def base_entries(spec):
    base = spec.get("base", "openpyxl")
    if base == "empty":
        return []
    if base == "openpyxl":
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for sheet in spec.get("sheets", [{"title": "Lijst", "cells": []}]):
            ws = wb.create_sheet(sheet["title"])
            for row, column, value in sheet["cells"]:
                ws.cell(row=row, column=column, value=value)
        data = io.BytesIO()
        wb.save(data)
        data.seek(0)
        source = zipfile.ZipFile(data)
    else:
        source = zipfile.ZipFile(base)
    return [(info.filename, source.read(info.filename)) for info in source.infolist()]


def main():
    spec_file, out = sys.argv[1:3]
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    entries = base_entries(spec)
    for edit in spec.get("edits", []):
        new = edit["new"].encode("latin-1") if edit.get("latin1") else edit["new"].encode("utf-8")
        old = edit["old"].encode("utf-8")
        for i, (name, content) in enumerate(entries):
            if name == edit["part"]:
                if edit.get("regex"):
                    changed, count = re.subn(old, new, content, count=1)
                else:
                    changed, count = content.replace(old, new, 1), content.count(old)
                if count == 0:
                    print("edit does not apply to %s: %r" % (name, edit["old"]))
                    return 2
                entries[i] = (name, changed)
                break
        else:
            print("no part %s" % edit["part"])
            return 2
    for extra in spec.get("add", []):
        if "zeros" in extra:
            entries.append((extra["name"], bytes(extra["zeros"])))
        else:
            entries.append((extra["name"], extra["text"].encode("utf-8")))
    method = zipfile.ZIP_STORED if spec.get("store") else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", compression=method, compresslevel=9) as z:
        for name, content in entries:
            z.writestr(name, content)
    if "corrupt" in spec:
        with zipfile.ZipFile(out) as z:
            info = z.getinfo(spec["corrupt"])
        with open(out, "r+b") as f:
            f.seek(info.header_offset + 26)
            name_length, extra_length = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
            middle = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
            f.seek(middle)
            byte = f.read(1)[0]
            f.seek(middle)
            f.write(bytes([byte ^ 0x55]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
