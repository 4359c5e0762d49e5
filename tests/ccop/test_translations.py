"""The portal in Khmer (every string) and Lao (the main pages): the catalogues are complete,
their placeholders match the English so no translation can break a page, the committed .mo files
say what the .po files say (a fresh machine has no gettext to compile them), pages render in the
chosen language, and a logged-in person's choice is remembered on their account."""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import resolve, reverse
from django.utils import translation

from ccop.models import User
from ccop.views import LanguageSetView
from tests.factories import StaffFactory, ready_proposal

LOCALE = Path(settings.BASE_DIR) / "locale"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def parse_po(path: Path) -> tuple[Entry, list[Entry]]:
    """The header and the entries of a .po file (obsolete `#~` entries are skipped)."""
    entries: list[Entry] = []
    current = Entry()
    last: tuple[str, int] | None = None
    seen_keyword = False

    def finish():
        nonlocal current, last, seen_keyword
        if seen_keyword:
            entries.append(current)
        current, last, seen_keyword = Entry(), None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert last is not None, f"{path}:{number}: continuation line without a keyword"
            text = ast.literal_eval(line)
            if last[0] == "msgstr":
                current.msgstr[last[1]] += text
            else:
                setattr(current, last[0], getattr(current, last[0]) + text)
        else:
            match = re.fullmatch(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")", line)
            assert match, f"{path}:{number}: cannot read {raw!r}"
            keyword, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if keyword == "msgid" and seen_keyword and current.msgstr:
                finish()
            if not seen_keyword:
                current.line = number
            seen_keyword = True
            if keyword == "msgstr":
                current.msgstr[int(index or 0)] = text
                last = ("msgstr", int(index or 0))
            else:
                setattr(current, keyword, text)
                last = (keyword, 0)
    finish()
    header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    return header, [e for e in entries if e is not header]


# %(name)s, %s, %d, %.2f … (not %%), and str.format's {name} / {} / {0}.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{\w*\}")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def stray_percent(text: str) -> bool:
    return "%" in PLACEHOLDER.sub("", text.replace("%%", ""))


def catalogue(language: str) -> tuple[Entry, list[Entry]]:
    return parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    translation.deactivate()


# --- The catalogues -------------------------------------------------------------------------


def test_khmer_catalogue_is_complete_and_checked():
    header, entries = catalogue("km")
    assert len(entries) > 500
    assert "fuzzy" not in header.flags
    assert "Language: km\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr[0]
    missing = [e.msgid for e in entries if not e.msgstr or not all(s.strip() for s in e.msgstr.values())]
    assert missing == [], f"{len(missing)} Khmer strings untranslated, first: {missing[:5]}"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert fuzzy == [], f"fuzzy Khmer strings: {fuzzy[:5]}"
    plural_forms = {len(e.msgstr) for e in entries if e.msgid_plural is not None}
    assert plural_forms <= {1}  # Khmer has one plural form


def test_lao_catalogue_covers_the_main_pages():
    header, entries = catalogue("lo")
    assert "fuzzy" not in header.flags and "Language: lo\n" in header.msgstr[0]
    assert [e.msgid for e in entries if "fuzzy" in e.flags] == []
    translated = {e.msgid for e in entries if e.msgstr.get(0)}
    must = {
        # templates/base.html
        "CCoP portal", "Skip to main content", "Main", "My work", "Proposals", "Administration",
        "Language", "Change", "Log out %(name)s", "Log in",
        "Voice Linking & Learning · Communities of Practice in Cambodia and Laos",
        # templates/registration/*
        "Forgotten your password?", "Password saved", "Choose a new password", "Save the password",
        "This link has expired or was already used.", "Ask for a new one", "Check your e-mail",
        "Reset your password", "Send the link",
        "If an account uses this address, a link to choose a new password is on its way.",
        "Enter your e-mail address; we send you a link to choose a new password.",
        # templates/ccop/home.html
        "Hello, %(name)s", "Waiting for you", "Nothing is waiting for you now.",
        "Proposals by state", "No proposals yet.", "Start a proposal", "Your communities of practice",
        # The proposal states
        "Draft", "Submitted", "Under review", "Revision requested", "Approved", "Rejected", "Withdrawn",
    }  # fmt: skip
    assert must - translated == set()


