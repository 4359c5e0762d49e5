from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("accounts/invite/", views.InvitationCreateView.as_view(), name="invitation-create"),
    path("accounts/invitation/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("proposals/", include("proposals.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
