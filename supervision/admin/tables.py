"""Read a spreadsheet upload, CSV in any encoding Excel writes or XLSX, into header and rows."""

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import load_workbook

from supervision.errors import Invalid

MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10
# Excel in China saves "CSV" as GBK (a subset of GB18030); "Unicode text" as UTF-16 with tabs.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Table:
    format: str
    encoding: str | None
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, cells)


def read_table(data: bytes, filename: str = "") -> Table:
    """The rows of the first sheet (XLSX) or of the CSV, every cell as a stripped string."""
    if not data.strip():
        raise Invalid("The file is empty.", {"files": {"file": ["Empty file."]}})
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    text, encoding = decode(data)
    return Table("csv", encoding, list(_csv_rows(text)))


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was written in."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for encoding in ("utf-16",) if utf16 else CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8):
            return text, "utf-8"
        return text, encoding
    raise Invalid("The file is neither UTF-8, UTF-16 nor GBK/GB18030 text: save it as CSV "
                  "(UTF-8) or XLSX.", {"files": {"file": ["Unknown text encoding."]}})


def _csv_rows(text: str):
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, [cell.strip() for cell in cells]
            start = reader.line_num + 1
            _check_size(start)
    except csv.Error as error:
        raise Invalid(f"Line {reader.line_num}: the CSV cannot be read ({error}).",
                      {"files": {"file": [str(error)]}}) from error


def _check_size(line: int) -> None:
    if line > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise Invalid(f"The file has more than {MAX_ROWS} rows; split it.",
                      {"files": {"file": ["Too many rows."]}})


def _read_xlsx(data: bytes) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise Invalid("The file is not a readable XLSX workbook.",
                      {"files": {"file": [str(error) or "Not an XLSX file."]}}) from error
    rows = [(number, cells) for number, row in enumerate(_unmerged(workbook.worksheets[0]), 1)
            if any(cells := [_cell_text(value) for value in row])]
    workbook.close()
    if rows:
        _check_size(len(rows))  # styled but empty rows (Excel keeps many) do not count
    return Table("xlsx", None, rows)


def _unmerged(sheet) -> list[list]:
    """Cell values with every merged range filled with its top-left value: a header merged
    over two columns names both, and a region merged down over its stores is on each row."""
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top_left = values[merged.min_row - 1][merged.min_col - 1]
        for row in range(merged.min_row - 1, merged.max_row):
            for column in range(merged.min_col - 1, merged.max_col):
                values[row][column] = top_left
    return values


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def normalise_header(text: str) -> list[str]:
    """Spellings to look up: the whole header and each part of "编码 / Code" or "纬度(lat)"."""
    parts = [text, *re.split(r"[/()（）|\n]", text)]
    keys = [re.sub(r"[\s_\-.:：*]+", "", part).lower() for part in parts]
    return [key for key in keys if key]
