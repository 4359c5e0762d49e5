from django.contrib import admin
from django.urls import include, path

from . import audit, views
from .accounts.throttling import PasswordResetConfirmView

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("accounts/invite/", views.InvitationCreateView.as_view(), name="invitation-create"),
    path("accounts/invitation/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("accounts/two-factor/", include("ccop.accounts.urls")),
    # Before Django's own (same path and name): a new password also lifts a login lockout.
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("audit/", audit.AuditTrailView.as_view(), name="audit-trail"),
    path("proposals/", include("proposals.urls")),
    path("activities/", include("activities.urls")),
    # Before Django's own set_language (same path and name): the switcher also remembers the choice.
    path("i18n/setlang/", views.LanguageSetView.as_view(), name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
