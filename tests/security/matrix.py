"""The permission matrix's machinery: every URL pattern of the site enumerated from the URL
configuration, filled with real ids, requested as one role with GET or POST, and the answer
reduced to one of the tokens the matrix table is written in.

Tokens (what a person gets):

    200 204 301 403 404 405 ...  that status (a page, an empty answer, a refusal)
    pdf / xlsx / csv             200 with that file type (a download)
    L                            302 to the portal's login page
    AL                           302 to the admin's login page
    AI                           302 to the admin's index (the admin's answer for an object
                                 outside the person's scope: "does not exist")
    R                            302 elsewhere, nothing changed (refused with a message, or a
                                 harmless redirect)
    D                            302 elsewhere and the database changed (the action was done)

A non-redirect answer after which the database changed gets "+changed" added (so a refusal that
still wrote something fails), and a GET that wrote anything gets "+wrote" (a GET never changes
the database, whatever it answers)."""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin
from django.core.signals import got_request_exception
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.client import ClientHandler
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

# What the matrix tests ran, for the terminal summary (conftest.py):
# {title: (urls, roles, methods, requests sent)} or {title: a line of text}
SIZES: dict[str, tuple[int, int, int, int] | str] = {}

# --------------------------------------------------------------------------- URLs


@dataclass(frozen=True)
class Route:
    """One URL pattern of the site, with everything above it."""

    key: str  # namespace:name, or namespace:route for an unnamed pattern
    patterns: tuple  # the patterns from the root to this one
    callback: object

    @property
    def route(self) -> str:
        return "".join(str(p.pattern) for p in self.patterns)

    @property
    def is_admin(self) -> bool:
        return self.key.startswith("admin:")

    def admin_model(self) -> str | None:
        """app_label.model_name for an admin model URL (admin/<app>/<model>/...)."""
        parts = self.route.split("/")
        if self.is_admin and len(parts) > 3:
            label = f"{parts[1]}.{parts[2]}"
            if label in {model._meta.label_lower for model in admin.site._registry}:
                return label
        return None


def site_routes() -> list[Route]:
    """Every URL pattern of the root URLconf, in order. A name used twice (a portal view put
    before Django's own of the same name and path, which it shadows) keys the later one
    "<name> (shadowed)"."""
    routes: list[Route] = []
    seen: set[str] = set()

    def walk(resolver: URLResolver, above: tuple, namespace: str | None):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(n for n in (namespace, entry.namespace) if n) or None
                walk(entry, (*above, entry), inner)
            elif isinstance(entry, URLPattern):
                patterns = (*above, entry)
                name = entry.name or "".join(str(p.pattern) for p in patterns)
                key = f"{namespace}:{name}" if namespace else name
                if key in seen:  # shadowed by an earlier pattern of the same name and path
                    key = next(
                        f"{key} (shadowed{n})"
                        for n in ("", *range(2, 99))
                        if f"{key} (shadowed{n})" not in seen
                    )
                seen.add(key)
                routes.append(Route(key=key, patterns=patterns, callback=entry.callback))

    walk(get_resolver(), (), None)
    return routes


