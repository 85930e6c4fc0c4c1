"""Order totals, computed on the server from the prices read under the checkout's row locks."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    shipping_amount: Decimal
    total: Decimal


def discount_codes() -> dict[str, str]:
    """{"WELCOME10": "10%", "FLAT5": "5.00"} from ORDERS_DISCOUNT_CODES."""
    codes = {}
    for entry in settings.ORDERS_DISCOUNT_CODES.split(","):
        code, _, value = entry.strip().partition("=")
        if code and value:
            codes[code.strip().upper()] = value.strip()
    return codes


def discount_for(code: str, subtotal: Decimal) -> Decimal | None:
    """The discount a code gives on this subtotal (never more than it); None if unknown."""
    value = discount_codes().get(code.strip().upper())
    if value is None:
        return None
    percent = value.endswith("%")
    amount = subtotal * Decimal(value[:-1]) / 100 if percent else Decimal(value)
    return min(money(amount), subtotal)


def compute_totals(*, subtotal: Decimal, discount_code: str = "") -> Totals:
    subtotal = money(subtotal)
    discount = (discount_for(discount_code, subtotal) or Decimal("0")) if discount_code else 0
    discount = money(discount)
    taxable = subtotal - discount
    tax = money(taxable * Decimal(settings.ORDERS_TAX_RATE))
    shipping = money(settings.ORDERS_SHIPPING_FEE)
    free_from = settings.ORDERS_FREE_SHIPPING_FROM
    if free_from and taxable >= Decimal(free_from):
        shipping = money(0)
    return Totals(
        subtotal=subtotal,
        discount_amount=discount,
        tax_amount=tax,
        shipping_amount=shipping,
        total=taxable + tax + shipping,
    )
