"""The home page's panels, gathered from the apps that own them.

`ccop` is the bottom app: it may not import the apps above it, yet its home page shows what
each of them has for the person ("what needs me"). So each installed app may contribute panels
through a module `<app>/home.py` with one function:

    def panels(request) -> list[Panel]: ...

`home_panels(request)` finds those modules through the app registry (in INSTALLED_APPS order),
calls each `panels(request)` and returns every panel sorted by `(order, key)`. An app without a
`home` module contributes nothing; an app whose `home` module fails to import fails loudly.

The contract for an app's `panels(request)`:

- Return only what this person may see (the app's scoped selectors, e.g. `visible_to(user)`),
  and an empty list when the app has nothing for them (anonymous people never reach the home
  page). Read in a number of queries that does not grow with the rows (prefetch, annotate).
- `waiting=True`: something the person is asked to do (endorse, revise, review, write or fix a
  report). The home page lists these first under "Waiting for you", skips the empty ones, and
  says "Nothing is waiting for you now." when all are empty. Other panels are overviews.
- `template` renders the panel's body (no heading: the home page draws the heading from
  `title`, so levels stay right); it receives `panel` and, spread out, `panel.context`.
- `key` is unique over the site (prefix it with the app's label): it names the section's id.
- `order`: small numbers first. ccop uses 900+ for its own overview (CoPs, invitations).

Example (grants):

    def panels(request):
        grants = grants_for_user(request.user)
        return [Panel(key="grants-mine", title=_("Grants"), template="grants/_home_grants.html",
                      context={"grants": grants}, order=300, empty=not grants)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.db.models import Count, Window
from django.template.loader import render_to_string
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext as _

from .selectors import cops_for_user, organisations_invitable_by

COPS_SHOWN = 12  # a facilitator's programme has hundreds: the admin's CoP list has them all


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Mapping = field(default_factory=dict)
    order: int = 500
    waiting: bool = False
    empty: bool = False


@cache
def _home_modules() -> tuple[ModuleType, ...]:
    modules = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "home"):
            modules.append(import_module(f"{config.name}.home"))
    return tuple(modules)


def home_panels(request) -> list[Panel]:
    """Every installed app's panels for this request, sorted by (order, key)."""
    found: list[Panel] = []
    for module in _home_modules():
        found.extend(module.panels(request))
    keys = [panel.key for panel in found]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"home panels with the same key: {duplicates}")
    return sorted(found, key=lambda panel: (panel.order, panel.key))


def render_panel(panel: Panel, request) -> str:
    """The panel's body: its template with `panel` and its context."""
    return render_to_string(panel.template, {**panel.context, "panel": panel}, request=request)


def panels(request) -> list[Panel]:
    """ccop's own panel: the person's CoPs, and the invitation link for facilitators."""
    user = request.user
    # The first CoPs and how many there are, in one query (a window count over the whole list; one
    # membership per CoP and organisation, so the grantee's DISTINCT drops no row it counts).
    cops = list(cops_for_user(user).annotate(total=Window(Count("pk"))).order_by("name")[:COPS_SHOWN])
    return [
        Panel(
            key="ccop-cops",
            title=_("Your communities of practice"),
            template="ccop/_home_cops.html",
            context={
                "cops": cops,
                "cop_count": cops[0].total if cops else 0,
                "can_invite": organisations_invitable_by(user).exists(),
            },
            order=900,
        )
    ]
