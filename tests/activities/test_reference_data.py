"""The reference fixtures read back against the seed texts (tests/activities/seeds/, copies of
the public documents; line numbers are the originals'): the six Cambodian CoPs and their members,
the booklet's activities with their dates and places, outputs, lessons and themes. No figure in
them is invented: a number of participants is there only where a seed gives it."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from activities.models import ActivityReport, Lesson, LessonTheme, Output, ReportParticipation
from ccop.models import CoP, CountryProgramme, Membership, Organisation

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).parent / "seeds"
BOOKLET = (SEEDS / "001_booklet_cambodian_cop.txt").read_text(encoding="utf-8").split("\n")
ARTICLE = (SEEDS / "003_article_rattanakiri.txt").read_text(encoding="utf-8").split("\n")
FIXTURES = ("reference_programmes", "reference_cops", "booklet")


def plain(text: str) -> str:
    """Quotes and spaces as a comparison should ignore them."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip()


def bare(title: str) -> str:
    """A title without its quotes and emphasis marks."""
    return re.sub(r"\s+", " ", re.sub(r'[*"]', "", plain(title))).strip()


SEED_TEXT = plain("\n".join(BOOKLET + ARTICLE))


def line(n: int) -> str:
    """Line n of the booklet (001)."""
    return BOOKLET[n - 1].strip()


@pytest.fixture
def loaded(db):
    call_command("loaddata", *FIXTURES, verbosity=0)


# --------------------------------------------------------------------------- CoPs and members

# CoP code -> (the booklet's heading line, its "Members:" lines, the acronyms in the fixture).
# "WWD-LAN/KHEN" is two members and "OPA/HAC" is read as the Older People's Association working
# with HelpAge Cambodia (fixtures/README.md).
COPS = {
    "cop-lgbtiq": (203, "CoP-LGBTQIA+ People", (217, 218), {"LiD", "WPM"}),
    "cop-women": (
        226,
        "◆ CoP-Women",
        range(251, 258),
        {"AUA", "WPM", "LKO", "WWD-LAN", "KHEN", "CIPL", "SLA"},
    ),
    "cop-dic": (
        264,
        "CoP-Disability Identity Card",
        range(285, 290),
        {"WWD-LAN", "KHEN", "RSDOB", "RSO", "DDSP"},
    ),
    "cop-art-mh": (291, "CoP-Art & Mental Health and Sign Language for All", (303, 304), {"AMH", "SLA"}),
    "cop-elderly-pwd": (
        310,
        "CoP - Elderly & People with disability",
        range(324, 328),
        {"WWD-LAN", "KHEN", "HAC", "OPA", "LKO"},
    ),
    "cop-ip": (342, "CoP-Indigenous People", (356, 357), {"OPKC", "PHUMASIA"}),
}


def test_the_six_cambodian_cops_with_exactly_the_booklets_members(loaded):
    cambodia = CountryProgramme.objects.get(code="KH")
    assert set(CoP.objects.filter(country_programme=cambodia).values_list("code", flat=True)) == set(COPS)
    for code, (heading_line, heading, member_lines, acronyms) in COPS.items():
        assert line(heading_line) == heading
        members = {
            m.organisation for m in Membership.objects.filter(cop__code=code).select_related("organisation")
        }
        assert {o.acronym for o in members} == acronyms, code
        listed = " ".join(line(n) for n in member_lines)
        for organisation in members:
            assert (
                organisation.acronym in listed
                or organisation.name in listed
                or (organisation.acronym == "HAC" and "Help Age Cambodia" in listed)
            ), (code, organisation.acronym, listed)
    assert set(cambodia.facilitators.values_list("acronym", flat=True)) == {"LLC"}


def test_every_member_organisation_is_named_in_the_seeds(loaded):
    for organisation in Organisation.objects.filter(memberships__isnull=False).distinct():
        assert plain(organisation.name) in SEED_TEXT or organisation.acronym in SEED_TEXT, organisation


# --------------------------------------------------------------------------- activities

# reference -> (booklet line of the title, of the dates and place; the dates and province stored)
ACTIVITIES = {
    "booklet-cop-women-solidarity": (385, 387, "29th October 2023, Rattanakiri Province", (2023, 10, 29), (2023, 10, 29), "day", "Rattanakiri"),
    "booklet-cop-women-freedom": (409, 411, "11th - 12th December 2023, Rattanakiri Province", (2023, 12, 11), (2023, 12, 12), "day", "Rattanakiri"),
    "booklet-cop-women-sign-language": (434, 436, "25th - 26th February 2024, Rattanakiri Province", (2024, 2, 25), (2024, 2, 26), "day", "Rattanakiri"),
    "booklet-cop-women-womens-day": (447, 449, "5th February 2024, Rattanakiri Province", (2024, 2, 5), (2024, 2, 5), "day", "Rattanakiri"),
    "booklet-cop-ip-kui": (457, 459, "January - March 2024, Kompong Thom", (2024, 1, 1), (2024, 3, 31), "month", "Kompong Thom"),
    "booklet-cop-elderly-pwd-mother": (477, 479, "1st - 2nd of March 2024, Battambang", (2024, 3, 1), (2024, 3, 2), "day", "Battambang"),
    "booklet-cop-lgbtiq-journey": (485, 487, "February - May 2024, Phnom Penh", (2024, 2, 1), (2024, 5, 31), "month", "Phnom Penh"),
    "booklet-cop-dic-research": (505, 507, "January - May 2024", (2024, 1, 1), (2024, 5, 31), "month", ""),
    "booklet-cop-art-mh-paint": (521, 523, "May 26 2024, Phnom Penh", (2024, 5, 26), (2024, 5, 26), "day", "Phnom Penh"),
}  # fmt: skip


