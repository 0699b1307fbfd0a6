"""The product catalogue: ~350 products in 8 categories, with prices and popularity.

Consumables (coffee, skincare, supplements, pet food) carry `replenishment_days`, because
replenishment reminders are a core lifecycle segment and need buyers who re-order on a cycle.
Popularity is skewed (a few bestsellers) and favours consumables, as in a real shop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from activations.synthetic.arrays import coded_ids, decimal_from_cents, vocabulary

# Per category: (category, replenishment options for consumables, median price, count, nouns,
# adjectives, variants). Pet Supplies mixes consumable food with durable goods (nouns marked
# '*'); 'Noun=a/b' gives a noun its own variants when the category's do not fit it.
_CATALOGUE: tuple[tuple[str, tuple[int, ...], float, int, str, str, str], ...] = (
    ("Coffee & Tea", (30, 45), 18.0, 45,
     "Whole Bean Coffee|Ground Coffee|Espresso Blend|Cold Brew Pack|Green Tea|Earl Grey|"
     "Chai Concentrate|Matcha Powder|Decaf Blend",
     "Colombia|Ethiopia Yirgacheffe|Sumatra|House|Breakfast|Guatemala|Kenya AA|Organic",
     "250g|500g|1kg|20 bags|50 bags"),
    ("Skincare", (60, 90), 28.0, 50,
     "Daily Moisturizer|Vitamin C Serum|Gentle Cleanser|SPF 30 Sunscreen|Night Cream|Eye Cream|"
     "Exfoliating Toner|Lip Balm|Body Lotion",
     "Hydrating|Renewing|Sensitive|Brightening|Oil-Free|Calming",
     "30ml|50ml|100ml|200ml"),
    ("Supplements", (30, 60), 25.0, 30,
     "Multivitamin|Omega-3|Vitamin D3|Magnesium|Protein Powder|Collagen Peptides|Probiotic|"
     "Electrolyte Mix",
     "Daily|Plant-Based|Sport|Women's|Men's",
     "30 servings|60 capsules|90 capsules|1kg"),
    ("Pet Supplies", (30, 45), 24.0, 35,
     "Dry Dog Food|Wet Cat Food=12 x 85g/24 x 85g|Cat Litter=5kg/10kg|Dog Treats=200g/500g|"
     "Rope Toy*=Small/Large|Pet Bed*=Small/Medium/Large|Leash*=Red/Black/Navy|"
     "Collar*=Small/Medium/Large|Scratching Post*=60cm/90cm",
     "Natural|Everyday|Premium|Classic",
     "2kg|6kg|12kg"),
    ("Home & Kitchen", (), 35.0, 60,
     "Ceramic Mug|Pour-Over Kettle|French Press|Linen Napkins|Cutting Board|Scented Candle|"
     "Glass Storage Jar|Chef's Knife|Throw Blanket",
     "Stoneware|Walnut|Matte Black|Classic|Nordic|Hand-Thrown",
     "Set of 2|Set of 4|Small|Large|Sand|Charcoal"),
    ("Apparel", (), 45.0, 70,
     "Crew Tee|Hoodie|Joggers|Denim Jacket|Merino Sweater|Rain Jacket|Socks 3-Pack|Beanie",
     "Organic Cotton|Relaxed|Slim|Heavyweight|Recycled",
     "Black|Navy|Oatmeal|Olive|Grey"),
    ("Accessories", (), 38.0, 40,
     "Canvas Tote|Leather Wallet|Water Bottle|Sunglasses|Backpack|Card Holder|Travel Pouch",
     "Everyday|Classic|Minimal|Weekender|Insulated",
     "Black|Tan|Forest|Stone"),
    ("Gifts", (), 55.0, 25,
     "Gift Card|Coffee Lovers Box|Spa Gift Set|Tea Sampler|Holiday Hamper",
     "Deluxe|Classic|Mini|Seasonal",
     "Edition|Bundle|Collection"),
)  # fmt: skip


@dataclass(frozen=True)
class Catalogue:
    """Per product (index = product_id number - 1): price, cycle and how often it is chosen."""

    price: np.ndarray  # cents
    cycle: np.ndarray  # replenishment days; 0 for durable goods
    popularity: np.ndarray  # probability of being viewed or bought; sums to 1
    by_price: np.ndarray  # product indices, cheapest first
    price_cdf: np.ndarray  # cumulative popularity along `by_price`
    consumables: np.ndarray  # product indices with a cycle
    consumable_p: np.ndarray  # popularity among consumables; sums to 1
    ids: pa.Array


def build_products(rng: np.random.Generator) -> tuple[Catalogue, pa.Table]:
    """The catalogue and its `products` table; its size is fixed, not per person."""
    titles: list[str] = []
    categories: list[str] = []
    prices: list[int] = []
    replenish: list[int | None] = []
    for category, cycles, median, count, nouns, adjectives, variants in _CATALOGUE:
        noun_list, adj_list, var_list = (
            nouns.split("|"),
            adjectives.split("|"),
            variants.split("|"),
        )
        seen: set[str] = set()
        attempts = 0
        while len(seen) < count and attempts < 100 * count:  # fixed size, not per person
            attempts += 1
            noun, _, own = noun_list[int(rng.integers(len(noun_list)))].partition("=")
            choices = own.split("/") if own else var_list
            title = (
                f"{adj_list[int(rng.integers(len(adj_list)))]} {noun.rstrip('*')} "
                f"{choices[int(rng.integers(len(choices)))]}"
            )
            if title in seen:
                continue
            seen.add(title)
            titles.append(title)
            categories.append(category)
            price = median * math.exp(0.45 * float(rng.standard_normal()))
            prices.append(max(399, int(round(price)) * 100 - 1))  # charm pricing: 24.99
            consumable = bool(cycles) and not noun.endswith("*")
            replenish.append(int(rng.choice(cycles)) if consumable else None)
    size = len(titles)
    cents = np.array(prices, dtype=np.int64)
    cycle = np.array([r or 0 for r in replenish], dtype=np.int64)
    rank = rng.permutation(size)
    popularity = 1.0 / (rank + 5.0) ** 0.9
    popularity[cycle > 0] *= 1.5
    share = popularity / popularity.sum()
    by_price = np.argsort(cents, kind="stable")
    consumables = np.flatnonzero(cycle > 0)
    catalogue = Catalogue(
        price=cents,
        cycle=cycle,
        popularity=share,
        by_price=by_price,
        price_cdf=np.cumsum(share[by_price]),
        consumables=consumables,
        consumable_p=popularity[consumables] / popularity[consumables].sum(),
        ids=coded_ids("prod_", np.arange(1, size + 1), 4),
    )
    table = pa.table(
        {
            "product_id": catalogue.ids,
            "title": vocabulary(titles),
            "category": vocabulary(categories),
            "price": decimal_from_cents(cents),
            "replenishment_days": pa.array(replenish, type=pa.int64()),
        }
    )
    return catalogue, table
