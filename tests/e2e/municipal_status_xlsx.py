#!/usr/bin/python3
"""What a municipal employee does with the list in Excel, done with independent tools.

  municipal_status_xlsx.py LIST.xlsx PASSWORD_FILE OUT.xlsx STATUS[,STATUS...]

Decrypts the list with msoffcrypto-tool (integrity verified, as Excel would ask the password),
opens it with openpyxl, adds a column "status" right of the last one and fills it in for every
second person (rows 2, 4, 6, ... of the sheet), the statuses taken in turn from the list, then
saves the workbook WITHOUT a password as OUT.xlsx (openpyxl writes inline strings). Prints, one
a line, "ROW;STATUS" for each row it filled in (ROW: the person's 0-based index in the list).
"""
import os
import sys

import openpyxl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from municipal_status import decrypted_list  # noqa: E402 (msoffcrypto-tool, as the list's oracle)


def main():
    listing, password_file, out, statuses = sys.argv[1:5]
    statuses = statuses.split(",")
    workbook = openpyxl.load_workbook(decrypted_list(listing, password_file))
    sheet = workbook.worksheets[0]
    column = sheet.max_column + 1
    sheet.cell(row=1, column=column, value="status")
    filled = []
    for row in range(2, sheet.max_row + 1, 2):
        status = statuses[len(filled) % len(statuses)]
        sheet.cell(row=row, column=column, value=status)
        filled.append("%d;%s" % (row - 2, status))
    workbook.save(out)
    print("\n".join(filled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
