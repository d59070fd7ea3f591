from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from mailsite.webmail.views import preferences


class FaviconView(RedirectView):
    """/favicon.ico → the site's icon. Pages that do not name an icon (the admin's) make browsers ask there."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("favicon.ico", login_not_required(FaviconView.as_view())),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", preferences.language_set, name="set_language"),
    path("settings/", preferences.preference_edit, name="settings"),
    path("admin/", admin.site.urls),
    path("", include("mailsite.webmail.urls")),
]
