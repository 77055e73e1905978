"""The course's text data: sentences generated from a small template grammar.

Part IV (words, embeddings and language) needs text whose structure is known in advance, so
that a chapter can check that an embedding or a language model has recovered it. Nothing is
downloaded: every sentence comes from the templates below and a seeded generator.

The structure planted in the grammar:

- **gender** (``GENDER_PAIRS``: king/queen, man/woman, ...): every gendered word appears in
  the same templates, except that male words co-occur with "he/his" and female words with
  "she/her". So the vectors can separate male from female, and "king - man + woman" lands on
  a female word; but nothing in the grammar tells "king" from "man", so the analogy cannot
  single out "queen" (chapter 04-language/01 measures this);
- **countries and capitals** (``CAPITALS``): a capital appears next to "capital", "city" and
  its own country, so "paris - france + italy" can land near "rome" (how reliably depends on
  the embedding method, see chapter 04-language/01);
- **topics** (animals, food, colours, numbers): words of one topic share contexts;
- **multi-word names** (``PHRASES``: "new york", "los angeles", ...) that a phrase detector
  should find, because their parts almost never occur apart;
- **sentiment** (``sentiment_corpus``): reviews built from positive or negative adjectives and
  verbs, with negation ("not good") that flips the label, so bag-of-words models have
  something they cannot see.
"""
from __future__ import annotations

import numpy as np

from .validation import as_probability, check_positive_int, check_rng

__all__ = ["GENDER_PAIRS", "CAPITALS", "PHRASES", "ANIMALS", "FOODS", "COLOURS", "NUMBERS",
           "POSITIVE", "NEGATIVE", "THINGS", "template_corpus", "sentiment_corpus",
           "corpus_text"]

GENDER_PAIRS = (("king", "queen"), ("man", "woman"), ("prince", "princess"), ("boy", "girl"),
                ("father", "mother"), ("brother", "sister"), ("uncle", "aunt"),
                ("husband", "wife"))
CAPITALS = {"france": "paris", "italy": "rome", "spain": "madrid", "germany": "berlin",
            "japan": "tokyo", "egypt": "cairo", "kenya": "nairobi", "peru": "lima"}
PHRASES = ("new york", "los angeles", "hong kong", "san francisco")
ANIMALS = ("dog", "cat", "horse", "cow", "sheep", "goat")
FOODS = ("bread", "cheese", "apple", "rice", "soup", "cake")
COLOURS = ("red", "green", "blue", "yellow", "black", "white")
NUMBERS = ("two", "three", "four", "five", "six", "seven")
POSITIVE = ("good", "great", "wonderful", "pleasant", "excellent", "lovely")
NEGATIVE = ("bad", "awful", "terrible", "boring", "poor", "dreadful")
THINGS = ("film", "book", "meal", "song", "trip", "show")

_PRONOUN = {0: ("he", "his"), 1: ("she", "her")}


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _person_sentence(rng: np.random.Generator) -> str:
    pair = _pick(rng, GENDER_PAIRS)
    side = int(rng.integers(2))
    who = pair[side]
    subject, possessive = _PRONOUN[side]
    country = _pick(rng, tuple(CAPITALS))
    templates = (
        f"the {who} said that {subject} was happy",
        f"the {who} walked home and {subject} slept",
        f"the {who} fed {possessive} {_pick(rng, ANIMALS)}",
        f"the {who} ate {possessive} {_pick(rng, FOODS)} at home",
        f"the {who} lives in {country} with {possessive} family",
        f"{subject} is the {who} of the family",
    )
    return _pick(rng, templates)


def _place_sentence(rng: np.random.Generator) -> str:
    country = _pick(rng, tuple(CAPITALS))
    capital = CAPITALS[country]
    city = _pick(rng, PHRASES)
    templates = (
        f"{capital} is the capital of {country}",
        f"the capital city of {country} is {capital}",
        f"we flew from {capital} to {city}",
        f"{city} is a big city with many people",
        f"people in {country} visit {capital} in summer",
        f"the city of {capital} is in {country}",
    )
    return _pick(rng, templates)


def _thing_sentence(rng: np.random.Generator) -> str:
    templates = (
        f"the {_pick(rng, ANIMALS)} chased the {_pick(rng, ANIMALS)}",
        f"the {_pick(rng, ANIMALS)} ate the {_pick(rng, FOODS)}",
        f"a {_pick(rng, COLOURS)} {_pick(rng, ANIMALS)} sat in the field",
        f"we bought {_pick(rng, NUMBERS)} {_pick(rng, COLOURS)} apples",
        f"she cooked {_pick(rng, FOODS)} and {_pick(rng, FOODS)} for dinner",
        f"he saw {_pick(rng, NUMBERS)} {_pick(rng, ANIMALS)}s near the river",
    )
    return _pick(rng, templates)


def template_corpus(n_sentences: int, rng: np.random.Generator) -> list[list[str]]:
    """``n_sentences`` tokenised sentences from the grammar (lower case, split on spaces).

    Each sentence is about people (gender pairs), places (countries, capitals, multi-word city
    names) or things (animals, food, colours, numbers), in proportions 2 : 2 : 1.
    Returns a list of lists of tokens; the same generator state gives the same corpus.
    """
    n = check_positive_int(n_sentences, "n_sentences")
    check_rng(rng)
    makers = (_person_sentence, _person_sentence, _place_sentence, _place_sentence,
              _thing_sentence)
    return [makers[int(rng.integers(len(makers)))](rng).split() for _ in range(n)]


def sentiment_corpus(n_sentences: int, rng: np.random.Generator,
                     negation_rate: float = 0.25) -> tuple[list[list[str]], np.ndarray]:
    """Short reviews with a sentiment label: 1 for positive, 0 for negative.

    A review says a thing was a positive or a negative word, possibly preceded by "not",
    which flips the label ("the film was not good" is negative). Padding words that carry no
    sentiment vary the length. Returns (sentences as token lists, labels of shape (n,) int64).
    """
    n = check_positive_int(n_sentences, "n_sentences")
    check_rng(rng)
    negation_rate = as_probability(negation_rate, "negation_rate")
    sentences, labels = [], np.empty(n, dtype=np.int64)
    for i in range(n):
        positive = bool(rng.integers(2))
        negated = bool(rng.random() < negation_rate)
        word = _pick(rng, POSITIVE if positive else NEGATIVE)
        thing = _pick(rng, THINGS)
        lead = _pick(rng, ("", "i think ", "honestly ", "my friend said "))
        tail = _pick(rng, ("", " overall", " in the end", " this time"))
        middle = f"not {word}" if negated else word
        sentences.append(f"{lead}the {thing} was {middle}{tail}".split())
        labels[i] = int(positive != negated)
    return sentences, labels


def corpus_text(sentences: list[list[str]]) -> str:
    """The corpus as one string: sentences joined by spaces, one sentence per line."""
    if not isinstance(sentences, (list, tuple)) or not all(
            isinstance(s, (list, tuple)) and all(isinstance(t, str) for t in s)
            for s in sentences):
        raise TypeError("sentences must be a list of token lists (each token a str)")
    return "\n".join(" ".join(s) for s in sentences) + "\n"


