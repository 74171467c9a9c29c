"""Pagination for API lists.

Lists that grow without bound (customers, tickets, requests, complaints, callbacks, …) use a
cursor: `next`/`previous` links with an opaque `cursor`, ordered by the unique, indexed id, so
walking the pages neither repeats nor skips a row when rows are added meanwhile, and a page
costs the same however deep it is. Small reference lists (branches, services, categories) keep
page numbers with a `count`.
"""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """Newest first: `ordering` is the id, which only ever grows."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200


class OldestFirstCursorPagination(CursorPagination):
    """Oldest first (customers, in the order they were registered)."""

    ordering = "id"


def cursor_by(*ordering: str) -> type[CursorPagination]:
    """A cursor in a list's own order (a worklist by due time): the first field should be
    close to unique and never null, the last one unique (the id) to break ties."""
    return type("CursorPagination", (CursorPagination,), {"ordering": ordering})
