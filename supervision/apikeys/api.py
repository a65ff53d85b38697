"""API keys for integrations (admins only)."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.apikeys import services
from supervision.apikeys.schemas import (
    ApiKeyCreateSchema,
    ApiKeySchema,
    ApiKeyUseQueryArgsSchema,
    ApiKeyUseSchema,
    NewApiKeySchema,
)
from supervision.db import db
from supervision.pagination import total_header, with_total
from supervision.scoping import roles_required

blp = Blueprint("api_keys", __name__, url_prefix="/api/v1",
                description="Keys for integrations: read-only, scoped to regions, expiring.")


@blp.route("/api-keys")
class ApiKeysView(MethodView):
    @roles_required("admin")
    @blp.response(200, ApiKeySchema(many=True))
    def get(self):
        """Every key, revoked and expired ones too (never their secrets)."""
        return services.list_keys(current_user)

    @roles_required("admin")
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, NewApiKeySchema)
    def post(self, data):
        """A new key: its secret is in this answer and nowhere else, ever."""
        key, secret = services.create_key(current_user, data)
        db.session.commit()
        key.secret = secret
        return key


@blp.route("/api-keys/<int:key_id>")
class ApiKeyView(MethodView):
    @roles_required("admin")
    @blp.response(200, ApiKeySchema)
    def delete(self, key_id):
        """Revoke a key at once; it stays listed, with its log."""
        key = services.revoke_key(current_user, key_id)
        db.session.commit()
        return key


@blp.route("/api-keys/<int:key_id>/uses")
class ApiKeyUsesView(MethodView):
    @roles_required("admin")
    @blp.arguments(ApiKeyUseQueryArgsSchema, location="query")
    @blp.response(200, ApiKeyUseSchema(many=True),
                  headers=total_header("How many times the key was used."))
    def get(self, args, key_id):
        """Every request made with the key, the latest first."""
        return with_total(*services.key_uses(current_user, key_id, args["limit"],
                                             args["offset"]))
