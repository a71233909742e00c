"""Links that open the new-request form with choices made: from an API's documentation page,
`/requests/new?product=payments-api&endpoint=POST%20/v2/payments&label=Bug&summary=…`
(docs/embedding.md). A value that names nothing offered now is ignored, never an error: the
link may be older than the catalog."""
import re

from ..choices import active_categories, offered_endpoints, offered_labels, offered_products
from .forms import SUMMARY_MAX


def slug(name):
    """A product's name as a link spells it: "Ödemeler API" → "ödemeler-api"."""
    return re.sub(r"[\W_]+", "-", name.casefold()).strip("-")


def prefilled(args):
    """The form's values that the query string names among today's choices."""
    values = {}
    label = _one(args, "label")
    labels = {name.casefold(): name for name in offered_labels()}
    if label.casefold() in labels:
        values["label"] = labels[label.casefold()]
    category = _one(args, "category")
    for row in active_categories():
        if category and category in (str(row.id), row.name.casefold(), slug(row.name)):
            values["category"] = row.id
            break
    product = _one(args, "product")
    for row in offered_products():
        if product and product in (str(row.id), slug(row.name)):
            values["product"] = row.id
            break
    endpoint = args.get("endpoint", "").split()[:2]  # "POST /v2/payments", "/v2/payments" or an id
    method, path = endpoint if len(endpoint) == 2 else ("", "".join(endpoint))
    for row in offered_endpoints(values.get("product")) if path else ():
        if (path == str(row.id) and not method) or (
                path == row.path and method.upper() == (row.method or "").upper()):
            values.update(endpoint=row.id, product=row.product_id)
            break
    summary = " ".join(args.get("summary", "").split())[:SUMMARY_MAX]
    if summary:
        values["summary"] = summary
    return values


def _one(args, name):
    return args.get(name, "").strip().casefold()[:500]
