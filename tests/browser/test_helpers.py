"""The helpers catch what they are meant to catch (on a page of our own, not the portal's)."""

import re

import pytest

from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_overflow,
    assert_no_serious_axe_violations,
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
