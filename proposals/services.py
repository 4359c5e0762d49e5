"""The proposal domain API: every way in (portal pages, admin, admin actions, imports, commands,
the shell) changes proposals through these functions, which check the rules of DESIGN.md:

1. two-grantee rule (`proposal_submit`, voiding by content digest in `proposal_endorse`)
2. ceiling (`proposal_approve` -> `grants.services.grant_award`, fund row locked)
3. workflow (`TRANSITIONS`, `_transition`)
4. freeze (`proposal_assert_editable`, `Decision.approved_version`)
5. conflict of interest (`permissions.has_conflict`, checked by review and decisions)

Documented in docs/domain.md. Every function runs in one transaction and records who and why.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from ccop import money
from ccop.errors import NotAllowed, RuleViolation, StaleEdit
from ccop.models import CoP, Membership, Organisation, User
from ccop.permissions import is_active_user, is_committee_member_of, is_facilitator_of, is_grantee_staff_of
from grants.models import Fund
from grants.services import fund_check_amount, grant_attach_pdf, grant_award, grant_discard_pdf

from . import notifications, permissions
from . import pdf as proposal_pdf
from .models import (
    Applicant,
    BudgetLine,
    ConflictDeclaration,
    Decision,
    Endorsement,
    ExchangeRate,
    ExpectedParticipation,
    PlannedActivity,
    Proposal,
    ProposalVersion,
    Review,
    ReviewScore,
    Transition,
)
from .selectors import budget_summary

S = Proposal.Status

# (from, to) -> the action that makes it. Anything else is refused (DESIGN rule 3).
TRANSITIONS = {
    (S.DRAFT, S.SUBMITTED): "submit",
    (S.REVISION_REQUESTED, S.SUBMITTED): "submit",
    (S.SUBMITTED, S.UNDER_REVIEW): "start_review",
    (S.UNDER_REVIEW, S.REVISION_REQUESTED): "request_revision",
    (S.UNDER_REVIEW, S.APPROVED): "approve",
    (S.UNDER_REVIEW, S.REJECTED): "reject",
    (S.DRAFT, S.WITHDRAWN): "withdraw",
    (S.SUBMITTED, S.WITHDRAWN): "withdraw",
    (S.UNDER_REVIEW, S.WITHDRAWN): "withdraw",
    (S.REVISION_REQUESTED, S.WITHDRAWN): "withdraw",
}

CONTENT_FIELDS = (
    "title",
    "problem_analysis",
    "objectives",
    "provinces",
    "starts_on",
    "ends_on",
    "budget_option",
    "phase",
)


# --------------------------------------------------------------------------- content and digest


def _text(value: str) -> str:
    """Line breaks as browsers send them (CRLF) and as code writes them (LF) are the same text."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def proposal_snapshot(proposal: Proposal) -> dict:
    """The proposal's content as plain JSON: what applicants endorse and the committee approves.

    Deterministic (ordered by primary key, decimals as strings) so that its SHA-256 identifies
    the content. A fixed number of queries, whatever the number of lines."""
    return proposal_snapshots([proposal])[proposal.pk]


def proposal_snapshots(proposals, applicant_ids: dict[int, list[int]] | None = None) -> dict[int, dict]:
    """`proposal_snapshot` of many proposals at once: six queries whatever their number (a
    home page checking the endorsements of every editable proposal, the scale dataset).
    `applicant_ids`, when given, is filled with each proposal's applicant organisation ids."""
    proposals = list(proposals)
    if not proposals:
        return {}
    prefetch_related_objects(proposals, "cop", "fund", "phase")  # only those not already loaded
    ids = [p.pk for p in proposals]
    participants = ExpectedParticipation.objects.select_related("rightsholder_group")
    activities: dict[int, list[PlannedActivity]] = defaultdict(list)
    for activity in (
        PlannedActivity.objects.filter(proposal_id__in=ids)
        .prefetch_related(Prefetch("expected_participants", queryset=participants))
        .order_by("pk")
    ):
        activities[activity.proposal_id].append(activity)
    lines: dict[int, list[BudgetLine]] = defaultdict(list)
    for line in BudgetLine.objects.filter(proposal_id__in=ids).order_by("pk"):
        lines[line.proposal_id].append(line)
    groups: dict[int, list[str]] = defaultdict(list)
    for pid, code in Proposal.target_groups.through.objects.filter(proposal_id__in=ids).values_list(
        "proposal_id", "rightsholdergroup__code"
    ):
        groups[pid].append(code)
    acronyms: dict[int, list[str]] = defaultdict(list)
    for pid, org_id, acronym in Applicant.objects.filter(proposal_id__in=ids).values_list(
        "proposal_id", "organisation_id", "organisation__acronym"
    ):
        acronyms[pid].append(acronym)
        if applicant_ids is not None:
            applicant_ids[pid].append(org_id)
    rates: dict[int, dict[str, str]] = defaultdict(dict)
    for rate in ExchangeRate.objects.filter(proposal_id__in=ids).order_by("currency"):
        rates[rate.proposal_id][rate.currency] = str(rate.rate)
    return {
        p.pk: _snapshot(p, activities[p.pk], lines[p.pk], groups[p.pk], acronyms[p.pk], rates[p.pk])
        for p in proposals
    }


def _snapshot(proposal: Proposal, activities, lines, groups, acronyms, rates) -> dict:
    activity_index = {a.pk: i for i, a in enumerate(activities)}
    return {
        "proposal": proposal.pk,
        "cop": proposal.cop.code,
        "fund": proposal.fund.name,
        "fund_currency": proposal.fund.currency,
        "phase": proposal.phase.number if proposal.phase_id else None,
        "title": _text(proposal.title),
        "problem_analysis": _text(proposal.problem_analysis),
        "objectives": _text(proposal.objectives),
        "target_groups": sorted(groups),
        "provinces": _text(proposal.provinces),
        "starts_on": proposal.starts_on.isoformat() if proposal.starts_on else None,
        "ends_on": proposal.ends_on.isoformat() if proposal.ends_on else None,
        "budget_option": proposal.budget_option,
        "applicants": sorted(acronyms),
        "exchange_rates": dict(rates),
        "activities": [
            {
                "title": _text(a.title),
                "description": _text(a.description),
                "starts_on": a.starts_on.isoformat() if a.starts_on else None,
                "ends_on": a.ends_on.isoformat() if a.ends_on else None,
                "place": _text(a.place),
                "is_primary": a.is_primary,
                "agenda": _text(a.agenda),
                "participants": {p.rightsholder_group.code: p.number for p in a.expected_participants.all()},
            }
            for a in activities
        ],
        "budget_lines": [
            {
                "activity": activity_index.get(line.activity_id),
                "category": line.category,
                "description": _text(line.description),
                "unit": _text(line.unit),
                "quantity": str(line.quantity),
                "unit_cost": str(money.quantize(line.unit_cost)),
                "currency": line.currency,
                "total": str(line.total),
            }
            for line in lines
        ],
    }


