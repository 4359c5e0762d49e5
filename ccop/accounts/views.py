"""The two-factor pages: set up an authenticator app, type a code after the password, backup
codes, turn it off. Each view parses the form, calls ccop.accounts.two_factor, renders or
redirects."""

from __future__ import annotations

from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import FormView, TemplateView
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from . import two_factor
from .forms import CodeForm

# The backup codes just made, kept in the session until the page showing them is loaded once.
SESSION_NEW_BACKUP_CODES = "ccop_new_backup_codes"


def safe_next(request) -> str:
    """Where to go once done: the `next` given, if it is on this site; else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def url_with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class CodeFormMixin:
    form_class = CodeForm
    code_label = gettext_lazy("Code")
    code_help_text = None
    autofocus = False

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "initial": {"next": safe_next(self.request)},
            "label": self.code_label,
            "help_text": self.code_help_text,
            "autofocus": self.autofocus,
        }

    def refuse(self, form, error: ValidationError):
        form.add_error("code", error)
        return self.form_invalid(form)


class TwoFactorVerifyView(LoginRequiredMixin, CodeFormMixin, FormView):
    """After the password: the code from the authenticator app, or a backup code."""

    template_name = "registration/two_factor_verify.html"
    code_label = gettext_lazy("Code from your authenticator app, or a backup code")
    code_help_text = gettext_lazy("6 digits from the app, or one of your 10-digit backup codes.")
    autofocus = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if request.user.is_verified():
                return redirect(safe_next(request))
            if not two_factor.has_two_factor(request.user):
                return redirect(url_with_next("two-factor-setup", safe_next(request)))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = self.request.user
        try:
            device = two_factor.code_check(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            return self.refuse(form, error)
        django_otp.login(self.request, device)
        if isinstance(device, StaticDevice):
            left = two_factor.backup_codes_left(user)
            messages.warning(
                self.request,
                ngettext(
                    "You used a backup code: %(left)d is left. Make new ones on the two-step login page.",
                    "You used a backup code: %(left)d are left. Make new ones on the two-step login page.",
                    left,
                )
                % {"left": left},
            )
        return redirect(safe_next(self.request))


class TwoFactorSetupView(LoginRequiredMixin, CodeFormMixin, FormView):
    """Scan the QR code (or type the secret), then confirm with the first code the app shows."""

    template_name = "registration/two_factor_setup.html"
    code_label = gettext_lazy("Code the app shows now")
    code_help_text = gettext_lazy("6 digits. It proves the app is set up right.")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        # Replacing an authenticator (a new phone) needs a session verified with the old one or
        # a backup code: a password alone must never be enough to move someone's second factor.
        if user.is_authenticated and not user.is_verified() and two_factor.has_two_factor(user):
            return redirect(url_with_next("two-factor-verify", safe_next(request)))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        device = two_factor.pending_device(user=self.request.user, session=self.request.session)
        return super().get_context_data(
            qr_code_svg=two_factor.qr_code_svg(device),
            secret=two_factor.secret_in_groups(device),
            replacing=two_factor.has_two_factor(self.request.user),
            required=two_factor.two_factor_required(self.request.user),
            **kwargs,
        )

    def form_valid(self, form):
        user = self.request.user
        device = two_factor.pending_device(user=user, session=self.request.session)
        try:
            device, codes = two_factor.totp_device_confirm(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            return self.refuse(form, error)
        self.request.session.pop(two_factor.SESSION_PENDING_KEY, None)
        django_otp.login(self.request, device)
        self.request.session[two_factor.SESSION_HAS_TWO_FACTOR] = True
        self.request.session[SESSION_NEW_BACKUP_CODES] = codes
        messages.success(self.request, _("Two-step login is on."))
        return redirect(url_with_next("two-factor-backup-codes", safe_next(self.request)))


class BackupCodesView(LoginRequiredMixin, TemplateView):
    """New backup codes, shown once; or how many are left, and a button to make new ones."""

    template_name = "registration/two_factor_backup_codes.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not (
            request.user.is_verified() and two_factor.has_two_factor(request.user)
        ):
            return redirect("two-factor-manage")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        codes = self.request.session.pop(SESSION_NEW_BACKUP_CODES, None) or []
        return super().get_context_data(
            codes=[two_factor.backup_code_display(code) for code in codes],
            left=two_factor.backup_codes_left(self.request.user),
            next=safe_next(self.request),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        request.session[SESSION_NEW_BACKUP_CODES] = two_factor.backup_codes_replace(user=request.user)
        return redirect(url_with_next("two-factor-backup-codes", safe_next(request)))


class TwoFactorManageView(LoginRequiredMixin, TemplateView):
    """Whether two-step login is on, and what this person can do about it."""

    template_name = "registration/two_factor_manage.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            enabled=two_factor.has_two_factor(user),
            required=two_factor.two_factor_required(user),
            left=two_factor.backup_codes_left(user),
            **kwargs,
        )


class TwoFactorDisableView(LoginRequiredMixin, CodeFormMixin, FormView):
    """Turn two-step login off (only where the role lets the person choose), with a current
    code."""

    template_name = "registration/two_factor_disable.html"
    code_label = gettext_lazy("Code from your authenticator app, or a backup code")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (
            two_factor.may_turn_off(user) and two_factor.has_two_factor(user) and user.is_verified()
        ):
            return redirect("two-factor-manage")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            two_factor.two_factor_turn_off(user=self.request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            return self.refuse(form, error)
        self.request.session.pop(DEVICE_ID_SESSION_KEY, None)
        self.request.session[two_factor.SESSION_HAS_TWO_FACTOR] = False
        messages.success(self.request, _("Two-step login is off. Your password alone now logs you in."))
        return redirect("two-factor-manage")
