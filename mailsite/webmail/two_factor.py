"""Optional two-factor login (django-otp): a TOTP device confirmed with a first code, and recovery codes (a static
device whose tokens each work once). The password step is Django's login; until a code is typed, the session's user
is not verified and mailsite.middleware.two_factor_required lets them reach only the code's page."""
import base64
import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user, login as otp_login, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

# Set at the password step for a user with a confirmed device: until a code is typed (user.is_verified()), the
# session is held at the code's page. Kept in the session so that a page costs no device query.
PENDING_SESSION_KEY = "two_factor_pending"
# Paths a half-signed-in user may still reach: the code's page and the way out. (The API is token-based: no
# session, so nothing to hold back there.)
_OPEN_PATHS = ("/accounts/login/code/", "/accounts/logout/", "/api/")


# --- selectors

def two_factor_on(*, user) -> bool:
    return user_has_device(user, confirmed=True)


def needs_second_step(request) -> bool:
    if not request.session.get(PENDING_SESSION_KEY) or request.path.startswith(_OPEN_PATHS):
        return False
    return not request.user.is_verified()


def pending_totp_device(*, user) -> TOTPDevice | None:
    """The device being set up (not yet confirmed by a first code), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_secret_shown(*, device: TOTPDevice) -> dict:
    """What the set-up page shows: the otpauth URI as a QR code (an SVG made here, as a data: URI: the CSP allows
    no inline script and no remote image) and the key in text for typing in."""
    svg = io.BytesIO()
    qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(svg)
    return {
        "qr_data_uri": "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode("ascii"),
        "key": base64.b32encode(device.bin_key).decode("ascii"),
        "uri": device.config_url,
    }


def second_step_redirect(request):
    return redirect(reverse("login_code") + "?" + urlencode({"next": request.get_full_path()}))


# --- services

@receiver(user_logged_in, dispatch_uid="two_factor_pending")
def _password_step_done(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[PENDING_SESSION_KEY] = two_factor_on(user=user)


def totp_setup_start(*, user) -> TOTPDevice:
    """A fresh secret for a user turning two-factor login on (an earlier unfinished set-up is dropped)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def totp_setup_confirm(*, request, code: str) -> list[str] | None:
    """The first code from the app turns two-factor login on: the device is confirmed, the session counts as
    verified, and new recovery codes are made (returned to be shown once). None if the code is not right."""
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        if device is None or not device.verify_token(_digits(code)):
            return None
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_new(user=user)
    otp_login(request, device)
    return codes


def second_step_verify(*, request, code: str) -> bool:
    """A code from the app, or an unused recovery code (which is then used up), completes the login."""
    device = _device_matching(user=request.user, code=code)
    if device is None:
        return False
    otp_login(request, device)
    return True


def second_step_forget(*, request) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


def two_factor_disable(*, user, code: str) -> bool:
    """Turning it off takes a current code (or a recovery code): a session left open is not enough."""
    if _device_matching(user=user, code=code) is None:
        return False
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return True


def _device_matching(*, user, code: str):
    code = code.strip().replace(" ", "").lower()
    if not code:
        return None
    with transaction.atomic():  # (rows locked: each wrong try counts towards the device's throttle)
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            token = _digits(code) if isinstance(device, TOTPDevice) else code
            if device.verify_token(token):
                return device
    return None


def _recovery_codes_new(*, user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.OTP_STATIC_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _digits(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())
