"""Speaking tus 1.0.0 to the wired app: creation, PATCH and HEAD with the protocol's headers."""

from __future__ import annotations

import base64

import httpx

from tests.api.helpers import Account, Api

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {**TUS, "Content-Type": "application/offset+octet-stream"}


def upload_metadata(**fields: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


async def create(api: Api, admin: Account, length: int, **fields: str) -> httpx.Response:
    headers = {**admin.auth, **TUS, "Upload-Length": str(length), "Upload-Metadata": upload_metadata(**fields)}
    return await api.client.post("/api/v1/uploads", headers=headers)


async def created(api: Api, admin: Account, length: int, title: str = "Resumed", **fields: str) -> str:
    """A new upload's path."""
    response = await create(api, admin, length, title=title, **fields)
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    return location


async def append(api: Api, admin: Account, path: str, offset: int, data: bytes) -> httpx.Response:
    headers = {**admin.auth, **OCTETS, "Upload-Offset": str(offset)}
    return await api.client.patch(path, content=data, headers=headers)


async def offset_of(api: Api, admin: Account, path: str) -> int:
    response = await api.client.head(path, headers={**admin.auth, **TUS})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return int(response.headers["upload-offset"])
