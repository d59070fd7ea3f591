"""The user's API tokens: make one (its secret shown on this answer only), see them, revoke one."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from mailsite.api import selectors, services
from mailsite.api.forms import ApiTokenForm


@never_cache  # the page that shows a new secret is never kept by a cache or the browser's history
@sensitive_variables()  # every frame under it: the secret is also in the template's context
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    created = secret = None
    tokens = selectors.api_tokens_live(user=request.user)
    if request.method == "POST" and form.is_valid():
        if tokens.count() >= settings.API_MAX_TOKENS:
            form.add_error(None, _("You have %(n)d tokens, the most one may have: revoke one first.")
                           % {"n": settings.API_MAX_TOKENS})
        else:
            created, secret = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
            form = ApiTokenForm()
    return render(request, "api/api_tokens.html", {
        "form": form, "created": created, "secret": secret, "tokens": tokens[:settings.API_MAX_TOKENS],
        "api_url": request.build_absolute_uri("/api/v1/"),
    })


@require_POST
def api_token_revoke(request, token_id: int):
    if services.api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, _("Token revoked: programs using it get 401 from now on."))
    return redirect("api_tokens")
