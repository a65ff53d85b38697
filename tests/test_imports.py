"""Bulk imports of stores, users (store managers with their stores) and store staff: encodings
Excel writes, merged XLSX headers, dry runs, problems by line and column, all-or-nothing apply,
idempotent re-import."""

import codecs
import csv
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from supervision.accounts.models import User
from supervision.audit.models import AuditEntry
from supervision.db import db
from supervision.stores.models import Staff, Store

HEADER = ["编码", "名称", "地址", "区域", "纬度", "经度", "围栏半径", "时区"]
ROWS = [
    ["GZ001", "天河城营业厅", "广州市天河区天河路208号", "GZ", "23.1318", "113.3233", "200", ""],
    ["GZ002", "北京路营业厅", "广州市越秀区北京路138号", "GZ", "23.1255", "113.2700", "", ""],
    ["SZ001", "华强北营业厅", "深圳市福田区华强北路1002号", "SZ", "22.5431", "114.0850", "300",
     "Asia/Shanghai"],
]


@pytest.fixture
def headers(make_user, auth_headers, make_region):
    make_region("GZ", "广州")
    make_region("SZ", "深圳")
    return auth_headers(make_user("admin"))


def csv_bytes(rows, encoding="utf-8", delimiter=",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def send(client, headers, data: bytes, name="stores.csv", kind="stores", dry_run=False):
    return client.post(f"/api/v1/admin/imports/{kind}?dry_run={int(dry_run)}", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def stores(app) -> dict[str, tuple]:
    with app.app_context():
        return {s.code: (s.name, s.address, s.region.code, s.lat, s.lon, s.geofence_m, s.timezone,
                         s.active) for s in db.session.scalars(select(Store))}


@pytest.mark.parametrize(("encoding", "reported"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
    ("utf-16", "utf-16"),
])
def test_chinese_csv_in_the_encodings_excel_writes(app, client, headers, encoding, reported):
    delimiter = "\t" if encoding == "utf-16" else ","  # Excel's "Unicode text" uses tabs
    data = csv_bytes([HEADER, *ROWS], encoding, delimiter)
    if encoding == "utf-8-sig":
        assert data.startswith(codecs.BOM_UTF8)
    checked = send(client, headers, data, dry_run=True)
    assert checked.status_code == 200, checked.json
    assert checked.json["encoding"] == reported
    report = checked.json
    assert (report["created"], report["problems"], report["applied"]) == (3, [], False)
    assert stores(app) == {}
    applied = send(client, headers, data)
    assert applied.json["applied"] is True
    assert stores(app) == {
        "GZ001": ("天河城营业厅", "广州市天河区天河路208号", "GZ", 23.1318, 113.3233, 200,
                  "Asia/Shanghai", True),
        "GZ002": ("北京路营业厅", "广州市越秀区北京路138号", "GZ", 23.1255, 113.27, 300,
                  "Asia/Shanghai", True),
        "SZ001": ("华强北营业厅", "深圳市福田区华强北路1002号", "SZ", 22.5431, 114.085, 300,
                  "Asia/Shanghai", True),
    }


def merged_header_workbook() -> bytes:
    """A title row merged across the sheet; code and name merged down over two header rows;
    "位置 / location" merged across lat and lon; the region merged down over its stores."""
    book = Workbook()
    sheet = book.active
    sheet.append(["门店清单 2026年第一季度"])
    sheet.merge_cells("A1:F1")
    sheet.append(["门店编码 / Code", "营业厅名称", "区域", "位置 / location", None, "启用"])
    sheet.append([None, None, None, "纬度 (lat)", "经度 (lon)", None])
    for cells in ("A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:F3"):
        sheet.merge_cells(cells)
    sheet.append(["GZ001", "天河城营业厅", "GZ", 23.1318, 113.3233, "是"])
    sheet.append(["GZ002", "北京路营业厅", None, 23.1255, 113.27, "否"])
    sheet.append(["SZ001", "华强北营业厅", "SZ", 22.5431, 114.085, "是"])
    sheet.merge_cells("C4:C5")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_merged_header_cells(app, client, headers):
    data = merged_header_workbook()
    checked = send(client, headers, data, "门店.xlsx", dry_run=True)
    assert checked.json["format"] == "xlsx" and checked.json["problems"] == []
    assert checked.json["ignored_columns"] == []
    send(client, headers, data, "门店.xlsx")
    imported = stores(app)
    assert imported["GZ002"][2:5] == ("GZ", 23.1255, 113.27)
    assert imported["GZ002"][7] is False and imported["GZ001"][7] is True
    assert imported["SZ001"][:3] == ("华强北营业厅", None, "SZ")


def test_xlsx_problem_lines_are_sheet_rows(client, headers):
    book = Workbook()
    book.active.append(["code", "name", "region", "lat"])
    book.active.append(["A1", "甲厅", "GZ", "north"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = send(client, headers, buffer.getvalue(), "s.xlsx", dry_run=True).json
    assert report["problems"] == [{"line": 2, "column": "lat", "message": "Not a valid number."}]


def test_every_problem_listed_and_nothing_applied(app, client, headers):
    rows = [HEADER, *ROWS,
            ["GZ001", "重复的厅", "", "GZ", "", "", "", ""],
            ["CD001", "春熙路营业厅", "成都市锦江区", "CD", "", "", "", ""],
            ["", "", "", "GZ", "95", "", "5", "Moon/Base"]]
    data = csv_bytes(rows)
    report = send(client, headers, data, dry_run=True).json
    assert report["problems"] == [
        {"line": 5, "column": "编码", "message": "Duplicate code GZ001 (also on line 2)."},
        {"line": 6, "column": "区域", "message": "Unknown region CD: create it first."},
        {"line": 7, "column": "编码", "message": "Missing data for required field."},
        {"line": 7, "column": "名称", "message": "Missing data for required field."},
        {"line": 7, "column": "纬度", "message": "Must be greater than or equal to -90 and less "
                                                 "than or equal to 90."},
        {"line": 7, "column": "围栏半径", "message": "Must be 10–10000 m."},
        {"line": 7, "column": "时区",
         "message": "Unknown time zone; use a name like Asia/Shanghai."},
    ]
    refused = send(client, headers, data)
    assert refused.status_code == 422
    assert refused.json["errors"]["files"]["rows"] == report["problems"]
    assert "nothing was imported" in refused.json["message"]
    assert stores(app) == {}
    fixed = send(client, headers, csv_bytes([HEADER, *ROWS]))
    assert fixed.status_code == 200 and len(stores(app)) == 3


def test_reimport_changes_nothing_and_updates_what_changed(app, client, headers):
    data = csv_bytes([HEADER, *ROWS])
    send(client, headers, data)
    before = stores(app)
    with app.app_context():
        audit_count = len(db.session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "store")).all())
    again = send(client, headers, data).json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert stores(app) == before
    with app.app_context():
        assert len(db.session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "store")).all()) == audit_count
    moved = [row[:] for row in ROWS]
    moved[1][2] = "广州市越秀区北京路200号"
    changed = send(client, headers, csv_bytes([HEADER, *moved])).json
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    assert stores(app)["GZ002"][1] == "广州市越秀区北京路200号"


