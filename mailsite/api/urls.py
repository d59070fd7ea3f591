"""/api/v1/ (django-ninja's views, wrapped: public to LoginRequiredMiddleware, a bounded body, problem details
for 405 and unknown paths) and the page where a user makes and revokes tokens."""
import functools

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from mailsite.api import problems, views
from mailsite.api.api import api


def api_view(view):
    """No session, no CSRF (the token is in a header, never in a cookie): the API answers 401 itself."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        too_large = _read_body(request)
        if too_large:
            return problems.problem_response(too_large)
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type") != problems.MEDIA_TYPE:
            allowed = response.get("Allow", "")
            response = problems.problem_response(problems.ApiProblem(
                405, _("This URL answers %(methods)s only.") % {"methods": allowed}, headers={"Allow": allowed}))
        return response

    return login_not_required(csrf_exempt(wrapper))


def _read_body(request) -> problems.ApiProblem | None:
    """Read the body up to API_MAX_BODY_BYTES (Django's DATA_UPLOAD_MAX_MEMORY_SIZE is the pages' limit, too small
    for attachments); a longer one is refused before any of it is parsed."""
    limit = settings.API_MAX_BODY_BYTES
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    problem = problems.ApiProblem(413, _("The request body may be %(n)d bytes at most.") % {"n": limit},
                                  type=problems.TOO_LARGE)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return problem
    body = request.read(limit + 1)
    if len(body) > limit:
        return problem
    request._body = body
    return None


@api_view
def not_found(request, rest=""):
    return problems.problem_response(problems.ApiProblem(404, _("There is no such API URL.")))


_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = api_view(_pattern.callback)

api_urlpatterns = [*_patterns, re_path(r"^.*$", not_found)]

urlpatterns = [
    path("", views.api_tokens, name="api_tokens"),
    path("<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
