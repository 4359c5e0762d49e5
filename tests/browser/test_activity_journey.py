"""An activity report in a real browser, from a phone: a CoP's staff files a workshop report with
participants by rightsholder group and two photos at 360 px, submits it; the facilitator sends
it back once with a comment; the staff change it (their text was kept) and submit again; the
facilitator accepts and publishes it. Every page on the way: no serious axe violation, nothing
wider than the screen; the photos come through the permission-checked view."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import Page, expect

from activities.models import ActivityReport
from ccop.models import RightsholderGroup, User
from ccop.roles import user_set_role
from proposals import services as proposal_services
from tests.browser.conftest import ACTION_TIMEOUT_MS
from tests.browser.helpers import (
    PHONE,
    assert_no_horizontal_overflow,
    assert_no_serious_axe_violations,
    login,
)
from tests.factories import (
    CoPFactory,
    CountryProgrammeFactory,
    FacilitatorFactory,
    FundFactory,
    UserFactory,
    grantee_with_staff,
)

pytestmark = pytest.mark.browser
S = ActivityReport.Status


def check_page(page: Page) -> None:
    assert_no_serious_axe_violations(page)
    assert_no_horizontal_overflow(page)


def phone_page(new_context) -> Page:
    context = new_context(viewport=PHONE, locale="en", reduced_motion="reduce")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context.new_page()


def submit(page: Page, action) -> None:
    with page.expect_navigation():
        action()
    page.wait_for_load_state()


def photo(colour) -> dict:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), colour).save(out, "JPEG")
    return {"name": "workshop.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


@pytest.fixture
def grant(transactional_db):
    """A CoP with two member organisations and an approved grant (through the services) whose
    proposal plans the workshop, and the programme's facilitator."""
    programme = CountryProgrammeFactory()
    cop = CoPFactory(name="CoP-Women", country_programme=programme)
    fund = FundFactory(name="CCoP fund", country_programme=programme)
    staff = [grantee_with_staff(cop, "AUA"), grantee_with_staff(cop, "WPM")]
    groups = {g.code: g for g in RightsholderGroup.objects.all()}
    proposal = proposal_services.proposal_create(
        cop=cop,
        fund=fund,
        title="Women's Voice towards Inclusive",
        acting_user=staff[0],
        applicants=[s.organisation for s in staff],
        problem_analysis="Stigma and identity-based discrimination.",
        objectives="A safe space for the five rightsholder groups.",
        provinces="Rattanakiri",
        starts_on=datetime.date(2023, 10, 1),
        ends_on=datetime.date(2024, 3, 31),
        budget_option=1,
        target_groups=list(groups.values()),
    )
    activity = proposal_services.activity_add(
        proposal=proposal,
        acting_user=staff[0],
        title="Community Solidarity for Women Empowerment",
        agenda="08:30 Welcome\n09:00 Life stories",
        starts_on=datetime.date(2023, 10, 29),
        ends_on=datetime.date(2023, 10, 29),
        place="Rattanakiri",
        participants={groups["women"]: 12, groups["indigenous"]: 10},
    )
    proposal_services.budget_line_add(
        proposal=proposal,
        acting_user=staff[0],
        activity=activity,
        category="venue",
        description="Venue",
        unit="day",
        quantity=Decimal("1"),
        unit_cost=Decimal("500"),
        currency="EUR",
    )
    for person in staff:
        proposal_services.proposal_endorse(proposal=proposal, acting_user=person)
    proposal_services.proposal_submit(proposal=proposal, acting_user=staff[0])
    committee = user_set_role(user=UserFactory(country_programme=programme), role=User.Role.COMMITTEE_MEMBER)
    proposal_services.proposal_start_review(proposal=proposal, acting_user=committee)
    proposal_services.proposal_approve(proposal=proposal, acting_user=committee, reasons="Relevant.")
    facilitator = user_set_role(
        user=FacilitatorFactory(country_programme=programme, first_name="Channary"),
        role=User.Role.FACILITATOR,
    )
    proposal.refresh_from_db()
    return SimpleNamespace(grant=proposal.grant, staff=staff, facilitator=facilitator)