def test_columns_not_in_the_file_are_kept(app, client, headers):
    send(client, headers, csv_bytes([HEADER, *ROWS]))
    renamed = send(client, headers, csv_bytes([["code", "name", "region"],
                                              ["GZ001", "天河城旗舰厅", "GZ"]])).json
    assert renamed["updated"] == 1
    assert stores(app)["GZ001"][:2] == ("天河城旗舰厅", "广州市天河区天河路208号")


@pytest.mark.parametrize(("data", "message"), [
    (csv_bytes([["名称", "地址"], ["甲", "乙"]]), "Missing column code (编码)."),
    (csv_bytes([["foo", "bar"], ["1", "2"]]), "Missing column code (编码)."),
])
def test_missing_columns_are_reported_at_the_header(client, headers, data, message):
    report = send(client, headers, data, dry_run=True).json
    assert report["problems"][0] == {"line": 1, "column": "code", "message": message}


@pytest.mark.parametrize(("data", "name"), [
    (b"", "empty.csv"), (b"\xff\xfe\x00\xd8" * 3 + b"\x80\x81", "x.csv"),
    (b"PK\x03\x04 not really a zip", "x.xlsx"),
])
def test_unreadable_files_get_a_clear_422(client, headers, data, name):
    response = send(client, headers, data, name, dry_run=True)
    assert response.status_code == 422
    assert response.json["message"]


