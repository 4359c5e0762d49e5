"""What browser tests share: logging in through the real form, viewports, keyboard checks,
horizontal overflow, axe-core, and bytes on the wire. Fixtures live in conftest.py."""

from __future__ import annotations

import asyncio
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Page

TEST_PASSWORD = "a-long-test-password"  # what tests/factories.py gives every user
LOGIN_PATH = "/accounts/login/"
TWO_FACTOR_VERIFY_PATH = "/accounts/two-factor/verify/"
TWO_FACTOR_SETUP_PATH = "/accounts/two-factor/setup/"
TWO_FACTOR_BACKUP_CODES_PATH = "/accounts/two-factor/backup-codes/"

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
# @each_viewport runs a test once at 360x740 and once at 1280x800 (the `viewport` fixture).
each_viewport = pytest.mark.parametrize("viewport", VIEWPORTS)

AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")
# Scripts the tests give the page (axe-core) come from here; byte counts leave them out.
TEST_ONLY_PATH = "/__test-only__/"


# --- logging in ------------------------------------------------------------------------------


def login(page: Page, live_server, user, *, password: str = TEST_PASSWORD, next_path: str = "") -> None:
    """Log `user` in through the login form, as a person would; waits for the page after it.
    When the portal then asks for a two-step login code, types it (`pass_two_factor`).

    Works in any interface language (fields found by name, not label). Fails with the form's
    error text when the portal refuses the password.
    """
    url = f"{live_server.url}{LOGIN_PATH}" + (f"?{urlencode({'next': next_path})}" if next_path else "")
    page.goto(url)
    form = page.locator("main form:has(input[name=password])")
    form.locator("input[name=username]").fill(user.get_username())
    form.locator("input[name=password]").fill(password)
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == LOGIN_PATH
    ) as answer:
        form.locator("[type=submit]").click()
    if answer.value.status != 302:
        page.wait_for_load_state()
        errors = page.locator(".invalid-feedback, .alert, .errorlist").all_inner_texts()
        raise AssertionError(f"login as {user.get_username()!r} refused: {errors or page.content()[:500]}")
    page.wait_for_url(lambda url: urlsplit(url).path != LOGIN_PATH)
    page.wait_for_load_state()
    pass_two_factor(page, user)


def pass_two_factor(page: Page, user) -> None:
    """On the page after the password: when the portal asks for a two-step login code, type
    the one `user`'s authenticator app shows now (computed from their device in the database);
    when it asks to set an authenticator up first, confirm with a code computed from the secret
    the page shows, and continue past the backup codes. Anywhere else, does nothing. Waits for
    the page after it."""
    from tests.two_factor import code_for, code_from_secret, totp_device

    path = urlsplit(page.url).path
    if path == TWO_FACTOR_VERIFY_PATH:
        code = code_for(totp_device(user))
    elif path == TWO_FACTOR_SETUP_PATH:
        code = code_from_secret(page.locator("#totp-secret").inner_text())
    else:
        return
    form = page.locator("main form:has(input[name=code])")
    form.locator("input[name=code]").fill(code)
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == path
    ) as answer:
        form.locator("[type=submit]").click()
    if answer.value.status != 302:
        page.wait_for_load_state()
        errors = page.locator(".invalid-feedback, .alert").all_inner_texts()
        raise AssertionError(f"two-step code for {user.get_username()!r} refused: {errors}")
    page.wait_for_url(lambda url: urlsplit(url).path != path)
    page.wait_for_load_state()
    if urlsplit(page.url).path == TWO_FACTOR_BACKUP_CODES_PATH:
        page.locator("main a.btn-primary").click()  # "I have kept them: continue"
        page.wait_for_url(lambda url: urlsplit(url).path != TWO_FACTOR_BACKUP_CODES_PATH)
        page.wait_for_load_state()


# --- keyboard --------------------------------------------------------------------------------


def focused(page: Page) -> dict[str, Any]:
    """What has the keyboard focus: tag, id, name, classes, href, visible text."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return null;
            return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
                    className: el.className, href: el.getAttribute('href'),
                    text: (el.innerText || el.value || '').trim().slice(0, 80)};
        }"""
    )


