"""The numbered pages of the admin's lists (the requester's list pages by keyset instead:
webapp/support/query.py)."""
from flask import request

from .extensions import db

# Beyond any list here; keeps OFFSET within what every database takes (PostgreSQL refuses
# an OFFSET past a bigint, and ?page=10**26 would otherwise be a 500).
MAX_PAGE = 100_000


def paginate(statement, per_page):
    """The page `?page=` asks for: anything not a positive number is the first page, and an
    absurdly large one is an empty page, never a database error."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)