def test_unknown_import_kind(client, headers):
    assert send(client, headers, b"a,b\n", kind="photos").status_code == 404


def test_missing_file_field(client, headers):
    response = client.post("/api/v1/admin/imports/stores", headers=headers, data={},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in response.json["errors"]["files"]


USER_HEADER = ["邮箱", "姓名", "角色", "区域", "手机", "密码"]
USER_ROWS = [
    ["Wang.Fang@example.com", "王芳", "督导", "GZ", "13800000001", "initial-pass-1"],
    ["zhao.lei@example.com", "赵磊", "区域经理", "GZ、SZ", "", ""],
    ["qian@example.com", "钱多多", "shopper", "", "", ""],
]


def users(app) -> dict[str, tuple]:
    with app.app_context():
        return {u.email: (u.name, u.role, tuple(r.code for r in u.regions), u.phone, u.active)
                for u in db.session.scalars(select(User).where(User.role != "admin"))}


def test_user_import_is_idempotent(app, client, headers):
    data = csv_bytes([USER_HEADER, *USER_ROWS], "gbk")
    first = send(client, headers, data, "users.csv", kind="users").json
    assert (first["created"], first["problems"]) == (3, [])
    assert users(app) == {
        "wang.fang@example.com": ("王芳", "supervisor", ("GZ",), "13800000001", True),
        "zhao.lei@example.com": ("赵磊", "manager", ("GZ", "SZ"), None, True),
        "qian@example.com": ("钱多多", "shopper", (), None, True),
    }
    login = client.post("/api/v1/auth/token",
                        json={"email": "wang.fang@example.com", "password": "initial-pass-1"})
    assert login.status_code == 200
    again = send(client, headers, data, "users.csv", kind="users").json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_user_import_problems(app, client, headers):
    rows = [USER_HEADER,
            ["a@example.com", "甲", "督导", "GZ;XX", "", ""],
            ["A@example.com", "乙", "督导", "GZ", "", ""],
            ["b@example", "丙", "老板", "GZ", "", "short"]]
    report = send(client, headers, csv_bytes(rows), "users.csv", kind="users", dry_run=True).json
    assert report["problems"] == [
        {"line": 2, "column": "区域", "message": "Unknown region XX: create it first."},
        {"line": 3, "column": "邮箱", "message": "Duplicate email A@example.com (also on line 2)."},
        {"line": 4, "column": "邮箱", "message": "Not a valid email address."},
        {"line": 4, "column": "角色",
         "message": "Must be one of: admin, manager, supervisor, shopper, store_manager."},
        {"line": 4, "column": "密码", "message": "Length must be between 8 and 200."},
    ]
    assert users(app) == {}


MANAGER_HEADER = ["邮箱", "姓名", "角色", "门店", "区域"]
MANAGER_ROWS = [
    ["huang.ting@example.com", "黄婷", "厅主任", "GZ001", ""],
    ["zhou.jie@example.com", "周杰", "店长", "gz002、sz001", ""],
    ["wu.fang@example.com", "吴芳", "Store Manager", "SZ001", ""],
]


def managers(app) -> dict[str, tuple]:
    with app.app_context():
        return {u.email: (u.role, tuple(s.code for s in u.stores), tuple(r.code for r in u.regions))
                for u in db.session.scalars(select(User).where(User.role == "store_manager"))}


@pytest.fixture
def with_stores(client, headers):
    assert send(client, headers, csv_bytes([HEADER, *ROWS])).json["applied"]
    return headers


def test_store_managers_name_their_stores(app, client, with_stores):
    data = csv_bytes([MANAGER_HEADER, *MANAGER_ROWS], "gbk")
    checked = send(client, with_stores, data, "managers.csv", kind="users", dry_run=True).json
    assert (checked["created"], checked["problems"], checked["applied"]) == (3, [], False)
    assert managers(app) == {}
    applied = send(client, with_stores, data, "managers.csv", kind="users").json
    assert applied["applied"] is True
    assert managers(app) == {
        "huang.ting@example.com": ("store_manager", ("GZ001",), ()),
        "zhou.jie@example.com": ("store_manager", ("GZ002", "SZ001"), ()),
        "wu.fang@example.com": ("store_manager", ("SZ001",), ()),
    }
    again = send(client, with_stores, data, "managers.csv", kind="users").json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    moved = [row[:] for row in MANAGER_ROWS]
    moved[0][3] = "GZ002"
    changed = send(client, with_stores, csv_bytes([MANAGER_HEADER, *moved]), "m.csv",
                   kind="users").json
    assert (changed["updated"], changed["unchanged"]) == (1, 2)
    assert managers(app)["huang.ting@example.com"][1] == ("GZ002",)


def test_store_manager_import_problems(app, client, with_stores):
    rows = [MANAGER_HEADER,
            ["a@example.com", "甲", "厅主任", "", ""],
            ["b@example.com", "乙", "厅主任", "GZ001", "GZ"],
            ["c@example.com", "丙", "厅主任", "GZ001;XX9", ""],
            ["d@example.com", "丁", "督导", "GZ001", "GZ"]]
    report = send(client, with_stores, csv_bytes(rows), "users.csv", kind="users",
                  dry_run=True).json
    assert report["problems"] == [
        {"line": 2, "column": "门店", "message": "A store manager needs at least one store."},
        {"line": 3, "column": "区域", "message": "A store manager has stores, not regions."},
        {"line": 4, "column": "门店", "message": "Unknown store XX9: import the stores first."},
        {"line": 5, "column": "门店", "message": "Only a store manager has stores."},
    ]
    refused = send(client, with_stores, csv_bytes(rows), "users.csv", kind="users")
    assert refused.status_code == 422 and managers(app) == {}


STAFF_HEADER = ["门店编码", "姓名", "工号", "岗位", "在岗"]
STAFF_ROWS = [
    ["GZ001", "王丽", "0201", "厅主任", "是"],
    ["GZ001", "刘洋", "0225", "大堂经理", "是"],
    ["gz001", "赵静", "0236", "营业员", "否"],
    ["SZ001", "陈洁", "0201", "营业员", ""],  # the same badge number at another store
    ["SZ001", "周建国", "", "保安", ""],  # no badge: found by name
]


def staff(app) -> dict[tuple, tuple]:
    with app.app_context():
        return {(p.store.code, p.name): (p.badge, p.position, p.active)
                for p in db.session.scalars(select(Staff))}


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_staff_rosters_import_with_a_dry_run(app, client, with_stores, form):
    if form == "csv":
        data, name = csv_bytes([STAFF_HEADER, *STAFF_ROWS], "utf-8-sig"), "staff.csv"
    else:
        book = Workbook()
        for row in [STAFF_HEADER, *STAFF_ROWS]:
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        data, name = buffer.getvalue(), "员工.xlsx"
    checked = send(client, with_stores, data, name, kind="staff", dry_run=True).json
    assert (checked["format"], checked["created"], checked["problems"]) == (form, 5, [])
    assert staff(app) == {}
    assert send(client, with_stores, data, name, kind="staff").json["applied"]
    assert staff(app) == {
        ("GZ001", "王丽"): ("0201", "厅主任", True),
        ("GZ001", "刘洋"): ("0225", "大堂经理", True),
        ("GZ001", "赵静"): ("0236", "营业员", False),
        ("SZ001", "陈洁"): ("0201", "营业员", True),
        ("SZ001", "周建国"): (None, "保安", True),
    }
    again = send(client, with_stores, data, name, kind="staff").json
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)


