#!/usr/bin/python3
"""Independent reader for the office module's tests: Debian's msoffcrypto-tool and openpyxl.

  office_oracle.py agile FILE EXPECTED.json PASSWORD_FILE
      decrypts FILE (password verified, integrity HMAC verified), checks the encryption
      parameters (agile 4.4, AES-256, SHA-512, spinCount 100000, the DataSpaces storage) and
      compares the workbook inside with EXPECTED.json
  office_oracle.py xlsx FILE EXPECTED.json
      compares a plain workbook with EXPECTED.json
  office_oracle.py flip FILE OUT STREAM OFFSET
      copies FILE to OUT with one bit flipped in the compound-file stream STREAM at OFFSET

EXPECTED.json: [[header...], [row...], ...]; an empty string expects an empty cell.
Exit: 0 equal, 1 different, 3 wrong password, 4 integrity check failed, 2 anything else.
"""
import base64
import io
import json
import shutil
import sys
import xml.etree.ElementTree as ET
import zipfile

try:
    import msoffcrypto
    import olefile
    import openpyxl
except ImportError as e:  # not a verdict on the file: exit 2, not 1
    print("office_oracle.py needs python3-msoffcrypto-tool and python3-openpyxl: %s" % e)
    sys.exit(2)

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ENC = "{http://schemas.microsoft.com/office/2006/encryption}"
PWD = "{http://schemas.microsoft.com/office/2006/keyEncryptor/password}"


def different(message):
    print("different: " + message)
    sys.exit(1)


def check_workbook(package, expected):
    """Every cell equals the expectation and is a text cell, never a formula."""
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    for cell in sheet.iter(MAIN + "c"):
        if cell.find(MAIN + "f") is not None:
            different("cell %s holds a formula" % cell.get("r"))
        if cell.find(MAIN + "v") is not None and cell.get("t") != "s":
            different("cell %s is not a shared-string cell (t=%s)" % (cell.get("r"), cell.get("t")))
    ws = openpyxl.load_workbook(io.BytesIO(package)).worksheets[0]
    if ws.max_row != len(expected) or ws.max_column != len(expected[0]):
        different("size %dx%d, expected %dx%d" % (ws.max_row, ws.max_column, len(expected), len(expected[0])))
    for r, row in enumerate(ws.iter_rows(), start=1):
        for c, cell in enumerate(row, start=1):
            want = expected[r - 1][c - 1]
            got = cell.value
            if want == "":
                if got is not None:
                    different("row %d column %d: expected empty" % (r, c))
                continue
            if got != want:
                different("row %d column %d: %r != %r" % (r, c, got, want))
            if cell.data_type != "s":
                different("row %d column %d: data type %s, not a string" % (r, c, cell.data_type))
            if cell.number_format != "@":
                different("row %d column %d: number format %s, not Text" % (r, c, cell.number_format))
    print("equal: %d rows, %d columns" % (len(expected), len(expected[0])))


def check_parameters(path):
    """The file is what docs/municipal-file-format.md promises, read from the file itself."""
    with olefile.OleFileIO(path) as ole:
        streams = ["/".join(s) for s in ole.listdir()]
        for needed in ("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces/Version",
                       "\x06DataSpaces/DataSpaceMap",
                       "\x06DataSpaces/DataSpaceInfo/StrongEncryptionDataSpace",
                       "\x06DataSpaces/TransformInfo/StrongEncryptionTransform/\x06Primary"):
            if needed not in streams:
                different("stream %r missing (have %r)" % (needed, streams))
        info = ole.openstream("EncryptionInfo").read()
    if info[:8] != b"\x04\x00\x04\x00\x40\x00\x00\x00":
        different("EncryptionInfo header %r, expected version 4.4 and reserved 0x40" % info[:8])
    root = ET.fromstring(info[8:])
    key_data = root.find(ENC + "keyData")
    encrypted_key = root.find(ENC + "keyEncryptors/" + ENC + "keyEncryptor/" + PWD + "encryptedKey")
    for node in (key_data, encrypted_key):
        for name, value in (("cipherAlgorithm", "AES"), ("keyBits", "256"),
                            ("cipherChaining", "ChainingModeCBC"), ("hashAlgorithm", "SHA512")):
            if node.get(name) != value:
                different("%s=%s, expected %s" % (name, node.get(name), value))
    if encrypted_key.get("spinCount") != "100000":
        different("spinCount %s" % encrypted_key.get("spinCount"))
    integrity = root.find(ENC + "dataIntegrity")
    if len(base64.b64decode(integrity.get("encryptedHmacValue"))) != 64:
        different("the integrity HMAC is not 64 bytes")


def agile(path, expected, password_file):
    with open(password_file, encoding="ascii") as f:
        password = f.read().strip()
    check_parameters(path)
    with open(path, "rb") as f:
        office = msoffcrypto.OfficeFile(f)
        try:
            office.load_key(password=password, verify_password=True)
        except msoffcrypto.exceptions.InvalidKeyError as e:
            print("wrong password: %s" % e)
            sys.exit(3)
        plain = io.BytesIO()
        try:
            office.decrypt(plain, verify_integrity=True)
        except msoffcrypto.exceptions.InvalidKeyError as e:
            print("refused: %s" % e)
            sys.exit(4 if "integrity" in str(e) else 2)
    check_workbook(plain.getvalue(), expected)


def flip(path, out, stream, offset):
    shutil.copyfile(path, out)
    with olefile.OleFileIO(out, write_mode=True) as ole:
        data = bytearray(ole.openstream(stream).read())
        data[offset] ^= 0x01
        ole.write_stream(stream, bytes(data))
    print("flipped byte %d of %s" % (offset, stream))


def main(argv):
    if len(argv) == 5 and argv[1] == "agile":
        with open(argv[3], encoding="utf-8") as f:
            agile(argv[2], json.load(f), argv[4])
    elif len(argv) == 4 and argv[1] == "xlsx":
        with open(argv[3], encoding="utf-8") as f, open(argv[2], "rb") as g:
            check_workbook(g.read(), json.load(f))
    elif len(argv) == 6 and argv[1] == "flip":
        flip(argv[2], argv[3], argv[4], int(argv[5]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
