"""A client of a running node's API, for `ipreg node register|transfer|status|publish|show|outbox`.

Answers are the API's JSON as it sent it; a problem+json answer is raised as `ProblemError`, which carries
the problem so a script can read its fields.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

import httpx

from registry_node.protocol.errors import RegistryError

TOKEN_ENV = "IPREG_NODE_TOKEN"
DEFAULT_TIMEOUT_S = 30.0


class NodeUnreachable(RegistryError):
    """No node answered at the URL."""


class ProblemError(RegistryError):
    """The node refused the request; `problem` is its RFC 9457 body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(str(problem.get("detail") or problem.get("title") or f"HTTP {status}"))

    @property
    def field_errors(self) -> list[tuple[str, str]]:
        errors = self.problem.get("errors")
        if not isinstance(errors, list):
            return []
        return [(str(e.get("field")), str(e.get("reason"))) for e in errors if isinstance(e, dict)]


def right_path(right_id: str) -> str:
    """A right id as a path segment (`/` in an application number becomes %2F)."""
    return quote(right_id, safe=":")


class NodeClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ operator calls

    def register(self, right: Any, confidential: bool = False) -> dict[str, Any]:
        return self._call("POST", "/v1/rights", {"right": right, "confidential": confidential})

    def record_ownership_change(self, right_id: str, expected_version: int, change: Any) -> dict[str, Any]:
        body = {"expectedVersion": expected_version, "change": change}
        return self._call("POST", f"/v1/rights/{right_path(right_id)}/ownership-changes", body)

    def record_status(self, right_id: str, expected_version: int, event: Any) -> dict[str, Any]:
        body = {"expectedVersion": expected_version, "event": event}
        return self._call("POST", f"/v1/rights/{right_path(right_id)}/status-events", body)

    def publish(self, right_id: str, expected_version: int) -> dict[str, Any]:
        body = {"expectedVersion": expected_version}
        return self._call("POST", f"/v1/rights/{right_path(right_id)}/publication", body)

    def designate(self, right_id: str, expected_version: int, designation: Any) -> dict[str, Any]:
        body = {"expectedVersion": expected_version, "designation": designation}
        return self._call("POST", f"/v1/rights/{right_path(right_id)}/designations", body)

    def record_decision(self, designation_id: str, expected_version: int, decision: Any) -> dict[str, Any]:
        body = {"expectedVersion": expected_version, "decision": decision}
        return self._call("POST", f"/v1/rights/{right_path(designation_id)}/decisions", body)

    def import_transaction(self, name: str, data: bytes) -> dict[str, Any]:
        """Imports one ST.96 Madrid or Hague transaction; the answer lists each item's outcome."""
        body = {"file": {"name": name, "content": base64.b64encode(data).decode()}}
        return self._call("POST", "/v1/imports/transactions", body)

    def import_st96(self, files: list[tuple[str, bytes]], mode: str = "register") -> dict[str, Any]:
        """Imports ST.96 files (name, exact bytes), each right registered or (mode `anchor`) anchored; the
        answer lists each file's outcome and the anchors queued."""
        body = {
            "files": [{"name": name, "content": base64.b64encode(data).decode()} for name, data in files],
            "mode": mode,
        }
        return self._call("POST", "/v1/imports", body)

    def right(self, right_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/rights/{right_path(right_id)}")

    def outbox(self, state: str | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if state:
            params["state"] = state
        return self._call("GET", "/v1/outbox", params=params)

    def wait_for_outbox(self, timeout_s: float, poll_s: float = 0.2) -> None:
        """Returns once no entry is pending or sent; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_s
        while any(self.outbox(state, limit=1)["items"] for state in ("pending", "sent")):
            if time.monotonic() > deadline:
                raise TimeoutError(f"entries still pending or sent after {timeout_s:.0f} s")
            time.sleep(poll_s)

    # ------------------------------------------------------------ transport

    def _call(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if not self._token:
            raise RegistryError(
                f"set {TOKEN_ENV} to the node's operator token (printed by `ipreg node init`)"
            )
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            answer = self._http.request(method, path, json=body, params=params, headers=headers)
        except httpx.TransportError as err:
            raise NodeUnreachable(f"no node answers at {self.base_url}: {err}") from None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.is_error:
            problem = (
                data if isinstance(data, dict) else {"detail": answer.text[:500] or answer.reason_phrase}
            )
            raise ProblemError(answer.status_code, problem)
        if not isinstance(data, dict):
            raise RegistryError(
                f"{method} {path}: the node answered {answer.status_code} without a JSON object"
            )
        return data