@pytest.mark.parametrize("language", ["km", "lo"])
def test_placeholders_in_every_translation_match_the_english(language):
    """A translation that names a placeholder the English does not have raises KeyError when the
    page renders; one that drops a placeholder loses a name or a number. Both are refused."""
    _, entries = catalogue(language)
    problems = []
    for entry in entries:
        for index, text in entry.msgstr.items():
            if not text:
                continue
            # Khmer and Lao have one plural form: it is used for every count, like the plural.
            source = entry.msgid if entry.msgid_plural is None else entry.msgid_plural
            if placeholders(text) != placeholders(source):
                problems.append((entry.msgid, index, placeholders(source), placeholders(text)))
            if stray_percent(text) and not stray_percent(source):
                problems.append((entry.msgid, index, "stray %", text))
            if text.count("\n") != entry.msgid.count("\n"):
                problems.append((entry.msgid, index, "line breaks differ", text))
    assert problems == []


@pytest.mark.parametrize("language", ["km", "lo"])
def test_committed_mo_files_match_the_po_files(language):
    """The .mo files are committed (compiling needs GNU gettext, which a fresh machine may lack):
    they must hold exactly the .po's translations. After editing a .po, run
    `python manage.py compilemessages --ignore=.venv`."""
    mo_path = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run compilemessages and commit it"
    with mo_path.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)._catalog
    _, entries = catalogue(language)
    expected = {}
    for entry in entries:
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if entry.msgstr.get(0):
                expected[key] = entry.msgstr[0]
        elif all(entry.msgstr.values()):
            expected.update({(key, index): text for index, text in entry.msgstr.items()})
    compiled = {key: value for key, value in compiled.items() if key != ""}
    assert compiled == expected, "the .mo is stale: run compilemessages"


# --- Pages in Khmer and Lao -----------------------------------------------------------------