def test_a_workshop_report_from_a_phone_sent_back_once_then_accepted_and_published(
    page, live_server, new_context, grant
):
    page.set_viewport_size(PHONE)
    # --- the CoP's staff file the report from the home page
    login(page, live_server, grant.staff[0])
    page.get_by_role("link", name="File a report").first.click()
    page.wait_for_url(
        lambda url: urlsplit(url).path == reverse("activities:report-create", args=[grant.grant.pk])
    )
    check_page(page)
    page.get_by_label("Title").fill("Community Solidarity for Women Empowerment")
    page.get_by_label("Kind of activity").select_option("workshop")
    page.get_by_label("Planned activity it delivers").select_option(
        label="Community Solidarity for Women Empowerment"
    )
    page.get_by_label("First day").fill("2023-10-29")
    page.get_by_label("Last day").fill("2023-10-29")
    page.get_by_label("Province").fill("Rattanakiri")
    page.get_by_label("What happened").fill(
        "Each representative of the five rightsholder groups shared their life story; participants asked "
        "the authorities for ID-Poor and disability identification cards."
    )
    page.get_by_label("Participants in all").fill("45")
    page.get_by_label("Women", exact=True).fill("30")
    page.get_by_label("Men", exact=True).fill("12")
    page.get_by_label("Women facing exploitation, abuse and/or violence").fill("30")
    page.get_by_label("Indigenous peoples and ethnic minorities").fill("18")
    page.get_by_label("People with disabilities", exact=True).first.fill("9")
    page.locator("#id_stakeholders-0-kind").select_option("provincial")
    page.locator("#id_stakeholders-0-name").fill("Department of Women's Affairs")
    page.locator("#id_photos-0-photo").set_input_files(photo((200, 80, 40)))
    page.locator("#id_photos-0-description").fill("Participants sitting in a circle, sharing their stories")
    page.locator("#id_photos-1-photo").set_input_files(photo((40, 80, 200)))
    page.locator("#id_photos-1-description").fill("The indigenous peoples' group presenting")
    assert_no_horizontal_overflow(page)
    submit(page, lambda: page.get_by_role("button", name="Save the draft").click())
    report = ActivityReport.objects.get()
    assert urlsplit(page.url).path == reverse("activities:report-detail", args=[report.pk])
    expect(page.locator("main .alert-success")).to_contain_text("Report saved as a draft")
    images = page.locator(".photo-grid img")
    expect(images).to_have_count(2)
    for image in images.all():
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000
        )
    check_page(page)
    submit(page, lambda: page.get_by_role("button", name="Submit to the facilitators").click())
    expect(page.locator("main .alert-success")).to_contain_text("Report submitted")
    report.refresh_from_db()
    assert report.status == S.SUBMITTED and report.participants.count() == 3 and report.photos.count() == 2

    # --- the facilitator sends it back once, from a phone too
    facilitator = phone_page(new_context)
    login(facilitator, live_server, grant.facilitator)
    facilitator.get_by_role("link", name="Community Solidarity for Women Empowerment").first.click()
    facilitator.wait_for_load_state()
    check_page(facilitator)
    facilitator.get_by_label("Comment for the CoP").fill(
        "Please add the stakeholders who spoke, and the men's number."
    )
    submit(facilitator, lambda: facilitator.get_by_role("button", name="Send back").click())
    expect(facilitator.locator("main .alert-success")).to_contain_text("Report sent back")

    # --- the staff see why, change the report (their text is there) and submit again
    page.goto(live_server.url + reverse("home"))
    page.get_by_role("link", name="Community Solidarity for Women Empowerment").first.click()
    page.wait_for_load_state()
    expect(page.locator("main .send-back-comment")).to_contain_text("the men's number")
    check_page(page)
    page.locator("main .alert-warning").get_by_role("link", name="Change the report").click()
    page.wait_for_load_state()
    expect(page.get_by_label("What happened")).to_have_value(
        "Each representative of the five rightsholder groups shared their life story; participants asked "
        "the authorities for ID-Poor and disability identification cards."
    )
    page.get_by_label("Men", exact=True).fill("15")
    page.locator("#id_stakeholders-1-kind").select_option("local")
    page.locator("#id_stakeholders-1-name").fill("Banlung commune council")
    submit(page, lambda: page.get_by_role("button", name="Save the draft").click())
    submit(page, lambda: page.get_by_role("button", name="Submit to the facilitators").click())
    report.refresh_from_db()
    assert report.status == S.SUBMITTED and report.men == 15 and report.stakeholders.count() == 2

    # --- the facilitator accepts and publishes it
    facilitator.reload()
    submit(facilitator, lambda: facilitator.get_by_role("button", name="Accept").click())
    expect(facilitator.locator("main .alert-success")).to_contain_text("Report accepted")
    submit(facilitator, lambda: facilitator.get_by_role("button", name="Publish").click())
    expect(facilitator.locator("main .alert-success")).to_contain_text("Report published")
    expect(facilitator.locator("main h1 + p .status-badge")).to_contain_text("Published")
    check_page(facilitator)
    report.refresh_from_db()
    assert report.status == S.PUBLISHED and report.published_by == grant.facilitator
    assert [t.to_status for t in report.transitions.all()] == [
        S.SUBMITTED,
        S.SENT_BACK,
        S.SUBMITTED,
        S.ACCEPTED,
        S.PUBLISHED,
    ]
