"""The accessibility and weak-connection sweep: every page of the portal and the admin (found from
the URL configuration, see sweep.py), as every role, in English and Khmer, at 360 and 1280 px.

For each page it records, and fails on:
- axe-core violations of serious or critical impact (WCAG 2.1 AA and axe's best practices);
- horizontal overflow at 360 px or 1280 px;
- bytes transferred (compressed, as Chromium counts them): the first load with an empty cache
  over FIRST_LOAD_BUDGET, a later load (static files cached) over LATER_LOAD_BUDGET;
- a web font of a script that is not on the page (Khmer or Lao fonts downloaded for nothing);
- a Content-Security-Policy violation reported by the browser;
- a page not in the language asked for (<html lang>).

A page that answers with the login page, a 403 or a 404 is the same page as every other such
answer: it is checked once per language and counted, not checked again.

The figures of every page go to test-results/sweep-<language>-<database>.md (and a summary to
the terminal), for the issue's closing note.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import resolve
from django.urls.exceptions import Resolver404

from tests.browser import sweep
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    SERIOUS,
    TEST_ONLY_PATH,
    BytesRecorder,
    format_violations,
    horizontal_overflow,
    login,
    run_axe,
)

FIRST_LOAD_BUDGET = 200 * 1024
LATER_LOAD_BUDGET = 40 * 1024
DEMO_PASSWORD = "ccop-demo-2026"  # ccop/management/commands/seed_demo.py
REPORT_DIR = Path(settings.BASE_DIR) / "test-results"

# Where the sweep's findings for the terminal summary are kept (see tests/browser/conftest.py).
SUMMARIES: list[str] = []
TIMINGS: Counter = Counter()  # seconds spent per phase, for the summary
HEADING_SCRIPTS = {  # font family -> its script's characters (Python patterns)
    "Noto Sans Khmer": "[\u1780-\u17ff\u19e0-\u19ff]",
    "Noto Sans Lao": "[\u0e80-\u0eff]",
}
FONTS_SEEN: Counter = Counter()  # headings in Khmer or Lao seen drawn with the portal's font


@dataclass
class Visit:
    role: str
    target: sweep.Target
    status: int | None = None
    final_path: str = ""
    same_as: str = ""  # a page already checked (login, 403, 404)
    first_bytes: int = 0
    later_bytes: int = 0
    serious: list = field(default_factory=list)
    minor_count: int = 0
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # font observations: reported, not failing (yet)


def roles(scenario) -> dict[str, object | None]:
    """The roles of DESIGN.md, as demo people (None: a visitor, not logged in), and the
    superuser. The permission matrix (tests/security) adds the variants that only change what a
    role may reach (staff of a member that is not an applicant or of an outside organisation, a
    committee member with a conflict, the other programme's facilitator); their pages are these."""
    from ccop.models import User

    applicant_orgs = [a.organisation_id for a in scenario.draft.applicants.all()]
    staff = User.objects.filter(role=User.Role.GRANTEE_STAFF, is_active=True).order_by("username")
    return {
        "visitor": None,
        "grantee staff": staff.filter(organisation_id__in=applicant_orgs).first(),
        "committee member": User.objects.get(username="sophal.committee"),
        "facilitator": User.objects.get(username="channary.llc"),
        "superuser": User.objects.get(username="admin"),
    }


def build_scenario() -> sweep.Scenario:
    """The demo data (seed_demo), plus an open invitation."""
    from activities.models import ActivityReport
    from ccop import services as ccop_services
    from ccop.models import Organisation, User
    from proposals.models import Proposal

    call_command("seed_demo", verbosity=0)
    by_status = lambda status: Proposal.objects.filter(status=status).order_by("pk").first()  # noqa: E731
    facilitator = User.objects.get(username="channary.llc")
    organisation = Organisation.objects.filter(
        country_programme=facilitator.country_programme, kind=Organisation.Kind.GRANTEE
    ).first()
    _, link = ccop_services.invitation_send(
        email="new.person@example.org", organisation=organisation, acting_user=facilitator
    )
    submitted = (
        Proposal.objects.filter(versions__isnull=False)
        .exclude(status=Proposal.Status.DRAFT)
        .order_by("pk")
        .first()
    )
    reports = ActivityReport.objects.filter(grant__isnull=False).order_by("pk")
    return sweep.Scenario(
        grant=reports.first().grant,
        report_published=reports.filter(status=ActivityReport.Status.PUBLISHED).first(),
        report_submitted=reports.filter(status=ActivityReport.Status.SUBMITTED).first(),
        report_draft=reports.filter(status=ActivityReport.Status.DRAFT).first(),
        draft=by_status(Proposal.Status.DRAFT),
        under_review=by_status(Proposal.Status.UNDER_REVIEW),
        approved=by_status(Proposal.Status.APPROVED),
        submitted_with_versions=submitted,
        invitation_token=resolve(urlsplit(link).path).kwargs["token"],
        reset_user=User.objects.get(username="sokha.wpm"),
    )


def test_every_url_pattern_has_a_sweep_kind():
    missing = sweep.unclassified()
    assert not missing, (
        "URL patterns the accessibility sweep does not know; add each to PORTAL (or a rule) in "
        "tests/browser/sweep.py, as PAGE if it is an HTML page:\n"
        + "\n".join(f"  {p.name}  ({p.route})" for p in missing)
    )


@pytest.mark.parametrize("language", ["en", "km"])
def test_every_page_as_every_role(language, browser, live_server, chromium_executable):
    scenario = build_scenario()
    people = roles(scenario)
    if language != "en":
        from ccop.models import User

        User.objects.update(preferred_language=language)
    targets = sweep.page_targets(scenario)
    assert len({t.name for t in targets}) >= 100, "the sweep found fewer pages than the portal has"
    if os.environ.get("CCOP_SWEEP_PAGES"):  # while working on some pages: a regular expression
        targets = [t for t in targets if re.search(os.environ["CCOP_SWEEP_PAGES"], t.name)]

    visits: list[Visit] = []
    skipped = 0
    checked: dict[str, str] = {}  # answer kind (login, 403, 404) -> the first page that showed it
    for role, user in people.items():
        assert role == "visitor" or user is not None, f"the demo data has no {role}"
        context = browser.new_context(
            viewport=PHONE, locale=language, reduced_motion="reduce", base_url=live_server.url
        )
        context.set_default_timeout(15_000)
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        )
        context.add_init_script(_CSP_LISTENER)
        page = context.new_page()
        recorder = BytesRecorder(page)  # from the first request: it learns each file's size on the wire
        if user is not None:
            login(page, live_server, user, password=DEMO_PASSWORD)
        for target in targets:
            if (
                not _may_enter_admin(user)
                and target.name.startswith("admin:")
                and target.name not in ADMIN_DOORS
            ):
                skipped += 1  # the admin's login page, checked at its door; the matrix checks every answer
                continue
            visits.append(_visit(page, recorder, role, target, language, checked))
        context.close()

    report = _report(visits, language, skipped)
    SUMMARIES.append(report.summary)
    failures = [v for v in visits if v.findings]
    assert not failures, (
        f"{len(failures)} of {len(visits)} page visits in {language} have findings "
        f"(full figures in {report.path}):\n" + "\n\n".join(_describe(v) for v in failures[:40])
    )


