#!/usr/bin/python3
"""Independent oracle for the municipal lists: which rows of a kbi-gemeenten extract a list
holds, computed here from the CSV with Python's own csv module, not by kbix.

  municipal_expected.py EXTRACT OUT.json --fields a,b,c [--residence COLUMN=NIS]
      [--scope COLUMN] [--retention COLUMN:MONTHS --today YYYY-MM-DD]
      [--closed COLUMN=SEPARATOR=CODE|CODE...]...

A row counts when its INSZ is valid (11 digits, mod-97 check for births before or after 2000)
and it is the first row with that INSZ; it is in the list when it lives in NIS (if given), its
scope column says "ja" (if given), its retention date is empty or a date not more than MONTHS
months before TODAY, and each closed-list cell is empty or only codes of its list (split on
SEPARATOR when one is given). OUT.json: [[fields...], [row...], ...] in extract order (office_oracle.py's
EXPECTED.json), plus OUT.json.insz: the INSZ of each row, one a line.
"""
import argparse
import csv
import datetime
import json
import sys


def valid_insz(text):
    if len(text) != 11 or not text.isdigit():
        return False
    base, check = int(text[:9]), int(text[9:])
    return check == 97 - base % 97 or check == 97 - (2000000000 + base) % 97


def months_before(day, months):
    year, month = divmod(day.year * 12 + (day.month - 1) - months, 12)
    last = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30,
            31, 30, 31, 31, 30, 31, 30, 31][month]
    return datetime.date(year, month + 1, min(day.day, last))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("extract")
    parser.add_argument("out")
    parser.add_argument("--fields", required=True)
    parser.add_argument("--residence")
    parser.add_argument("--scope")
    parser.add_argument("--retention")
    parser.add_argument("--today")
    parser.add_argument("--delimiter", default=";")
    parser.add_argument("--closed", action="append", default=[])
    args = parser.parse_args()
    fields = args.fields.split(",")
    cutoff = None
    if args.retention:
        column, months = args.retention.split(":")
        cutoff = (column, months_before(datetime.date.fromisoformat(args.today), int(months)))
    closed = []
    for spec in args.closed:
        column, separator, codes = spec.split("=", 2)
        closed.append((column, separator, set(codes.split("|"))))
    seen = set()
    rows, insz = [fields], []
    with open(args.extract, newline="", encoding="utf-8-sig") as f:
        for record in csv.DictReader(f, delimiter=args.delimiter):
            number = record["insz"]
            if not valid_insz(number) or number in seen:
                continue
            seen.add(number)
            if args.residence:
                column, nis = args.residence.split("=")
                if record[column] != nis:
                    continue
            if args.scope and record[args.scope] != "ja":
                continue
            if cutoff and record[cutoff[0]]:
                try:
                    if datetime.date.fromisoformat(record[cutoff[0]]) < cutoff[1]:
                        continue
                except ValueError:  # not a date: the person cannot be shown inside retention
                    continue
            def allowed(cell, separator, codes):
                parts = cell.split(separator) if separator else [cell]
                return cell == "" or all(part in codes for part in parts)
            if not all(allowed(record[c], sep, codes) for c, sep, codes in closed):
                continue
            rows.append([record[name] for name in fields])
            insz.append(number)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(rows, f, ensure_ascii=False)
    with open(args.out + ".insz", "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n in insz))
    print("%d rows" % (len(rows) - 1))


if __name__ == "__main__":
    sys.exit(main())
