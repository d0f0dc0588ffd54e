"""The catalogue a load sells from: SKUs ranked by popularity (Zipf), prices in cents.

Rank 1 is the best seller. The network's own SKUs come first (the names a demo reader
knows are the busy ones), then `SKU-00001`, `SKU-00002`... up to the catalogue size. The SKU
of rank k is drawn with probability proportional to 1 / k**s. Prices are integer cents.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass

_PRICES = (495, 995, 1295, 1495, 1995, 2495, 2995, 3495, 3995, 4995, 6995, 7995, 9995, 14995)
"""Price points (cents) for generated SKUs; peak season is mostly under 50 euro."""

_SAMPLE_PRODUCTS: dict[str, tuple[str, int]] = {
    "JKT-WOOL-NAVY-M": ("Wool jacket - Navy / M", 18900),
    "SCARF-MERINO-GRY": ("Merino scarf - Grey", 3495),
    "TSHIRT-BLK-M": ("Organic tee black M", 2495),
    "SOCKS-3PK": ("Socks 3-pack", 1250),
    "MUG-STONE-GRN": ("Stoneware mug green 350 ml", 1295),
    "8717953265117": ("Linen tea towel, set of 2", 1999),
    "BEANIE-WOOL-RED": ("Wool beanie red", 2995),
    "GLOVES-LTHR-L": ("Leather gloves L", 5995),
    "TOTE-CANVAS-NAT": ("Canvas tote natural", 1995),
    "CANDLE-SOY-L": ("Soy candle large", 2295),
    "POSTER-A2-MAP": ("Poster A2 city map", 1495),
    "UMBRELLA-BLK": ("Umbrella black", 2795),
}


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    ean: str
    asin: str
    title: str
    price: int
    """Unit price in euro cents, tax included."""


@dataclass(frozen=True)
class Catalogue:
    products: tuple[Product, ...]
    """Most popular first."""
    weights: tuple[float, ...]
    """Zipf weight of each product (not normalized)."""
    _cumulative: tuple[float, ...]

    def pick(self, rng: random.Random) -> int:
        """The index of a product, drawn by popularity."""
        return bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])

    def probability(self, index: int) -> float:
        return self.weights[index] / self._cumulative[-1]


def extra_sku(number: int) -> str:
    """`SKU-00001` for 1: the generated SKUs beyond the network's own."""
    return f"SKU-{number:05d}"


def build_catalogue(
    network_skus: Sequence[str], size: int, exponent: float, rng: random.Random
) -> Catalogue:
    """`size` products: the network's SKUs first (all of them, even beyond `size`)."""
    skus = list(network_skus)
    skus += [extra_sku(n) for n in range(1, size - len(skus) + 1)]
    products = tuple(_product(index, sku, rng) for index, sku in enumerate(skus))
    weights = tuple(1.0 / (rank**exponent) for rank in range(1, len(products) + 1))
    cumulative: list[float] = []
    running = 0.0
    for weight in weights:
        running += weight
        cumulative.append(running)
    return Catalogue(products, weights, tuple(cumulative))


def _product(index: int, sku: str, rng: random.Random) -> Product:
    title, price = _SAMPLE_PRODUCTS.get(sku, (f"Article {sku}", 0))
    if not price:
        price = _PRICES[rng.randrange(len(_PRICES))]
    ean = sku if sku.isdigit() and len(sku) == 13 else ean13(871_000_000_000 + index)
    return Product(sku=sku, ean=ean, asin=f"B0{index + 0x10000000:08X}", title=title, price=price)


def ean13(body: int) -> str:
    """A 12-digit body with its GS1 check digit."""
    digits = f"{body:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)