_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || ''}:${e.lineNumber || ''}`);
});
"""


def _visit(
    page, recorder: BytesRecorder, role: str, target: sweep.Target, language: str, checked: dict
) -> Visit:
    """One navigation: the bytes it really transfers are the later-load figure (static files
    cached by the pages before); its first-load figure adds what each cached file cost on the
    wire when it was first fetched (recorder.first_load)."""
    visit = Visit(role=role, target=target)
    started = time.perf_counter()
    recorder.reset()
    response = page.goto(target.url)
    recorder.settle_loaded()
    TIMINGS["load"] += time.perf_counter() - started
    visit.status = response.status if response else None
    visit.final_path = urlsplit(page.url).path
    visit.later_bytes = recorder.later_load(_kept_in_cache)
    visit.first_bytes = recorder.first_load
    for transfer in recorder.transfers:
        if _is_static(transfer) and not transfer.from_cache and not _kept_in_cache(transfer):
            visit.findings.append(
                f"static file without long cache headers: {transfer.url} ({transfer.cache_control!r})"
            )

    answer = _answer_kind(visit)
    if answer in checked:
        visit.same_as = checked[answer]
        return visit
    if answer:
        checked[answer] = f"{role} {target.url}"

    if visit.status and visit.status >= 500:
        visit.findings.append(f"server error {visit.status}")
        return visit
    lang = page.evaluate("() => document.documentElement.lang")
    if lang != language:
        visit.findings.append(f'<html lang="{lang}">, asked for {language}')

    csp = [v for v in page.evaluate("() => window.__cspViolations || []") if TEST_ONLY_PATH not in v]
    if csp:
        visit.findings.append("Content-Security-Policy violations: " + "; ".join(csp[:5]))

    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.evaluate("() => new Promise(requestAnimationFrame)")
        started = time.perf_counter()
        key = page.evaluate(_STRUCTURE)
        if key not in AXE_RESULTS:
            AXE_RESULTS[key] = run_axe(page, options={"resultTypes": ["violations"]})
        else:
            TIMINGS["axe results reused"] += 1
        violations = AXE_RESULTS[key]
        TIMINGS["axe"] += time.perf_counter() - started
        serious = [v for v in violations if v.get("impact") in SERIOUS]
        visit.minor_count += len(violations) - len(serious)
        if serious:
            visit.serious.extend(serious)
            visit.findings.append(f"at {viewport['width']} px: " + format_violations(serious))
        overflow = horizontal_overflow(page)
        if overflow:
            visit.findings.append(f"at {viewport['width']} px: {overflow}")
    page.set_viewport_size(PHONE)

    started = time.perf_counter()
    heading = page.evaluate("() => document.querySelector('main h1')?.textContent || ''")
    in_heading = [family for family, script in HEADING_SCRIPTS.items() if re.search(script, heading)]
    if in_heading:
        drawn_with = recorder.fonts_drawing("main h1")
        for family in in_heading:
            if family in drawn_with:
                FONTS_SEEN[family] += 1
            else:
                visit.notes.append(
                    f"the heading {heading.strip()!r} is drawn with {drawn_with}, not {family}"
                )
    requested = {family for family, file in FONT_FILES.items() for t in recorder.transfers if file in t.url}
    if requested:
        text = page.evaluate("() => document.body.textContent + document.title")  # a select's options too
        for family in sorted(requested):
            if not re.search(HEADING_SCRIPTS[family], text):
                visit.notes.append(f"asks for the {family} font but shows no character of its script")
    TIMINGS["checks"] += time.perf_counter() - started

    if visit.first_bytes > FIRST_LOAD_BUDGET:
        visit.findings.append(
            f"first load {visit.first_bytes / 1024:.1f} KB > {FIRST_LOAD_BUDGET // 1024} KB:\n"
            + recorder.summary()
        )
    if visit.later_bytes > LATER_LOAD_BUDGET:
        visit.findings.append(
            f"later load {visit.later_bytes / 1024:.1f} KB > {LATER_LOAD_BUDGET // 1024} KB:\n"
            + recorder.summary()
        )
    return visit


# axe-core's verdict depends on the page's structure, not on its words: the elements, their
# classes, roles, types and ARIA attributes, which are visible, which have text and which are
# labelled. A page with the same structure as one already checked (the same admin form seen by
# two roles or at both widths when nothing shows or hides, the same page in English and Khmer)
# gets the same verdict, so axe runs once per structure. Identical siblings (table rows, list
# items) count once, and siblings count in any order (the admin sorts its menu by translated
# names); axe's rules that read the order (heading-order) are moderate, not failing ones.
# The words are checked where they matter on every page: the language (<html lang>), overflow,
# and fonts.
AXE_RESULTS: dict[str, list[dict]] = {}
_STRUCTURE = """() => {
  const describe = (el) => {
    const attrs = [...el.attributes]
      .filter(a => a.name.startsWith('aria-') || ['role', 'type', 'class', 'tabindex', 'for', 'alt', 'title', 'scope', 'disabled', 'readonly', 'hidden', 'open'].includes(a.name))
      .map(a => ['class', 'role', 'type', 'scope'].includes(a.name) ? `${a.name}=${a.value}` : a.name)
      .sort().join(',');
    const style = getComputedStyle(el);
    const shown = style.display !== 'none' && style.visibility !== 'hidden' ? 'v' : 'h';
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) ? 't' : '';
    const labelled = el.labels && el.labels.length ? 'l' : '';
    const inner = [...new Set([...el.children].map(describe))].sort();
    return `<${el.tagName}${attrs ? ' ' + attrs : ''} ${shown}${text}${labelled}>${inner.join('')}`;
  };
  return describe(document.body);
}"""


# The font files the page asks for (from the network or the cache): Chromium asks for a web font
# only when the page has a character in its unicode-range.
FONT_FILES = {"Noto Sans Khmer": "/fonts/NotoSansKhmer-", "Noto Sans Lao": "/fonts/NotoSansLao-"}


# People without admin access get the admin's login page at every admin URL (the permission
# matrix, tests/security, checks each answer): the sweep visits the admin's doors only.
ADMIN_DOORS = {"admin:index", "admin:login"}


def _may_enter_admin(user) -> bool:
    return user is not None and user.is_active and user.is_staff


def _is_static(transfer) -> bool:
    return urlsplit(transfer.url).path.startswith(settings.STATIC_URL)


def _kept_in_cache(transfer) -> bool:
    """A static file whose headers let a browser keep it a year (whitenoise's hashed names)."""
    match = re.search(r"max-age=(\d+)", transfer.cache_control)
    return _is_static(transfer) and bool(match) and int(match.group(1)) >= 365 * 24 * 3600


def _answer_kind(visit: Visit) -> str:
    """'login', '403', '404' for the answers that are one page whatever the URL; else ''."""
    if visit.status in (403, 404, 405):
        return str(visit.status)
    try:
        name = resolve(visit.final_path).view_name
    except Resolver404:
        return ""
    if name in ("login", "admin:login") and visit.target.name != name:
        return f"{name} (asked to log in)"
    if name == "admin:index" and visit.target.name != "admin:index":
        return "admin index (object not found)"
    return ""


def _describe(visit: Visit) -> str:
    head = f"[{visit.role}] {visit.target.name} {visit.target.label} {visit.target.url} -> {visit.status}"
    return head + "\n  " + "\n  ".join(f.replace("\n", "\n  ") for f in visit.findings)


@dataclass
class Report:
    path: Path
    summary: str


def _report(visits: list[Visit], language: str, skipped: int) -> Report:
    REPORT_DIR.mkdir(exist_ok=True)
    database = connection.vendor
    path = REPORT_DIR / f"sweep-{language}-{database}.md"
    checked = [v for v in visits if not v.same_as]
    lines = [
        f"# Sweep ({language}, {database}): {len(visits)} visits, {len(checked)} pages checked "
        f"at 360 and 1280 px, {len(visits) - len(checked)} answered with a page already checked",
        "",
        "| role | page | variant | status | first load KB | later load KB | axe serious | axe minor | findings |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in visits:
        lines.append(
            f"| {v.role} | {v.target.name} | {v.target.label} | {v.status} "
            f"| {v.first_bytes / 1024:.1f} | {v.later_bytes / 1024:.1f} | {len(v.serious)} | {v.minor_count} "
            f"| {('same as ' + v.same_as) if v.same_as else len(v.findings)} |"
        )
    lines += ["", "## Findings", ""] + [_describe(v) for v in visits if v.findings]
    lines += ["", "## Font notes (not failing yet)", ""] + [
        f"[{v.role}] {v.target.name} {v.target.url}: " + "; ".join(v.notes) for v in visits if v.notes
    ]
    path.write_text("\n".join(lines) + "\n")
    first = [v.first_bytes for v in checked]
    later = [v.later_bytes for v in checked]
    heaviest = max(checked, key=lambda v: v.first_bytes)
    summary = (
        f"sweep {language}/{database}: {len(visits)} visits ({len(checked)} pages checked × 2 widths, "
        f"{len(visits) - len(checked)} login/403/404 answers, {skipped} admin URLs not visited by people "
        f"without admin access); first load KB median "
        f"{statistics.median(first) / 1024:.1f}, max {max(first) / 1024:.1f} ({heaviest.target.name} as "
        f"{heaviest.role}); later load KB median {statistics.median(later) / 1024:.1f}, max "
        f"{max(later) / 1024:.1f}; pages with findings: {sum(1 for v in visits if v.findings)}; "
        f"minor/moderate axe violations: {sum(v.minor_count for v in checked)}; font notes: "
        f"{sum(1 for v in visits if v.notes)}; headings drawn with "
        + ", ".join(f"{family} {n}" for family, n in FONTS_SEEN.items())
        + "; seconds: "
        + ", ".join(f"{k} {t:.0f}" for k, t in TIMINGS.items())
        + f"; figures: {path}"
    )
    return Report(path=path, summary=summary)


if os.environ.get("CCOP_SWEEP_ROLES"):  # while working on one role: CCOP_SWEEP_ROLES="committee,superuser"
    _all_roles = roles

    def roles(scenario):  # noqa: F811
        wanted = {r.strip() for r in os.environ["CCOP_SWEEP_ROLES"].split(",")}
        return {k: v for k, v in _all_roles(scenario).items() if k in wanted}
