"""The lists the admin keeps and the request form offers: labels, categories, API products
and their endpoints. Each is read here only, in one order: position, then id (the id keeps
rows that share a position in the same order on every page)."""
from sqlalchemy import select

from .extensions import db
from .models import ApiEndpoint, ApiProduct, Category, Label


def all_labels():
    """Every label, for the admin's list (and the connection check)."""
    return db.session.scalars(select(Label).order_by(Label.position, Label.id)).all()


def offered_labels():
    """The names a user chooses a label from; those added to every issue are not offered."""
    return db.session.scalars(select(Label.name).where(Label.active, ~Label.applies_to_all)
                              .order_by(Label.position, Label.id)).all()


def labels_on_every_issue():
    """The names added to every issue delivery creates (the seed's "Label List")."""
    return db.session.scalars(select(Label.name).where(Label.active, Label.applies_to_all)
                              .order_by(Label.position, Label.id)).all()


def active_categories():
    return db.session.scalars(select(Category).where(Category.active)
                              .order_by(Category.position, Category.id)).all()


def active_products():
    """Products not removed, published or not: the admin's list."""
    return db.session.scalars(select(ApiProduct).where(ApiProduct.active)
                              .order_by(ApiProduct.position, ApiProduct.id)).all()


def offered_products():
    return db.session.scalars(select(ApiProduct).where(ApiProduct.active, ApiProduct.published)
                              .order_by(ApiProduct.position, ApiProduct.id)).all()


def offered_endpoints(product_id=None):
    """Endpoints offered in the form: of one product, or of every published product."""
    query = (select(ApiEndpoint).join(ApiProduct)
             .where(ApiEndpoint.active, ApiProduct.published, ApiProduct.active)
             .order_by(ApiProduct.position, ApiProduct.id, ApiEndpoint.position, ApiEndpoint.id))
    if product_id:
        query = query.where(ApiEndpoint.product_id == product_id)
    return db.session.scalars(query).all()