def digest(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def proposal_content_digest(proposal: Proposal) -> str:
    """The SHA-256 of what applicants endorse. Names kept elsewhere (CoP code, fund name,
    acronyms, phase number) are replaced by their ids, so renaming an organisation in its own
    admin page does not void the endorsements of every proposal it is in."""
    return proposal_content_digests([proposal])[proposal.pk]


def proposal_content_digests(proposals) -> dict[int, str]:
    """`proposal_content_digest` of many proposals in a fixed number of queries."""
    proposals = list(proposals)
    organisations: dict[int, list[int]] = defaultdict(list)
    snapshots = proposal_snapshots(proposals, applicant_ids=organisations)
    return {p.pk: _content_digest(p, snapshots[p.pk], organisations[p.pk]) for p in proposals}


def plan_content_digest(proposal: Proposal, plan) -> str:
    """`proposal_content_digest` from rows a page has already read: a `selectors.PlanData` and
    the proposal's applicants (prefetched). No query of its own."""
    codes = {g.pk: g.code for g in plan.groups}
    snapshot = _snapshot(
        proposal,
        sorted(plan.activities, key=lambda a: a.pk),
        sorted(plan.lines, key=lambda line: line.pk),
        [codes[pk] for pk in plan.target_group_ids],
        [],
        {currency: str(rate) for currency, rate in sorted(plan.rates.items())},
    )
    return _content_digest(proposal, snapshot, [a.organisation_id for a in proposal.applicants.all()])


def _content_digest(proposal: Proposal, snapshot: dict, organisation_ids) -> str:
    snapshot.update(
        cop=proposal.cop_id,
        fund=proposal.fund_id,
        phase=proposal.phase_id,
        applicants=sorted(organisation_ids),
    )
    return digest(snapshot)


# --------------------------------------------------------------------------- editing


def proposal_assert_editable(*, proposal: Proposal, acting_user) -> None:
    """DESIGN rule 4: applicants and facilitators edit drafts and proposals sent back for
    revision; nobody edits a submitted, decided or withdrawn one."""
    if proposal.status not in permissions.APPLICANT_EDITABLE:
        raise RuleViolation(
            _("This proposal is %(status)s and can no longer be changed.")
            % {"status": proposal.get_status_display().lower()},
            code="frozen",
        )
    if not permissions.can_edit_proposal(acting_user, proposal):
        raise NotAllowed(
            _(
                "Only staff of an applicant organisation or the programme's facilitators can change this proposal."
            )
        )


def _check_revision(proposal: Proposal, expected_revision: int | None) -> None:
    """Raise the revision in the database, refusing if someone saved in between."""
    query = Proposal.objects.filter(pk=proposal.pk)
    if expected_revision is not None:
        query = query.filter(revision=expected_revision)
    if not query.update(revision=F("revision") + 1, updated_at=timezone.now()):
        raise StaleEdit(
            _(
                "Someone else saved this proposal after you opened it. Your changes were not "
                "saved; they are still on the page. Reload to see the latest version."
            )
        )
    proposal.refresh_from_db(fields=["revision", "updated_at"])


def proposal_check_create(*, cop: CoP, fund: Fund, acting_user: User) -> bool:
    """Refuse a new proposal for this CoP and fund by this person; True when they create it as
    staff of a member organisation (which then becomes the lead applicant)."""
    if fund.country_programme_id != cop.country_programme_id:
        raise RuleViolation(_("This fund belongs to another country programme."), code="wrong_programme")
    if not fund.is_open():
        raise RuleViolation(_("The fund %(fund)s is not open.") % {"fund": fund.name}, code="fund_closed")
    is_member = bool(
        is_active_user(acting_user)
        and acting_user.role == User.Role.GRANTEE_STAFF
        and acting_user.organisation_id
        and cop.active_memberships().filter(organisation_id=acting_user.organisation_id).exists()
    )
    if not (is_member or is_facilitator_of(acting_user, cop.country_programme_id)):
        raise NotAllowed(
            _("Only staff of the CoP's member organisations or its facilitators can start a proposal.")
        )
    return is_member


PROPOSAL_REPEAT_WINDOW = datetime.timedelta(minutes=10)


class AlreadyCreated(RuleViolation):
    """The same person started a draft with this title for this CoP and fund moments ago (the
    create form posted twice, a double click): `proposal` is that draft."""

    def __init__(self, proposal: Proposal):
        self.proposal = proposal
        super().__init__(_("You started this proposal a moment ago; here it is."), code="already_created")


def proposal_create(
    *,
    cop: CoP,
    fund: Fund,
    title: str,
    acting_user: User,
    applicants: list[Organisation] | None = None,
    **content,
) -> Proposal:
    """A new draft. Grantee staff create for a CoP their organisation is an active member of
    (their organisation becomes the lead applicant); facilitators for any CoP of their programme.
    The same person starting the same title for the same CoP and fund again within
    `PROPOSAL_REPEAT_WINDOW`, while it is a draft, gets `AlreadyCreated` with that draft (the CoP's
    row is locked meanwhile, so a double click's two requests cannot both create)."""
    is_member = proposal_check_create(cop=cop, fund=fund, acting_user=acting_user)
    unknown = set(content) - set(CONTENT_FIELDS) - {"target_groups", "is_demo"}
    if unknown:
        raise TypeError(f"Unknown proposal fields: {sorted(unknown)}")
    target_groups = content.pop("target_groups", None)
    with transaction.atomic():
        CoP.objects.select_for_update().only("pk").get(pk=cop.pk)
        repeated = (
            Proposal.objects.filter(
                cop=cop,
                fund=fund,
                title=title,
                created_by=acting_user,
                status=S.DRAFT,
                created_at__gte=timezone.now() - PROPOSAL_REPEAT_WINDOW,
            )
            .order_by("-pk")
            .first()
        )
        if repeated is not None:
            raise AlreadyCreated(repeated)
        proposal = Proposal(cop=cop, fund=fund, title=title, created_by=acting_user, **content)
        proposal.full_clean(exclude=["created_by"])
        proposal._history_user = acting_user
        proposal.save()
        if target_groups is not None:
            proposal.target_groups.set(target_groups)
        organisations = [
            o for o in applicants or [] if not (is_member and o.pk == acting_user.organisation_id)
        ]
        if is_member:
            organisations.insert(0, acting_user.organisation)  # the author's organisation leads
        for i, organisation in enumerate(organisations):
            _applicant_add(proposal, organisation, acting_user, is_lead=(i == 0))
    return proposal


def proposal_update(
    *, proposal: Proposal, acting_user: User, data: dict, expected_revision: int | None = None
) -> Proposal:
    """Change narrative fields. `expected_revision` (the revision the person loaded) makes a
    second, stale save fail instead of silently overwriting the first."""
    unknown = set(data) - set(CONTENT_FIELDS) - {"target_groups"}
    if unknown:
        raise TypeError(f"Unknown proposal fields: {sorted(unknown)}")
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        proposal_assert_editable(proposal=proposal, acting_user=acting_user)
        _check_revision(proposal, expected_revision)
        _proposal_set_content(proposal, data, acting_user)
    return proposal


def _proposal_set_content(proposal: Proposal, data: dict, acting_user: User) -> None:
    """Write narrative fields on a locked proposal, validated by the model."""
    data = dict(data)
    target_groups = data.pop("target_groups", None)
    for name, value in data.items():
        setattr(proposal, name, value)
    proposal.full_clean(exclude=["created_by"])
    proposal._history_user = acting_user
    proposal.save()
    if target_groups is not None:
        proposal.target_groups.set(target_groups)


def proposal_record_edit(
    *, proposal: Proposal, acting_user: User, expected_revision: int | None = None
) -> None:
    """Check the freeze and raise the revision around an edit made elsewhere (admin inlines,
    formsets, imports). Call inside the transaction that writes the edit."""
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    proposal_assert_editable(proposal=locked, acting_user=acting_user)
    _check_revision(proposal, expected_revision)


def applicant_check_add(*, proposal: Proposal, organisation: Organisation) -> None:
    """Errors `not_a_member` (not an active member of the CoP), `duplicate` (already applies)."""
    if not proposal.cop.active_memberships().filter(organisation=organisation).exists():
        raise RuleViolation(
            _("%(org)s is not an active member of %(cop)s.")
            % {"org": organisation.acronym, "cop": proposal.cop.name},
            code="not_a_member",
        )
    if proposal.pk and proposal.applicants.filter(organisation=organisation).exists():
        raise RuleViolation(
            _("%(org)s is already an applicant.") % {"org": organisation.acronym}, code="duplicate"
        )


def _applicant_add(
    proposal: Proposal, organisation: Organisation, acting_user, *, is_lead=False
) -> Applicant:
    applicant_check_add(proposal=proposal, organisation=organisation)
    is_lead = is_lead or not proposal.applicants.filter(is_lead=True).exists()
    applicant = Applicant(proposal=proposal, organisation=organisation, is_lead=is_lead)
    applicant._history_user = acting_user
    applicant.save()
    transaction.on_commit(
        lambda: notifications.endorsement_requested(proposal, [organisation.pk]), robust=True
    )
    return applicant


def applicant_add(*, proposal: Proposal, organisation: Organisation, acting_user: User) -> Applicant:
    """Add a member organisation of the CoP as an applicant (voids earlier endorsements). The
    first applicant of a proposal that has no lead becomes the lead."""
    with transaction.atomic():
        proposal_record_edit(proposal=proposal, acting_user=acting_user)
        return _applicant_add(proposal, organisation, acting_user)


def applicant_successor(proposal: Proposal, organisation: Organisation) -> Applicant | None:
    """The applicant that leads `proposal` once `organisation` is no longer an applicant: the
    current lead if it stays, otherwise the remaining applicant added first. None when no
    applicant would remain."""
    remaining = proposal.applicants.exclude(organisation=organisation).select_related("organisation")
    return remaining.order_by("-is_lead", "added_at", "pk").first()


def applicant_check_removal(*, proposal: Proposal, organisation_ids: set[int], adding: int = 0) -> None:
    """A proposal keeps at least one applicant organisation: its staff are the grantee staff who
    may edit it, and one of them leads. Raises `last_applicant` when removing `organisation_ids`
    (while `adding` new applicants) would leave none."""
    remaining = proposal.applicants.exclude(organisation_id__in=organisation_ids).count() + adding
    if remaining == 0 and proposal.applicants.filter(organisation_id__in=organisation_ids).exists():
        raise RuleViolation(
            _(
                "A proposal needs at least one applicant organisation, whose staff can edit it and "
                "which leads it. Add another applicant before removing this one."
            ),
            code="last_applicant",
        )


def applicant_remove(
    *, proposal: Proposal, organisation: Organisation, acting_user: User
) -> Applicant | None:
    """Remove an applicant (voids earlier endorsements). Refused (`last_applicant`) for the last
    one. When the lead leaves, the lead passes to `applicant_successor` (the remaining applicant
    added first), which is returned: the lead after the removal (None if `organisation` was not
    an applicant)."""
    with transaction.atomic():
        proposal_record_edit(proposal=proposal, acting_user=acting_user)
        applicant = proposal.applicants.select_for_update().filter(organisation=organisation).first()
        if applicant is None:
            return None
        applicant_check_removal(proposal=proposal, organisation_ids={organisation.pk})
        successor = applicant_successor(proposal, organisation)
        applicant._history_user = acting_user
        applicant.delete()
        if not successor.is_lead:
            successor.is_lead = True
            successor._history_user = acting_user
            successor._change_reason = f"lead passed on: {organisation.acronym} left"
            successor.save(update_fields=["is_lead"])
        return successor


def activity_add(
    *, proposal: Proposal, acting_user: User, participants: dict | None = None, **fields
) -> PlannedActivity:
    """Add a planned co-creation activity; `participants` maps a RightsholderGroup to a number."""
    with transaction.atomic():
        proposal_record_edit(proposal=proposal, acting_user=acting_user)
        activity = PlannedActivity(proposal=proposal, **fields)
        activity.full_clean()
        activity._history_user = acting_user
        activity.save()
        for group, number in (participants or {}).items():
            row = ExpectedParticipation(activity=activity, rightsholder_group=group, number=number)
            row._history_user = acting_user
            row.save()
        return activity


def budget_line_add(*, proposal: Proposal, acting_user: User, **fields) -> BudgetLine:
    with transaction.atomic():
        proposal_record_edit(proposal=proposal, acting_user=acting_user)
        line = BudgetLine(proposal=proposal, **fields)
        budget_line_validate(proposal=proposal, line=line)
        line._history_user = acting_user
        line.save()
        return line


def exchange_rate_set(*, proposal: Proposal, acting_user: User, currency: str, rate: Decimal) -> ExchangeRate:
    """Record the rate from `currency` to the fund's currency (1 unit = `rate`)."""
    rate = money.to_decimal(rate)
    if rate <= 0:
        raise RuleViolation(
            {"rate": _("An exchange rate must be greater than zero.")}, code="rate_not_positive"
        )
    if rate > money.MAX_RATE:
        raise RuleViolation({"rate": _rate_too_large()}, code="rate_too_large")
    if currency == proposal.fund.currency:
        raise RuleViolation(
            {"currency": _("No rate is needed for the fund's own currency.")}, code="rate_not_needed"
        )
    with transaction.atomic():
        proposal_record_edit(proposal=proposal, acting_user=acting_user)
        exchange_rate = ExchangeRate.objects.filter(
            proposal=proposal, currency=currency
        ).first() or ExchangeRate(proposal=proposal, currency=currency)
        exchange_rate.rate = rate
        exchange_rate.full_clean()
        exchange_rate._history_user = acting_user
        exchange_rate.save()
        return exchange_rate


def _rate_too_large() -> str:
    return _("No exchange rate between these currencies is above %(max)s; check the rate.") % {
        "max": f"{money.MAX_RATE:,}"
    }


def budget_line_validate(*, proposal: Proposal, line: BudgetLine) -> None:
    """One line's rules that need the fund: its currency must be one the fund accepts; and its
    fields and the table's own constraints (quantity above zero, unit cost not negative).

    The constraints are checked here in Python, not by `full_clean`'s query per constraint, and
    an activity already read as one of this proposal's is not looked up again: an import of
    2,000 lines asked the database six times per line and took seconds (issue 13). The
    database's CHECK constraints still hold whatever comes in another way."""
    exclude = ["proposal"]
    activity = line._state.fields_cache.get("activity")
    if activity is not None and activity.pk is not None and activity.proposal_id == proposal.pk:
        exclude.append("activity")  # an activity of this proposal (Model.clean checks it too)
    line.full_clean(exclude=exclude, validate_constraints=False)
    errors = {}
    if line.quantity is not None and line.quantity <= 0:
        errors["quantity"] = ValidationError(
            _("The quantity must be more than zero."), code="quantity_not_positive"
        )
    if line.unit_cost is not None and line.unit_cost < 0:
        errors["unit_cost"] = ValidationError(
            _("The unit cost cannot be negative."), code="unit_cost_negative"
        )
    if errors:
        raise ValidationError(errors)
    if line.currency not in proposal.fund.accepted_currency_list:
        # A dict-form ValidationError drops its own `code`: the code goes on the field's error.
        raise RuleViolation(
            {
                "currency": RuleViolation(
                    _("The fund does not accept %(currency)s; use one of %(accepted)s.")
                    % {
                        "currency": line.currency,
                        "accepted": ", ".join(proposal.fund.accepted_currency_list),
                    },
                    code="currency_not_accepted",
                )
            }
        )


# --------------------------------------------------------------------------- the plan, from one page

ACTIVITY_FIELDS = ("title", "description", "starts_on", "ends_on", "place", "is_primary", "agenda")
BUDGET_LINE_FIELDS = ("category", "description", "unit", "quantity", "unit_cost", "currency", "activity")

PlanKey = tuple[str, int | str | None]


class PlanInvalid(RuleViolation):
    """`proposal_save_plan` refused. `errors` maps (part, key) to the part's ValidationError so a
    page can show each error in place: ("narrative", None), ("activities", i), ("budget_lines", i)
    with i the row's position in the list given, ("rates", currency)."""

    def __init__(self, errors: dict[PlanKey, ValidationError]):
        self.errors = errors
        flat = []
        for (part, key), error in errors.items():
            where = _part_label(part, key)
            for field, inner in _error_items(error):
                prefix = ": ".join(p for p in (where, _field_label(part, field)) if p)
                message = " ".join(inner.messages)
                flat.append(RuleViolation(f"{prefix}: {message}" if prefix else message, code=inner.code))
        super().__init__(flat)


def _part_label(part: str, key: int | str | None) -> str:
    if part == "activities":
        return _("Activity %(n)s") % {"n": int(key or 0) + 1}
    if part == "budget_lines":
        return _("Budget line %(n)s") % {"n": int(key or 0) + 1}
    if part == "rates":
        return _("Exchange rate for %(currency)s") % {"currency": key}
    return ""


def _error_items(error: ValidationError) -> list[tuple[str | None, ValidationError]]:
    if hasattr(error, "error_dict"):
        return [
            (None if field == "__all__" else field, item)
            for field, items in error.error_dict.items()
            for item in items
        ]
    return [(None, item) for item in error.error_list]


def _field_label(part: str, field: str | None) -> str:
    model = {"narrative": Proposal, "activities": PlannedActivity, "budget_lines": BudgetLine}.get(part)
    if not field or model is None:
        return ""
    try:
        return str(model._meta.get_field(field).verbose_name).capitalize()
    except FieldDoesNotExist:
        return field


def proposal_save_plan(
    *,
    proposal: Proposal,
    acting_user: User,
    expected_revision: int | None,
    narrative: dict | None = None,
    activities: list[dict] | None = None,
    budget_lines: list[dict] | None = None,
    rates: dict[str, Decimal | None] | None = None,
) -> Proposal:
    """Save what the proposal's edit page holds in one transaction and one revision: the
    narrative (the fields `proposal_update` takes), the planned activities, the budget lines and
    the exchange rates. A stale `expected_revision` raises `StaleEdit` and writes nothing.

    `activities` and `budget_lines`, when given, are the complete new lists in order: a row with
    the `id` of one of this proposal's rows changes it, a row without one (or with an id the
    proposal no longer has) is added after the existing rows, and rows not listed are deleted.
    An activity row may carry `participants` ({RightsholderGroup or its pk: number}, 0 or None
    removes). A budget line's `activity` is one of this proposal's existing activities kept by
    this save, or None. `rates` maps a currency to its rate to the fund's currency (None removes
    it); currencies not named are left as they are.

    Every changed row is validated (budget lines by `budget_line_validate`); any refusal raises
    `PlanInvalid` with all the errors and leaves the proposal as it was. Unchanged rows are not
    written, so the history records only real changes. Returns the saved proposal (a new
    instance; the one passed in is left untouched)."""
    if narrative is not None:
        unknown = set(narrative) - set(CONTENT_FIELDS) - {"target_groups"}
        if unknown:
            raise TypeError(f"Unknown proposal fields: {sorted(unknown)}")
    errors: dict[PlanKey, ValidationError] = {}
    with transaction.atomic():
        current = Proposal.objects.select_for_update().get(pk=proposal.pk)
        proposal_record_edit(proposal=current, acting_user=acting_user, expected_revision=expected_revision)
        if narrative is not None:
            try:
                _proposal_set_content(current, narrative, acting_user)
            except ValidationError as exc:
                errors[("narrative", None)] = exc
        if activities is not None:
            kept, removed = _plan_activities(current, activities, acting_user, errors)
        else:
            kept, removed = {a.pk: a for a in current.activities.all()}, []
        if budget_lines is not None:
            _plan_budget_lines(current, budget_lines, kept, acting_user, errors)
        for activity in removed:
            activity._history_user = acting_user
            activity.delete()
        if rates is not None:
            _plan_rates(current, rates, acting_user, errors)
        if errors:
            raise PlanInvalid(errors)
    return current


def _plan_activities(
    proposal: Proposal, rows: list[dict], acting_user: User, errors: dict
) -> tuple[dict[int, PlannedActivity], list[PlannedActivity]]:
    """Create and change activities; return those kept (by pk) and those to delete."""
    existing = {a.pk: a for a in proposal.activities.prefetch_related("expected_participants")}
    next_order = max((a.order for a in existing.values()), default=-1) + 1
    kept: dict[int, PlannedActivity] = {}
    for i, row in enumerate(rows):
        row = dict(row)
        pk = row.pop("id", None)
        participants = row.pop("participants", None)
        unknown = set(row) - set(ACTIVITY_FIELDS)
        if unknown:
            raise TypeError(f"Unknown activity fields: {sorted(unknown)}")
        activity = existing.get(pk) if pk not in kept else None
        if activity is None:
            activity = PlannedActivity(proposal=proposal, order=next_order)
            next_order += 1
        changed = activity.pk is None or any(getattr(activity, k) != v for k, v in row.items())
        for name, value in row.items():
            setattr(activity, name, value)
        if activity.pk:
            kept[activity.pk] = activity
        if changed:
            try:
                activity.full_clean(exclude=["proposal"])
            except ValidationError as exc:
                errors[("activities", i)] = exc
                continue
            activity._history_user = acting_user
            activity.save()
            kept[activity.pk] = activity
        if participants is not None:
            _plan_participants(activity, participants, acting_user, errors, i)
    removed = [a for pk, a in existing.items() if pk not in kept]
    return kept, removed


def _plan_participants(
    activity: PlannedActivity, participants: dict, acting_user: User, errors: dict, i: int
) -> None:
    current = {p.rightsholder_group_id: p for p in activity.expected_participants.all()}
    for group, number in participants.items():
        group_id = getattr(group, "pk", group)
        number = number or 0
        if number < 0:
            errors[("activities", i)] = RuleViolation(
                _("The number of expected participants cannot be negative."), code="negative_participants"
            )
            continue
        row = current.get(group_id)
        if not number:
            if row is not None:
                row._history_user = acting_user
                row.delete()
            continue
        if row is None:
            row = ExpectedParticipation(activity=activity, rightsholder_group_id=group_id, number=number)
        elif row.number == number:
            continue
        row.number = number
        row._history_user = acting_user
        row.save()


def _plan_budget_lines(
    proposal: Proposal, rows: list[dict], kept_activities: dict, acting_user: User, errors: dict
) -> None:
    existing = {line.pk: line for line in BudgetLine.objects.filter(proposal=proposal)}
    next_order = max((line.order for line in existing.values()), default=-1) + 1
    seen: set[int] = set()
    for i, row in enumerate(rows):
        row = dict(row)
        pk = row.pop("id", None)
        unknown = set(row) - set(BUDGET_LINE_FIELDS)
        if unknown:
            raise TypeError(f"Unknown budget line fields: {sorted(unknown)}")
        line = existing.get(pk) if pk not in seen else None
        if line is None:
            line = BudgetLine(proposal=proposal, order=next_order)
            next_order += 1
        else:
            seen.add(line.pk)
        activity = row.pop("activity", None)
        if activity is not None and activity.pk not in kept_activities:
            errors[("budget_lines", i)] = RuleViolation(
                {
                    "activity": RuleViolation(
                        _(
                            "This activity is being removed or is not one of this proposal's; choose another or none."
                        ),
                        code="activity_not_kept",
                    )
                }
            )
            continue
        activity_id = activity.pk if activity is not None else None
        changed = (
            line.pk is None
            or line.activity_id != activity_id
            or any(getattr(line, k) != v for k, v in row.items())
        )
        if not changed:
            continue
        for name, value in row.items():
            setattr(line, name, value)
        line.activity = kept_activities.get(activity_id) if activity_id else None
        try:
            budget_line_validate(proposal=proposal, line=line)
        except ValidationError as exc:
            errors[("budget_lines", i)] = exc
            continue
        line._history_user = acting_user
        line.save()
    for pk, line in existing.items():
        if pk not in seen:
            line._history_user = acting_user
            line.delete()


def _plan_rates(proposal: Proposal, rates: dict, acting_user: User, errors: dict) -> None:
    existing = {r.currency: r for r in proposal.exchange_rates.all()}
    for currency, rate in rates.items():
        current = existing.get(currency)
        if rate is None:
            if current is not None:
                current._history_user = acting_user
                current.delete()
            continue
        if currency == proposal.fund.currency:
            errors[("rates", currency)] = RuleViolation(
                _("No rate is needed for the fund's own currency."), code="rate_not_needed"
            )
            continue
        if rate > money.MAX_RATE:
            errors[("rates", currency)] = RuleViolation(_rate_too_large(), code="rate_too_large")
            continue
        if current is not None and current.rate == rate:
            continue
        exchange_rate = current or ExchangeRate(proposal=proposal, currency=currency)
        exchange_rate.rate = rate
        try:
            exchange_rate.full_clean(exclude=["proposal"])
        except ValidationError as exc:
            errors[("rates", currency)] = exc
            continue
        exchange_rate._history_user = acting_user
        exchange_rate.save()


# --------------------------------------------------------------------------- budget import

BUDGET_IMPORT_MAX_LINES = 2000
BUDGET_IMPORT_MODES = ("replace", "append")


def budget_import_apply(
    *,
    proposal: Proposal,
    acting_user: User,
    rows: list[dict],
    mode: str,
    expected_revision: int | None = None,
    source: str = "",
) -> list[BudgetLine]:
    """Save budget lines read from a spreadsheet, all or nothing, in one transaction and one
    revision: `mode` "replace" deletes the current lines first, "append" adds after them.

    Each row has the keys of `BUDGET_LINE_FIELDS`; its `activity` is one of this proposal's
    activities, given as the instance or its id, or None. Checks the freeze and who may edit
    (`proposal_record_edit`, with `expected_revision` the revision the person previewed), then
    every line (`budget_line_validate`); any refusal raises `PlanInvalid` with every line's
    errors and saves nothing. The history records each deleted and created line with the acting
    user and the reason "budget import" (plus `source`, e.g. the file name)."""
    if mode not in BUDGET_IMPORT_MODES:
        raise ValueError(f"mode must be one of {BUDGET_IMPORT_MODES}, not {mode!r}")
    if not rows:
        raise RuleViolation(_("The import has no budget lines."), code="empty_import")
    if len(rows) > BUDGET_IMPORT_MAX_LINES:
        raise RuleViolation(
            _("An import may hold at most %(max)s budget lines; this one has %(n)s.")
            % {"max": BUDGET_IMPORT_MAX_LINES, "n": len(rows)},
            code="too_many_lines",
        )
    reason = f"budget import ({mode}) {source}".strip()[:100]
    with transaction.atomic():
        current = Proposal.objects.select_for_update().select_related("fund").get(pk=proposal.pk)
        proposal_record_edit(proposal=current, acting_user=acting_user, expected_revision=expected_revision)
        activities = {a.pk: a for a in current.activities.all()}
        existing = list(BudgetLine.objects.filter(proposal=current))
        next_order = 0 if mode == "replace" else max((line.order for line in existing), default=-1) + 1
        errors: dict[PlanKey, ValidationError] = {}
        lines = []
        for i, row in enumerate(rows):
            row = dict(row)
            unknown = set(row) - set(BUDGET_LINE_FIELDS)
            if unknown:
                raise TypeError(f"Unknown budget line fields: {sorted(unknown)}")
            activity = row.pop("activity", None)
            activity_id = getattr(activity, "pk", activity)
            if activity_id is not None and activity_id not in activities:
                errors[("budget_lines", i)] = RuleViolation(
                    {
                        "activity": RuleViolation(
                            _("This activity is not one of this proposal's."), code="activity_not_kept"
                        )
                    }
                )
                continue
            line = BudgetLine(
                proposal=current,
                activity=activities.get(activity_id) if activity_id is not None else None,
                order=next_order + i,
                **row,
            )
            try:
                budget_line_validate(proposal=current, line=line)
            except ValidationError as exc:
                errors[("budget_lines", i)] = exc
                continue
            lines.append(line)
        if errors:
            raise PlanInvalid(errors)
        if mode == "replace":
            for line in existing:
                line._history_user = acting_user
                line._change_reason = reason
                line.delete()
        created = bulk_create_with_history(
            lines, BudgetLine, default_user=acting_user, default_change_reason=reason
        )
    proposal.refresh_from_db(fields=["revision", "updated_at"])
    return created


# --------------------------------------------------------------------------- endorsements


def valid_endorsement_organisation_ids(
    proposal: Proposal, content_digest: str | None = None, endorsements: list[Endorsement] | None = None
) -> set[int]:
    """Applicant organisations whose latest endorsement matches the current content.
    `endorsements`: the proposal's endorsements when a page has already read them all."""
    content_digest = content_digest or proposal_content_digest(proposal)
    applicant_ids = permissions.applicant_organisation_ids(proposal)
    if endorsements is not None:
        return {
            e.organisation_id
            for e in endorsements
            if e.content_digest == content_digest and e.organisation_id in applicant_ids
        }
    return set(
        proposal.endorsements.filter(
            content_digest=content_digest, organisation_id__in=applicant_ids
        ).values_list("organisation_id", flat=True)
    )


def valid_endorsement_organisation_ids_for(proposals) -> dict[int, set[int]]:
    """`valid_endorsement_organisation_ids` of many proposals in a fixed number of queries (the
    same rule: an endorsement counts while its digest equals the content's)."""
    proposals = list(proposals)
    digests = proposal_content_digests(proposals)
    valid: dict[int, set[int]] = {p.pk: set() for p in proposals}
    rows = Endorsement.objects.filter(
        proposal__in=proposals,
        content_digest__in=set(digests.values()),
        organisation__applications__proposal_id=F("proposal_id"),
    ).values_list("proposal_id", "organisation_id", "content_digest")
    for pid, org_id, content_digest in rows:
        if digests[pid] == content_digest:
            valid[pid].add(org_id)
    return valid


def proposals_awaiting_endorsement(*, user: User, proposals, limit: int = 50) -> list[Proposal]:
    """Of `proposals` (a queryset, in its order), the first `limit` editable ones where `user`'s
    organisation applies, less those it validly endorsed (rule 1's test, in a fixed number of
    queries for them all)."""
    if not (is_active_user(user) and user.organisation_id):
        return []
    candidates = list(
        proposals.filter(
            status__in=permissions.APPLICANT_EDITABLE, applicants__organisation_id=user.organisation_id
        )[:limit]
    )
    valid = valid_endorsement_organisation_ids_for(candidates)
    return [p for p in candidates if user.organisation_id not in valid[p.pk]]


def proposal_endorse(*, proposal: Proposal, acting_user: User, comment: str = "") -> Endorsement:
    """An applicant organisation endorses the proposal as it stands now, through its own staff.
    Endorsing content the organisation already endorsed returns that endorsement (a form posted
    twice records one)."""
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status not in permissions.APPLICANT_EDITABLE:
            raise RuleViolation(
                _("Only a draft or a proposal sent back for revision can be endorsed."), code="wrong_state"
            )
        applicant_ids = permissions.applicant_organisation_ids(proposal)
        if not is_grantee_staff_of(acting_user, applicant_ids):
            raise NotAllowed(_("Only staff of an applicant organisation can endorse for their organisation."))
        content_digest = proposal_content_digest(proposal)
        existing = proposal.endorsements.filter(
            organisation_id=acting_user.organisation_id, content_digest=content_digest
        ).first()
        if existing is not None:
            return existing
        endorsement = Endorsement(
            proposal=proposal,
            organisation=acting_user.organisation,
            endorsed_by=acting_user,
            content_digest=content_digest,
            comment=comment,
        )
        endorsement._history_user = acting_user
        endorsement.save()
        return endorsement


# --------------------------------------------------------------------------- submission


@dataclass(frozen=True)
class Problem:
    """One missing piece before submission: plain words, and the section where it is fixed."""

    code: str
    message: str
    section: str


def proposal_submission_problems(
    proposal: Proposal,
    *,
    plan=None,
    valid_ids: set[int] | None = None,
    endorsements: list[Endorsement] | None = None,
) -> list[Problem]:
    """Every reason the proposal cannot be submitted yet (empty when it can).

    A page that has already read the proposal's rows passes them (`plan`: a
    `selectors.PlanData`; `valid_ids`: `valid_endorsement_organisation_ids`; `endorsements`:
    all of the proposal's) so they are not read again; the checks are the same."""
    problems: list[Problem] = []
    add = problems.append
    required = [
        ("title", _("Give the proposal a title.")),
        ("problem_analysis", _("Write the problem analysis.")),
        ("objectives", _("Write the objectives.")),
        ("provinces", _("Name the provinces where the activities take place.")),
        ("starts_on", _("Give the project's start date.")),
        ("ends_on", _("Give the project's end date.")),
        ("budget_option", _("Choose the budget management option (1 or 2).")),
    ]
    for name, message in required:
        if getattr(proposal, name) in (None, ""):
            add(Problem(f"missing_{name}", message, name))
    has_groups = bool(plan.target_group_ids) if plan else proposal.target_groups.exists()
    if not has_groups:
        add(
            Problem(
                "missing_target_groups", _("Choose at least one target rightsholder group."), "target_groups"
            )
        )
    activities = plan.activities if plan else list(proposal.activities.all())
    if not activities:
        add(Problem("no_activities", _("Plan at least one co-creation activity."), "activities"))
    for activity in activities:
        if activity.is_primary and not activity.agenda.strip():
            add(
                Problem(
                    "missing_agenda",
                    _("Write a draft agenda for “%(title)s”.") % {"title": activity.title},
                    "activities",
                )
            )
    summary = (
        budget_summary(proposal, lines=plan.lines, rates=plan.rates) if plan else budget_summary(proposal)
    )
    if not summary.line_count:
        add(Problem("no_budget", _("Add at least one budget line."), "budget"))
    for currency in summary.missing_rates:
        add(
            Problem(
                "missing_rate",
                _("Record the exchange rate from %(currency)s to %(fund)s.")
                % {"currency": currency, "fund": proposal.fund.currency},
                "budget",
            )
        )
    accepted = proposal.fund.accepted_currency_list
    for currency in sorted(set(summary.by_currency) - set(accepted)):
        add(
            Problem(
                "currency_not_accepted",
                _("The fund does not accept %(currency)s.") % {"currency": currency},
                "budget",
            )
        )
    total = summary.total_in_fund_currency
    if total is not None and summary.line_count:
        try:
            fund_check_amount(fund=proposal.fund, amount=total)
        except RuleViolation as exc:
            add(Problem(exc.code or "budget", exc.messages[0], "budget"))
    if not proposal.fund.is_open():
        add(
            Problem(
                "fund_closed",
                _("The fund %(fund)s is not open for proposals today.") % {"fund": proposal.fund.name},
                "fund",
            )
        )
    problems.extend(_two_grantee_problems(proposal, valid_ids, endorsements))
    return problems


def _two_grantee_problems(
    proposal: Proposal, endorsed: set[int] | None = None, endorsements: list[Endorsement] | None = None
) -> list[Problem]:
    """DESIGN rule 1: two distinct grantee partners, each an active member, have endorsed the
    content as it is now (`endorsed`: `valid_endorsement_organisation_ids`, when known)."""
    if endorsed is None:
        endorsed = valid_endorsement_organisation_ids(proposal)
    active_members = set(proposal.cop.active_memberships().values_list("organisation_id", flat=True))
    # Valid endorsements are applicants' (valid_endorsement_organisation_ids), so the applicants'
    # organisations tell which of them are grantees.
    applicants = [a for a in proposal.applicants.all() if a.organisation_id is not None]
    prefetch_related_objects(applicants, "organisation")
    counted = {
        a.organisation_id
        for a in applicants
        if a.organisation_id in endorsed & active_members and a.organisation.kind == Organisation.Kind.GRANTEE
    }
    if len(counted) >= 2:
        return []
    problems = []
    if len(applicants) < 2:
        problems.append(
            Problem(
                "too_few_applicants",
                _(
                    "A CoP proposal needs at least two grantee partner organisations of the CoP as applicants; it has %(n)s."
                )
                % {"n": len(applicants)},
                "applicants",
            )
        )
    given = (
        {e.organisation_id for e in endorsements}
        if endorsements is not None
        else set(proposal.endorsements.values_list("organisation_id", flat=True))
    )
    stale = given - endorsed
    for applicant in applicants:
        org = applicant.organisation
        if org.pk in counted:
            continue
        if org.kind != Organisation.Kind.GRANTEE:
            message = _("%(org)s is not a grantee partner, so its endorsement does not count.")
        elif org.pk not in active_members:
            message = _("%(org)s is no longer an active member of the CoP.")
        elif org.pk in stale:
            message = _(
                "%(org)s endorsed an earlier version; the proposal changed since, so it must endorse again."
            )
        else:
            message = _("%(org)s has not endorsed the proposal yet.")
        problems.append(Problem("endorsement_missing", message % {"org": org.acronym}, "applicants"))
    problems.append(
        Problem(
            "two_grantee_rule",
            _("At least two grantee partner organisations must endorse the proposal (now %(n)s).")
            % {"n": len(counted)},
            "applicants",
        )
    )
    return problems


def _transition(
    proposal: Proposal, to_status: str, acting_user: User, reason: str = "", amount: Decimal | None = None
) -> Proposal:
    """Move a (locked) proposal along the workflow and record who, when and why."""
    from_status = proposal.status
    if (from_status, to_status) not in TRANSITIONS:
        raise RuleViolation(
            _("A proposal that is %(from)s cannot become %(to)s.")
            % {"from": S(from_status).label.lower(), "to": S(to_status).label.lower()},
            code="invalid_transition",
        )
    proposal.status = to_status
    if to_status == S.SUBMITTED:
        proposal.submitted_at = timezone.now()
    proposal._history_user = acting_user
    proposal._change_reason = reason[:100] if reason else TRANSITIONS[(from_status, to_status)]
    proposal.save(update_fields=["status", "submitted_at", "updated_at"])
    if amount is not None:
        reason = (
            f"{reason}\n\n{_('Amount named')}: {money.format_money(amount, proposal.fund.currency)}".strip()
        )
    Transition.objects.create(
        proposal=proposal, from_status=from_status, to_status=to_status, actor=acting_user, reason=reason
    )
    return proposal


def _locked(proposal: Proposal) -> Proposal:
    # of=("self",): lock the proposal's row only. Without it PostgreSQL also locks the joined
    # CoP and fund rows, so every step on any proposal of the fund (PDF render included) would
    # queue behind every other; grant_award locks the fund itself, briefly.
    return Proposal.objects.select_for_update(of=("self",)).select_related("cop", "fund").get(pk=proposal.pk)


def proposal_submit(*, proposal: Proposal, acting_user: User) -> Proposal:
    """Submit a draft or a revised proposal. Refused, with every missing piece, unless all of
    `proposal_submission_problems` is empty (two-grantee rule, fund open, cap, ceiling...)."""
    with transaction.atomic():
        proposal = _locked(proposal)
        if proposal.status not in permissions.APPLICANT_EDITABLE:
            _transition(proposal, S.SUBMITTED, acting_user)  # raises the workflow's refusal
        if not permissions.can_submit_proposal(acting_user, proposal):
            raise NotAllowed(
                _(
                    "Only staff of an applicant organisation or the programme's facilitators can submit this proposal."
                )
            )
        problems = proposal_submission_problems(proposal)
        if problems:
            raise RuleViolation([RuleViolation(p.message, code=p.code) for p in problems])
        snapshot = proposal_snapshot(proposal)
        ProposalVersion.objects.create(
            proposal=proposal,
            number=proposal.versions.count() + 1,
            snapshot=snapshot,
            content_sha256=digest(snapshot),
            submitted_by=acting_user,
        )
        transaction.on_commit(lambda: notifications.proposal_submitted(proposal), robust=True)
        return _transition(proposal, S.SUBMITTED, acting_user)


def _assert_committee(proposal: Proposal, acting_user: User) -> None:
    if not is_committee_member_of(acting_user, proposal.cop.country_programme_id):
        raise NotAllowed(_("Only committee members of this programme can review and decide proposals."))
    if permissions.has_conflict(acting_user, proposal):
        raise NotAllowed(
            _(
                "You are affiliated with an applicant organisation or declared a conflict of interest, so you cannot review or decide this proposal."
            ),
            code="conflict_of_interest",
        )
    if not permissions.can_decide_proposal(acting_user, proposal):
        raise NotAllowed(_("Only committee members of this programme can review and decide proposals."))


def proposal_start_review(*, proposal: Proposal, acting_user: User) -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        _assert_committee(proposal, acting_user)
        return _transition(proposal, S.UNDER_REVIEW, acting_user)


def proposal_request_revision(
    *, proposal: Proposal, acting_user: User, comment: str, amount: Decimal | None = None
) -> Proposal:
    """Send back to the applicants with a comment they will see; to fund less than asked,
    name the amount."""
    if not (comment or "").strip():
        raise RuleViolation(
            _("Write a comment for the applicants: what should they revise?"), code="comment_required"
        )
    if amount is not None:
        amount = money.quantize(amount)
        if amount <= 0:
            raise RuleViolation(_("The amount must be greater than zero."), code="amount_not_positive")
    with transaction.atomic():
        proposal = _locked(proposal)
        _assert_committee(proposal, acting_user)
        transaction.on_commit(
            lambda: notifications.revision_requested(proposal, comment.strip()), robust=True
        )
        return _transition(proposal, S.REVISION_REQUESTED, acting_user, comment.strip(), amount=amount)


def proposal_approve(
    *, proposal: Proposal, acting_user: User, reasons: str, amount: Decimal | None = None
) -> Decision:
    """Approve the budget's total in the fund's currency. `amount`, when given, is the total
    the committee saw; a budget that changed since is refused. Locks the proposal and the fund,
    checks cap and ceiling (DESIGN rule 2), freezes the approved version with its SHA-256 and
    creates the grant, all or nothing."""
    if not (reasons or "").strip():
        raise RuleViolation(_("Give the committee's reasons for the approval."), code="reasons_required")
    attached: list = []
    try:
        return _proposal_approve(proposal, acting_user, reasons, amount, attached)
    except BaseException:
        # The PDF is written to storage before the commit, and storage does not roll back: a
        # failure after it (the commit's included) removes the file again. If a caller's own
        # transaction rolls back later, the file stays, unreferenced (`backup` lists those).
        for grant in attached:
            grant_discard_pdf(grant)
        raise


def _proposal_approve(
    proposal: Proposal, acting_user: User, reasons: str, amount: Decimal | None, attached: list
) -> Decision:
    with transaction.atomic():
        proposal = _locked(proposal)
        _assert_committee(proposal, acting_user)
        if proposal.status != S.UNDER_REVIEW:
            _transition(proposal, S.APPROVED, acting_user)  # raises the workflow's refusal
        total = budget_summary(proposal).total_in_fund_currency
        if total is None or total <= 0:
            raise RuleViolation(
                _("The budget has no total in the fund's currency (a rate is missing)."), code="no_total"
            )
        if amount is not None and money.quantize(amount) != total:
            raise RuleViolation(
                _(
                    "The budget's total is %(total)s, not %(amount)s. To fund less than asked, request a revision naming the amount."
                )
                % {
                    "total": money.format_money(total, proposal.fund.currency),
                    "amount": money.format_money(amount, proposal.fund.currency),
                },
                code="amount_mismatch",
            )
        snapshot = proposal_snapshot(proposal)
        snapshot["endorsements"] = [
            {
                "organisation": e.organisation.acronym,
                "by": e.endorsed_by.get_full_name() or e.endorsed_by.username,
                "at": e.endorsed_at.isoformat(),
            }
            for e in proposal.endorsements.filter(content_digest=proposal_content_digest(proposal))
            .select_related("organisation", "endorsed_by")
            .order_by("endorsed_at")
        ]
        snapshot["total_in_fund_currency"] = str(total)
        snapshot["members"] = [
            {
                "acronym": m.organisation.acronym,
                "name": m.organisation.name,
                "name_local": m.organisation.name_local,
            }
            for m in proposal.cop.active_memberships()
            .select_related("organisation")
            .order_by("organisation__acronym")
        ]
        decision = Decision(
            proposal=proposal,
            outcome=Decision.Outcome.APPROVED,
            amount=total,
            currency=proposal.fund.currency,
            reasons=reasons.strip(),
            decided_by=acting_user,
            approved_version=snapshot,
            approved_version_sha256=digest(snapshot),
        )
        # Rendered before grant_award locks the fund's row, so that lock is held briefly. A
        # failure raises and rolls the approval back: no approved proposal without its PDF.
        official_pdf = proposal_pdf.render_proposal_pdf(
            proposal=proposal,
            snapshot=snapshot,
            draft=False,
            decision=decision,
            content_sha256=decision.approved_version_sha256,
        )
        grant = grant_award(
            fund_id=proposal.fund_id, proposal=proposal, amount=total, acting_user=acting_user
        )
        decision._history_user = acting_user
        decision.save()
        _transition(proposal, S.APPROVED, acting_user, reasons.strip())
        attached.append(grant_attach_pdf(grant=grant, content=official_pdf, acting_user=acting_user))
        transaction.on_commit(lambda: notifications.decision_made(proposal), robust=True)
        return decision


def proposal_reject(*, proposal: Proposal, acting_user: User, reason: str) -> Decision:
    if not (reason or "").strip():
        raise RuleViolation(
            _("Give the reason for the rejection; the applicants will read it."), code="reason_required"
        )
    with transaction.atomic():
        proposal = _locked(proposal)
        _assert_committee(proposal, acting_user)
        _transition(proposal, S.REJECTED, acting_user, reason.strip())
        decision = Decision(
            proposal=proposal,
            outcome=Decision.Outcome.REJECTED,
            currency=proposal.fund.currency,
            reasons=reason.strip(),
            decided_by=acting_user,
        )
        decision._history_user = acting_user
        decision.save()
        transaction.on_commit(lambda: notifications.decision_made(proposal), robust=True)
        return decision


def proposal_withdraw(*, proposal: Proposal, acting_user: User, reason: str = "") -> Proposal:
    with transaction.atomic():
        proposal = _locked(proposal)
        if proposal.status in permissions.WITHDRAWABLE and not permissions.can_withdraw_proposal(
            acting_user, proposal
        ):
            raise NotAllowed(
                _(
                    "Only staff of an applicant organisation or the programme's facilitators can withdraw this proposal."
                )
            )
        return _transition(proposal, S.WITHDRAWN, acting_user, reason.strip())


# --------------------------------------------------------------------------- committee


def conflict_declare(*, proposal: Proposal, member: User, reason: str) -> ConflictDeclaration:
    """A committee member declares a conflict of interest: from then on they cannot review or
    decide this proposal (DESIGN rule 5). Declaring twice keeps the first declaration."""
    if not is_committee_member_of(member, proposal.cop.country_programme_id):
        raise NotAllowed(_("Only committee members of this programme declare conflicts of interest."))
    if not (reason or "").strip():
        raise RuleViolation(_("Say what the conflict of interest is."), code="reason_required")
    with transaction.atomic():
        declaration = ConflictDeclaration.objects.filter(proposal=proposal, member=member).first()
        if declaration is None:
            declaration = ConflictDeclaration(proposal=proposal, member=member, reason=reason.strip())
            declaration._history_user = member
            try:
                with transaction.atomic():
                    declaration.save()
            except IntegrityError:  # declared at the same moment in another request
                declaration = ConflictDeclaration.objects.get(proposal=proposal, member=member)
    return declaration


def review_check(*, proposal: Proposal, reviewer: User) -> None:
    """Refuse a review by someone with a conflict or without a seat on the committee, or of a
    proposal that is not submitted or under review."""
    _assert_committee(proposal, reviewer)
    if proposal.status not in {S.SUBMITTED, S.UNDER_REVIEW}:
        raise RuleViolation(
            _("Only a submitted proposal or one under review can be reviewed."), code="wrong_state"
        )


def review_record(
    *,
    proposal: Proposal,
    reviewer: User,
    recommendation: str,
    comment: str = "",
    score: int | None = None,
    scores: dict | None = None,
) -> Review:
    """A committee member's review with an optional overall score and `scores`, a mapping of the
    fund's ReviewCriterion to a score between 0 and its highest score. Refused for a conflict of
    interest (DESIGN rule 5). A second review by the same member replaces the first."""
    with transaction.atomic():
        proposal = _locked(proposal)
        review_check(proposal=proposal, reviewer=reviewer)
        errors = {}
        for criterion, value in (scores or {}).items():
            if criterion.fund_id != proposal.fund_id:
                errors[criterion.name] = _("This criterion belongs to another fund.")
            elif value is None or not 0 <= int(value) <= criterion.max_score:
                errors[criterion.name] = _("Score %(name)s between 0 and %(max)s.") % {
                    "name": criterion.name,
                    "max": criterion.max_score,
                }
        if errors:
            raise RuleViolation(list(errors.values()), code="score_out_of_range")
        review = Review.objects.filter(proposal=proposal, reviewer=reviewer).first() or Review(
            proposal=proposal, reviewer=reviewer
        )
        review.recommendation, review.comment, review.score = recommendation, comment, score
        review.full_clean()  # before saving: a score over 10 is a ValidationError, not an IntegrityError
        review._history_user = reviewer
        review.save()
        current = {row.criterion_id: row for row in review.scores.all()}
        for criterion, value in (scores or {}).items():
            row = current.get(criterion.pk) or ReviewScore(review=review, criterion=criterion)
            if row.pk and row.score == int(value):
                continue
            row.score = int(value)
            row._history_user = reviewer
            row.save()
        return review


def membership_is_active(cop: CoP, organisation: Organisation) -> bool:
    return Membership.objects.filter(Membership.active_q(), cop=cop, organisation=organisation).exists()
