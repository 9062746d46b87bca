"""CSV files that admins open in Excel or LibreOffice, safe against formula injection.

Customer text reaches exports (an unanswered question added to a topic), and a
spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR as a
formula (``=HYPERLINK(...)`` sends the admin to the attacker's site). Following
OWASP's CSV-injection guidance, such a cell is written with a leading single
quote, which spreadsheets show as plain text and hide. A cell that already starts
with a quote gets one more, so ``unescape_cell`` undoes exactly what
``escape_cell`` did and an export imports back to the same text.
"""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def escape_cell(value: object) -> object:
    """``"=HYPERLINK(...)"`` -> ``"'=HYPERLINK(...)"``; numbers and other text unchanged."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, QUOTE)):
        return QUOTE + value
    return value


def unescape_cell(text: str) -> str:
    """The inverse of ``escape_cell`` for text read back from a CSV file."""
    if text.startswith(QUOTE) and text[1:].startswith((*FORMULA_STARTS, QUOTE)):
        return text[1:]
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file with every cell escaped, as UTF-8 with a BOM so Excel reads the Vietnamese text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_cell(cell) for cell in header])
    writer.writerows([escape_cell(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The rows of an uploaded CSV file, cells unescaped; raises UnicodeDecodeError or csv.Error."""
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return [{key: unescape_cell(value or "") for key, value in row.items() if key is not None} for row in rows]
