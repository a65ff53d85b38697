"""Background jobs over HTTP: follow a job's status and progress."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.jobs.schemas import JobSchema
from supervision.jobs.services import follow, job_document

blp = Blueprint("jobs", __name__, url_prefix="/api/v1", description="Background jobs")


@blp.route("/jobs/<string:job_id>")
class JobView(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A job's status and progress; `result_url` says where to fetch the result when done.
        A job whose worker died (no heartbeat for a while) runs once more, then fails."""
        job = follow(current_user, job_id)
        db.session.commit()
        return job_document(job)
