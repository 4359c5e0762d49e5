"""Home, invitations. Views parse input, check permission, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView
from django.views.i18n import LANGUAGE_QUERY_PARAMETER, set_language

from . import services
from .forms import InvitationAcceptForm, InvitationForm
from .home import home_panels, render_panel
from .models import Organisation, User
from .roles import role_choices_for
from .selectors import organisations_invitable_by


class HomeView(LoginRequiredMixin, TemplateView):
    """What needs this person, gathered from the apps that own it (`ccop.home`): what waits for
    them first, then each app's overview."""

    template_name = "ccop/home.html"

    def get_context_data(self, **kwargs):
        rendered = [(panel, render_panel(panel, self.request)) for panel in home_panels(self.request)]
        user = self.request.user
        organisation = (
            Organisation.objects.select_related("country_programme").filter(pk=user.organisation_id).first()
            if user.organisation_id
            else None
        )
        return super().get_context_data(
            organisation=organisation,
            waiting=[(p, body) for p, body in rendered if p.waiting and not p.empty],
            overview=[(p, body) for p, body in rendered if not p.waiting],
            **kwargs,
        )


class InvitationCreateView(LoginRequiredMixin, UserPassesTestMixin, FormView):
    template_name = "ccop/invitation_form.html"
    form_class = InvitationForm

    def test_func(self):
        return organisations_invitable_by(self.request.user).exists()

    def get_form_kwargs(self):
        user = self.request.user
        return {
            **super().get_form_kwargs(),
            "organisations": organisations_invitable_by(user),
            "roles": role_choices_for(user),
        }

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.invitation_send(
                email=data["email"],
                organisation=data["organisation"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                acting_user=self.request.user,
                base_url=self.request.build_absolute_uri("/")[:-1],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
        return redirect("invitation-create")


class InvitationAcceptView(View):
    template_name = "ccop/invitation_accept.html"

    def get(self, request, token):
        invitation = services.invitation_for_token(token)
        return render(request, self.template_name, {"invitation": invitation, "form": InvitationAcceptForm()})

    def post(self, request, token):
        invitation = services.invitation_for_token(token)
        form = InvitationAcceptForm(request.POST)
        if invitation and form.is_valid():
            try:
                # The account and the first login (last_login, the login log) in one
                # transaction: a failure in between leaves the invitation usable, not used.
                with transaction.atomic():
                    user = services.invitation_accept(
                        token=token,
                        username=form.cleaned_data["username"],
                        password=form.cleaned_data["password1"],
                    )
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.error_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error("password1", exc)
            else:
                messages.success(request, _("Welcome! Your account is ready."))
                return redirect("home")
        return render(
            request,
            self.template_name,
            {"invitation": invitation, "form": form},
        )


class LanguageSetView(View):
    """The language switcher: Django's set_language (cookie, redirect to `next`), and for a
    logged-in person the choice is also kept on their account (User.preferred_language), so it
    follows them to another browser or phone and into the e-mails they receive."""

    def get(self, request):
        return set_language(request)

    def post(self, request):
        response = set_language(request)
        code = request.POST.get(LANGUAGE_QUERY_PARAMETER)
        user = request.user
        if (
            user.is_authenticated
            and code in dict(User._meta.get_field("preferred_language").choices)
            and check_for_language(code)
            and user.preferred_language != code
        ):
            user.preferred_language = code
            with transaction.atomic():  # the row and its history row together
                user.save(update_fields=["preferred_language"])
        return response
