"""The page of a locked-out login (django-axes calls it: settings.AXES_LOCKOUT_CALLABLE), for the site's login and
the admin's alike."""
import math

from django.conf import settings
from django.shortcuts import render


def lockout_page(request, original_response=None, credentials=None):
    minutes = max(1, math.ceil(settings.LOGIN_COOLOFF_SECONDS / 60))
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
