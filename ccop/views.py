"""Home, invitations. Views parse input, check permission, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Window
from django.shortcuts import redirect, render
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView
from django.views.i18n import LANGUAGE_QUERY_PARAMETER, set_language

from proposals.selectors import (
    proposals_by_state,
    proposals_for_user,
    proposals_to_review,
    revision_requests_for,
)
from proposals.services import proposals_awaiting_endorsement

from . import services
from .forms import InvitationAcceptForm, InvitationForm
from .models import Organisation, User
from .selectors import cops_for_user, funds_for_facilitator, organisations_invitable_by


class HomeView(LoginRequiredMixin, TemplateView):
    """What needs this person: their CoPs, proposals by state, endorsements waiting for their
    organisation, revision requests, proposals to review. Every panel is bounded (the most
    recent few, with a count and a link to the full, paginated list), and the queries do not
    grow with the number of proposals."""

    template_name = "ccop/home.html"
    ENDORSEMENT_CANDIDATES = 50  # the most recently changed editable proposals checked
    REVIEW_PAGE = 20
    COPS_SHOWN = 12

    def get_context_data(self, **kwargs):
        user = self.request.user
        visible = proposals_for_user(user).order_by("-updated_at", "-pk")
        waiting = proposals_awaiting_endorsement(
            user=user, proposals=visible, limit=self.ENDORSEMENT_CANDIDATES
        )
        to_review = None
        if user.is_committee_member or user.is_superuser:
            to_review = Paginator(proposals_to_review(user), self.REVIEW_PAGE).get_page(
                self.request.GET.get("review_page")
            )
        # The first CoPs and how many there are, in one query (a window count over the whole list;
        # one membership per CoP and organisation, so the grantee's DISTINCT drops no row it counts).
        cops = list(
            cops_for_user(user).annotate(total=Window(Count("pk"))).order_by("name")[: self.COPS_SHOWN]
        )
        organisation = (
            Organisation.objects.select_related("country_programme").filter(pk=user.organisation_id).first()
            if user.organisation_id
            else None
        )
        return super().get_context_data(
            organisation=organisation,
            cops=cops,
            cop_count=cops[0].total if cops else 0,
            states=proposals_by_state(visible),
            endorsements_waiting=waiting,
            revision_requests=revision_requests_for(user),
            to_review=to_review,
            can_invite=organisations_invitable_by(user).exists(),
            funds=funds_for_facilitator(user),
            **kwargs,
        )


class InvitationCreateView(LoginRequiredMixin, UserPassesTestMixin, FormView):
    template_name = "ccop/invitation_form.html"
    form_class = InvitationForm

    def test_func(self):
        return organisations_invitable_by(self.request.user).exists()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organisations": organisations_invitable_by(self.request.user)}

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