def test_staff_found_by_badge_then_by_name(app, client, with_stores):
    send(client, with_stores, csv_bytes([STAFF_HEADER, *STAFF_ROWS]), "s.csv", kind="staff")
    renamed = [["门店编码", "姓名", "工号", "岗位"],
               ["GZ001", "王丽娟", "0201", "厅主任"],  # the same badge: a new spelling
               ["SZ001", "周建国", "", "保安队长"]]  # no badge: the same name
    report = send(client, with_stores, csv_bytes(renamed), "s.csv", kind="staff").json
    assert (report["created"], report["updated"]) == (0, 2)
    imported = staff(app)
    assert imported[("GZ001", "王丽娟")] == ("0201", "厅主任", True)
    assert ("GZ001", "王丽") not in imported
    assert imported[("SZ001", "周建国")] == (None, "保安队长", True)
    assert imported[("GZ001", "赵静")][2] is False  # no active column: kept


def test_staff_import_problems(app, client, with_stores):
    rows = [STAFF_HEADER,
            ["GZ001", "王丽", "0201", "厅主任", ""],
            ["GZ001", "王莉", "0201", "营业员", ""],
            ["CD001", "李强", "0219", "营业员", ""],
            ["GZ001", "", "0230", "营业员", "也许"]]
    report = send(client, with_stores, csv_bytes(rows), "s.csv", kind="staff",
                  dry_run=True).json
    assert report["problems"] == [
        {"line": 3, "column": "工号", "message": "Duplicate badge 0201 at GZ001 (also on line 2)."},
        {"line": 4, "column": "门店编码",
         "message": "Unknown store CD001: import the stores first."},
        {"line": 5, "column": "姓名", "message": "Missing data for required field."},
        {"line": 5, "column": "在岗", "message": "Not a valid boolean."},
    ]
    assert send(client, with_stores, csv_bytes(rows), "s.csv", kind="staff").status_code == 422
    assert staff(app) == {}
    missing = send(client, with_stores, csv_bytes([["姓名", "工号"], ["王丽", "0201"]]), "s.csv",
                   kind="staff", dry_run=True).json
    assert missing["problems"][0] == {"line": 1, "column": "store",
                                      "message": "Missing column store (门店编码)."}


