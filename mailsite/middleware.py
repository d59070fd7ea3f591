"""A strict Content-Security-Policy on every page (mail is hostile input, and no page needs more), and the
reader's time zone for the dates pages show."""
import zoneinfo
from urllib.parse import unquote

from django.utils import timezone


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


def user_time_zone(get_response):
    """Activate the time zone the browser reported (an IANA name in a cookie); the site's default otherwise."""
    def middleware(request):
        zone = _zone(unquote(request.COOKIES.get(TIME_ZONE_COOKIE, "")))
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware


def _zone(name: str):
    if not name or len(name) > 64 or not all(c.isalnum() or c in "/_+-" for c in name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
