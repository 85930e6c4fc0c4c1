"""Order lines and totals, computed on the server from the prices read under the row locks."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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


def priced_lines(
    *,
    lines: Sequence[tuple[int, int]],
    products: Mapping[int, Any],
    unit_prices: Mapping[int, Decimal],
) -> tuple[list[dict[str, Any]], Decimal]:
    """The order's line items and their subtotal, for [(product_id, quantity)].

    Each line is a snapshot of its product at checkout (name, SKU, attributes from `products`)
    with the unit price charged (`unit_prices`: read under the reservation's row locks) and the
    line subtotal.
    """
    items = []
    subtotal = money(0)
    for product_id, quantity in lines:
        product, price = products[product_id], unit_prices[product_id]
        line_total = money(price * quantity)
        subtotal += line_total
        items.append(
            {
                "product_id": product_id,
                "name": product.name,
                "sku": product.sku,
                "unit_price": str(money(price)),
                "quantity": quantity,
                "subtotal": str(line_total),
                "attributes": product.attributes or {},
            }
        )
    return items, subtotal
