"""What a cell of an uploaded workbook holds, as the reader understands it: numbers as exact
decimals, text with its spaces tidied, names compared without case or extra spaces."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ccop import money


def number(value) -> Decimal | None:
    """A cell's number as a Decimal, or None when it is not a number. Floats (how XLSX stores
    every number) go through their shortest repr, so 1234.56 stays 1234.56."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        try:
            result = Decimal(repr(value))
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def key(text: str) -> str:
    """How names are matched: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def has_more_than_cents(amount: Decimal) -> bool:
    return amount != amount.quantize(money.CENT)
