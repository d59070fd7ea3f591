"""Errors as RFC 9457 problem details (application/problem+json): the API's every non-2xx answer is one."""
import json
from http import HTTPStatus

from django.http import HttpResponse
from django.utils.translation import gettext as _

MEDIA_TYPE = "application/problem+json"
# `type` URIs of the problems a client may want to tell apart; the others are "about:blank" (the status says it).
VALIDATION = "urn:mailsite:problem:validation-error"
IDEMPOTENCY_KEY_REUSED = "urn:mailsite:problem:idempotency-key-reused"
IDEMPOTENCY_KEY_SPENT = "urn:mailsite:problem:idempotency-key-spent"
NOT_CANCELLABLE = "urn:mailsite:problem:not-cancellable"
TOO_LARGE = "urn:mailsite:problem:too-large"
SENDING_QUOTA = "urn:mailsite:problem:sending-quota"
BODY_PARAMETER = "payload"  # the views' name for the request body, not part of a field's path


class ApiProblem(Exception):
    """Raised anywhere below a view; answered as a problem response."""

    def __init__(self, status: int, detail: str, *, type: str = "about:blank", errors: list | None = None,
                 headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.type = status, detail, type
        self.errors, self.headers = errors, headers or {}


def field_errors(errors: dict[str, str]) -> ApiProblem:
    """400 for invalid fields: {"to.0": "…"} (a field's dotted path in the request body) → `errors`."""
    return ApiProblem(400, _("The request has invalid fields."), type=VALIDATION,
                      errors=[{"location": "body", "field": name, "detail": text} for name, text in errors.items()])


def problem_response(problem: ApiProblem) -> HttpResponse:
    body = {"type": problem.type, "title": HTTPStatus(problem.status).phrase, "status": problem.status,
            "detail": problem.detail}
    if problem.errors is not None:
        body["errors"] = problem.errors
    response = HttpResponse(json.dumps(body), status=problem.status, content_type=MEDIA_TYPE)
    for name, value in problem.headers.items():
        response[name] = value
    return response


def unauthorized(detail: str, *, invalid: bool) -> ApiProblem:
    """401 with WWW-Authenticate: Bearer (RFC 6750: error="invalid_token" when a token was given and refused)."""
    challenge = 'Bearer realm="api"' + (', error="invalid_token"' if invalid else "")
    return ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})


def validation_errors(errors: list[dict]) -> ApiProblem:
    """pydantic's errors (as django-ninja gathers them: loc = (source, field, …)) → 400 with one entry each."""
    entries = []
    for error in errors:
        loc = list(error.get("loc") or ())
        source = str(loc.pop(0)) if loc else "body"
        if source == "body" and loc[:1] == [BODY_PARAMETER]:
            loc.pop(0)
        entries.append({"location": source, "field": ".".join(str(p) for p in loc),
                        "detail": _clean(str(error.get("msg", "")))})
    if any(e["location"] == "body" for e in entries):
        detail = _("The request has invalid fields.")
    else:
        detail = _("The request has invalid parameters.")
    return ApiProblem(400, detail, type=VALIDATION, errors=entries)


def query_only(request, allowed: frozenset = frozenset(), *, lists: frozenset = frozenset()) -> None:
    """Unknown query parameters are refused like unknown body fields (a typo in a filter must not list everything),
    and so is a parameter given twice unless it is a list."""
    errors = [{"location": "query", "field": name[:100], "detail": _("Unknown parameter.")}
              for name in sorted(request.GET) if name not in allowed]
    errors += [{"location": "query", "field": name, "detail": _("Given more than once.")}
               for name in sorted(allowed - lists) if len(request.GET.getlist(name)) > 1]
    if errors:
        raise ApiProblem(400, _("The request has invalid parameters."), type=VALIDATION, errors=errors[:20])


def _clean(text: str) -> str:
    # pydantic writes "Value error, <our text>" for errors our validators raise.
    return text.removeprefix("Value error, ")
