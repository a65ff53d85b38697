"""Mystery waves: proposals within the rules, adjusted and confirmed by a manager."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.plans import waves
from supervision.plans.wave_schemas import (
    WaveCreateSchema,
    WaveDetailSchema,
    WaveQueryArgsSchema,
    WaveSchema,
)
from supervision.scoping import get_wave, roles_required

blp = Blueprint("waves", __name__, url_prefix="/api/v1",
                description="Mystery waves: proposals within the rules, confirmed by a manager.")

PLANNERS = ("admin", "manager")


def _detail(wave, unfilled=None):
    """The wave with its visits (not the cancelled ones); `unfilled` with the reasons right
    after the proposal, else the stores left without a visit."""
    if unfilled is None:
        unfilled = [{"store_id": store_id, "slot": None, "reason": "none"}
                    for store_id in waves.unfilled_stores(wave)]
    wave.visits, wave.unfilled = waves.wave_assignments(wave), unfilled
    return wave


@blp.route("/waves")
class WavesView(MethodView):
    @roles_required(*PLANNERS)
    @blp.arguments(WaveQueryArgsSchema, location="query")
    @blp.response(200, WaveSchema(many=True))
    def get(self, filters):
        """The waves of the manager's regions, the latest first."""
        return waves.list_waves(current_user, filters)

    @roles_required(*PLANNERS)
    @blp.arguments(WaveCreateSchema)
    @blp.response(201, WaveDetailSchema)
    def post(self, data):
        """Create a wave: its visits are proposed within the rules (status "proposed", not
        shown to the shoppers until the wave is confirmed); the stores that could not be
        placed come back with the reason."""
        wave, unfilled = waves.create_wave(current_user, data)
        db.session.commit()
        return _detail(wave, unfilled)


@blp.route("/waves/<int:wave_id>")
class WaveView(MethodView):
    @roles_required(*PLANNERS)
    @blp.response(200, WaveDetailSchema)
    def get(self, wave_id):
        """One wave with its visits (adjust one with PATCH /assignments/{id})."""
        return _detail(get_wave(current_user, wave_id))


@blp.route("/waves/<int:wave_id>/confirm")
class WaveConfirmView(MethodView):
    @roles_required(*PLANNERS)
    @blp.response(200, WaveDetailSchema)
    def post(self, wave_id):
        """Confirm the wave: the proposals become planned and each shopper is notified."""
        wave = waves.confirm_wave(current_user, wave_id)
        db.session.commit()
        return _detail(wave)
