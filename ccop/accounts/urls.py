from django.urls import path

from . import views

urlpatterns = [
    path("", views.TwoFactorManageView.as_view(), name="two-factor-manage"),
    path("setup/", views.TwoFactorSetupView.as_view(), name="two-factor-setup"),
    path("verify/", views.TwoFactorVerifyView.as_view(), name="two-factor-verify"),
    path("backup-codes/", views.BackupCodesView.as_view(), name="two-factor-backup-codes"),
    path("turn-off/", views.TwoFactorDisableView.as_view(), name="two-factor-disable"),
]
