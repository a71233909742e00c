"""A product that follows an OpenAPI document by URL: set or stop following, "Refresh now",
the card that waits for the worker's reading, then apply or discard what it found; and which
environments the form offers with the product (its catalog's or the admin's list). The web
process never fetches the document: the worker does (webapp/catalog)."""
from flask import redirect, url_for
from flask_babel import gettext as _

from . import bp
from .catalog import active_product, product_response
from .forms import ProductEnvironmentsForm, SourceForm, errors_text
from .. import audit
from ..catalog.sources import apply_found, request_reading
from ..extensions import db
from ..htmx import is_fragment_request


@bp.get("/products/<int:product_id>/card")
def product_card(product_id):
    """The card alone: the page polls it while the worker reads the document."""
    product = active_product(product_id)
    if not is_fragment_request():
        return redirect(url_for("admin.products") + f"#product-{product.id}", code=303)
    return product_response(product)


@bp.post("/products/<int:product_id>/source")
def follow_source(product_id):
    """Follow the document at this address: the worker reads it, and nothing changes before
    the admin applies what it found."""
    product = active_product(product_id)
    form = SourceForm()
    if not form.validate_on_submit():
        return product_response(product, error=errors_text(form.url))
    product.source_url = form.url.data
    product.source_found = product.source_error = product.source_read_at = None
    audit.record("products.source_set", name=product.name, url=form.url.data[:500])
    request_reading(product)
    return product_response(product)


@bp.post("/products/<int:product_id>/source/refresh")
def refresh_source(product_id):
    product = active_product(product_id)
    if product.source_url:
        request_reading(product)
    return product_response(product)


@bp.post("/products/<int:product_id>/source/apply")
def apply_source(product_id):
    product = active_product(product_id)
    if not product.source_found:  # applied or discarded in another tab
        return product_response(product, notice=_("Nothing waits to be applied."))
    added, retired = apply_found(product)
    db.session.commit()
    return product_response(product, notice=_("%(added)d added, %(retired)d retired.",
                                              added=added, retired=retired))


@bp.post("/products/<int:product_id>/source/discard")
def discard_source(product_id):
    product = active_product(product_id)
    product.source_found = None
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/source/stop")
def stop_source(product_id):
    """Stop following: the endpoints stay as they are, and the admin edits them by hand."""
    product = active_product(product_id)
    audit.record("products.source_stopped", name=product.name, url=(product.source_url or "")[:500])
    product.source_url = product.source_found = product.source_error = product.source_read_at = None
    product.source_reading = False
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/environments")
def product_environments(product_id):
    """Offer the catalog's environments with this product, the admin's list, or as Jira Config says."""
    product = active_product(product_id)
    form = ProductEnvironmentsForm()
    if not form.validate_on_submit():
        return product_response(product, error=errors_text(form.environments_from))
    if product.environments_from != (form.environments_from.data or None):
        product.environments_from = form.environments_from.data or None
        audit.record("products.environments_from", name=product.name, value=form.environments_from.data or "settings")
        db.session.commit()
    return product_response(product, notice=_("Saved."))
