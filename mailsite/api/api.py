"""/api/v1/: the endpoints (thin: they call services and selectors) and how errors become problem details.

django-ninja: the pydantic models in schemas.py validate the requests and generate /api/v1/openapi.json."""
import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, NinjaAPI, Path, Query, Status
from ninja.errors import HttpError, ValidationError

from mailsite.api import problems, selectors, services
from mailsite.api.auth import BearerToken
from mailsite.api.schemas import DateTime, MessageIn, MessageOut, MessagePage, Problem, Status as MessageStatus

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1  # a bigint; a larger id is a validation error, not an overflow in the database driver
ERRORS = {400: Problem, 401: Problem}
IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,255}$"
LIST_PARAMETERS = frozenset({"status", "created_after", "created_before", "recipient", "cursor", "limit"})


class MailsiteApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """Errors are documented as application/problem+json, 202 with its Location, 401 with its challenge."""
        schema = super().get_openapi_schema(**kwargs)
        for path in schema["paths"].values():
            for operation in path.values():
                for code, answer in operation.get("responses", {}).items():
                    if int(code) >= 400 and "application/json" in answer.get("content", {}):
                        answer["content"] = {problems.MEDIA_TYPE: answer["content"]["application/json"]}
                    if int(code) == 401:
                        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
                    if int(code) == 202:
                        answer["headers"] = {
                            "Location": {"schema": {"type": "string"}, "description": "The message's URL."},
                            "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}, "description":
                                                    "An earlier request with this Idempotency-Key made it."}}
        return schema


api = MailsiteApi(title="Mailsite API", version="1", urls_namespace="api_v1", docs_url=None, auth=BearerToken(),
                  description="Send mail through Mailsite's spool and follow its delivery. "
                              "Authorization: Bearer <token> (tokens: /settings/api-tokens/). "
                              "Errors are RFC 9457 problem details.")


@api.exception_handler(problems.ApiProblem)
def _problem(request, exc):
    return problems.problem_response(exc)


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    return problems.problem_response(problems.validation_errors(exc.errors))


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 400:  # django-ninja's only own 400: a body json.loads refused
        return problems.problem_response(problems.ApiProblem(400, _("The request body is not valid JSON.")))
    return problems.problem_response(problems.ApiProblem(exc.status_code, str(exc)))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problems.problem_response(problems.ApiProblem(404, _("Not found.")))


@api.exception_handler(Exception)
def _unexpected(request, exc):
    logger.exception("API error on %s %s", request.method, request.path)
    return problems.problem_response(problems.ApiProblem(500, _("Something went wrong on our side.")))


@api.post("/messages", response={202: MessageOut, **ERRORS, 409: Problem, 413: Problem, 422: Problem,
                                     429: Problem},
          url_name="messages", by_alias=True, summary="Send a message (spool it)",
          description="Over the sender's sending quota (messages or recipients per hour or per day): 429, "
                      "with Retry-After, and nothing is queued.")
def message_create(request, response: HttpResponse, payload: MessageIn,
                   idempotency_key: str | None = Header(
                       None, alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY,
                       description="Retrying with the same key (for 24 h) returns the first message; never a "
                                   "second send. The same key with another body: 422.")):
    problems.query_only(request)
    submitted = services.message_submit(user=request.auth, data=payload, idempotency_key=idempotency_key)
    response["Location"] = f"{request.path.rstrip('/')}/{submitted.row.id}"
    if submitted.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(202, selectors.message_out(submitted.row))


@api.get("/messages", response={200: MessagePage, **ERRORS}, by_alias=True, summary="Your messages, newest first")
def message_list(request, status: list[MessageStatus] = Query(None),
                 created_after: DateTime | None = Query(None), created_before: DateTime | None = Query(None),
                 recipient: str | None = Query(None, max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$"),
                 cursor: str | None = Query(None, pattern=r"^[1-9][0-9]{0,17}$"),
                 limit: int = Query(50, ge=1, le=settings.API_PAGE_MAX)):
    problems.query_only(request, LIST_PARAMETERS, lists=frozenset({"status"}))
    rows, next_id = selectors.messages_page(
        user=request.auth, statuses=status or (), created_after=created_after, created_before=created_before,
        recipient=recipient or "", cursor=int(cursor) if cursor else None, limit=limit)
    return {"items": [selectors.message_out(row) for row in rows],
            "next_cursor": str(next_id) if next_id else None}


@api.get("/messages/{message_id}", response={200: MessageOut, **ERRORS, 404: Problem},
         by_alias=True, summary="A message's delivery, overall and per recipient")
def message_detail(request, message_id: int = Path(..., ge=1, le=MAX_ID)):
    problems.query_only(request)
    return selectors.message_out(selectors.message_get(user=request.auth, message_id=message_id))


@api.post("/messages/{message_id}/cancel", response={200: MessageOut, **ERRORS, 404: Problem, 409: Problem},
          by_alias=True, summary="Cancel a message still waiting (queued, deferred or held)")
def message_cancel(request, message_id: int = Path(..., ge=1, le=MAX_ID)):
    problems.query_only(request)
    row = selectors.message_get(user=request.auth, message_id=message_id)
    return selectors.message_out(services.message_cancel(row=row))
