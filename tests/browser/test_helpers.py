"""The helpers catch what they are meant to catch (on a page of our own, not the portal's)."""

import re

import pytest

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_overflow,
    assert_no_serious_axe_violations,
    check_script_fonts,
    each_viewport,
    run_axe,
)

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html lang="en"><head><title>t</title></head>
<body><main><h1>Test</h1>{}</main></body></html>"""


@each_viewport
def test_viewport_fixture_sizes_the_window(page, viewport):
    assert page.evaluate("() => [innerWidth, innerHeight]") == [viewport["width"], viewport["height"]]
    assert viewport in (PHONE, DESKTOP)


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="phone")])
def test_overflow_is_caught_and_the_culprit_named(page, viewport):
    page.set_content(PAGE.format('<div id="wide" style="width: 500px">wide</div>'))
    with pytest.raises(AssertionError, match=r"508px wide in a 360px window.*div#wide"):
        assert_no_horizontal_overflow(page)
    page.set_content(PAGE.format("<p>fits</p>"))
    assert_no_horizontal_overflow(page)


def test_axe_reports_serious_violations_with_rule_and_target(page):
    page.set_content(
        PAGE.format('<img src="data:," id="no-alt"><p style="color:#999;background:#fff">pale</p>')
    )
    ids = {v["id"] for v in run_axe(page)}
    assert {"image-alt", "color-contrast"} <= ids
    with pytest.raises(AssertionError) as error:
        assert_no_serious_axe_violations(page)
    message = str(error.value)
    assert "[critical] image-alt" in message and "#no-alt" in message
    assert "[serious] color-contrast" in message and "contrast of 2.84" in message


def test_bytes_transferred_counts_first_and_cached_loads(page, live_server, bytes_transferred):
    page.goto("/accounts/login/")
    bytes_transferred.settle()
    first = bytes_transferred.total
    urls = [t.url for t in bytes_transferred.transfers]
    assert bytes_transferred.via == "cdp"
    assert any(u.endswith("/accounts/login/") for u in urls), bytes_transferred.summary()
    # Static files as production serves them: hashed name, compressed, kept a year.
    css = next(
        (t for t in bytes_transferred.transfers if re.search(r"bootstrap\.min\.[0-9a-f]{12}\.css$", t.url)),
        None,
    )
    assert css is not None, bytes_transferred.summary()
    assert css.status == 200 and 1000 < css.bytes < 60_000, (
        f"bootstrap.min.css (232 KB) sent as {css.bytes} bytes"
    )
    assert "max-age=315360000" in css.cache_control and "immutable" in css.cache_control, css.cache_control

    bytes_transferred.reset()
    page.goto("/accounts/password_reset/")
    bytes_transferred.settle()
    assert 0 < bytes_transferred.total < first, bytes_transferred.summary()


def _css_session(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    return cdp


def test_font_check_finds_khmer_boxes_and_lao_drawn_with_a_fallback_font(page):
    """No web font: Chromium draws Khmer as boxes and Lao with DejaVu Sans (the machine has no
    Khmer or Lao font of its own); hidden text is not drawn, Latin text is not looked at."""
    page.set_content(PAGE.format("<p>ចូលគណនី CCoP</p><p>ເຂົ້າສູ່ລະບົບ</p><p hidden>ចូល</p><p>Latin only</p>"))
    check = check_script_fonts(_css_session(page))
    assert (check.checked, check.not_drawn) == (2, 1)
    assert len(check.problems) == 2, check.problems
    assert "'ចូលគណនី CCoP' drawn with" in check.problems[0]
    assert "'ເຂົ້າສູ່ລະບົບ' drawn with" in check.problems[1]


@pytest.mark.parametrize("language", ["km", "lo"])
def test_font_check_passes_the_portals_pages(page, live_server, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto("/accounts/login/")
    page.evaluate("() => document.fonts.ready.then(() => 0)")
    check = check_script_fonts(_css_session(page))
    assert check.checked >= 8 and check.problems == [], check.problems
