"""/metrics: the Prometheus text format, for staff signed in or a scraper with METRICS_TOKEN as a bearer token.

Never the login redirect (a scraper cannot follow it): 401 without credentials or with a wrong token, 403 for a
signed-in user who is not staff. Never cached. The numbers are computed at each scrape (spooler.services.metrics),
so every web process shows the same ones.
"""
import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.exposition import choose_encoder

from spooler.services.metrics.collector import registry

_registry = registry()


def _bearer_ok(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@login_not_required
@never_cache
@require_safe
def metrics(request):
    if not _bearer_ok(request):
        user = request.user
        if not user.is_authenticated or "Authorization" in request.headers:
            response = HttpResponse(_("Authentication required: sign in as staff, or send the metrics token.") + "\n",
                                    status=401, content_type="text/plain; charset=utf-8")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        if not (user.is_active and user.is_staff):
            return HttpResponse(_("Only staff may read the metrics.") + "\n", status=403,
                                content_type="text/plain; charset=utf-8")
    # Prometheus's text format, or OpenMetrics when the scraper asks for it (Accept), as the library decides.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(_registry), content_type=content_type)
