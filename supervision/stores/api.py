"""Regions and stores, as far as the caller may see them."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.scoping import get_store, scoped_regions, scoped_stores
from supervision.stores.schemas import RegionSchema, StoreSchema

blp = Blueprint("stores", __name__, url_prefix="/api/v1", description="Regions and stores")


@blp.route("/regions")
class RegionsView(MethodView):
    @blp.response(200, RegionSchema(many=True))
    def get(self):
        """The regions the caller works in (all of them for an admin)."""
        return db.session.scalars(scoped_regions(current_user)).all()


@blp.route("/stores")
class StoresView(MethodView):
    @blp.response(200, StoreSchema(many=True))
    def get(self):
        """The stores the caller may see."""
        return db.session.scalars(scoped_stores(current_user)).all()


@blp.route("/stores/<int:store_id>")
class StoreView(MethodView):
    @blp.response(200, StoreSchema)
    def get(self, store_id):
        """One store."""
        return get_store(current_user, store_id)
