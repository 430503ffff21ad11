#!/usr/bin/python3
"""Writes openpyxl.xlsx as openpyxl saves a workbook (shared strings, t="b"
booleans, datetime cells, a formula without a cached value, an integer
username that lost no digits and one that did, a cupi/User block beside a
data/User block).  Needs: apt-get install python3-openpyxl.  The output is
checked in; the tests do not need Python."""
import datetime
import os

from openpyxl import Workbook

wb = Workbook()
ws = wb.active
ws.title = "data_User"
rows = [
    ["entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal"],
    ["# Action", "username", "role", "account_information.locked", "account_information.failed_login_lock_date", "DtmfAccessId", "email"],
    ["Base", "Attributes"],
    ["# Action", "Username", "Role", "Locked", "Lock date", "Extension", "Email"],
    ["add", "py.user1", "Help Desk Administrator", True, datetime.datetime(2024, 1, 31, 12, 30), "0007", "py.user1@aaaglobal.example"],
    ["modify", "py.user2", "Help Desk Administrator", False, None, 4711, '=B6&"@aaaglobal.example"'],
    ["add", 9007199254740993, "Help Desk Administrator", False],
    [],
    ["entity: cupi/User"],
    ["# Action", "Alias", "FirstName", "LastName", "DtmfAccessId"],
    ["Base", "Attributes"],
    ["# Action", "Alias", "First name", "Last name", "Extension"],
    ["add", "py.vm1", "Py", "Thon", "1001"],
]
for r in rows:
    ws.append(r)
os.environ.setdefault("SOURCE_DATE_EPOCH", "1763888400")
wb.properties.created = datetime.datetime(2026, 11, 23, 9, 0)
wb.properties.modified = datetime.datetime(2026, 11, 23, 9, 0)
wb.save(os.path.join(os.path.dirname(os.path.abspath(__file__)), "openpyxl.xlsx"))
