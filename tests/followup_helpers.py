"""Helpers of the follow-up tests: visit drafts and photo uploads."""

from tests.images import picture


def audit_draft(client, headers: dict, store_id: int, version: int, started_at=None) -> str:
    """A supervisor's storefront-audit draft made through the API; returns its id."""
    import uuid
    from datetime import UTC, datetime

    visit_id = str(uuid.uuid4())
    body = {"store_id": store_id, "checklist": {"slug": "storefront-audit", "version": version},
            "kind": "audit", "started_at": (started_at or datetime.now(UTC)).isoformat(),
            "responses": []}
    response = client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return visit_id


def upload_photo(client, headers: dict, visit_id: str, item: str, colour: str = "green",
                 photo_id: str | None = None) -> str:
    """PUT a real PNG to a visit for `item` through the photo endpoint; returns the photo id."""
    import uuid

    photo_id = photo_id or str(uuid.uuid4())
    response = client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}?item={item}",
                          data=picture(64, 48, colour, "PNG"),
                          headers={**headers, "Content-Type": "image/png"})
    assert response.status_code == 201, response.json
    return photo_id