_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _regex_groups(regex: str) -> list[tuple[int, int, str | None]]:
    """The top-level capturing groups of a regex: (start, end, name or None)."""
    groups, depth, start, name, i, in_class = [], 0, 0, None, 0, False
    while i < len(regex):
        char = regex[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            if depth == 0:
                start = i
                named = re.match(r"\(\?P<(\w+)>", regex[i:])
                capturing = named or not regex.startswith("(?", i)
                name = named.group(1) if named else None
                if not capturing:
                    name = "(?:"
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and name != "(?:":
                groups.append((start, i + 1, name))
        i += 1
    return groups


def param_names(route: Route) -> list[str]:
    """The parameters of the route in order; positional regex groups are called #1, #2..."""
    names, position = [], 0
    for pattern in route.patterns:
        pattern = pattern.pattern
        if isinstance(pattern, RoutePattern):
            names += [m.group("name") for m in _ROUTE_PARAM.finditer(str(pattern))]
        elif isinstance(pattern, RegexPattern):
            for _start, _end, name in _regex_groups(str(pattern)):
                if name is None:
                    position += 1
                    name = f"#{position}"
                names.append(name)
    return names


def fill(route: Route, values: dict[str, object]) -> str:
    """The route as a path, each parameter replaced by its value."""
    parts, position = [], 0
    for pattern in route.patterns:
        pattern = pattern.pattern
        text = str(pattern)
        if isinstance(pattern, RoutePattern):
            text = _ROUTE_PARAM.sub(lambda m: str(values[m.group("name")]), text)
        elif isinstance(pattern, RegexPattern):
            out, last = [], 0
            for start, end, name in _regex_groups(text):
                if name is None:
                    position += 1
                    name = f"#{position}"
                out += [text[last:start], str(values[name])]
                last = end
            text = "".join([*out, text[last:]]).removeprefix("^").removesuffix("$")
        parts.append(text)
    return "/" + "".join(parts)


def resolves_to(path: str, route: Route) -> bool:
    match = resolve(urlsplit(path).path)
    return match.func is route.callback


# --------------------------------------------------------------------------- the database


# Not compared: sessions (a login or a message lives there) and the login records django-axes
# writes on every login, failed login and logout, whatever the page answers.
UNCOMPARED_TABLES = ("django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog")


def _tables() -> list[str]:
    return sorted(
        t
        for t in connection.introspection.django_table_names(only_existing=True)
        if t not in UNCOMPARED_TABLES
    )


def database_digest() -> str:
    """SHA-256 of every row of every table but the uncompared ones."""
    digest = hashlib.sha256()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in _tables():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 - table names from introspection
            digest.update(table.encode())
            for row in sorted(repr(r) for r in cursor.fetchall()):
                digest.update(row.encode())
    return digest.hexdigest()


class WriteDetector:
    """Notes every INSERT, UPDATE or DELETE sent to a compared table."""

    WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)", re.I)

    def __init__(self):
        self.writes: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        match = self.WRITE.match(sql)
        if match and match.group(2) not in UNCOMPARED_TABLES:
            self.writes.append(sql[:120])
        return execute(sql, params, many, context)


# --------------------------------------------------------------------------- one request


FILE_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
}


FILE_SIGNATURES = {"pdf": b"%PDF-", "xlsx": b"PK\x03\x04"}


def _redirect_token(location: str) -> str | None:
    path = urlsplit(location).path
    if path == reverse(settings.LOGIN_URL):
        return "L"
    if path == reverse("admin:login"):
        return "AL"
    if path == reverse("admin:index"):
        return "AI"
    return None


@dataclass
class Answer:
    token: str
    detail: str


class Sender:
    """Sends a request through Django's whole stack (every middleware, the resolver, the view),
    as the test client does, but without recording each rendered template and a copy of its
    context (the matrix never reads them; on the admin's pages that costs a third of the time).
    A view's exception becomes the 500 page, as in production, and is kept for the report."""

    def __init__(self):
        self.handler = ClientHandler(enforce_csrf_checks=False)

    def __call__(self, method: str, path: str, data: dict, cookies: dict | None):
        factory = RequestFactory()
        for name, value in (cookies or {}).items():
            factory.cookies[name] = value
        request = factory.get(path) if method == "GET" else factory.post(path, data)
        errors: list[BaseException] = []

        def note(sender, **kwargs):
            errors.append(sys.exc_info()[1])

        got_request_exception.connect(note, dispatch_uid="permission-matrix")
        try:
            response = self.handler(request.environ)
        finally:
            got_request_exception.disconnect(dispatch_uid="permission-matrix")
        response.error = errors[0] if errors else None
        return response


def request_once(
    send: Sender, cookies: dict | None, method: str, path: str, data: dict, baseline: str
) -> Answer:
    """Send one request and reduce its answer to a token; every change is rolled back."""
    detector = WriteDetector()
    answer = None
    with transaction.atomic(), connection.execute_wrapper(detector):
        response = send(method, path, data, cookies)
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        location = response.get("Location", "")
        # A download is read to its end (which also closes its file, as a WSGI server would).
        body = b"".join(response.streaming_content) if response.streaming else response.content
        # Only a write can change a row: the digest is taken when something was written.
        changed = bool(detector.writes) and database_digest() != baseline
        answer = _token(response.status_code, content_type, location, changed)
        if answer.token in FILE_SIGNATURES and not body.startswith(FILE_SIGNATURES[answer.token]):
            answer.token += "+not-a-file"
        if method == "GET" and detector.writes:
            answer.token += "+wrote"
            answer.detail += f" wrote: {detector.writes[:2]}"
        if response.error is not None:
            answer.detail += f" {type(response.error).__name__}: {response.error}"[:300]
        transaction.set_rollback(True)
    return answer


def _token(status: int, content_type: str, location: str, changed: bool) -> Answer:
    if status == 302:
        token = _redirect_token(location) or ("D" if changed else "R")
        if changed and token not in ("D",):
            token += "+changed"
        return Answer(token, f"302 → {location}")
    token = FILE_TYPES.get(content_type, str(status)) if status == 200 else str(status)
    if changed:
        token += "+changed"
    return Answer(token, f"{status} {content_type}")
