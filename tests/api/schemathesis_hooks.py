"""Checks of our own for schemathesis (loaded with SCHEMATHESIS_HOOKS by tests/api/test_schemathesis.py and
run inside schemathesis's own venv; never imported by the project's tests)."""

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_json_errors(ctx, response, case):  # type: ignore[no-untyped-def]
    """Every 4xx answer is an RFC 9457 problem: problem+json with type, title, status and detail."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith(PROBLEM_JSON):
        raise AssertionError(f"{response.status_code} answered as {content_type!r}, not {PROBLEM_JSON}")
    body = response.json()
    missing = [name for name in ("type", "title", "status", "detail") if name not in body]
    if missing or body["status"] != response.status_code:
        raise AssertionError(
            f"{response.status_code} problem lacks {missing} or names status {body.get('status')}"
        )
    return None
