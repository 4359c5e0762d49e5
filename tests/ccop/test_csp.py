"""Content-Security-Policy: every response carries the header (portal, admin, error pages,
redirects, downloads), and every page a role reaches keeps to it: no inline <script>, no <style>
element, no style="" or on*="" attribute, no javascript: address, nothing loaded from elsewhere.

The pages are found from the URL configuration (every named pattern, portal and admin), so a new
page is checked without being listed here; parameters are filled with a scenario's objects."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, URLResolver, get_resolver, path, reverse

from ccop import services as ccop_services
from ccop.models import User
from ccop.roles import user_set_role
from tests.admin_helpers import superuser
from tests.conftest import force_login_without_two_factor
from tests.factories import FacilitatorFactory, StaffFactory, ready_proposal, under_review
from tests.two_factor import code_from_secret

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
# Rendered as PDFs by WeasyPrint on the server (slow, and no browser ever runs them as pages).
SKIPPED = {"proposals:proposal-pdf", "proposals:proposal-preview-pdf", "admin:view_on_site"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "srcset", "xlink:href"}
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}  # data, never run


def _boom(request):
    raise RuntimeError("simulated failure")


urlpatterns = [path("boom/", _boom)]


class PolicyChecker(HTMLParser):
    """What a browser would refuse (or report) under POLICY, as a list of problems."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script_without_src = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = f"<{tag}{' id=' + attributes['id'] if attributes.get('id') else ''}>"
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{where}: event handler attribute {name}")
            if name.startswith("hx-on"):
                self.problems.append(f"{where}: {name} needs eval")
            if name == "style":
                self.problems.append(f"{where}: style attribute {value!r}")
            if name in URL_ATTRIBUTES and value:
                address = value.strip().lower()
                if address.startswith("javascript:"):
                    self.problems.append(f"{where}: javascript: address in {name}")
                elif urlsplit(address).netloc and tag != "a" and name != "action":
                    self.problems.append(f"{where}: {name} loads from elsewhere: {value}")
                elif tag == "form" and urlsplit(address).netloc:
                    self.problems.append(f"{where}: form posts elsewhere: {value}")
        if tag == "style":
            self.problems.append(f"{where}: inline <style> element")
        script_type = (attributes.get("type") or "").lower()
        if tag == "script" and not attributes.get("src") and script_type not in DATA_SCRIPT_TYPES:
            self._script_without_src = where
        if tag in {"iframe", "object", "embed", "frame"}:
            self.problems.append(f"{where}: {tag} element")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_without_src = None

    def handle_data(self, data):
        if self._script_without_src and data.strip():
            self.problems.append(f"{self._script_without_src}: inline script {data.strip()[:60]!r}")


def policy_problems(html: str) -> list[str]:
    checker = PolicyChecker()
    checker.feed(html)
    checker.close()
    return checker.problems


def assert_policy_header(response, url: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{url}: no Content-Security-Policy header (status {response.status_code})"
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())
    assert directives == POLICY, f"{url}: {header}"


# --- the URLs -------------------------------------------------------------------------------


def named_routes():
    """(name, parameter names) of every named URL pattern of the site."""

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                yield from (
                    (name, params | set(pattern.pattern.regex.groupindex))
                    for name, params in walk(pattern.url_patterns, inner)
                )
            elif pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, set(pattern.pattern.regex.groupindex)

    seen = {}
    for name, params in walk(get_resolver().url_patterns, ""):
        seen.setdefault(name, params)
    return sorted(seen.items())


def admin_models():
    """{"admin:<app>_<model>_": model} for every model in the admin."""
    return {f"admin:{m._meta.app_label}_{m._meta.model_name}_": m for m in admin.site._registry}


def fill(name: str, params: set[str], *, proposal, fund, token) -> str | None:
    kwargs = {}
    model = next((m for prefix, m in admin_models().items() if name.startswith(prefix)), None)
    for param in params:
        if model is not None and param in ("object_id", "pk"):
            obj = model._default_manager.order_by("pk").first()
            if obj is None:
                return None
            kwargs[param] = str(obj.pk)
        elif param == "pk":
            kwargs[param] = fund.pk if "fund" in name else proposal.pk
        elif param == "app_label":
            kwargs[param] = "proposals"
        elif param == "decision":
            kwargs[param] = "approve"
        elif param == "token":
            kwargs[param] = token
        else:  # e.g. the password reset link's uidb64/token: checked in their own test below
            return None
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


