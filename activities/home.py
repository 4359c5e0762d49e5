"""The activities' panels of the home page (see `ccop.home` for the contract): reports to write
and reports sent back (the CoP's staff), reports to review and to publish (facilitators), and
the grants the person reports on."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ccop.home import Panel

from .selectors import grants_open_to_reports_by, reports_waiting_for

WAITING = {
    "sent_back": (gettext_lazy("Activity reports sent back by the facilitators"), 125),
    "to_write": (gettext_lazy("Activity reports to finish"), 130),
    "to_review": (gettext_lazy("Activity reports to review"), 140),
    "to_publish": (gettext_lazy("Accepted activity reports to publish"), 150),
}


def panels(request) -> list[Panel]:
    user = request.user
    waiting = reports_waiting_for(user)
    result = [
        Panel(
            key=f"activities-{name.replace('_', '-')}",
            title=str(title),
            template="activities/_home_reports.html",
            context={"reports": waiting[name]},
            order=order,
            waiting=True,
            empty=not waiting[name],
        )
        for name, (title, order) in WAITING.items()
    ]
    grants = list(grants_open_to_reports_by(user)[:20])
    if grants:
        result.append(
            Panel(
                key="activities-grants",
                title=_("Activities of your grants"),
                template="activities/_home_grants.html",
                context={"grants": grants},
                order=250,
            )
        )
    return result
