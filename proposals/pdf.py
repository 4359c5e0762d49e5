"""The proposal PDF: the official record of an approved proposal (rendered once, by
`services.proposal_approve`, and stored on the grant) and the DRAFT preview of one that is not
approved.

Everything on the page comes from the snapshot (`services.proposal_snapshot`, frozen as
`Decision.approved_version` for an approval) plus the CoP, its programme and its members as they
are when the PDF is rendered. Fonts are the ones shipped under `static/fonts/`, fetched by
`StaticFileFetcher`, which serves files under `static/` and nothing else: rendering never touches
the network, and a font that cannot be loaded stops the rendering instead of silently drawing
Khmer as boxes."""

from __future__ import annotations

import datetime
import functools
import logging
import mimetypes
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pydyf
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint import draw as weasyprint_draw
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ccop import money
from ccop.models import Organisation, RightsholderGroup

from .models import BudgetLine, Decision, Proposal
from .selectors import BudgetSummary

logger = logging.getLogger(__name__)

STATIC_DIR = Path(settings.BASE_DIR) / "static"
TEMPLATE = "proposals/pdf/proposal.html"


class StaticFileFetcher(URLFetcher):
    """Serve `file:` URLs of files under `root` (the project's `static/` folder); refuse
    everything else (http, https, data, other files). Any failure is fatal
    (`fail_on_errors=True`), so a missing font fails the rendering rather than producing tofu."""

    def __init__(self, root: Path = STATIC_DIR, **kwargs):
        kwargs.setdefault("fail_on_errors", True)
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, **kwargs)
        self.root = Path(root).resolve()
        self.fetched: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"Only files under {self.root} are served to the PDF renderer, not {url!r}")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"{url!r} is not a file under {self.root}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.fetched.append(path.relative_to(self.root).as_posix())
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


# Scripts whose shaping reorders or merges glyphs (Khmer, Lao, Thai, Myanmar, Indic).
COMPLEX_SCRIPT = re.compile("[\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff]")


def _with_actual_text(draw_text):
    """Wrap WeasyPrint's `draw_text` so that a line of Khmer or Lao is drawn inside a marked
    content span carrying its text (`/Span <</ActualText ...>> BDC ... EMC`).

    A PDF maps each glyph to one Unicode string, first use wins; shaped Khmer reorders and
    merges glyphs, so without this the text copied or extracted from the PDF is scrambled
    (ការបកប្រែ comes out as "របក ប"). Text extractors that honour ActualText (poppler's
    pdftotext, PDF readers' copy and search) then read the text exactly as entered."""

    @functools.wraps(draw_text)
    def draw_text_with_actual_text(stream, textbox, *args, **kwargs):
        text = getattr(textbox, "text", "") or ""
        if not COMPLEX_SCRIPT.search(text):
            return draw_text(stream, textbox, *args, **kwargs)
        stream.begin_marked_content("Span", pydyf.Dictionary({"ActualText": pydyf.String(text)}))
        try:
            return draw_text(stream, textbox, *args, **kwargs)
        finally:
            stream.end_marked_content()

    draw_text_with_actual_text.ccop_actual_text = True
    return draw_text_with_actual_text


def install_actual_text() -> None:
    """Idempotent; done once when this module is imported (process-wide, harmless for other
    WeasyPrint documents: it only adds marked content around complex-script lines)."""
    draw_text = getattr(weasyprint_draw, "draw_text", None)
    if draw_text is None:  # a WeasyPrint that moved it: the PDFs render, their Khmer text extracts badly
        logger.warning("weasyprint.draw.draw_text not found: Khmer text in PDFs gets no ActualText")
    elif not getattr(draw_text, "ccop_actual_text", False):
        weasyprint_draw.draw_text = _with_actual_text(draw_text)


install_actual_text()


def html_to_pdf(html: str, *, fetcher: StaticFileFetcher | None = None) -> bytes:
    """WeasyPrint alone: the HTML string to PDF bytes, resources from `static/` only."""
    fetcher = fetcher or StaticFileFetcher()
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf()


def render_proposal_pdf(
    *,
    proposal: Proposal,
    snapshot: dict,
    draft: bool,
    decision: Decision | None = None,
    content_sha256: str = "",
) -> bytes:
    """The proposal as a PDF.

    `draft=True`: a preview marked "DRAFT – not approved" on every page, never with the approval
    block. `draft=False`: the official record; `snapshot` is the approved version (with its
    `endorsements`), `decision` the (possibly not yet saved) approval and `content_sha256` the
    SHA-256 of the approved data, printed on every page."""
    html = render_proposal_html(
        proposal=proposal,
        snapshot=snapshot,
        draft=draft,
        decision=decision,
        content_sha256=content_sha256,
    )
    return html_to_pdf(html)


