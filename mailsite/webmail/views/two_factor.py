"""Two-factor login: the second step after the password, and the page that turns it on or off."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from mailsite.webmail import two_factor
from mailsite.webmail.forms import OneTimeCodeForm


@sensitive_post_parameters("code")
def login_code(request):
    """The second step: the password was right; a code from the app or a recovery code completes the login."""
    target = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = resolve_url(settings.LOGIN_REDIRECT_URL)
    if request.user.is_verified():
        return redirect(target)
    if not two_factor.two_factor_on(user=request.user):  # (turned off since the password step: nothing to ask)
        two_factor.second_step_forget(request=request)
        return redirect(target)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.second_step_verify(request=request, code=form.cleaned_data["code"]):
            return redirect(target)
        form.add_error("code", _("That code is not right (or it was already used). Try the current one."))
    return render(request, "registration/login_code.html", {"form": form, "next": target})


@sensitive_post_parameters("code")
def two_factor_settings(request):
    """Off: a button that makes a secret. Being set up: the secret (QR code and text) and a field for the first
    code, which shows the recovery codes once. On: a field for a code that turns it off."""
    user = request.user
    action = request.POST.get("action", "")
    if action in ("start", "confirm") and two_factor.two_factor_on(user=user):
        action = ""  # (on already: a new secret only after turning it off with a code, not from an open session)
    form = OneTimeCodeForm(request.POST if action in ("confirm", "disable") else None)
    if action == "start":
        two_factor.totp_setup_start(user=user)
        return redirect("two_factor")
    if action == "confirm" and form.is_valid():
        codes = two_factor.totp_setup_confirm(request=request, code=form.cleaned_data["code"])
        if codes is not None:
            return render(request, "webmail/two_factor.html", {"state": "on", "recovery_codes": codes,
                                                               "form": OneTimeCodeForm()})
        form.add_error("code", _("That code is not right. Type the one your app shows now."))
    if action == "disable" and form.is_valid():
        if two_factor.two_factor_disable(user=user, code=form.cleaned_data["code"]):
            messages.success(request, _("Two-factor login is off."))
            return redirect("two_factor")
        form.add_error("code", _("That code is not right (or it was already used). Try the current one."))
    context = {"form": form, "state": "off"}
    if two_factor.two_factor_on(user=user):
        context["state"] = "on"
    else:
        pending = two_factor.pending_totp_device(user=user)
        if pending is not None:
            context.update(state="setup", **two_factor.totp_secret_shown(device=pending))
    return render(request, "webmail/two_factor.html", context)
