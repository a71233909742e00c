"""What a request is about: labels, categories, API products and their endpoints."""
from ..extensions import db
from .base import UTCDateTime


class Label(db.Model):
    __tablename__ = "labels"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False, unique=True)
    position = db.Column(db.Integer, nullable=False, default=0)
    # Added to every issue (the seed's "Label List"); otherwise offered in the form only.
    applies_to_all = db.Column(db.Boolean, nullable=False, default=False)
    active = db.Column(db.Boolean, nullable=False, default=True)


class Category(db.Model):
    __tablename__ = "categories"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    active = db.Column(db.Boolean, nullable=False, default=True)  # removed ones stay on old requests


class ApiProduct(db.Model):
    __tablename__ = "api_products"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    published = db.Column(db.Boolean, nullable=False, default=True)  # offered in the form
    active = db.Column(db.Boolean, nullable=False, default=True)  # removed ones stay on old requests
    # An OpenAPI 3 / Swagger 2 document the product follows (webapp/catalog): the worker reads
    # it daily or when asked; what it found waits in `source_found` until the admin applies it.
    source_url = db.Column(db.String(2000))
    source_reading = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    source_found = db.Column(db.JSON(none_as_null=True))  # [[method, path, summary], ...]
    source_error = db.Column(db.JSON(none_as_null=True))  # a stored message (webapp/messages.py)
    source_read_at = db.Column(UTCDateTime)
    # The Apinizer API proxy this product mirrors (webapp/catalog/apinizer.py), if any.
    apinizer_project = db.Column(db.String(200))
    apinizer_proxy = db.Column(db.String(200))
    # The environments its catalog names (OpenAPI `servers`, Apinizer's environments of the
    # project), kept at each reading; and whether the form offers them ("catalog"), the admin's
    # list ("admin"), or as Jira Config says (None). webapp/technical.py.
    catalog_environments = db.Column(db.JSON, nullable=False, default=list, server_default="[]")
    environments_from = db.Column(db.String(10))
    endpoints = db.relationship(
        "ApiEndpoint", back_populates="product", order_by="[ApiEndpoint.position, ApiEndpoint.id]",
        cascade="all, delete-orphan",
    )


class ApiEndpoint(db.Model):
    __tablename__ = "api_endpoints"
    id = db.Column(db.Integer, primary_key=True)
    product_id = db.Column(db.Integer, db.ForeignKey("api_products.id"), nullable=False, index=True)
    method = db.Column(db.String(10))
    path = db.Column(db.String(500), nullable=False)
    summary = db.Column(db.String(500))  # the operation's summary in the product's document
    position = db.Column(db.Integer, nullable=False, default=0)
    # Removed by the admin, or retired: it left the product's document. Either way it leaves
    # the form and stays on the requests that name it.
    active = db.Column(db.Boolean, nullable=False, default=True)
    product = db.relationship("ApiProduct", back_populates="endpoints")

    @property
    def label(self):
        """What the form and the pages show: "GET /pets/{id}", or the path alone."""
        return f"{self.method} {self.path}" if self.method else self.path

    @property
    def choice_label(self):
        """The form's choice: the label, and beside it the summary from the product's document."""
        return f"{self.label} — {self.summary}" if self.summary else self.label
