"""First and last names per locale, drawn by country, with the ASCII spelling emails use.

Email addresses are built from names, and addresses are ASCII: Jürgen Müller is
'juergen.mueller@...', not 'jrgen.mller@...'. So each name carries both spellings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from activations.synthetic.arrays import pick_index, vocabulary

# Names per locale; 'Display:ascii' gives the spelling used in email addresses.
_NAMES = {
    "en": (
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
        "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy "
        "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
        "Paul Donna Joshua Michelle Kevin Amanda Brian Melissa George Deborah Timothy Stephanie "
        "Ethan Olivia Noah Emma Liam Ava Mason Sophia Lucas Isabella Oliver Mia Jack Charlotte "
        "Harry Amelia Chloe Grace Ella Zoe Hannah Lily Ryan Nathan Tyler Aaron Priya Wei Mei Raj "
        "Aisha Omar Sofia Diego Carlos Lucia Mateo Jamal Keisha",
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
        "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
        "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
        "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
        "Patel Kim Chen Singh Wang O'Brien:obrien O'Connor:oconnor Murphy Kelly Evans Hughes "
        "Edwards Wood Turner Cooper Ward Morris Price Bennett Gray Brooks Fisher Reed Cook Morgan "
        "Bell Murray Watson MacDonald Stewart",
    ),
    "de": (
        "Lukas Leon Finn Jonas Paul Felix Maximilian Elias Noah Luis Ben Jürgen:juergen Klaus Uwe "
        "Stefan Thomas Michael Andreas Sabine Anna Emma Mia Hannah Lena Lea Marie Sophie Laura "
        "Julia Katharina Ursula Monika Petra Birgit Jörg:joerg Günter:guenter",
        "Müller:mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
        "Schäfer:schaefer Koch Bauer Richter Klein Wolf Schröder:schroeder Neumann Schwarz "
        "Zimmermann Braun Krüger:krueger Hofmann Hartmann Lange Schmitt Werner Krause Meier "
        "Lehmann",
    ),
    "fr": (
        "Gabriel Louis Raphaël:raphael Jules Adam Lucas Léo:leo Hugo Arthur Nathan Jean Pierre "
        "Michel Philippe Alain Nicolas Julien Camille Léa:lea Manon Chloé:chloe Inès:ines Jade "
        "Louise Zoé:zoe Marie Nathalie Isabelle Sylvie Catherine Hélène:helene Céline:celine "
        "Amélie:amelie",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre:lefevre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard "
        "André:andre Lefebvre Mercier Dupont Lambert Bonnet François:francois Martinez",
    ),
}
_COUNTRY_LOCALE = ("en", "en", "de", "fr", "en", "en")  # per country, indexed as COUNTRIES


@dataclass(frozen=True)
class Names:
    """Each person's first and last name, as indices into one shared vocabulary."""

    display: pa.Array  # the vocabulary as written in `customers`
    ascii: pa.Array  # the same vocabulary as spelled in email addresses
    first: np.ndarray
    last: np.ndarray


def draw_names(rng: np.random.Generator, country: np.ndarray) -> Names:
    """A first and last name per person from the locale of their country."""
    spans, display, ascii_ = _vocabulary()
    locale = np.array([list(spans).index(_COUNTRY_LOCALE[c]) for c in range(6)])[country]
    table = np.array([spans[name] for name in spans], dtype=np.int64)
    first = table[locale, 0] + pick_index(rng, table[locale, 1])
    last = table[locale, 2] + pick_index(rng, table[locale, 3])
    return Names(display=vocabulary(display), ascii=vocabulary(ascii_), first=first, last=last)


def _vocabulary() -> tuple[dict[str, tuple[int, int, int, int]], list[str], list[str]]:
    """Flattened name lists: per locale (first offset, first count, last offset, last count)."""
    display: list[str] = []
    ascii_: list[str] = []
    spans: dict[str, tuple[int, int, int, int]] = {}
    for locale, (firsts, lasts) in _NAMES.items():
        span: list[int] = []
        for words in (firsts.split(), lasts.split()):
            span += [len(display), len(words)]
            for word in words:
                shown, _, plain = word.partition(":")
                display.append(shown)
                ascii_.append(plain or shown.lower().replace("'", ""))
        spans[locale] = (span[0], span[1], span[2], span[3])
    return spans, display, ascii_
