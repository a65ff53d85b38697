"""Security headers on pages, the API and static files; `Allow` on every 405."""

import pytest

from supervision.headers import content_security_policy

SECURED = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin"}


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/static/js/ui.js",
                                  "/sw.js", "/api/v1/stores", "/nothing-here"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()
    for name, value in SECURED.items():
        assert response.headers.get(name) == value, (path, name)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


def test_the_policy_lets_the_app_follow_photos_to_the_bucket_only_when_redirected():
    redirect = {"STORAGE_BACKEND": "s3", "S3_SERVE": "redirect",
                "S3_PUBLIC_ENDPOINT_URL": "https://photos.example.com:9000/bucket"}
    policy = dict(part.split(" ", 1) for part in content_security_policy(redirect).split("; "))
    assert "https://photos.example.com:9000" in policy["img-src"]
    assert "https://photos.example.com:9000" in policy["connect-src"]
    proxied = content_security_policy({**redirect, "S3_SERVE": "proxy"})
    assert "photos.example.com" not in proxied


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/auth/token", {"POST", "OPTIONS"}),
    ("POST", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/login", {"GET", "POST", "HEAD", "OPTIONS"}),
])
def test_method_not_allowed_says_what_is(client, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
