"""Demo catalog: a small category tree, a few tags and about fifty products. Idempotent."""

import random
from decimal import Decimal

from django.db.models import F

from catalog import services
from catalog.models import Category, Product, Review, Tag

TREE = {
    "Clothing": ["Shirts", "Jackets", "Shoes"],
    "Electronics": ["Audio", "Computers", "Phones"],
    "Home": ["Kitchen", "Furniture"],
}
TAGS = ["New", "Bestseller", "Eco", "Limited"]
ITEMS = {
    "Shirts": [
        "Linen shirt",
        "Oxford shirt",
        "Flannel shirt",
        "Polo shirt",
        "Denim shirt",
        "Henley shirt",
    ],
    "Jackets": [
        "Rain jacket",
        "Down jacket",
        "Denim jacket",
        "Fleece jacket",
        "Wool coat",
        "Bomber jacket",
    ],
    "Shoes": [
        "Running shoes",
        "Leather boots",
        "Canvas sneakers",
        "Trail shoes",
        "Sandals",
        "Slippers",
    ],
    "Audio": [
        "Wireless headphones",
        "Bluetooth speaker",
        "Earbuds",
        "Turntable",
        "Soundbar",
        "Microphone",
    ],
    "Computers": [
        "Laptop stand",
        "Mechanical keyboard",
        "Wireless mouse",
        "USB-C hub",
        "Monitor",
        "Webcam",
    ],
    "Phones": [
        "Phone case",
        "Fast charger",
        "Screen protector",
        "Car mount",
        "Power bank",
        "Phone stand",
    ],
    "Kitchen": [
        "Espresso machine",
        "Chef knife",
        "Cast iron pan",
        "Kettle",
        "Teapot",
        "Blender",
        "Cutting board",
    ],
    "Furniture": [
        "Oak desk",
        "Office chair",
        "Bookshelf",
        "Floor lamp",
        "Side table",
        "Stool",
        "Coat rack",
    ],
}


def _category(name: str, parent: Category | None) -> Category:
    from django.utils.text import slugify

    existing = Category.objects.filter(slug=slugify(name)).first()
    return existing or services.category_create(name=name, slug=slugify(name), parent=parent)


def seed(*, tenant, owner) -> str:
    rng = random.Random(7)  # same products every run
    leaves = {}
    for root_name, children in TREE.items():
        root = _category(root_name, None)
        for child in children:
            leaves[child] = _category(child, root)
    tags = [
        Tag.objects.filter(name=name).first() or services.tag_create(name=name) for name in TAGS
    ]
    created = 0
    n = 0
    for category_name, names in ITEMS.items():
        for name in names:
            n += 1
            sku = f"DEMO-{n:03d}"
            price = Decimal(rng.randrange(500, 50000)) / 100
            on_sale = rng.random() < 0.3
            # A live product with the SKU first; a soft-deleted demo product stays deleted (and
            # is not reviewed again: its row is locked to changes).
            product = (
                Product.objects.filter(sku=sku)
                .order_by(F("deleted_at").desc(nulls_first=True), "-id")
                .first()
            )
            if product is None:
                product = services.product_create(
                    name=name,
                    sku=sku,
                    description=f"{name} from the demo {category_name.lower()} range.",
                    price=price,
                    compare_at_price=(price * Decimal("1.25")).quantize(Decimal("0.01"))
                    if on_sale
                    else None,
                    cost_price=(price * Decimal("0.55")).quantize(Decimal("0.01")),
                    stock_quantity=rng.choice([0, 3, 12, 40, 120]),
                    low_stock_threshold=5,
                    status=Product.Status.ACTIVE if n % 10 else Product.Status.DRAFT,
                    category=leaves[category_name],
                    tags=rng.sample(tags, k=rng.randint(0, 2)),
                    attributes={"origin": rng.choice(["EU", "US", "JP"])},
                )
                created += 1
            reviewable = n % 4 == 0 and product.deleted_at is None
            if reviewable and not Review.objects.filter(product=product, user=owner).exists():
                services.review_create(
                    product_id=product.id, user=owner, rating=rng.randint(3, 5), title="Good"
                )
    return (
        f"{Category.objects.count()} categories, {len(tags)} tags, "
        f"{Product.objects.live().count()} products ({created} new)"
    )