@pytest.fixture
def scenario():
    proposal, staff, member = under_review()
    user_set_role(user=member, role=User.Role.COMMITTEE_MEMBER)
    programme = proposal.cop.country_programme
    facilitator = user_set_role(
        user=FacilitatorFactory(country_programme=programme, organisation=staff[0].organisation),
        role=User.Role.FACILITATOR,
    )
    draft, draft_staff = ready_proposal(endorse=False)
    _invitation, link = ccop_services.invitation_send(
        email="new.person@example.org", organisation=staff[1].organisation, acting_user=facilitator
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    return {
        "roles": {
            "anonymous": (None, draft),
            "grantee staff (draft)": (draft_staff[0], draft),
            "grantee staff (under review)": (staff[0], proposal),
            "committee member": (member, proposal),
            "facilitator": (facilitator, proposal),
            "superuser": (superuser(), proposal),
        },
        "fund": proposal.fund,
        "token": token,
    }


def sweep(client: Client, urls: list[str]) -> tuple[list[str], int]:
    problems, pages = [], 0
    for url in urls:
        response = client.get(url)
        assert_policy_header(response, url)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            pages += 1
            problems += [f"{url}: {p}" for p in policy_problems(response.content.decode())]
    return problems, pages


@pytest.mark.parametrize(
    "role",
    [
        "anonymous",
        "grantee staff (draft)",
        "grantee staff (under review)",
        "committee member",
        "facilitator",
        "superuser",
    ],
)
def test_every_page_a_role_reaches_keeps_to_the_policy(client, scenario, role):
    user, proposal = scenario["roles"][role]
    if user is not None:
        client.force_login(user)  # two-step login passed (tests/conftest.py)
    urls = []
    for name, params in named_routes():
        if name in SKIPPED or name == "logout" or name == "admin:logout":
            continue
        url = fill(name, params, proposal=proposal, fund=scenario["fund"], token=scenario["token"])
        if url:
            urls.append(url)
    problems, pages = sweep(client, urls)
    assert not problems, "\n".join(problems)
    assert pages >= (5 if user is None else 10), f"only {pages} pages rendered for {role}"


def test_the_two_step_login_pages_keep_to_the_policy(client):
    member = user_set_role(user=FacilitatorFactory(), role=User.Role.FACILITATOR)
    force_login_without_two_factor(client, member)
    problems, pages = sweep(client, [reverse("two-factor-setup")])  # QR code as inline SVG
    secret = re.search(
        r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', client.get(reverse("two-factor-setup")).content.decode()
    )
    response = client.post(
        reverse("two-factor-setup"), {"code": code_from_secret(secret.group(1))}, follow=True
    )
    assert_policy_header(response, "after set-up")
    problems += policy_problems(response.content.decode())  # the backup codes
    client.post(reverse("logout"))
    force_login_without_two_factor(client, member)
    more, more_pages = sweep(client, [reverse("two-factor-verify"), reverse("home")])
    assert not problems + more, "\n".join(problems + more)
    assert pages + more_pages == 2


def test_error_and_lockout_pages_carry_the_policy(client):
    staff = StaffFactory()
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_policy_header(response, "404")
    assert not policy_problems(response.content.decode())
    client.force_login(staff)
    response = client.get(reverse("invitation-create"))
    assert response.status_code == 403
    assert_policy_header(response, "403")
    assert not policy_problems(response.content.decode())
    client.post(reverse("logout"))
    for n in range(5):
        response = client.post(reverse("login"), {"username": staff.username, "password": f"wrong {n}"})
    assert response.status_code == 429
    assert_policy_header(response, "lockout")
    assert not policy_problems(response.content.decode())


@pytest.mark.urls("tests.ccop.test_csp")
def test_the_crash_page_carries_the_policy():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert_policy_header(response, "500")
    assert not policy_problems(response.content.decode())


def test_the_password_reset_pages_keep_to_the_policy(client):
    from django.core import mail

    StaffFactory(email="reset.csp@example.org")
    client.post(reverse("password_reset"), {"email": "reset.csp@example.org"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line).strip()
    response = client.get(urlsplit(link).path, follow=True)
    assert response.status_code == 200
    assert_policy_header(response, "set a new password")
    assert not policy_problems(response.content.decode())


def test_the_checker_finds_what_a_browser_would_block():
    html = (
        '<script>alert(1)</script><script src="/static/x.js"></script>'
        '<script type="application/json">{"a": 1}</script>'
        '<button onclick="go()">x</button><p style="color:red">x</p><style>p{}</style>'
        '<a href="javascript:void(0)">x</a><img src="https://elsewhere.example/x.png">'
        '<img src="data:image/png;base64,AAAA"><a href="https://elsewhere.example/">fine</a>'
    )
    problems = policy_problems(html)
    assert len(problems) == 6, problems
