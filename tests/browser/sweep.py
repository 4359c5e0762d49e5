"""Which URLs the accessibility sweep (test_sweep.py) visits, found from the URL configuration.

Every URL pattern of the portal and the admin has a kind here. A pattern without one fails the
sweep with a message naming it, so a page added later is swept or the build says why not:

- PAGE: an HTML page a person reads; visited as every role, in English and Khmer, at 360 and
  1280 px (axe-core, horizontal overflow, bytes on the wire, fonts, CSP).
- Everything else says what it is instead and why it is not a page (a file download, an htmx
  fragment, a POST-only action, a redirect): the permission matrix (tests/security) covers those.

Admin URLs follow the admin's own naming (<app>_<model>_<action>), so they are classified by their
suffix; the portal's are listed by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import FieldError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

PAGE = "page"
DOWNLOAD = "download (file, not HTML: permission matrix)"
FRAGMENT = "htmx fragment (part of a page already swept)"
ACTION = "POST-only action (its pages are swept)"
REDIRECT = "redirect to a page already swept"
NOT_A_PAGE = "not a page (JSON, JavaScript or catch-all 404)"

# The portal's URLs, by name.
PORTAL = {
    "home": PAGE,
    "invitation-create": PAGE,
    "invitation-accept": PAGE,
    "login": PAGE,
    "logout": ACTION,
    "password_change": PAGE,
    "password_change_done": PAGE,
    "password_reset": PAGE,
    "password_reset_done": PAGE,
    "password_reset_confirm": PAGE,
    "password_reset_complete": PAGE,
    "set_language": ACTION,
    "audit-trail": PAGE,
    "two-factor-manage": PAGE,
    "two-factor-setup": PAGE,
    "two-factor-verify": PAGE,
    "two-factor-backup-codes": PAGE,
    "two-factor-disable": PAGE,
    "proposals:proposal-list": PAGE,
    "proposals:proposal-create": PAGE,
    "proposals:proposal-detail": PAGE,
    "proposals:proposal-edit": PAGE,
    "proposals:proposal-budget-totals": FRAGMENT,
    "proposals:proposal-endorse": ACTION,
    "proposals:proposal-submit": ACTION,
    "proposals:proposal-withdraw": PAGE,
    "proposals:applicant-add": ACTION,
    "proposals:applicant-remove": ACTION,
    "proposals:applicant-remove-confirm": PAGE,
    "proposals:proposal-versions": PAGE,
    "proposals:proposal-pdf": DOWNLOAD,
    "proposals:proposal-preview-pdf": DOWNLOAD,
    "proposals:budget-template": DOWNLOAD,
    "proposals:proposal-budget-template": DOWNLOAD,
    "proposals:proposal-budget-xlsx": DOWNLOAD,
    "proposals:proposal-budget-import": PAGE,
    "proposals:fund-budget-xlsx": DOWNLOAD,
    "activities:report-list": PAGE,
    "activities:grant-reports": PAGE,
    "activities:report-create": PAGE,
    "activities:report-detail": PAGE,
    "activities:report-edit": PAGE,
    "activities:report-submit": ACTION,
    "activities:report-review": ACTION,
    "activities:report-publish": ACTION,
    "activities:output-create": PAGE,
    "activities:lesson-create": PAGE,
    "activities:photo": DOWNLOAD,  # an image, served through a permission check
    "activities:output-file": DOWNLOAD,
    # The admin's site-wide URLs.
    "admin:index": PAGE,
    "admin:login": PAGE,
    "admin:logout": ACTION,
    "admin:password_change": PAGE,
    "admin:password_change_done": PAGE,
    "admin:autocomplete": NOT_A_PAGE,
    "admin:jsi18n": NOT_A_PAGE,
    "admin:view_on_site": REDIRECT,
    "admin:app_list": PAGE,
    "admin:auth_user_password_change": PAGE,
    "admin:otp_totp_totpdevice_config": PAGE,  # django-otp: the device's set-up page
    "admin:otp_totp_totpdevice_qrcode": DOWNLOAD,  # django-otp: the QR code image
}

# Admin model URLs, by the suffix of their name.
ADMIN_SUFFIXES = {
    "_changelist": PAGE,
    "_add": PAGE,
    "_change": PAGE,
    "_history": PAGE,
    "_delete": PAGE,
    "_simple_history": PAGE,  # django-simple-history: one past version of an object
    "_export": PAGE,  # django-import-export: the export form
    "_decide": PAGE,  # the committee's decision pages
}
# Unnamed admin patterns: "<model>/<id>/" redirects to the change page; the final catch-all is
# the admin's 404.
UNNAMED_ADMIN = {"<path:object_id>/": REDIRECT, "(?P<url>.*)$": NOT_A_PAGE}


@dataclass(frozen=True)
class Pattern:
    name: str  # "namespace:name", or "admin:<route>" for an unnamed admin pattern
    route: str  # the whole route, for messages

    @property
    def kind(self) -> str | None:
        if self.name in PORTAL:
            return PORTAL[self.name]
        if self.name.startswith("admin:"):
            for suffix, kind in ADMIN_SUFFIXES.items():
                if self.name.endswith(suffix):
                    return kind
            for tail, kind in UNNAMED_ADMIN.items():
                if self.name == f"admin:{self.route}" and self.route.endswith(tail):
                    return kind
        return None


def url_patterns() -> Iterator[Pattern]:
    """Every URL pattern of the site, recursively, each named as reverse() names it."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Pattern]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, [namespace, entry.namespace])) if entry.namespace else namespace
                yield from walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                local = entry.name or route
                yield Pattern(name=f"{namespace}:{local}" if namespace else local, route=route)

    seen: set[str] = set()
    for pattern in walk(get_resolver(), "", ""):
        if pattern.name not in seen:  # i18n/setlang/ is named twice (ours, then Django's)
            seen.add(pattern.name)
            yield pattern


