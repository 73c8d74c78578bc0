"""Page arithmetic shared by every paged staff list."""
from __future__ import annotations

from typing import NamedTuple


class Window(NamedTuple):
    page: int
    pages: int
    offset: int


def window(total: int, page: int, per_page: int) -> Window:
    """The page to show of `total` items, clamped to 1..pages (a page past the end shows the last)."""
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    return Window(page, pages, (page - 1) * per_page)
