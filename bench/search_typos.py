"""Typo correction: pg_trgm similarity against the edit-distance fallback, on one dictionary.

    DATABASE_URL=... REDIS_URL=... python bench/search_typos.py [--products 100000]
        [--words 20000] [--typos 400]

Needs a migrated database with pg_trgm (`manage.py migrate_schemas`). A scratch tenant
"bench-typos" is filled with products by products_bulk_load (reused when it already holds that
many). Correction only reads the SearchWord dictionary, never the products, so its cost depends
on the dictionary: measured first with the words of the loaded product names alone, then with a
realistic vocabulary added (the most frequent lowercase words of the installed Python packages'
source and documentation, `--words` of them). Typos are dictionary words of 4+ letters with one
seeded slip (a letter dropped, doubled, replaced, or two neighbours swapped), one in five with two.

Per typo it times, in the same run: an exact lookup of the word in the dictionary (the bare
baseline, what every search does), the trigram correction and the edit-distance correction; and
the whole product_search of the typo with each. "recovered" is the share of typos corrected
back to the word they were made from.
"""

import argparse
import os
import random
import re
import statistics
import string
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.services import tenant_create  # noqa: E402
from catalog import selectors  # noqa: E402
from catalog.extensions import trigram_available  # noqa: E402
from catalog.models import Product, SearchWord  # noqa: E402
from catalog.services import products_bulk_load  # noqa: E402
from catalog.services.search import search_words_add, search_words_refresh  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import public_tenant_ensure  # noqa: E402

SLUG, HOST = "bench-typos", "bench-typos.localhost"
# About four typos in five are one slip (Damerau 1964); the rest are given two here.
TWO_SLIPS = 0.2
_TOKEN = re.compile(r"\b[a-z]{3,15}\b")


def vocabulary(size: int) -> list[str]:
    """The `size` most frequent lowercase words of the installed packages' .py/.txt/.rst files."""
    counts: Counter[str] = Counter()
    root = Path(sysconfig.get_paths()["purelib"])
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".txt", ".rst"} and path.is_file():
            try:
                counts.update(_TOKEN.findall(path.read_text(errors="ignore")))
            except OSError:
                continue
    return [word for word, _ in counts.most_common(size)]


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1) if rng.random() < 0.85 else 0
    kind = rng.choice(["drop", "double", "replace", "swap"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "replace":
        return word[:i] + rng.choice(string.ascii_lowercase.replace(word[i], "")) + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def typos(words: list[str], n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng, known = random.Random(seed), set(words)
    pool = sorted(w for w in words if len(w) >= 4)
    pairs = []
    while len(pairs) < n:
        word = rng.choice(pool)
        typed = typo(word, rng)
        if rng.random() < TWO_SLIPS:
            typed = typo(typed, rng)
        if typed not in known and len(typed) >= 3:
            pairs.append((typed, word))
    return pairs


def timed(fn, items) -> tuple[list[float], list]:
    ms, results = [], []
    for item in items:
        t0 = time.perf_counter()
        results.append(fn(item))
        ms.append((time.perf_counter() - t0) * 1000)
    return ms, results


def median(ms: list[float]) -> float:
    return statistics.median(ms)


def p95(ms: list[float]) -> float:
    return sorted(ms)[round(0.95 * (len(ms) - 1))]


def measure(pairs: list[tuple[str, str]], label: str) -> None:
    typed = [t for t, _ in pairs]
    product_qs = selectors.product_list()
    for fn in (
        selectors._known_words,
        selectors._closest_by_trigram,
        selectors._closest_by_edit_distance,
    ):
        timed(fn, typed[:50])  # warm caches and plans
    base, _ = timed(selectors._known_words, typed)
    trigram, by_trigram = timed(selectors._closest_by_trigram, typed)
    edits, by_edits = timed(selectors._closest_by_edit_distance, typed)

    def search(text):
        return selectors.product_search(queryset=product_qs, text=text, limit=20)

    search_subset = typed[:100]
    search_trigram, _ = timed(search, search_subset)
    selectors.trigram_available = lambda: False
    try:
        search_edits, _ = timed(search, search_subset)
    finally:
        selectors.trigram_available = trigram_available

    words = SearchWord.objects.count()
    print(f"\n{label}: {words:,} dictionary words, {len(pairs)} typos")
    print(f"{'':34} {'median':>9} {'p95':>9} {'x baseline':>11} {'recovered':>10}")
    b = median(base)
    rows = [
        ("exact dictionary lookup (baseline)", base, None),
        ("trigram correction (pg_trgm)", trigram, by_trigram),
        ("edit-distance correction", edits, by_edits),
    ]
    for name, ms, found in rows:
        recovered = (
            f"{sum(f == w for f, (_, w) in zip(found, pairs, strict=True)) / len(pairs):.0%}"
            if found is not None
            else ""
        )
        print(
            f"{name:34} {median(ms):7.2f}ms {p95(ms):7.2f}ms {median(ms) / b:10.1f}x "
            f"{recovered:>10}"
        )
    agree = sum(x == y for x, y in zip(by_trigram, by_edits, strict=True)) / len(pairs)
    ratio = median(edits) / median(trigram)
    print(f"edit distance / trigram: {ratio:.2f}x median, same word {agree:.0%}")
    print(
        f"whole search of a typo ({len(search_subset)}): trigram {median(search_trigram):.1f}ms, "
        f"edit distance {median(search_edits):.1f}ms "
        f"({median(search_edits) / median(search_trigram):.2f}x)"
    )


def prepare(count: int) -> Tenant:
    public_tenant_ensure()
    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        print(f"creating scratch tenant {SLUG} ...")
        tenant = tenant_create(slug=SLUG, name="Typo benchmark", domain=HOST)
    with schema_context(tenant.schema_name):
        existing = Product.objects.count()
        if existing != count:
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE catalog_product, catalog_product_tags, catalog_inventorymovement, "
                    "catalog_review, catalog_searchword RESTART IDENTITY"
                )
            print(f"loading {count:,} products with COPY ...")
            t0 = time.perf_counter()
            products_bulk_load(count=count)
            print(f"  load: {time.perf_counter() - t0:.1f}s")
        else:
            print(f"reusing {count:,} products already loaded")
    return tenant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--typos", type=int, default=400)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    tenant = prepare(args.products)
    if not trigram_available():
        raise SystemExit("this benchmark compares against pg_trgm: the server must have it")
    extra = vocabulary(args.words)
    with schema_context(tenant.schema_name):
        SearchWord.objects.all().delete()  # words a previous run added
        search_words_refresh()
        product_words = list(SearchWord.objects.values_list("word", flat=True))
        measure(typos(product_words, args.typos), "product-name words only")
        search_words_add(names=extra)
        words = list(SearchWord.objects.values_list("word", flat=True))
        measure(typos(words, args.typos), f"with {args.words:,} common words added")
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