def unclassified() -> list[Pattern]:
    return [p for p in url_patterns() if p.kind is None]


# --- concrete URLs for the pages -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str  # URL name (the sweep's row)
    label: str  # which variant, e.g. "draft proposal"
    url: str


@dataclass
class Scenario:
    """The objects the sweep's URLs point at (from the demo data, see test_sweep.py)."""

    draft: object
    under_review: object
    approved: object
    submitted_with_versions: object
    invitation_token: str
    reset_user: object
    # activity reports of the demo (seed_demo): a published one transcribed from the booklet and
    # delivered by an approved grant, a submitted one, a draft; the grant they belong to
    grant: object = None
    report_published: object = None
    report_submitted: object = None
    report_draft: object = None


def page_targets(scenario: Scenario) -> list[Target]:
    """Every PAGE pattern as concrete URLs (some with several variants)."""
    targets: list[Target] = []
    patterns = [p for p in url_patterns() if p.kind == PAGE]
    for pattern in patterns:
        targets.extend(_targets_for(pattern, scenario))
    return targets


def _targets_for(pattern: Pattern, s: Scenario) -> list[Target]:
    name = pattern.name
    one = lambda label, url: [Target(name, label, url)]  # noqa: E731
    proposal_pages = {
        "proposals:proposal-detail": [
            ("draft", s.draft),
            ("under review", s.under_review),
            ("approved", s.approved),
        ],
        "proposals:proposal-edit": [("draft", s.draft)],
        "proposals:proposal-withdraw": [("draft", s.draft)],
        "proposals:proposal-versions": [("submitted", s.submitted_with_versions)],
        "proposals:proposal-budget-import": [("draft", s.draft)],
    }
    if name in proposal_pages:
        return [Target(name, label, reverse(name, args=[p.pk])) for label, p in proposal_pages[name]]
    activity_pages = {
        "activities:grant-reports": [("approved grant", s.grant)],
        "activities:report-create": [("approved grant", s.grant)],
        "activities:report-detail": [
            ("published", s.report_published),
            ("submitted", s.report_submitted),
            ("draft", s.report_draft),
        ],
        "activities:report-edit": [("draft", s.report_draft)],
        "activities:output-create": [("draft", s.report_draft)],
        "activities:lesson-create": [("draft", s.report_draft)],
    }
    if name in activity_pages:
        return [
            Target(name, label, reverse(name, args=[o.pk]))
            for label, o in activity_pages[name]
            if o is not None
        ]
    if name == "proposals:applicant-remove-confirm":
        lead = s.draft.applicants.get(is_lead=True)
        return one("the lead", reverse(name, args=[s.draft.pk, lead.organisation_id]))
    if name == "invitation-accept":
        return one("open invitation", reverse(name, args=[s.invitation_token]))
    if name == "password_reset_confirm":
        user = s.reset_user
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        return one("valid link", reverse(name, args=[uid, default_token_generator.make_token(user)]))
    if name == "admin:app_list":
        labels = sorted({m._meta.app_label for m in admin.site._registry})
        return [Target(name, label, reverse(name, kwargs={"app_label": label})) for label in labels]
    if name == "admin:otp_totp_totpdevice_config":
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.order_by("pk").first()
        return [Target(name, "a device", reverse(name, args=[device.pk]))] if device else []
    if name == "admin:auth_user_password_change":
        return one("a user", reverse(name, args=[s.reset_user.pk]))
    if name.startswith("admin:") and name not in PORTAL:
        return _admin_model_targets(name, s)
    return one("", reverse(name))


def _admin_model_targets(name: str, s: Scenario) -> list[Target]:
    found = [
        (model, name.removeprefix(f"admin:{model._meta.app_label}_{model._meta.model_name}_"))
        for model in admin.site._registry
        if name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_")
    ]
    assert found, f"unexpected admin URL name {name}: no registered model has it"
    model, action = max(found, key=lambda item: len(item[0]._meta.model_name))
    app_label, model_name = model._meta.app_label, model._meta.model_name
    label = f"{app_label}.{model_name}"
    if action in ("changelist", "add", "export"):
        return [Target(name, label, reverse(name))]
    if action == "decide":
        from proposals.admin import DECISIONS

        return [
            Target(name, f"{label} {decision}", reverse(name, args=[s.under_review.pk, decision]))
            for decision in DECISIONS
        ]
    obj = _sample(model, s)
    if obj is None:
        return []
    if action == "simple_history":
        record = obj.history.order_by("history_id").last()
        return [Target(name, label, reverse(name, args=[obj.pk, record.history_id]))]
    return [Target(name, label, reverse(name, args=[obj.pk]))]


def _sample(model, s: Scenario):
    """An object of `model` for the admin's change/history/delete pages: one tied to the
    approved demo proposal where the model has such a link, else the first."""
    from proposals.models import Proposal

    if model is Proposal:
        return s.approved
    for field in ("proposal", "grant__proposal"):
        try:
            found = model._default_manager.filter(**{field: s.approved}).order_by("pk").first()
        except FieldError:  # the model has no such link: try the next
            continue
        if found is not None:
            return found
    return model._default_manager.order_by("pk").first()
