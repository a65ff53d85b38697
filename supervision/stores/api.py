"""Regions, stores and their staff rosters, as far as the caller may see them."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.scoping import get_store, roles_required, scoped_regions, scoped_stores
from supervision.stores import services
from supervision.stores.schemas import (
    RegionSchema,
    StaffCreateSchema,
    StaffQueryArgsSchema,
    StaffSchema,
    StaffUpdateSchema,
    StoreSchema,
)

blp = Blueprint("stores", __name__, url_prefix="/api/v1", description="Regions and stores")

# Who reads a roster, and who keeps it (a supervisor picks an action's owner from it).
ROSTER_READERS = ("admin", "manager", "supervisor", "store_manager")
ROSTER_KEEPERS = ("admin", "manager", "store_manager")


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


@blp.route("/stores/<int:store_id>/staff")
class StaffListView(MethodView):
    @roles_required(*ROSTER_READERS)
    @blp.arguments(StaffQueryArgsSchema, location="query")
    @blp.response(200, StaffSchema(many=True))
    def get(self, filters, store_id):
        """The store's staff roster, by name; active=true lists those still at the store."""
        return services.list_staff(current_user, store_id, filters)

    @roles_required(*ROSTER_KEEPERS)
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffSchema)
    def post(self, data, store_id):
        """Add a person to the store's roster: name, badge number (工号), position."""
        staff = services.add_staff(current_user, store_id, data)
        db.session.commit()
        return staff


@blp.route("/staff/<int:staff_id>")
class StaffView(MethodView):
    @roles_required(*ROSTER_KEEPERS)
    @blp.arguments(StaffUpdateSchema)
    @blp.response(200, StaffSchema)
    def patch(self, data, staff_id):
        """Change a person of a roster; active=false when they left the store."""
        staff = services.update_staff(current_user, staff_id, data)
        db.session.commit()
        return staff
