"""Customers and their addresses, per destination country, with postcodes in its format.

Every postcode is drawn in the shape `orderstream.streams.validation.POSTCODE_FORMATS` expects
for its country, so a generated order is held only for the reasons the load means (payment,
stock), never for an address the generator got wrong.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_NL_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
_IE_LETTERS = "ACDEFHKNPRTVWXY"


def _digits(low: int, high: int, width: int) -> Callable[[random.Random], str]:
    return lambda rng: f"{rng.randint(low, high):0{width}d}"


def _nl(rng: random.Random) -> str:
    return f"{rng.randint(1011, 9999)} {rng.choice(_NL_LETTERS)}{rng.choice(_NL_LETTERS)}"


def _se(rng: random.Random) -> str:
    return f"{rng.randint(100, 984)} {rng.randint(0, 99):02d}"


def _pl(rng: random.Random) -> str:
    return f"{rng.randint(0, 99):02d}-{rng.randint(0, 999):03d}"


def _lu(rng: random.Random) -> str:
    return f"L-{rng.randint(1009, 9999)}"


def _ie(rng: random.Random) -> str:
    routing = rng.choice(("D02", "D04", "D06", "T12", "H91", "V94"))
    return f"{routing} {''.join(rng.choice(_IE_LETTERS) for _ in range(4))}"


@dataclass(frozen=True)
class Country:
    code: str
    language: str
    phone_prefix: str
    vat_percent: int
    postcode: Callable[[random.Random], str]
    cities: tuple[str, ...]


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("NL", "nl", "+316", 21, _nl, ("Amsterdam", "Utrecht", "Rotterdam", "Den Haag")),
        Country("BE", "nl", "+324", 21, _digits(1000, 9992, 4), ("Antwerpen", "Gent", "Brussel")),
        Country("LU", "fr", "+3526", 17, _lu, ("Luxembourg", "Esch-sur-Alzette")),
        Country("DE", "de", "+4915", 19, _digits(1067, 99998, 5), ("Berlin", "Köln", "München")),
        Country("AT", "de", "+4366", 20, _digits(1010, 9992, 4), ("Wien", "Graz", "Linz")),
        Country("FR", "fr", "+336", 20, _digits(1000, 95999, 5), ("Paris", "Lyon", "Lille")),
        Country("IT", "it", "+393", 22, _digits(10, 98168, 5), ("Milano", "Torino", "Bologna")),
        Country("ES", "es", "+346", 21, _digits(1001, 52080, 5), ("Madrid", "Barcelona")),
        Country("DK", "da", "+452", 25, _digits(1000, 9990, 4), ("København", "Aarhus")),
        Country("SE", "sv", "+467", 25, _se, ("Stockholm", "Göteborg", "Malmö")),
        Country("PL", "pl", "+485", 23, _pl, ("Warszawa", "Kraków", "Wrocław")),
        Country("IE", "en", "+3538", 23, _ie, ("Dublin", "Cork", "Galway")),
    )
}

_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # language: (first names, last names, streets)
    "nl": (
        ("Sanne", "Daan", "Fleur", "Joris", "Emma", "Bram", "Lotte", "Sem", "Noor", "Thijs"),
        ("de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Mulder", "Peeters"),
        ("Prinsengracht", "Oudegracht", "Kerkstraat", "Dorpsstraat", "Molenweg", "Meir"),
    ),
    "de": (
        ("Jonas", "Lea", "Lukas", "Anna", "Felix", "Marie", "Paul", "Sophie", "Jürgen"),
        ("Müller", "Schmidt", "Becker", "Wagner", "Hoffmann", "Schäfer", "Koch", "Weber"),
        ("Torstraße", "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße"),
    ),
    "fr": (
        ("Camille", "Louis", "Chloé", "Hugo", "Léa", "Jules", "Manon", "Gabriel"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Lefèvre"),
        ("Rue de la Paix", "Rue Victor Hugo", "Avenue Jean Jaurès", "Rue du Moulin"),
    ),
    "it": (
        ("Giulia", "Luca", "Sofia", "Marco", "Chiara", "Matteo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
        ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Mazzini"),
    ),
    "es": (
        ("Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Álvaro"),
        ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez"),
        ("Calle Mayor", "Calle Real", "Avenida de la Constitución"),
    ),
    "da": (
        ("Freja", "William", "Ida", "Oscar", "Clara"),
        ("Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen"),
        ("Nørregade", "Vestergade", "Strandvejen"),
    ),
    "sv": (
        ("Astrid", "Elias", "Maja", "Hugo", "Ebba"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson"),
        ("Storgatan", "Drottninggatan", "Kungsgatan"),
    ),
    "pl": (
        ("Zofia", "Jakub", "Julia", "Antoni", "Maja"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński"),
        ("ulica Długa", "ulica Polna", "ulica Lipowa"),
    ),
    "en": (
        ("Aoife", "Conor", "Saoirse", "Liam", "Niamh"),
        ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne"),
        ("Main Street", "Church Road", "Harbour View"),
    ),
}


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


_ASCII: dict[str, str] = {
    name: _ascii(name) for first, last, _ in _NAMES.values() for name in (*first, *last)
}


@dataclass(frozen=True, slots=True)
class Person:
    """A customer and where the parcel goes."""

    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    house_number: str
    postcode: str
    city: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def person(rng: random.Random, country: str, number: int, mail_domain: str) -> Person:
    """A customer in `country`; `number` makes the e-mail address unique within a run."""
    place = COUNTRIES[country]
    first_names, last_names, streets = _NAMES[place.language]
    first = first_names[rng.randrange(len(first_names))]
    last = last_names[rng.randrange(len(last_names))]
    return Person(
        first_name=first,
        last_name=last,
        email=f"{_ASCII[first]}.{_ASCII[last]}.{number}@{mail_domain}",
        phone=f"{place.phone_prefix}{rng.randint(1_000_000, 9_999_999)}",
        street=streets[rng.randrange(len(streets))],
        house_number=str(rng.randint(1, 240)),
        postcode=place.postcode(rng),
        city=place.cities[rng.randrange(len(place.cities))],
        country=country,
    )