def tab_to(page: Page, selector: str, *, max_presses: int = 40) -> int:
    """Press Tab until the element matching `selector` has focus; return how many presses.

    Fails if it is never reached, which means it cannot be reached with the keyboard.
    """
    for presses in range(1, max_presses + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return presses
    raise AssertionError(
        f"{selector!r} not reached after {max_presses} Tab presses; focus on {focused(page)}"
    )


def skip_to_content(page: Page) -> None:
    """Do what a keyboard user does on a page with long navigation: from the top of the
    document, Tab to the first link ("Skip to main content": the admin's and the portal's
    first focusable element), press Enter; the next Tab goes into the page's main content."""
    focus_document_start(page)
    page.keyboard.press("Tab")
    href = page.evaluate("() => document.activeElement?.getAttribute('href')") or ""
    assert href.startswith("#") and len(href) > 1, (
        f"the first focusable element is not a skip link: {focused(page)}"
    )
    page.keyboard.press("Enter")
    page.wait_for_function("(id) => document.activeElement?.id === id", arg=href[1:])


def focus_document_start(page: Page) -> None:
    """Put the keyboard's starting point at the top of the document, as on a fresh load
    without autofocus (the login form focuses its first field): the next Tab goes to the
    first focusable element."""
    page.evaluate(
        """() => {
            const body = document.body;
            body.setAttribute('tabindex', '-1');
            body.focus({preventScroll: true});
            body.removeAttribute('tabindex');
            window.scrollTo(0, 0);
        }"""
    )


def wait_for_path(page: Page, path: str) -> None:
    """Wait until the page is at `path`, whatever the host, query or fragment (a redirect
    keeps the #main a skip link left in the address)."""
    page.wait_for_url(lambda url: urlsplit(url).path == path)
    page.wait_for_load_state()


def assert_skip_link_works(page: Page) -> None:
    """From the top of the loaded page: the first Tab lands on the skip link, it is visible
    when focused, and Enter moves the focus to <main>."""
    focus_document_start(page)
    page.keyboard.press("Tab")
    first = focused(page)
    assert first and first["tag"] == "a" and first["href"] == "#main", (
        f"the first Tab should reach the skip link, reached {first}"
    )
    box = page.locator(":focus").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 0, (
        f"the focused skip link is off screen: {box}"
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")


# --- layout ----------------------------------------------------------------------------------


def horizontal_overflow(page: Page) -> str:
    """'' when nothing is wider than the window (scrollWidth <= innerWidth); else a message
    naming the elements that stick out on the right."""
    sizes = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    if sizes["scroll"] <= sizes["inner"]:
        return ""
    culprits = page.evaluate(
        """() => {
            const limit = window.innerWidth, out = [];
            const clipped = (el) => {  // inside a box that scrolls or clips sideways: not the page's overflow
                for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
                    if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
                }
                return false;
            };
            for (const el of document.body.querySelectorAll('*')) {
                if (clipped(el)) continue;
                const r = el.getBoundingClientRect();
                if (r.right > limit + 0.5 && r.width > 0) {
                    let name = el.tagName.toLowerCase();
                    if (el.id) name += '#' + el.id;
                    if (typeof el.className === 'string' && el.className.trim())
                        name += '.' + el.className.trim().split(/\\s+/).join('.');
                    out.push(`${name} (right edge ${Math.round(r.right)}px)`);
                }
            }
            if (!out.length) {  // what is positioned out of its scrolling box: the furthest right
                const all = [...document.body.querySelectorAll('*')]
                    .map(el => [el, el.getBoundingClientRect().right]).filter(([, right]) => right > limit + 0.5)
                    .sort((a, b) => b[1] - a[1]).slice(0, 8);
                for (const [el, right] of all) out.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : ''} (right edge ${Math.round(right)}px, ${getComputedStyle(el).position})`);
            }
            return out.slice(0, 8);
        }"""
    )
    return (
        f"horizontal overflow on {page.url}: content {sizes['scroll']}px wide in a "
        f"{sizes['inner']}px window; sticking out: {', '.join(culprits) or 'unknown'}"
    )


def assert_no_horizontal_overflow(page: Page) -> None:
    """Fail when anything is wider than the window, naming what sticks out."""
    message = horizontal_overflow(page)
    assert not message, message


# --- axe-core --------------------------------------------------------------------------------


def run_axe(page: Page, *, context: Any = None, options: dict | None = None) -> list[dict]:
    """Run axe-core (vendored, see vendor/README.md) on the page; return its violations.

    `context` and `options` go to `axe.run` as they are (e.g. options={"runOnly": ["wcag2aa"]});
    by default every rule axe enables by default runs on the whole document.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        _add_axe(page)
    results = page.evaluate(
        "([context, options]) => axe.run(context || document, options || {})", [context, options]
    )
    return results["violations"]


def _add_axe(page: Page) -> None:
    """Load axe-core as a script from the page's own origin: the portal's Content-Security-Policy
    (script-src 'self') refuses the inline script add_script_tag(path=...) would insert, and
    bypassing the policy would hide the violations the browser tests look for."""
    parts = urlsplit(page.url)
    url = f"{parts.scheme}://{parts.netloc}{TEST_ONLY_PATH}axe.min.js"

    def serve(route):
        route.fulfill(path=str(AXE_PATH), content_type="application/javascript")

    page.route(url, serve)
    try:
        page.add_script_tag(url=url)
    finally:
        page.unroute(url, serve)


def format_violations(violations: list[dict], url: str = "") -> str:
    lines = [f"{len(violations)} axe violation(s){' on ' + url if url else ''}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {node['html'][:160]}")
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_no_serious_axe_violations(page: Page, **axe_kwargs: Any) -> list[dict]:
    """Fail on any serious or critical axe violation; return all violations (the minor and
    moderate ones too, for a test that wants to record them)."""
    violations = run_axe(page, **axe_kwargs)
    serious = [v for v in violations if v.get("impact") in SERIOUS]
    assert not serious, format_violations(serious, page.url)
    return violations


# --- bytes on the wire -----------------------------------------------------------------------


@dataclass
class Transfer:
    url: str
    bytes: int  # encoded (compressed) bytes received, headers included
    status: int | None = None
    from_cache: bool = False
    cache_control: str = ""


@dataclass
class BytesRecorder:
    """Bytes a page receives, measured by Chromium (CDP Network.loadingFinished
    encodedDataLength: compressed bytes on the wire, headers included; 0 for what comes from
    the cache). Start it before navigating; call `settle()` before reading `total`.

    `reset()` between a first and a later load to measure them apart; `use_cache(False)` makes
    the next loads first loads (nothing read from any cache), `use_cache(True)` later loads.
    """

    page: Page
    transfers: list[Transfer] = field(default_factory=list)
    _pending: dict[str, Transfer] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        try:
            cdp = self.page.context.new_cdp_session(self.page)
        except Exception:  # not Chromium: Playwright's own sizes, less exact (no cache flag)
            self.page.on("requestfinished", self._on_request_finished)
            self.via = "playwright"
            return
        self.via = "cdp"
        self._cdp = cdp
        cdp.on("Network.requestWillBeSent", self._on_request)
        cdp.on("Network.responseReceived", self._on_response)
        cdp.on("Network.requestServedFromCache", self._on_served_from_cache)
        cdp.on("Network.loadingFinished", self._on_finished)
        cdp.send("Network.enable")

    # CDP events
    def _on_request(self, event: dict) -> None:
        self._pending.setdefault(event["requestId"], Transfer(url=event["request"]["url"], bytes=0))

    def _on_response(self, event: dict) -> None:
        transfer = self._pending.setdefault(
            event["requestId"], Transfer(url=event["response"]["url"], bytes=0)
        )
        transfer.status = event["response"]["status"]
        headers = {k.lower(): v for k, v in (event["response"].get("headers") or {}).items()}
        transfer.cache_control = headers.get("cache-control", "")
        transfer.from_cache = transfer.from_cache or bool(
            event["response"].get("fromDiskCache") or event["response"].get("fromPrefetchCache")
        )

    def _on_served_from_cache(self, event: dict) -> None:
        if event["requestId"] in self._pending:
            self._pending[event["requestId"]].from_cache = True

    def _on_finished(self, event: dict) -> None:
        transfer = self._pending.pop(event["requestId"], None)
        if (
            transfer is not None
            and not transfer.url.startswith("data:")
            and TEST_ONLY_PATH not in transfer.url
        ):
            transfer.bytes = int(event["encodedDataLength"])
            self.transfers.append(transfer)

    def _on_request_finished(self, request) -> None:
        sizes = request.sizes()
        response = request.response()
        self.transfers.append(
            Transfer(
                url=request.url,
                bytes=sizes["responseBodySize"] + sizes["responseHeadersSize"],
                status=response.status if response else None,
            )
        )

    def settle(self) -> None:
        """Wait until the network is quiet and every event has reached us."""
        self.page.wait_for_load_state("networkidle")
        self.page.evaluate("() => 0")  # a round trip: events sent before it are delivered

    def settle_loaded(self) -> None:
        """Quicker than settle(): wait for the load event and the page's fonts, then for the
        events sent before them (for pages that fetch nothing after loading)."""
        self.page.wait_for_load_state("load")
        # Two frames first: fonts are asked for when the page is laid out and painted.
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            ".then(() => document.fonts.ready).then(() => 0)"
        )
        self.page.evaluate("() => 0")

    def reset(self) -> None:
        self.transfers.clear()

    def use_cache(self, enabled: bool) -> None:
        """With False, the next loads read nothing from the browser's caches (HTTP and memory),
        as a first visit does; what they fetch is still stored, so a load after use_cache(True)
        is a later visit."""
        self._cdp.send("Network.setCacheDisabled", {"cacheDisabled": not enabled})

    @property
    def cdp(self):
        return self._cdp

    @property
    def total(self) -> int:
        return sum(t.bytes for t in self.transfers)

    def summary(self) -> str:
        rows = sorted(self.transfers, key=lambda t: -t.bytes)
        lines = [f"{self.total} bytes in {len(rows)} responses ({self.via}):"]
        lines += [
            f"  {t.bytes:>8}  {t.status or '-'}{' cache' if t.from_cache else ''}  {_short(t.url)}"
            for t in rows
        ]
        return "\n".join(lines)


def _short(url: str) -> str:
    parts = urlsplit(url)
    return re.sub(r"^/+", "/", parts.path) + (f"?{parts.query}" if parts.query else "")


# --- fonts -------------------------------------------------------------------------------------

# The portal's own fonts and the characters each must draw (static/css/portal.css).
SCRIPT_FONTS = {
    "Noto Sans Khmer": re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]"),
    "Noto Sans Lao": re.compile(r"[\u0e80-\u0eff]"),
}
ANY_SCRIPT = re.compile("|".join(p.pattern for p in SCRIPT_FONTS.values()))
# Text a browser does not lay out in the page (an <option> is drawn in the list's own pop-up).
NOT_LAID_OUT = {"HEAD", "TITLE", "SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "OPTION", "OPTGROUP", "DATALIST"}


@dataclass
class FontCheck:
    checked: int = 0  # text nodes holding Khmer or Lao that the page draws
    not_drawn: int = 0  # ... that it holds but does not draw (hidden)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScriptText:
    node_id: int
    text: str
    parent: str  # the element's name, for messages


def script_text_nodes(cdp) -> list[ScriptText]:
    """Every text node of the page (user-agent shadow trees too: a select's shown value, an
    input's placeholder) that holds Khmer or Lao, from one DOM.getDocument. The ids stay valid
    for `check_script_fonts` while the document is loaded (a viewport change keeps them)."""
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
    found: list[ScriptText] = []
    stack = [(root, "")]
    while stack:
        node, parent = stack.pop()
        name = node.get("nodeName", "")
        if name in NOT_LAID_OUT:
            continue
        if node["nodeType"] == 3:
            if ANY_SCRIPT.search(node.get("nodeValue", "")):
                found.append(ScriptText(node["nodeId"], node["nodeValue"], parent))
            continue
        children = (node.get("children") or []) + (node.get("shadowRoots") or [])
        if node.get("contentDocument"):
            children.append(node["contentDocument"])
        stack.extend((child, name if node["nodeType"] == 1 else parent) for child in reversed(children))
    return found


def check_script_fonts(cdp, texts: list[ScriptText] | None = None) -> FontCheck:
    """The fonts Chromium really drew each Khmer or Lao text node with (CDP
    CSS.getPlatformFontsForNode, asked for all nodes at once). A node is a problem when its
    script's font is not among them, or when the other fonts drew more glyphs than the node has
    characters of other scripts: those glyphs are its Khmer or Lao letters drawn by a fallback
    font (boxes, or DejaVu Sans's Lao). `texts` from script_text_nodes (found again when None).
    Needs DOM and CSS enabled on `cdp`."""
    texts = script_text_nodes(cdp) if texts is None else texts
    answers = send_many(cdp, "CSS.getPlatformFontsForNode", [{"nodeId": t.node_id} for t in texts])
    check = FontCheck()
    for text, answer in zip(texts, answers, strict=True):
        fonts = answer.get("fonts") or [] if isinstance(answer, dict) else []  # an error: node gone
        if not fonts:
            check.not_drawn += 1
            continue
        check.checked += 1
        needed = {family for family, script in SCRIPT_FONTS.items() if script.search(text.text)}
        drawn = {font["familyName"] for font in fonts}
        others = sum(font["glyphCount"] for font in fonts if font["familyName"] not in needed)
        other_characters = len(ANY_SCRIPT.sub("", text.text))
        if not needed <= drawn or others > other_characters:
            used = ", ".join(f"{f['familyName']} {f['glyphCount']}" for f in fonts)
            words = " ".join(text.text.split())[:60]
            check.problems.append(f"<{text.parent.lower()}> {words!r} drawn with {used}")
    return check


def send_many(cdp, method: str, params: list[dict]) -> list[dict | Exception]:
    """The answers to many CDP commands sent at once: one wait for all (about 0.2 ms a command
    here instead of 1.4 ms one by one); an error answer is returned as the exception. Playwright's
    sync API sends one at a time, so this goes through its async implementation; one by one
    where that is not there."""
    impl, run = getattr(cdp, "_impl_obj", None), getattr(cdp, "_sync", None)
    if not params:
        return []
    if impl is None or run is None or "timeout" not in inspect.signature(impl.send).parameters:
        answers = []
        for p in params:
            try:
                answers.append(cdp.send(method, p))
            except Exception as error:  # an error answer is an answer
                answers.append(error)
        return answers

    async def all_at_once():
        return await asyncio.gather(*(impl.send(method, p, None) for p in params), return_exceptions=True)

    return run(all_at_once())
