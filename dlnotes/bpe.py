"""Byte-level byte-pair encoding (BPE), the tokenizer family of GPT-style language models.

A model reads integers, not text. A tokenizer maps a string to a list of ids in
``range(vocab_size)`` and back. Byte-level BPE starts from the 256 possible bytes of the UTF-8
encoding (ids 0-255, so *any* string can be encoded, including scripts and emoji never seen in
training) and learns merges: the most frequent pair of adjacent tokens in the training text
becomes a new token, again and again. References: Gage (1994), "A new algorithm for data
compression" (BPE); Sennrich, Haddow and Birch (2016), subword units for translation;
Radford et al. (2019), GPT-2 (byte-level BPE with a pre-tokenizing regex).

    vocab_size = 256 + len(merges) + len(special_tokens)        every id is < vocab_size

**Pre-tokenization.** Before counting pairs the text is cut into chunks by
``PRETOKENIZE_PATTERN`` (GPT-2's pattern, rewritten for Python's ``re``, which lacks ``\\p{L}``):

    '(?:s|t|re|ve|m|ll|d)      English contractions: 's 't 're 've 'm 'll 'd
    | ?[^\\W\\d_]+              a run of letters, with at most one leading space
    | ?\\d+                     a run of digits, with at most one leading space
    | ?(?:[^\\s\\w]|_)+          a run of other symbols (punctuation, emoji, ``_``, marks)
    |\\s+(?!\\S)                whitespace, except the last space before a word
    |\\s+                       whatever whitespace is left

Merges never cross a chunk boundary, and a word carries its leading space, so " the" and
"the" are different tokens. Every character falls into exactly one of the classes, so the
chunks concatenate back to the text. (``[^\\W\\d_]`` is "word character but not digit or
underscore", i.e. letters in any script; CJK text without spaces stays one chunk.)

**Training** counts adjacent pairs inside each distinct chunk, weighted by how often the chunk
occurs (overlapping pairs count, so "aaa" holds the pair (a, a) twice), and merges the most
frequent pair; **ties go to the smallest pair of ids** ``(left, right)``, compared as tuples.
The result depends only on the text. Training stops early when no chunk has two tokens left;
``vocab_size`` then reports the size actually reached.

**Encoding** cuts the text into chunks and, within each chunk, repeatedly applies the merge of
lowest rank (earliest learned) among the adjacent pairs, all its occurrences left to right,
until no learned pair is left. This reproduces the order of training. Chunk encodings are
cached, which makes encoding fast on text with a limited vocabulary of words.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np

from .validation import as_int

__all__ = ["PRETOKENIZE_PATTERN", "pretokenize", "BPETokenizer"]

PRETOKENIZE_PATTERN = (r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+"
                       r"|\s+(?!\S)|\s+")
_PRETOKENIZE = re.compile(PRETOKENIZE_PATTERN)
_CACHE_LIMIT = 100_000


def pretokenize(text: str) -> list[str]:
    """The chunks of ``text`` under ``PRETOKENIZE_PATTERN``; ``"".join(chunks) == text``."""
    _check_text(text, "text")
    return _PRETOKENIZE.findall(text)


def _check_text(text, name: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str; got {type(text).__name__}")


def _to_utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"text contains a lone surrogate {text[err.start]!r} at index "
                         f"{err.start}, which is not a Unicode character UTF-8 can "
                         "encode") from None


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids``, scanning left to right."""
    out, i, n = [], 0, len(ids)
    a, b = pair
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    """A byte-level BPE tokenizer: ``train`` it, then ``encode``/``decode``.

    An untrained tokenizer is the plain byte tokenizer (vocab_size 256).
    Attributes: ``merges`` (list of id pairs in the order learned; merge ``r`` creates id
    ``256 + r``), ``special_tokens`` (dict str -> id), ``vocab_size``.
    """

    def __init__(self) -> None:
        self._set_merges([], ())

    # --- construction -------------------------------------------------------------------
    def _set_merges(self, merges: list[tuple[int, int]], special_tokens: Iterable[str]) -> None:
        self.merges = list(merges)
        self._ranks = {pair: 256 + r for r, pair in enumerate(self.merges)}
        self._bytes = [bytes([i]) for i in range(256)]
        for a, b in self.merges:
            self._bytes.append(self._bytes[a] + self._bytes[b])
        self.special_tokens = {}
        for tok in special_tokens:
            self.special_tokens[tok] = len(self._bytes) + len(self.special_tokens)
        self._special_by_id = {i: t.encode("utf-8") for t, i in self.special_tokens.items()}
        names = sorted(self.special_tokens, key=len, reverse=True)
        self._special_split = (re.compile("(" + "|".join(map(re.escape, names)) + ")")
                               if names else None)
        self.vocab_size = len(self._bytes) + len(self.special_tokens)
        self._cache: dict[str, tuple[int, ...]] = {}

    @staticmethod
    def _check_specials(special_tokens) -> tuple[str, ...]:
        if isinstance(special_tokens, str):
            raise TypeError("special_tokens must be a sequence of str, not a single str")
        try:
            specials = tuple(special_tokens)
        except TypeError:
            raise TypeError("special_tokens must be a sequence of str; got "
                            f"{type(special_tokens).__name__}") from None
        for tok in specials:
            _check_text(tok, "each special token")
            if not tok:
                raise ValueError("a special token must not be the empty string")
            _to_utf8(tok)
        if len(set(specials)) != len(specials):
            raise ValueError(f"special_tokens contains duplicates: {specials!r}")
        return specials

    @classmethod
    def from_merges(cls, merges: Sequence[tuple[int, int]],
                    special_tokens: Sequence[str] = ()) -> BPETokenizer:
        """A tokenizer from a list of merges (e.g. ``other.merges[:k]``, a smaller vocabulary).

        Each merge is a pair of ids (Python or NumPy ints, e.g. rows of an int64 array).
        """
        if isinstance(merges, (str, bytes)):
            raise TypeError(f"merges must be a sequence of id pairs; got {type(merges).__name__}")
        try:
            raw = list(merges)
        except TypeError:
            raise TypeError(f"merges must be a sequence of id pairs; got "
                            f"{type(merges).__name__}") from None
        merges = []
        for r, pair in enumerate(raw):
            try:
                pair = tuple(pair)
            except TypeError:
                raise TypeError(f"merge {r} must be a pair of ints; got {pair!r}") from None
            if (len(pair) != 2 or not all(isinstance(i, (int, np.integer))
                                          and not isinstance(i, (bool, np.bool_))
                                          for i in pair)):
                raise TypeError(f"merge {r} must be a pair of ints; got {pair!r}")
            pair = (int(pair[0]), int(pair[1]))
            merges.append(pair)
            if not all(0 <= i < 256 + r for i in pair):
                raise ValueError(f"merge {r} = {pair} refers to an id that does not exist yet "
                                 f"(ids below {256 + r} exist before it)")
        tok = cls()
        tok._set_merges(merges, cls._check_specials(special_tokens))
        return tok

    # --- training -----------------------------------------------------------------------
    def train(self, text: str, vocab_size: int, special_tokens: Sequence[str] = ()) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``text``; returns self.

        text: the training text (non-empty str). vocab_size: int >= 256 + len(special_tokens).
        special_tokens: strings that get their own ids (after the merges) and are never split.
        """
        _check_text(text, "text")
        if not text:
            raise ValueError("text must not be empty: there is nothing to learn merges from")
        specials = self._check_specials(special_tokens)
        vocab_size = as_int(vocab_size, "vocab_size")
        floor = 256 + len(specials)
        if vocab_size < floor:
            raise ValueError(f"vocab_size must be at least {floor} (256 byte tokens"
                             f" + {len(specials)} special tokens); got {vocab_size}")
        _to_utf8(text)
        self._set_merges([], specials)
        counts = Counter(chunk for is_special, chunk in self._pieces(text) if not is_special)
        words = [list(chunk.encode("utf-8")) for chunk in counts]
        freqs = list(counts.values())
        merges: list[tuple[int, int]] = []
        for new_id in range(256, vocab_size - len(specials)):
            pairs: Counter = Counter()
            for ids, f in zip(words, freqs, strict=True):
                for pair in pairwise(ids):
                    pairs[pair] += f
            if not pairs:
                break
            # Most frequent pair; among equals the smallest (left, right) -- the documented rule.
            best = min(pairs, key=lambda p: (-pairs[p], p))
            merges.append(best)
            words = [_merge(ids, best, new_id) if len(ids) > 1 else ids for ids in words]
        self._set_merges(merges, specials)
        return self

    # --- encoding and decoding ----------------------------------------------------------
    def _pieces(self, text: str):
        """(is_special, piece) in order: special tokens whole, the rest as regex chunks."""
        parts = self._special_split.split(text) if self._special_split else [text]
        for k, part in enumerate(parts):
            if k % 2:
                yield True, part
            elif part:
                for chunk in _PRETOKENIZE.findall(part):
                    yield False, chunk

    def _encode_chunk(self, chunk: str) -> tuple[int, ...]:
        ids = list(chunk.encode("utf-8"))
        ranks = self._ranks
        while len(ids) > 1:
            best = min(pairwise(ids), key=lambda p: ranks.get(p, 1 << 62))
            new_id = ranks.get(best)
            if new_id is None:
                break
            ids = _merge(ids, best, new_id)
        return tuple(ids)

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text`` (any str without lone surrogates); each id < vocab_size."""
        _check_text(text, "text")
        _to_utf8(text)
        cache, out = self._cache, []
        for is_special, piece in self._pieces(text):
            if is_special:
                out.append(self.special_tokens[piece])
                continue
            ids = cache.get(piece)
            if ids is None:
                ids = self._encode_chunk(piece)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[piece] = ids
            out.extend(ids)
        return out

    def _check_ids(self, ids) -> list[int]:
        if isinstance(ids, (str, bytes)):
            raise TypeError(f"ids must be a sequence of ints; got {type(ids).__name__}")
        try:
            seq = list(ids)
        except TypeError:
            raise TypeError(f"ids must be a sequence of ints; got {type(ids).__name__}") from None
        return [self._check_id(i, f"ids[{k}]") for k, i in enumerate(seq)]

    def _check_id(self, i, name: str) -> int:
        if isinstance(i, (bool, np.bool_)) or not hasattr(i, "__index__"):
            raise TypeError(f"{name} must be an int; got {type(i).__name__} {i!r}")
        i = int(i)
        if not 0 <= i < self.vocab_size:
            raise ValueError(f"{name} = {i} is outside the vocabulary [0, {self.vocab_size})")
        return i

    def id_to_bytes(self, i: int) -> bytes:
        """The bytes that token ``i`` stands for (a special token: its UTF-8 text)."""
        i = self._check_id(i, "i")
        return self._special_by_id[i] if i in self._special_by_id else self._bytes[i]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of a list of ids. Byte sequences that are not valid UTF-8 (possible only
        for id lists that ``encode`` did not produce) become U+FFFD, as in GPT-2."""
        ids = self._check_ids(ids)
        special, table = self._special_by_id, self._bytes
        data = b"".join(special[i] if i in special else table[i] for i in ids)
        return data.decode("utf-8", errors="replace")

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        """Each token as readable text; a token that is not whole UTF-8 characters shows
        its bytes in hex, e.g. ``<e4 b8>`` for the first two bytes of a CJK character."""
        out = []
        for i in self._check_ids(ids):
            raw = self.id_to_bytes(i)
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                out.append("<" + raw.hex(" ") + ">")
        return out
