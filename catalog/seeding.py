"""Synthetic catalog rows for seeding and benchmarks (pure data; the writes are in services)."""

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

ADJECTIVES = [
    "rustic",
    "sleek",
    "vintage",
    "modern",
    "compact",
    "ergonomic",
    "durable",
    "lightweight",
    "premium",
    "classic",
    "elegant",
    "rugged",
    "handmade",
    "portable",
    "smart",
    "wireless",
    "organic",
    "recycled",
    "minimalist",
    "deluxe",
    "foldable",
    "waterproof",
    "insulated",
    "padded",
    "adjustable",
    "heavy",
    "slim",
    "soft",
    "bold",
    "bright",
]
MATERIALS = [
    "steel",
    "oak",
    "walnut",
    "bamboo",
    "leather",
    "cotton",
    "linen",
    "wool",
    "silk",
    "ceramic",
    "glass",
    "copper",
    "brass",
    "aluminium",
    "granite",
    "marble",
    "rubber",
    "canvas",
    "denim",
    "velvet",
]
NOUNS = [
    "chair",
    "table",
    "lamp",
    "desk",
    "sofa",
    "shelf",
    "mug",
    "kettle",
    "teapot",
    "knife",
    "pan",
    "pot",
    "bowl",
    "plate",
    "jacket",
    "shirt",
    "boots",
    "sneakers",
    "backpack",
    "wallet",
    "watch",
    "headphones",
    "speaker",
    "keyboard",
    "mouse",
    "monitor",
    "charger",
    "cable",
    "blender",
    "toaster",
    "grinder",
    "bottle",
    "tent",
    "blanket",
    "pillow",
    "rug",
    "mirror",
    "clock",
    "vase",
    "basket",
    "hammock",
    "umbrella",
    "scarf",
    "gloves",
    "hat",
    "belt",
    "sunglasses",
    "notebook",
    "pen",
    "stool",
    "bench",
    "cabinet",
    "dresser",
    "bed",
    "crib",
    "stroller",
    "bicycle",
    "helmet",
    "scooter",
    "drone",
    "camera",
    "tripod",
]
COLOURS = ["red", "blue", "green", "black", "white", "grey", "navy", "olive", "sand", "teal"]
STATUSES = ["active"] * 7 + ["draft", "inactive", "archived"]
TYPES = ["physical"] * 16 + ["digital"] * 3 + ["service"]

PRODUCT_COLUMNS = (
    "name", "description", "sku", "price", "compare_at_price", "cost_price", "stock_quantity",
    "low_stock_threshold", "status", "type", "images", "attributes", "view_count",
    "purchase_count", "average_rating", "review_count", "category_id", "version",
    "created_at", "updated_at",
)  # fmt: skip


def product_rows(
    *, count: int, category_ids: list[int], sku_prefix: str, seed: int = 0, now: datetime
) -> Iterator[tuple]:
    """`count` plausible products, created one minute apart going back from `now`."""
    rng = random.Random(seed)
    choice, randint, rand = rng.choice, rng.randint, rng.random
    images = "[]"
    for n in range(count):
        adjective, material, noun = choice(ADJECTIVES), choice(MATERIALS), choice(NOUNS)
        colour = choice(COLOURS)
        price = Decimal(randint(100, 100_000)) / 100
        compare_at = (price * Decimal("1.3")).quantize(Decimal("0.01")) if rand() < 0.25 else None
        created = now - timedelta(minutes=count - n)
        yield (
            f"{adjective.title()} {material} {noun}",
            f"A {adjective} {colour} {noun} made of {material}. "
            f"{choice(ADJECTIVES).title()} and {choice(ADJECTIVES)}, for everyday use.",
            f"{sku_prefix}{n:08d}",
            price,
            compare_at,
            (price * Decimal("0.6")).quantize(Decimal("0.01")),
            0 if rand() < 0.1 else randint(1, 500),
            10,
            choice(STATUSES),
            choice(TYPES),
            images,
            json.dumps({"colour": colour, "material": material}),
            randint(0, 5000),
            randint(0, 300),
            Decimal(randint(0, 500)) / 100,
            randint(0, 40),
            choice(category_ids),
            1,
            created,
            created,
        )