def render_proposal_html(
    *,
    proposal: Proposal,
    snapshot: dict,
    draft: bool,
    decision: Decision | None = None,
    content_sha256: str = "",
) -> str:
    """The HTML WeasyPrint turns into the PDF. The official record is written in the site's
    default language, whoever clicks Approve; a preview in the reader's language."""
    if not draft and decision is None:
        raise ValueError("The official PDF needs the decision.")
    language = translation.get_language() if draft else settings.LANGUAGE_CODE
    with translation.override(language):
        context = _context(
            proposal=proposal,
            snapshot=snapshot,
            draft=draft,
            decision=decision,
            content_sha256=content_sha256,
        )
        return render_to_string(TEMPLATE, context)


# --------------------------------------------------------------------------- context


@dataclass
class Amounts:
    """One row of a subtotal table: the amount in each currency and in the fund's currency."""

    label: str
    by_currency: list[str]
    in_fund_currency: str


def css_string(value: str) -> SafeString:
    """A CSS string literal for `content:` in the template's <style>. It never ends early: a CR,
    LF or form feed would end it and let the rest of the text act as CSS, so line breaks become
    the `\\A` escape and other control characters a space; and it never closes the element."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(" " if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text)
    escaped = "".join(f"\\{ord(c):X} " if c in '\\"<>\n\t' else c for c in text)
    return mark_safe(f'"{escaped}"')  # noqa: S308 - escaped above for a CSS string


def css_page_counter(label: str) -> SafeString:
    """`"Page %(page)s of %(pages)s"` (translated) as CSS `content` with the page counters."""
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", label):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return mark_safe(" ".join(parts))  # noqa: S308 - made of css_string() and counters


def _parse_datetime(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _parse_date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _fmt_group(summary: BudgetSummary, amounts: dict[str, Decimal], currencies: list[str]) -> Amounts:
    converted = summary.convert_group(amounts)
    return Amounts(
        label="",
        by_currency=[money.format_money(amounts[c], c) if c in amounts else "" for c in currencies],
        in_fund_currency=(
            money.format_money(converted, summary.fund_currency)
            if converted is not None
            else _("rate missing")
        ),
    )


def _budget(snapshot: dict, activity_titles: list[str]) -> dict:
    """Lines, subtotals by category and by activity, totals per currency and in the fund's
    currency, all `Decimal`, computed from the snapshot (not from the live lines)."""
    fund_currency = snapshot["fund_currency"]
    by_currency: dict[str, Decimal] = defaultdict(lambda: money.ZERO)
    by_category: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: money.ZERO))
    by_activity: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: money.ZERO))
    categories = dict(BudgetLine.Category.choices)
    lines = []
    for number, line in enumerate(snapshot["budget_lines"], start=1):
        total = money.quantize(line["total"])
        currency = line["currency"]
        by_currency[currency] += total
        by_category[line["category"]][currency] += total
        by_activity[line["activity"]][currency] += total
        activity = line["activity"]
        lines.append(
            {
                "number": number,
                "category": categories.get(line["category"], line["category"]),
                "description": line["description"],
                "activity": activity + 1 if activity is not None else "",
                "unit": line["unit"],
                "quantity": money.to_decimal(line["quantity"]).normalize(),
                "unit_cost": money.format_amount(line["unit_cost"]),
                "currency": currency,
                "total": money.format_amount(total),
            }
        )
    summary = BudgetSummary(
        fund_currency=fund_currency,
        by_currency=dict(by_currency),
        by_category={k: dict(v) for k, v in by_category.items()},
        by_activity={k: dict(v) for k, v in by_activity.items()},
        rates={c: money.to_decimal(r) for c, r in snapshot.get("exchange_rates", {}).items()},
        line_count=len(lines),
    )
    currencies = sorted(by_currency, key=lambda c: (c != fund_currency, c))

    category_rows = []
    for code, label in BudgetLine.Category.choices:
        if code in summary.by_category:
            row = _fmt_group(summary, summary.by_category[code], currencies)
            row.label = str(label)
            category_rows.append(row)
    activity_rows = []
    for index in sorted(summary.by_activity, key=lambda i: (i is None, i or 0)):
        row = _fmt_group(summary, summary.by_activity[index], currencies)
        if index is None:
            row.label = _("Not linked to an activity")
        else:
            title = activity_titles[index] if index < len(activity_titles) else ""
            row.label = f"{index + 1}. {title}"
        activity_rows.append(row)
    total = summary.total_in_fund_currency
    return {
        "lines": lines,
        "currencies": currencies,
        "by_category": category_rows,
        "by_activity": activity_rows,
        "totals": [{"currency": c, "amount": money.format_money(by_currency[c], c)} for c in currencies],
        "rates": [
            {"currency": c, "rate": summary.rates[c]}
            for c in currencies
            if c != fund_currency and c in summary.rates
        ],
        "missing_rates": summary.missing_rates,
        "fund_currency": fund_currency,
        "total_in_fund_currency": money.format_money(total, fund_currency) if total is not None else None,
    }


def _endorsements(proposal: Proposal, snapshot: dict, draft: bool) -> list[dict]:
    if not draft:
        return [
            {"organisation": e["organisation"], "by": e["by"], "at": _parse_datetime(e["at"]), "valid": True}
            for e in snapshot.get("endorsements", [])
        ]
    from .services import proposal_content_digest  # services imports this module

    current = proposal_content_digest(proposal)
    latest: dict[int, object] = {}
    for endorsement in proposal.endorsements.select_related("organisation", "endorsed_by").order_by(
        "endorsed_at"
    ):
        latest[endorsement.organisation_id] = endorsement
    return [
        {
            "organisation": e.organisation.acronym,
            "by": e.endorsed_by.get_full_name() or e.endorsed_by.username,
            "at": e.endorsed_at,
            "valid": e.content_digest == current,
        }
        for e in sorted(latest.values(), key=lambda e: e.endorsed_at)
    ]


def _context(
    *, proposal: Proposal, snapshot: dict, draft: bool, decision: Decision | None, content_sha256: str
) -> dict:
    cop = proposal.cop
    programme = cop.country_programme
    groups = {g.code: g for g in RightsholderGroup.objects.all()}
    applicants = set(snapshot.get("applicants", []))
    applicant_orgs = {
        o.acronym: o for o in Organisation.objects.filter(acronym__in=applicants).order_by("acronym")
    }
    endorsements = _endorsements(proposal, snapshot, draft)
    endorsed = {e["organisation"] for e in endorsements if e["valid"]}
    today = timezone.localdate()
    members = [
        {
            "organisation": m.organisation,
            "role": m.get_role_display(),
            "joined_on": m.joined_on,
            "left_on": m.left_on,
            "active": m.is_active(today),
            "applicant": m.organisation.acronym in applicants,
            "endorsed": m.organisation.acronym in endorsed,
        }
        for m in cop.memberships.select_related("organisation").order_by("organisation__acronym")
    ]
    activities = [
        {
            "number": i,
            "title": a["title"],
            "description": a["description"],
            "starts_on": _parse_date(a["starts_on"]),
            "ends_on": _parse_date(a["ends_on"]),
            "place": a["place"],
            "is_primary": a["is_primary"],
            "agenda": a["agenda"],
            "participants": [
                {"group": groups[code].label if code in groups else code, "number": number}
                for code, number in sorted(
                    a["participants"].items(),
                    key=lambda item: groups[item[0]].order if item[0] in groups else 99,
                )
            ],
            "participants_total": sum(a["participants"].values()),
        }
        for i, a in enumerate(snapshot["activities"], start=1)
    ]
    budget_option = snapshot.get("budget_option")
    sha_label = _("SHA-256 of the approved data") if not draft else _("SHA-256 of this draft's content")
    return {
        "draft": draft,
        "snapshot": snapshot,
        "programme": programme,
        "facilitators": list(programme.facilitators.order_by("acronym")),
        "cop": cop,
        "members": members,
        "applicants": [applicant_orgs.get(a) or a for a in sorted(applicants)],
        "endorsements": endorsements,
        "target_groups": [groups.get(c, c) for c in snapshot.get("target_groups", [])],
        "starts_on": _parse_date(snapshot.get("starts_on")),
        "ends_on": _parse_date(snapshot.get("ends_on")),
        "budget_option": Proposal.BudgetOption(budget_option).label if budget_option else "",
        "activities": activities,
        "budget": _budget(snapshot, [a["title"] for a in snapshot["activities"]]),
        "decision": None if draft else decision,
        "decided_by": (decision.decided_by.get_full_name() or decision.decided_by.username)
        if decision is not None and not draft
        else "",
        "decision_amount": money.format_money(decision.amount, decision.currency)
        if decision is not None and decision.amount is not None
        else "",
        "content_sha256": content_sha256,
        "generated_at": timezone.now(),
        "css": {
            "page_counter": css_page_counter(_("Page %(page)s of %(pages)s")),
            "draft_mark": css_string(_("DRAFT – not approved")),
            "footer": css_string(f"{sha_label}: {content_sha256}" if content_sha256 else ""),
            "header": css_string(f"{programme.name} · {cop.name}"),
        },
    }
