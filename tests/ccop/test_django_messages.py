"""Django's own messages in Khmer and Lao: the msgids listed in ccop/django_messages.py are ones
Django 5.2 uses, translated in both catalogues, and the pages a person meets render them with no
English left (login errors, password rules, validation, admin headings and buttons, dates)."""

from __future__ import annotations

import ast
import datetime
import html
import re
from decimal import Decimal
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, translation

from proposals.forms import BudgetLineForm
from tests.admin_helpers import superuser
from tests.ccop.test_translations import catalogue
from tests.factories import StaffFactory, ready_proposal

LANGUAGES = ["km", "lo"]
MODULE = Path(settings.BASE_DIR) / "ccop" / "django_messages.py"
DJANGO = Path(django.__file__).parent
DJANGO_CATALOGUES = [
    DJANGO / "conf/locale/en/LC_MESSAGES/django.po",
    DJANGO / "contrib/auth/locale/en/LC_MESSAGES/django.po",
    DJANGO / "contrib/admin/locale/en/LC_MESSAGES/django.po",
]
# Latin letters a Khmer or Lao page may show: names, codes and units, never words of the interface.
CODES = {"CCoP", "CoP", "PDF", "XLSX", "EUR", "USD", "KHR", "SHA-256", "ID", "Control", "Command", "Mac"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9.+@_-]*")


