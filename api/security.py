"""API keys: ``X-API-Key`` for predictions and feedback, admin keys for the admin endpoints.

With no keys configured an endpoint is open (the default binds to loopback only). Keys are
compared in constant time, against every configured key, so timing tells nothing about them.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from streamwise.errors import Unauthorized

_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")


class ApiKeys:
    """Who may call what.

    Examples
    --------
    >>> keys = ApiKeys(["client-key-123"], ["admin-key-456"])
    >>> keys.check("admin-key-456", admin=False)  # an admin key also predicts
    >>> keys.check("client-key-123", admin=True)
    Traceback (most recent call last):
    ...
    streamwise.errors.Unauthorized: this endpoint needs an admin key in X-API-Key
    """

    def __init__(
        self, keys: Sequence[str], admin_keys: Sequence[str], public_predictions: bool = False
    ) -> None:
        self._admin = [k.encode() for k in admin_keys]
        self._clients = [k.encode() for k in keys] + self._admin
        self.public_predictions = public_predictions
        self.clients_open = not keys and not admin_keys
        self.admin_open = not admin_keys

    def check(self, given: str | None, admin: bool) -> None:
        if self.admin_open if admin else self.clients_open:
            return
        allowed = self._admin if admin else self._clients
        if given is None or not _matches(given.encode("utf-8", "surrogatepass"), allowed):
            who = "an admin key" if admin else "an API key"
            raise Unauthorized(f"this endpoint needs {who} in X-API-Key")


def enforced_only(schema: dict[str, Any], keys: ApiKeys) -> dict[str, Any]:
    """Drop the key requirement from operations this configuration leaves open.

    The routes always carry the dependency; the schema must say what is actually enforced, so
    that clients (and schema-driven tests) know when a key is needed.
    """
    still_used = False
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "security" not in operation:
                continue
            public = keys.public_predictions and path.startswith(("/predict", "/forecast"))
            is_open = keys.admin_open if path.startswith("/admin") else keys.clients_open
            if is_open or public:
                del operation["security"]
            else:
                still_used = True
    if not still_used:
        schema.get("components", {}).pop("securitySchemes", None)
    return schema


def _matches(given: bytes, allowed: list[bytes]) -> bool:
    found = False
    for key in allowed:  # no early exit: the time taken does not depend on which key matched
        found |= hmac.compare_digest(given, key)
    return found


async def _client(request: Request, key: Annotated[str | None, Security(_header)]) -> None:
    keys: ApiKeys = request.app.state.api_keys
    if not (keys.public_predictions and request.url.path.startswith("/predict")):
        keys.check(key, admin=False)


async def _admin(request: Request, key: Annotated[str | None, Security(_header)]) -> None:
    request.app.state.api_keys.check(key, admin=True)


#: Route dependencies: ``dependencies=[ClientKey]`` or ``[AdminKey]``.
ClientKey = Depends(_client)
AdminKey = Depends(_admin)