def _in_language(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


@pytest.mark.django_db
def test_login_page_in_khmer(client):
    _in_language(client, "km")
    page = client.get(reverse("login")).content.decode()
    assert 'lang="km"' in page
    assert "ចូលគណនី" in page  # Log in
    assert "ភ្លេចពាក្យសម្ងាត់របស់អ្នក?" in page  # Forgotten your password?
    assert "រំលងទៅខ្លឹមសារចម្បង" in page  # Skip to main content
    assert "Skip to main content" not in page and "Forgotten your password?" not in page


@pytest.mark.django_db
def test_home_page_and_proposal_list_in_khmer(client):
    proposal, staff = ready_proposal()
    client.force_login(staff[0])
    _in_language(client, "km")

    home = client.get(reverse("home")).content.decode()
    assert 'lang="km"' in home
    assert "ការងាររបស់ខ្ញុំ" in home  # My work
    assert "សំណើតាមស្ថានភាព" in home  # Proposals by state
    assert "សេចក្ដីព្រាង" in home  # the Draft state
    assert "My work" not in home and "Proposals by state" not in home

    listing = client.get(reverse("proposals:proposal-list")).content.decode()
    assert 'lang="km"' in listing
    assert "សំណើដែលអ្នកអាចមើលបាន" in listing  # Proposals you can see
    assert "សេចក្ដីព្រាង" in listing  # Draft
    assert proposal.title in listing
    assert "Proposals you can see" not in listing


@pytest.mark.django_db
def test_home_page_and_proposal_list_in_lao(client):
    _, staff = ready_proposal()
    client.force_login(staff[0])
    _in_language(client, "lo")
    home = client.get(reverse("home")).content.decode()
    assert 'lang="lo"' in home
    assert "ວຽກຂອງຂ້ອຍ" in home  # My work
    assert "ຮ່າງ" in home  # Draft
    listing = client.get(reverse("proposals:proposal-list")).content.decode()
    assert 'lang="lo"' in listing and "ບົດສະເໜີ" in listing


SAME_IN_KHMER = {"CoP", "Linking & Learning", "%(who)s, %(at)s"}  # names, and a name with a date
# Django's own (ccop/django_messages.py) that are codes, units or punctuation in every language.
SAME_IN_KHMER |= {"…", ", ", "IPv4", "IPv6", "%(truncated_text)s…", "%(class_name)s %(instance)s"}
SAME_IN_KHMER |= {f"%s {unit}" for unit in ("KB", "MB", "GB", "TB", "PB")}


def test_every_khmer_string_renders_without_error():
    """Each translation formatted with values for its placeholders, as Django does."""
    _, entries = catalogue("km")
    with translation.override("km"):
        for entry in entries:
            names = {m.group(1) for m in re.finditer(r"%\((\w+)\)([sdr])", entry.msgid_plural or entry.msgid)}
            if entry.msgid_plural is None and entry.msgctxt is not None:
                text = translation.pgettext(entry.msgctxt, entry.msgid)
            elif entry.msgid_plural is None:
                text = translation.gettext(entry.msgid)
            else:
                text = translation.ngettext(entry.msgid, entry.msgid_plural, 3)
            assert text != entry.msgid or entry.msgid in SAME_IN_KHMER, entry.msgid
            if names:
                text % dict.fromkeys(names, 3)


# --- The choice remembered ------------------------------------------------------------------


def test_set_language_is_the_portal_view():
    assert reverse("set_language") == "/i18n/setlang/"
    assert resolve("/i18n/setlang/").func.view_class is LanguageSetView


@pytest.mark.django_db
def test_switcher_remembers_the_choice_of_a_logged_in_person(client):
    user = StaffFactory(preferred_language="en")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "km", "next": reverse("home")})
    assert response.status_code == 302 and response.url == reverse("home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "km"
    user.refresh_from_db()
    assert user.preferred_language == "km"
    assert 'lang="km"' in client.get(reverse("home")).content.decode()

    # A new browser (no cookie): the account's language, and the cookie is set for next time.
    client.cookies.clear()
    client.force_login(user)
    response = client.get(reverse("home"))
    assert 'lang="km"' in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "km"


@pytest.mark.django_db
def test_switcher_refuses_an_unknown_language_and_works_when_logged_out(client):
    user = StaffFactory(preferred_language="lo")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    # Not "xx": the browser had no cookie, so it gets the account's language.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "lo"
    user.refresh_from_db()
    assert user.preferred_language == "lo"

    client.logout()
    client.cookies.clear()
    response = client.post(reverse("set_language"), {"language": "km", "next": reverse("login")})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "km"
    assert 'lang="km"' in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_logging_in_brings_the_account_language(client):
    user = StaffFactory(preferred_language="km")
    assert 'lang="en"' in client.get(reverse("login")).content.decode()
    response = client.post(reverse("login"), {"username": user.username, "password": "a-long-test-password"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "km"
    assert 'lang="km"' in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_an_account_left_at_english_keeps_the_browsers_language(client):
    """preferred_language defaults to English for everyone, so English on the account cannot
    be told from no choice: a Khmer phone stays in Khmer after logging in."""
    user = StaffFactory(preferred_language="en")
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": "a-long-test-password"},
        HTTP_ACCEPT_LANGUAGE="km",
    )
    assert response.status_code == 302 and settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert 'lang="km"' in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="km").content.decode()
    assert 'lang="en"' in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.django_db
def test_the_language_chosen_in_this_browser_wins_over_the_account(client):
    user = StaffFactory(preferred_language="km")
    client.force_login(user)
    _in_language(client, "en")
    response = client.get(reverse("home"))
    assert 'lang="en"' in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.django_db
def test_anonymous_visitors_get_no_language_cookie(client):
    response = client.get(reverse("login"))
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert User.objects.count() == 0
