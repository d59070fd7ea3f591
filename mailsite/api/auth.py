"""Bearer tokens: "ms_" and 43 random URL-safe characters (256 bits); the database holds their SHA-256 only."""
import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from mailsite.api.models import ApiToken
from mailsite.api.problems import unauthorized

TOKEN_PREFIX = "ms_"
# What the token list shows of a token: "ms_" and its next 6 characters.
SHOWN_CHARS = len(TOKEN_PREFIX) + 6
# Last-used time is written at most this often per token (one UPDATE per request would serialise SQLite writers).
TOUCH_SECONDS = 60


def token_new() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 is enough for a 256-bit random secret (no dictionary to guess from, so no slow hash needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_user(token: str):
    """The user of a live token (its last-used time noted), or None."""
    found = ApiToken.objects.filter(digest=token_digest(token), revoked_at__isnull=True).select_related("user").first()
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    stale = now - timedelta(seconds=TOUCH_SECONDS)
    if found.last_used_at is None or found.last_used_at < stale:  # (no write statement at all on most requests)
        ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), id=found.id).update(
            last_used_at=now)
    return found.user


class BearerToken(HttpBearer):
    """Authorization: Bearer <token>. No cookie, no session: the API is exempt from CSRF and from the login page."""

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(_("Send an API token: Authorization: Bearer <token>."), invalid=False)
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token: str):
        user = token_user(token) if token.startswith(TOKEN_PREFIX) and len(token) < 200 else None
        if user is None:
            raise unauthorized(_("This API token is not valid (unknown or revoked)."), invalid=True)
        return user
