"""Login throttling with django-axes (settings in ccop/settings/base.py: AXES_*): the client's
address behind the load balancer, the lockout page, and a password reset that lifts a lockout."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils import timezone


def client_ip(request) -> str | None:
    """The address the login came from. Behind TRUSTED_PROXY_COUNT proxies that each append the
    address they saw to X-Forwarded-For, the one the outermost trusted proxy saw; an address a
    client put in the header itself lies further left and is ignored."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page after too many wrong passwords (HTTP 429): when to try again, and how to choose
    a new password instead."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        "minutes": int(cool_off.total_seconds() // 60),
        "retry_at": timezone.localtime() + cool_off,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "registration/lockout.html", context, status=429)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's page for choosing a new password from the e-mailed link; the new password also
    lifts a lockout of this user name (the person proved they hold the e-mail address)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=self.user.get_username())
        return response