def test_store_classes_import_as_tags_that_plans_select_by(app, client, headers):
    data = csv_bytes([["编码", "名称", "区域", "门店分类"],
                      ["GZ001", "天河城营业厅", "GZ", "A"],
                      ["GZ002", "北京路营业厅", "GZ", "B、旗舰"],
                      ["GZ003", "番禺营业厅", "GZ", ""]])
    assert send(client, headers, data).json["applied"] is True
    with app.app_context():
        tags = {s.code: s.tags for s in db.session.scalars(select(Store))}
    assert tags == {"GZ001": ["A"], "GZ002": ["B", "旗舰"], "GZ003": []}
    listed = client.get("/api/v1/stores", headers=headers).json
    assert {s["code"]: s["tags"] for s in listed}["GZ002"] == ["B", "旗舰"]
    store_id = next(s["id"] for s in listed if s["code"] == "GZ003")
    changed = client.patch(f"/api/v1/admin/stores/{store_id}", json={"tags": "C"},
                           headers=headers)
    assert changed.status_code == 200 and changed.json["tags"] == ["C"]
    wrong = client.patch(f"/api/v1/admin/stores/{store_id}", json={"tags": ["x" * 40]},
                         headers=headers)
    assert wrong.status_code == 422 and "tags" in wrong.json["errors"]["json"]
