"""The glossary translators follow (locale/GLOSSARY.md): each term has one rendering in every
string of both catalogues and in the spreadsheet template's Khmer instructions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.ccop.test_translations import catalogue

# (msgid pattern, Khmer rendering, Lao rendering): the rows of GLOSSARY.md marked "checked".
TERMS = [
    (r"\bbudget lines?\b", "មុខចំណាយ", "ລາຍການງົບປະມານ"),
    (r"\b(spreadsheet|workbook)s?\b", "តារាងគណនា", "ໄຟລ໌ Excel"),
    (r"\bversions?\b", "កំណែ", "ສະບັບ"),
    (r"^revision$", "លេខកែប្រែ", "ເລກການແກ້ໄຂ"),
    (r"^Request revision", "ស្នើសុំឱ្យកែសម្រួល", "ຂໍໃຫ້ປັບປຸງ"),
    (r"^Revision requested$", "បានស្នើសុំឱ្យកែសម្រួល", "ຂໍໃຫ້ປັບປຸງແລ້ວ"),
]
# Renderings GLOSSARY.md says not to use, and the msgids where the word means something else.
NOT = {
    "km": {
        "បន្ទាត់": {"One line per session: time and what happens."},  # a line of text
        "សៀវភៅបញ្ជី": set(),
        "ពាក្យសំងាត់": set(),
        "លប់": set(),
    },
    "lo": {"ແຟ້ມ": set(), "ປຶ້ມວຽກ": set()},
}
LANGUAGES = {"km": 1, "lo": 2}
# Excel's own menu label, quoted as Excel shows it (in English), is not the glossary's term.
EXCEL_LABEL = re.compile(r"“Excel Workbook \(\.xlsx\)”")


def _text(entry) -> str:
    return " ".join(entry.msgstr.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_term_has_its_one_rendering(language):
    _, entries = catalogue(language)
    wrong = []
    for pattern, *renderings in TERMS:
        rendering = renderings[LANGUAGES[language] - 1]
        for entry in entries:
            english = EXCEL_LABEL.sub("", entry.msgid_plural or entry.msgid)
            if re.search(pattern, english, re.IGNORECASE) and rendering not in _text(entry):
                wrong.append(f"{entry.msgid!r}: {_text(entry)!r} lacks {rendering!r}")
    assert not wrong, f"{len(wrong)} {language} translations off the glossary:\n" + "\n".join(wrong[:10])


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_rendering_the_glossary_rules_out(language):
    _, entries = catalogue(language)
    found = [
        f"{entry.msgid!r} uses {word!r}"
        for word, allowed in NOT[language].items()
        for entry in entries
        if word in _text(entry) and entry.msgid not in allowed
    ]
    assert not found, "\n".join(found[:10])


def test_revision_and_version_read_differently():
    for language in LANGUAGES:
        _, entries = catalogue(language)
        by_msgid = {e.msgid: _text(e) for e in entries if e.msgctxt is None}
        assert by_msgid["revision"] != by_msgid["version"], language
        assert by_msgid["Request revision"] != by_msgid["Revision requested"], language


def test_spreadsheet_instructions_follow_the_glossary():
    package = Path(settings.BASE_DIR) / "proposals" / "spreadsheets"
    source = "".join(path.read_text(encoding="utf-8") for path in sorted(package.glob("*.py")))
    for word in NOT["km"]:
        assert word not in source, word
    assert "មុខចំណាយ" in source and "តារាងគណនា" in source
