from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from mailsite.api.urls import api_urlpatterns, not_found as api_not_found
from mailsite.formmail.views import PasswordResetView
from mailsite.metrics import metrics
from mailsite.webmail.views import preferences, two_factor


class FaviconView(RedirectView):
    """/favicon.ico → the site's icon. Pages that do not name an icon (the admin's) make browsers ask there."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", login_not_required(FaviconView.as_view())),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/login/code/", two_factor.login_code, name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by email (Django's views and tokens; the mail goes through the spool) and change. The reset
    # views are public (Django marks them login_not_required); the link in the mail is built from the request's host.
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("", include("mailsite.formmail.urls")),
    path("i18n/setlang/", preferences.language_set, name="set_language"),
    path("settings/", preferences.preference_edit, name="settings"),
    path("settings/two-factor/", two_factor.two_factor_settings, name="two_factor"),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", include((api_urlpatterns, "api_v1"))),
    re_path(r"^api/", api_not_found),  # (another version, or none: a problem too, never the login page)
    path("settings/api-tokens/", include("mailsite.api.urls")),
    path("", include("mailsite.webmail.urls")),
]