def test_the_booklets_activities_with_their_dates_and_places(loaded):
    reports = {r.reference: r for r in ActivityReport.objects.all()}
    assert set(reports) == set(ACTIVITIES)
    for reference, (title_line, date_line, printed, first, last, precision, province) in ACTIVITIES.items():
        report = reports[reference]
        assert line(date_line) == printed, reference
        assert bare(line(title_line)) == bare(report.title), reference
        assert (report.starts_on, report.ends_on) == (datetime.date(*first), datetime.date(*last)), reference
        assert report.date_precision == precision
        assert report.province == province and (not province or province in printed), reference
        assert report.status == ActivityReport.Status.PUBLISHED and report.source and report.grant is None
    assert line(477) == "“Amplify the Voice of Community through Theatre” ***“MOTHER”***"


def test_descriptions_are_the_seeds_own_words(loaded):
    for report in ActivityReport.objects.all():
        for paragraph in report.description.split("\n\n"):
            assert plain(paragraph) in SEED_TEXT, (report.reference, paragraph[:80])


def test_the_rattanakiri_workshop_follows_the_article_and_says_where_the_dates_differ(loaded):
    report = ActivityReport.objects.get(reference="booklet-cop-women-solidarity")
    assert "conducted on 28th October 2023" in ARTICLE[18 - 1]  # 003 line 18
    assert "29 October 2023" in report.source and "28 October 2023" in report.source
    assert plain(ARTICLE[31 - 1]) in plain(report.description)  # the requests to the authorities


def test_no_figure_is_invented(loaded):
    totals = {
        r.reference: (r.participants_total, r.participants_approximate) for r in ActivityReport.objects.all()
    }
    given = {k: v for k, v in totals.items() if v[0] is not None}
    assert given == {"booklet-cop-women-womens-day": (89, True), "booklet-cop-ip-kui": (1000, True)}
    assert "Around 89 participants" in line(451) and "over a thousand participants" in line(461)
    for report in ActivityReport.objects.all():
        assert all(v is None for v in report.gender_parts.values())
    assert not ReportParticipation.objects.exists()
    for output in Output.objects.all():
        assert output.produced_on is None and output.url == "" and output.languages == "" and not output.file


def test_stakeholders_are_those_the_booklet_names(loaded):
    report = ActivityReport.objects.get(reference="booklet-cop-women-womens-day")
    names = [s.name for s in report.stakeholders.all()]
    assert names == [
        "National AIDS Authority",
        "Ratanakkiri Provincial Hall",
        "Department of Women's Affairs",
        "Department of Health",
        "Ratanakkiri Provincial Department of Social Affairs",
    ]
    assert all(name in line(451) for name in names)
    assert "Banlung City Kindergarten" in line(451) and report.place == "Banlung City Kindergarten"


# --------------------------------------------------------------------------- outputs, lessons, themes


def test_outputs_are_the_booklets(loaded):
    outputs = list(Output.objects.select_related("report", "cop"))
    assert len(outputs) == 11
    for output in outputs:
        assert plain(output.title) in SEED_TEXT, output.title
        assert output.report.cop == output.cop
    research = Output.objects.get(reference="booklet-cop-dic-findings")
    assert research.kind == "report" and plain(line(517)) in plain(research.findings)  # schools
    assert len(research.findings.split("\n\n")) == 6


def test_lessons_are_quoted_from_the_seeds_with_their_stage_and_themes(loaded):
    lessons = list(Lesson.objects.prefetch_related("themes"))
    assert len(lessons) == 8
    for lesson in lessons:
        assert plain(lesson.text) in SEED_TEXT, lesson.text[:80]
        assert lesson.stage in ("explore", "test", "reflect") and lesson.themes.exists()
    explore = Lesson.objects.get(stage="explore")
    assert explore.cop.code == "cop-women" and explore.report is None and line(186) == explore.text


def test_themes_are_the_words_of_the_booklets_lessons_learned(loaded):
    cloud = plain(" ".join(BOOKLET[623:654])).lower()
    assert "lessons learned" in cloud and "tax regulation" in cloud
    read_as = {"resources": "recourses"}  # the booklet's spelling
    for theme in LessonTheme.objects.all():
        assert theme.country_programme is None
        for word in re.findall(r"[a-z-]+", theme.name.lower()):
            if word in ("the", "and", "of", "in", "ccop"):
                continue
            assert read_as.get(word, word).rstrip("s").replace("-", "") in cloud.replace("-", ""), (
                theme.name,
                word,
            )


def test_loading_twice_changes_nothing(loaded):
    def counts():
        return [
            m.objects.count()
            for m in (Organisation, CoP, Membership, ActivityReport, Output, Lesson, LessonTheme)
        ] + [sum(r.stakeholders.count() for r in ActivityReport.objects.all())]

    before = counts()
    call_command("loaddata", *FIXTURES, verbosity=0)
    assert counts() == before
