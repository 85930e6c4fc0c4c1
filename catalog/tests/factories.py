"""factory-boy factories of the catalog (run them inside the tenant's schema)."""

from decimal import Decimal

import factory

from catalog.models import Category, Product, Tag


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from catalog.services import category_create

        return category_create(**kwargs)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A plain product."
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    price = Decimal("10.00")
    status = Product.Status.ACTIVE
    stock_quantity = 10
