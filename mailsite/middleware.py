"""A strict Content-Security-Policy on every page (mail is hostile input, and no page needs more), and the
reader's language and time zone for what pages show."""
from urllib.parse import unquote

from django.conf import settings
from django.utils import timezone, translation

from mailsite.mailboxes.preferences import language_valid, preference_get, zone_get
from mailsite.webmail.two_factor import needs_second_step, second_step_redirect


def csp_header(*, style_src: str = "'self'", img_src: str = "'self' data:") -> str:
    """The site's policy; a page may widen style-src and img-src only (the message page, for the frame of an HTML
    part: a srcdoc frame inherits this policy, so its inline styles and asked-for remote images need it)."""
    return (f"default-src 'self'; script-src 'self'; style-src {style_src}; img-src {img_src}; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


CSP = csp_header()


def csp_with_mail_frame(*, remote: bool = False) -> str:
    """The policy of a page that shows an HTML part's frame: the message page, and the list whose preview pane
    may show one (the frame's own CSP keeps its images to data: and the message's parts unless remote)."""
    return csp_header(style_src="'self' 'unsafe-inline'", img_src="'self' data:" + (" https: http:" if remote else ""))


def content_security_policy(get_response):
    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    return middleware


TIME_ZONE_COOKIE = "tz"  # set by static/js/site.js from the browser's Intl time zone


def user_preferences(get_response):
    """The reader's language and time zone. LocaleMiddleware has chosen the language from the cookie or
    Accept-Language; a signed-in user's saved language wins over both (and the cookie is set to it, so that the
    login page after a logout stays in it). The zone: the user's saved one, else the browser's (cookie), else
    the site's default."""
    def middleware(request):
        preference = preference_get(user=getattr(request, "user", None))
        language = preference.language if preference and language_valid(preference.language) else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        zone = zone_get(preference.time_zone) if preference and preference.time_zone else None
        zone = zone or zone_get(unquote(request.COOKIES.get(TIME_ZONE_COOKIE, "")))
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        response = get_response(request)
        if (language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language
                and settings.LANGUAGE_COOKIE_NAME not in response.cookies):
            language_cookie_set(response, language)
        return response

    return middleware


def language_cookie_set(response, language: str) -> None:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)


PRIVATE_NO_STORE = "private, no-store"


def private_no_store(get_response):
    """Every response to a signed-in user (their mail, their account; the API's too: its token is checked per
    request, so it sets request.auth) is kept by no browser cache, history snapshot or shared proxy. A response that
    chose its own Cache-Control keeps it; the public pages (login, contact form) are left alone."""
    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)
        signed_in = (user is not None and user.is_authenticated) or getattr(request, "auth", None) is not None
        if signed_in and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = PRIVATE_NO_STORE
        return response

    return middleware


def two_factor_required(get_response):
    """A user with two-factor login on (a confirmed device) who has typed the password but not yet a code reaches
    the code's page, the logout and nothing else: no page, no admin, no JSON. (django-otp's OTPMiddleware, before
    this one, has set user.is_verified from the session.)"""
    def middleware(request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and needs_second_step(request):
            return second_step_redirect(request)
        return get_response(request)

    return middleware
