"""Reports over HTTP: PDFs (or HTML previews) of a visit, a store and a region."""

from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.jobs import services as jobs
from supervision.jobs.schemas import JobSchema
from supervision.reports import cache, services
from supervision.reports.schemas import (
    LANGUAGES,
    ReportPeriodQueryArgsSchema,
    VisitReportQueryArgsSchema,
)

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Reports")

PDF = {"content_type": "application/pdf",
       "description": "The report as a PDF (or, with format=html, its HTML preview)."}
# The preview may show our own photos and inline styles, nothing else; no script at all.
PREVIEW_POLICY = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                  "frame-ancestors 'self'")


def report_language(args: dict) -> str:
    """?lang=, else the account's language, else the browser's, else Chinese."""
    if args.get("lang"):
        return args["lang"]
    if getattr(current_user, "locale", None) in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def answer(report: services.Report) -> Response:
    if report.html is not None:
        response = current_app.response_class(report.html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PREVIEW_POLICY
        response.headers["Cache-Control"] = "private, no-store"
        return response
    return cache.send(report.key, report.filename).make_conditional(request)


def visit_report(args: dict, visit_id, fmt: str) -> Response:
    report = services.visit_report(current_user, visit_id, report_language(args),
                                   args["audience"], fmt)
    db.session.commit()  # photos processed on the way, and the audit of internal versions
    return answer(report)


@blp.route("/visits/<uuid:visit_id>/report.pdf")
class VisitReportView(MethodView):
    @blp.arguments(VisitReportQueryArgsSchema, location="query")
    @blp.response(200, **PDF)
    def get(self, args, visit_id):
        """The coaching report of one visit."""
        return visit_report(args, visit_id, args["format"])


@blp.route("/visits/<uuid:visit_id>/report.html")
class VisitReportPreview(MethodView):
    @blp.arguments(VisitReportQueryArgsSchema, location="query")
    @blp.response(200, content_type="text/html")
    def get(self, args, visit_id):
        """The coaching report of one visit, as an HTML preview."""
        return visit_report(args, visit_id, "html")


def store_report(args: dict, store_id: int, fmt: str) -> Response:
    return answer(services.store_report(current_user, store_id, args["start"], args["end"],
                                        report_language(args), fmt))


@blp.route("/stores/<int:store_id>/report.pdf")
class StoreReportView(MethodView):
    @blp.arguments(ReportPeriodQueryArgsSchema, location="query")
    @blp.response(200, **PDF)
    def get(self, args, store_id):
        """A store over a period: trends, recurring failures, actions, disputes, the region."""
        return store_report(args, store_id, args["format"])


@blp.route("/stores/<int:store_id>/report.html")
class StoreReportPreview(MethodView):
    @blp.arguments(ReportPeriodQueryArgsSchema, location="query")
    @blp.response(200, content_type="text/html")
    def get(self, args, store_id):
        """A store over a period, as an HTML preview."""
        return store_report(args, store_id, "html")


def region_report(args: dict, region_id: int, fmt: str):
    stable = url_for("reports.RegionReportView", region_id=region_id,
                     **{k: v for k, v in request.args.items() if k != "format"})
    result = services.region_report(current_user, region_id, args["start"], args["end"],
                                    report_language(args), fmt, stable)
    db.session.commit()
    if isinstance(result, services.Report):
        return answer(result)
    job = jobs.job_document(jobs.get_job(current_user, result.job_id))
    location = url_for("jobs.JobView", job_id=result.job_id)
    return JobSchema().dump(job), 202, {"Location": location, "Retry-After": "2"}


@blp.route("/regions/<int:region_id>/report.pdf")
class RegionReportView(MethodView):
    @blp.arguments(ReportPeriodQueryArgsSchema, location="query")
    @blp.response(200, **PDF)
    @blp.alt_response(202, schema=JobSchema, description=(
        "Being rendered: follow the job at Location, then GET this same URL again for the PDF."))
    def get(self, args, region_id):
        """A region over a period for its manager (rendered in the background)."""
        return region_report(args, region_id, args["format"])


@blp.route("/regions/<int:region_id>/report.html")
class RegionReportPreview(MethodView):
    @blp.arguments(ReportPeriodQueryArgsSchema, location="query")
    @blp.response(200, content_type="text/html")
    def get(self, args, region_id):
        """A region over a period, as an HTML preview."""
        return region_report(args, region_id, "html")
