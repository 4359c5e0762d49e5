"""Driving the Django admin with the test client: the POST data of a rendered change form, the
messages and text a person sees, and staff users with model permissions."""

from __future__ import annotations

import html

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.forms import MultiWidget
from django.urls import reverse

from tests.factories import UserFactory


def admin_url(model, view: str = "changelist", *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def superuser():
    return UserFactory(is_superuser=True, is_staff=True, role="")


def with_admin_permissions(user, *app_labels: str):
    """Give a staff user every model permission of these apps (committee members and
    facilitators get theirs from groups in production; the tests hand them out directly)."""
    app_labels = app_labels or ("proposals", "grants")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=app_labels))
    return user


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def run_action(client, model, action: str, objects, **extra):
    """Select `objects` on the changelist and run `action` (follows the redirect)."""
    return client.post(
        admin_url(model),
        {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra},
        follow=True,
    )


def form_data(response) -> dict:
    """The POST data of the admin change form in `response` as rendered: the main form, every
    inline's management form and rows. Change a field or two and post it back."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            if not field.disabled:
                _put(data, form.add_prefix(name), field.widget, form[name].value())
    return data


def _put(data: dict, key: str, widget, value) -> None:
    if value is None:
        return
    if isinstance(widget, MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        for suffix, sub_widget, part in zip(widget.widgets_names, widget.widgets, parts, strict=False):
            _put(data, key + suffix, sub_widget, part)
    elif isinstance(value, bool):
        if value:
            data[key] = "on"
    elif isinstance(value, list | tuple):
        data[key] = [str(v) for v in value]
    else:
        data[key] = str(value)
