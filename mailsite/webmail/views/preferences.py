"""The user's settings (language, time zone) and the language switch every page has."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST

from mailsite.mailboxes.preferences import language_valid, preference_get, preference_save
from mailsite.middleware import language_cookie_set
from mailsite.webmail.preferences import PreferenceForm


def preference_edit(request):
    preference = preference_get(user=request.user)
    initial = {"language": preference.language, "time_zone": preference.time_zone} if preference else {}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        preference_save(user=request.user, **form.cleaned_data)
        if language:
            translation.activate(language)  # this answer and the message it leaves are in the new language
        messages.success(request, _("Settings saved."))
        response = redirect("settings")
        if language:
            language_cookie_set(response, language)
        else:  # the browser's again: its Accept-Language, not a cookie left by the switch
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
        return response
    return render(request, "webmail/settings.html", {"form": form})


@login_not_required  # the login page has the switch too
@require_POST
def language_set(request):
    """Django's set_language (cookie, redirect to `next`), and for a signed-in user the choice saved."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language_valid(language):
        preference_save(user=request.user, language=language)
    return response
