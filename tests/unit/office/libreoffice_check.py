#!/usr/bin/python3
"""A manual check (not run by ctest): LibreOffice Calc opens an encrypted workbook.

  libreoffice_check.py FILE PASSWORD      (needs libreoffice-calc-nogui and python3-uno)

Starts a private headless LibreOffice, loads FILE with PASSWORD, prints every cell of the first
sheet with its content type (TEXT, EMPTY, VALUE, FORMULA). A wrong password makes LibreOffice
refuse the file ("type detection aborted"), exit 3. LibreOffice is not a test dependency: it is
some 250 MB; msoffcrypto-tool and openpyxl are the oracles of the automatic tests.
"""
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(path, password):
    profile = tempfile.mkdtemp(prefix="kbix-lo-")
    office = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--norestore", "--nologo",
         "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
         "--accept=pipe,name=kbix-office-check;urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(60):
            try:
                ctx = resolver.resolve("uno:pipe,name=kbix-office-check;urp;StarOffice.ComponentContext")
                break
            except Exception:  # not listening yet
                time.sleep(1)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        try:
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                               (prop("Hidden", True), prop("Password", password)))
        except Exception as e:
            print("refused: %s" % e)
            return 3
        sheet = doc.Sheets.getByIndex(0)
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        print("sheet %s: %d rows, %d columns" % (sheet.Name, cursor.RangeAddress.EndRow + 1,
                                                 cursor.RangeAddress.EndColumn + 1))
        for r in range(cursor.RangeAddress.EndRow + 1):
            cells = [sheet.getCellByPosition(c, r) for c in range(cursor.RangeAddress.EndColumn + 1)]
            print([(cell.String, cell.Type.value) for cell in cells])
        doc.close(True)
        return 0
    finally:
        office.terminate()
        office.wait()
        subprocess.run(["rm", "-rf", profile], check=False)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
