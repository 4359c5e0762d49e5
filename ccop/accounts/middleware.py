"""The one place that enforces two-factor login, for the portal and the admin alike."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from . import two_factor

# What a logged-in session that still owes a code may reach.
OPEN_VIEWS = frozenset({"two-factor-setup", "two-factor-verify", "logout", "admin:logout", "set_language"})
LOGIN_VIEWS = frozenset({"login", "admin:login"})


class TwoFactorRequiredMiddleware:
    """After django_otp's OTPMiddleware. A logged-in person who must use two-step login
    (`two_factor.verification_needed`: their role, or they turned it on) and whose session is
    not verified yet reaches only the set-up and code pages, log out and the language switcher;
    everything else — portal pages, admin pages, downloads — sends them to the code page (or to
    set-up when they have no authenticator yet), then back to where they were going."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or not two_factor.verification_needed(request):
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if view_name in OPEN_VIEWS:
            return None
        target = "two-factor-verify" if two_factor.has_two_factor(user) else "two-factor-setup"
        htmx = bool(request.headers.get("HX-Request"))
        if view_name in LOGIN_VIEWS:  # logged in already: go where the login would have gone
            next_url = request.GET.get("next", "")
        elif request.method == "GET" and not htmx:
            next_url = request.get_full_path()
        else:
            next_url = ""
        url = reverse(target) + (f"?{urlencode({'next': next_url})}" if next_url else "")
        if htmx:  # a fragment request: htmx loads the code page as a whole page instead
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
