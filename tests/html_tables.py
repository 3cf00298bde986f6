"""Read the tables of a rendered page as text, for asserting what a page says."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    caption: str = ""
    # each row's cells; a cell holding a list has one line per item
    rows: list[list[str]] = field(default_factory=list)


def _clean(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


class _TableReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, Table] = {}
        self.table: Table | None = None
        self.buffer: list[str] | None = None
        self.in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.table = self.tables.setdefault(dict(attrs).get("id") or "", Table())
        elif self.table is None:
            return
        elif tag == "caption":
            self.in_caption, self.buffer = True, []
        elif tag == "tr":
            self.table.rows.append([])
        elif tag in ("td", "th"):
            self.buffer = []
        elif tag == "li" and self.buffer is not None:
            self.buffer.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.table is None:
            return
        if tag == "table":
            self.table = None
        elif tag == "caption" and self.buffer is not None:
            self.table.caption = _clean("".join(self.buffer))
            self.in_caption, self.buffer = False, None
        elif tag in ("td", "th") and self.buffer is not None:
            self.table.rows[-1].append(_clean("".join(self.buffer)))
            self.buffer = None

    def handle_data(self, data: str) -> None:
        if self.buffer is not None:
            self.buffer.append(data)


def page_tables(html: str) -> dict[str, Table]:
    """Every table of the page by its id (the header row included in `rows`)."""
    reader = _TableReader()
    reader.feed(html)
    return reader.tables