def listed_msgids(*lists: str) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message listed in ccop/django_messages.py (in the lists named,
    or all), read from its source."""
    found = set()
    tree = ast.parse(MODULE.read_text(encoding="utf-8"))
    assignments = [n for n in tree.body if isinstance(n, ast.Assign)]
    chosen = [a.value for a in assignments if not lists or a.targets[0].id in lists]
    for node in (n for value in chosen for n in ast.walk(value)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "_" or node.func.id == "ngettext_lazy":
                found.add((None, args[0]))
            elif node.func.id == "pgettext_lazy":
                found.add((args[0], args[1]))
    return found


def django_msgids() -> set[tuple[str | None, str]]:
    from tests.ccop.test_translations import parse_po

    found = set()
    for path in DJANGO_CATALOGUES:
        _, entries = parse_po(path)
        found |= {(e.msgctxt, e.msgid) for e in entries}
    return found


def test_every_listed_message_is_one_django_uses():
    listed = listed_msgids("CORE", "AUTH", "ADMIN")
    assert len(listed) > 400
    stale = listed - django_msgids()
    assert not stale, f"not (or no longer) Django's messages, remove or update them: {sorted(stale)[:10]}"
    import axes

    source = (Path(axes.__file__).parent / "models.py").read_text(encoding="utf-8")
    gone = [msgid for _, msgid in listed_msgids("LIBRARIES") if f'_("{msgid}")' not in source]
    assert not gone, f"no longer django-axes' names: {gone}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_listed_message_is_translated(language):
    _, entries = catalogue(language)
    translated = {(e.msgctxt, e.msgid) for e in entries if all(s.strip() for s in e.msgstr.values())}
    missing = listed_msgids() - translated
    assert not missing, (
        f"{len(missing)} of Django's messages untranslated in {language}: {sorted(missing)[:5]}"
    )


def english_left(text: str, *, names: set[str] = frozenset()) -> list[str]:
    """The Latin-letter words of `text` that are neither names nor codes."""
    allowed = CODES | set(names)
    return [w for w in LATIN_WORD.findall(text) if w.rstrip(".") not in allowed]


def visible_text(markup: str, start: str = "<main", end: str = "</main>") -> str:
    """The text between two markers, without tags, scripts, styles, options or attributes."""
    part = markup[markup.index(start) : markup.rindex(end)] if start in markup else markup
    part = re.sub(r"<(script|style|option|template)\b.*?</\1>", " ", part, flags=re.S)
    part = re.sub(r"<[^>]+>", " ", part)
    return html.unescape(part)


@pytest.fixture
def in_language(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        yield language


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_login_errors(client, in_language):
    person = StaffFactory(username="sokha", preferred_language=in_language)
    wrong = client.post(reverse("login"), {"username": person.username, "password": "not-the-password"})
    empty = client.post(reverse("login"), {"username": "", "password": ""})
    for response in (wrong, empty):
        assert response.status_code == 200
        text = visible_text(response.content.decode())
        assert english_left(text, names={"sokha"}) == []
    assert translation.gettext("This field is required.") in visible_text(empty.content.decode())
    login_error = translation.gettext(
        "Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."
    )
    assert login_error.split("%(username)s")[0] in visible_text(wrong.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_password_rules_and_a_too_short_password(client, in_language):
    person = StaffFactory(username="dara", preferred_language=in_language)
    client.force_login(person)
    page = client.get(reverse("password_change"))
    refused = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "short", "new_password2": "other"},
    )
    assert refused.status_code == 200
    for response in (page, refused):
        text = visible_text(response.content.decode())
        assert english_left(text, names={"dara"}) == []
    text = visible_text(refused.content.decode())
    assert translation.gettext("Your old password was entered incorrectly. Please enter it again.") in text
    assert translation.gettext("The two password fields didn’t match.") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_validation_messages_of_our_forms(language):
    with translation.override(language):
        messages = []
        for field, value in (("quantity", "0"), ("quantity", ""), ("unit_cost", "abc")):
            with pytest.raises(ValidationError) as error:
                BudgetLineForm.base_fields[field].clean(value)
            messages += error.value.messages
    assert len(messages) == 3
    assert all(english_left(m) == [] for m in messages), messages
    assert any("0.01" in m for m in messages)  # "Ensure this value is greater than or equal to 0.01."


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_have_month_and_weekday_names(language):
    day = datetime.date(2026, 12, 2)  # a Wednesday
    with translation.override(language):
        for pattern in ("j F Y", "j M Y", "j N Y", "l j E Y", "D"):
            written = formats.date_format(day, pattern)
            assert english_left(written) == [], (pattern, written)
        assert formats.date_format(day, "j M Y") != "2 Dec 2026"


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_index_and_change_pages(client, in_language):
    admin = superuser()
    admin.preferred_language = in_language
    admin.save()
    proposal, _ = ready_proposal(amount=Decimal("100.00"))
    client.force_login(admin)
    names = {admin.username, admin.first_name, admin.last_name}
    for url in (reverse("admin:index"), reverse("admin:proposals_proposal_change", args=[proposal.pk])):
        response = client.get(url)
        assert response.status_code == 200
        markup = response.content.decode()
        markup = re.sub(r"<textarea\b.*?</textarea>", " ", markup, flags=re.S)  # what people typed
        chrome = "".join(
            re.findall(r"<(?:h1|h2|label|caption|th|button|legend)\b[^>]*>(.*?)</", markup, flags=re.S)
        )
        chrome += " ".join(re.findall(r'<input type="submit" value="([^"]*)"', markup))
        chrome += visible_text(markup, '<div id="user-tools">', "</div>")
        chrome += visible_text(markup, '<div class="breadcrumbs">', "</div>")
        left = english_left(visible_text(chrome, "", ""), names=names | _data_names(proposal))
        assert left == [], f"{url} in {in_language}: {left}"


def _data_names(proposal) -> set[str]:
    """Words of the test data itself (titles, organisation and CoP names are data, not interface)."""
    from ccop.models import User

    words = set()
    texts = [f"{p.username} {p.first_name} {p.last_name}" for p in User.objects.all()]
    texts += [f"{line.description} {line.unit}" for line in proposal.budget_lines.all()]
    for text in (
        *texts,
        proposal.title,
        proposal.cop.name,
        proposal.fund.name,
        *(a.organisation.name for a in proposal.applicants.all()),
        *(a.organisation.acronym for a in proposal.applicants.all()),
        *(a.title for a in proposal.activities.all()),
        proposal.provinces,
    ):
        words |= {w.rstrip(".") for w in LATIN_WORD.findall(str(text))}
    return words
