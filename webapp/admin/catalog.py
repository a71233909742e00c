"""The admin lists that feed the request form: categories, and API products with their
endpoints. Removing hides an entry from the form and this list; requests keep it."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from . import bp
from .forms import EndpointForm, NameForm, errors_text
from .. import audit
from ..catalog.openapi import endpoints_from_openapi
from ..catalog.sources import add_endpoints
from ..choices import active_categories, active_products
from ..extensions import db
from ..htmx import is_fragment_request
from ..models import ApiEndpoint, ApiProduct, Category

MAX_SPEC_BYTES = 5 * 1024 * 1024


def _next_position(model, *where):
    return (db.session.scalar(select(func.max(model.position)).where(*where)) or 0) + 1


def _move(model, row, direction, *scope):
    """Swap a row with its neighbour above or below (among active rows of its scope)."""
    ordered = db.session.scalars(
        select(model).where(model.active, *scope).order_by(model.position, model.id)).all()
    if row not in ordered:  # removed meanwhile (a page left open): nothing to move
        abort(404)
    index = ordered.index(row)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position


# Categories -----------------------------------------------------------------------------

def _add_named(model, action):
    """Add a category or product from the NameForm, last in its list; the error, or None."""
    form = NameForm()
    if not form.validate_on_submit():
        return errors_text(form.name)
    db.session.add(model(name=form.name.data, position=_next_position(model)))
    audit.record(action, name=form.name.data)
    db.session.commit()
    return None


def _list_response(partial, page, error=None, **lists):
    """After a change to a list: the list's partial for an htmx swap, else back to its page
    (`page`, an endpoint), with the error flashed."""
    if is_fragment_request():
        return render_template(partial, error=error, **lists)
    if error:
        flash(error, "error")
    return redirect(url_for(page), code=303)


def _categories_response(error=None):
    return _list_response("admin/_categories.html", "admin.categories", error,
                          categories=active_categories())


@bp.get("/categories")
def categories():
    """The request categories (e.g. Payment, Customer, Other Request)."""
    return render_template("admin/categories.html", categories=active_categories(), error=None)


@bp.post("/categories")
def add_category():
    return _categories_response(_add_named(Category, "categories.added"))


@bp.post("/categories/<int:item_id>/rename")
def rename_category(item_id):
    category = db.get_or_404(Category, item_id)
    form = NameForm()
    if not form.validate_on_submit():
        return _categories_response(errors_text(form.name))
    audit.record("categories.renamed", old=category.name, new=form.name.data)
    category.name = form.name.data
    db.session.commit()
    return _categories_response()


@bp.post("/categories/<int:item_id>/move")
def move_category(item_id):
    _move(Category, db.get_or_404(Category, item_id), request.form.get("direction"))
    db.session.commit()
    return _categories_response()


@bp.post("/categories/<int:item_id>/remove")
def remove_category(item_id):
    category = db.get_or_404(Category, item_id)
    category.active = False
    audit.record("categories.removed", name=category.name)
    db.session.commit()
    return _categories_response()


# API products and endpoints -------------------------------------------------------------

def product_response(product, error=None, notice=None):
    """One product's card for an htmx swap, else back to the list."""
    if is_fragment_request() and product.active:
        return render_template("admin/_product.html", product=product, error=error, notice=notice)
    if is_fragment_request():
        return _products_response()
    if error or notice:
        flash(error or notice, "error" if error else "success")
    return redirect(url_for("admin.products") + (f"#product-{product.id}" if product.active else ""), code=303)


@bp.get("/products")
def products():
    """API products and their endpoints, as offered in the request form."""
    return render_template("admin/products.html", products=active_products(), error=None)


@bp.post("/products")
def add_product():
    return _products_response(_add_named(ApiProduct, "products.added"))


def _products_response(error=None):
    return _list_response("admin/_products.html", "admin.products", error, products=active_products())


def active_product(product_id):
    product = db.get_or_404(ApiProduct, product_id)
    if not product.active:
        abort(404)
    return product


@bp.post("/products/<int:product_id>/rename")
def rename_product(product_id):
    product = active_product(product_id)
    form = NameForm()
    if not form.validate_on_submit():
        return product_response(product, error=errors_text(form.name))
    audit.record("products.renamed", old=product.name, new=form.name.data)
    product.name = form.name.data
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/publish")
def publish_product(product_id):
    """Publish or unpublish: unpublished products leave the form but stay on requests."""
    product = active_product(product_id)
    product.published = request.form.get("published") == "1"
    audit.record("products.published" if product.published else "products.unpublished", name=product.name)
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/move")
def move_product(product_id):
    _move(ApiProduct, active_product(product_id), request.form.get("direction"))
    db.session.commit()
    return _products_response()


@bp.post("/products/<int:product_id>/remove")
def remove_product(product_id):
    product = active_product(product_id)
    product.active = product.published = False
    audit.record("products.removed", name=product.name)
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/endpoints")
def add_endpoint(product_id):
    product = active_product(product_id)
    form = EndpointForm()
    if not form.validate_on_submit():
        return product_response(product, error=errors_text(form.method, form.path))
    product.endpoints.append(ApiEndpoint(
        method=form.method.data or None, path=form.path.data,
        position=_next_position(ApiEndpoint, ApiEndpoint.product_id == product.id)))
    audit.record("endpoints.added", product=product.name, path=form.path.data)
    db.session.commit()
    return product_response(product)


def _product_endpoint(product_id, endpoint_id):
    product = active_product(product_id)
    endpoint = db.get_or_404(ApiEndpoint, endpoint_id)
    if endpoint.product_id != product.id or not endpoint.active:
        abort(404)
    return product, endpoint


@bp.post("/products/<int:product_id>/endpoints/<int:endpoint_id>/remove")
def remove_endpoint(product_id, endpoint_id):
    product, endpoint = _product_endpoint(product_id, endpoint_id)
    endpoint.active = False
    audit.record("endpoints.removed", product=product.name, path=endpoint.path)
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/endpoints/<int:endpoint_id>/move")
def move_endpoint(product_id, endpoint_id):
    product, endpoint = _product_endpoint(product_id, endpoint_id)
    _move(ApiEndpoint, endpoint, request.form.get("direction"), ApiEndpoint.product_id == product.id)
    db.session.commit()
    return product_response(product)


@bp.post("/products/<int:product_id>/import")
def import_endpoints(product_id):
    """Add the endpoints of an OpenAPI (or Swagger 2) file, JSON or YAML, skipping known ones."""
    product = active_product(product_id)
    upload = request.files.get("spec")
    if upload is None or not upload.filename:
        return product_response(product, error=_("Choose an OpenAPI file (JSON or YAML)."))
    raw = upload.stream.read(MAX_SPEC_BYTES + 1)
    if len(raw) > MAX_SPEC_BYTES:
        return product_response(product, error=_("The file is larger than 5 MB."))
    try:
        found = endpoints_from_openapi(raw)
    except ValueError:
        return product_response(product, error=_("This is not an OpenAPI or Swagger file: no “paths” were found in it."))
    added = add_endpoints(product, found)
    audit.record("endpoints.imported", product=product.name, added=added, file=upload.filename[:200])
    db.session.commit()
    return product_response(product, notice=_(
        "%(added)d endpoints added from %(file)s (%(found)d in the file).",
        added=added, file=upload.filename, found=len(found)))
