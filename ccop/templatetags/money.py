"""Money in templates, written the one way ccop/money.py writes it in this language:
`{{ line.total|money:line.currency }}` -> "USD 1,000.00", `{{ value|amount }}` -> "1,000.00",
`{{ rate|rate }}` -> "0.00023". `{% load money %}` first."""

from django import template

from ccop import money as money_module

register = template.Library()


@register.filter
def money(value, currency: str = "") -> str:
    if value is None or value == "":
        return ""
    text = money_module.format_amount(value)
    return f"{currency} {text}" if currency else text


@register.filter
def amount(value) -> str:
    return "" if value is None or value == "" else money_module.format_amount(value)


@register.filter
def rate(value) -> str:
    return "" if value is None or value == "" else money_module.format_rate(value)
