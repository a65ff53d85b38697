"""Security headers on every answer: no framing, no content sniffing, no foreign code."""

from urllib.parse import urlsplit

from flask import Flask


def init_app(app: Flask) -> None:
    policy = content_security_policy(app.config)
    fixed = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        # The capture screens take photos through a file input and read the location.
        "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    }

    @app.after_request
    def _secure(response):
        for name, value in fixed.items():
            response.headers.setdefault(name, value)
        return response


def content_security_policy(config) -> str:
    """Scripts, styles, fonts and calls only from this site. Photos shown from a blob (the
    tablet's own, before upload) or, when S3 serves them by redirect, from the bucket's host,
    which the app's fetches of photos follow too.
    Style attributes are set by script through the CSSOM, which no policy blocks."""
    bucket = []
    if config.get("STORAGE_BACKEND") == "s3" and config.get("S3_SERVE") == "redirect":
        endpoint = config.get("S3_PUBLIC_ENDPOINT_URL") or config.get("S3_ENDPOINT_URL")
        parts = urlsplit(endpoint or "https://s3.amazonaws.com")
        bucket.append(f"{parts.scheme}://{parts.netloc}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:", *bucket],
        "connect-src": ["'self'", *bucket],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())
