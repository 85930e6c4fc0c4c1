"""The cost of core.parsers (depth and NUL checks) as a ratio of plain json.loads, in one run.

    python bench/json_parser.py [--rounds 5]

Three bodies: a product create (~0.5 KiB), a checkout with 100 lines (~10 KiB) and a 1 MiB
array of small objects (the largest body a JSON route accepts). Each is parsed interleaved by
json.loads and core.parsers.loads; the figures are medians over the rounds. The load average is
printed before and after: the machine is shared, so compare ratios, not microseconds.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from core.parsers import loads  # noqa: E402


def _bodies() -> dict[str, str]:
    product = {
        "name": "Oak desk",
        "description": "A desk. " * 30,
        "price": "199.00",
        "attributes": {"origin": "EU", "sizes": [{"w": 120, "d": 60}, {"w": 160, "d": 80}]},
        "tags": [1, 2, 3],
    }
    checkout = {
        "items": [{"product_id": i, "quantity": 1} for i in range(1, 101)],
        "shipping_address": {"line1": "1 Example Street", "city": "Lisbon", "country": "PT"},
        "payment_method": "credit_card",
        "metadata": {"campaign": "spring", "ref": {"a": [1, 2, {"b": "c"}]}},
    }
    row = {"id": 1, "name": "row", "tags": ["a", "b"], "price": "1.00"}
    big = json.dumps([row] * (1024 * 1024 // len(json.dumps(row))))[: 1024 * 1024 - 1]
    big = big[: big.rfind("}") + 1] + "]"
    return {
        "product (0.5 KiB)": json.dumps(product),
        "checkout 100 lines": json.dumps(checkout),
        "1 MiB array": big,
    }


def _time(fn, text: str, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn(text)
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print(f"{'body':<22}{'bytes':>10}{'json.loads':>14}{'core loads':>14}{'ratio':>8}")
    for name, text in _bodies().items():
        repeat = max(3, 2_000_000 // len(text))
        plain, checked = [], []
        for _ in range(args.rounds):
            plain.append(_time(json.loads, text, repeat))
            checked.append(_time(loads, text, repeat))
        a, b = statistics.median(plain), statistics.median(checked)
        print(f"{name:<22}{len(text):>10}{a * 1e6:>12.1f}us{b * 1e6:>12.1f}us{b / a:>8.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
