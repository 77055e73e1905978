"""dlnotes.bpe: byte-level BPE, checked against hand-worked merges, an independent
reference encoder, and round trips over random Unicode text (hypothesis)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dlnotes import bpe as tk
from dlnotes.bpe import BPETokenizer, pretokenize
from dlnotes.corpus import corpus_text, template_corpus

MIXED = ("The king said that he was happy. the queen's dog ate 42 apples!\n"
         "我喜欢学习中文。中文很有意思！ naïve café, e\u0301 😀👍🏽 👨‍👩‍👧 "
         "\t tabs_and_under_scores\r\n") * 5

# Full Unicode minus lone surrogates (which UTF-8 cannot encode; tested separately below).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
EDGE_CASES = ["", " ", "\n\n", "\x00\x01\x7f\x1b[0m", "中文", "e\u0301\u0302", "👨‍👩‍👧‍👦",
              "🇫🇷", "\ufeffBOM", "a  b   c ", "\U0010ffff", "<|endoftext|>", "'s 'S'll",
              "\u00a0non-breaking\u2003em space", "x" * 300]


@pytest.fixture(scope="module")
def corpus():
    return corpus_text(template_corpus(600, np.random.default_rng(0)))


@pytest.fixture(scope="module")
def trained(corpus):
    return BPETokenizer().train(corpus + MIXED, 600)


def reference_encode(tok, text):
    """Independent encoder: every merge, in the order learned, applied to every chunk."""
    out = []
    for chunk in pretokenize(text):
        ids = list(chunk.encode("utf-8"))
        for r, (a, b) in enumerate(tok.merges):
            merged, i = [], 0
            while i < len(ids):
                if ids[i:i + 2] == [a, b]:
                    merged.append(256 + r)
                    i += 2
                else:
                    merged.append(ids[i])
                    i += 1
            ids = merged
        out.extend(ids)
    return out


# --- small examples worked by hand --------------------------------------------------------
def test_known_example_aaabdaaabac():
    tok = BPETokenizer().train("aaabdaaabac", 259)
    # (a, a) occurs 4 times; then (aa, a) and (a, b) tie at 2 and the smaller pair (97, 98) wins;
    # then (aa, ab) -> "aaab".
    assert tok.merges == [(97, 97), (97, 98), (256, 257)]
    assert tok.encode("aaabdaaabac") == [258, ord("d"), 258, ord("a"), ord("c")]
    assert tok.token_strings([256, 257, 258]) == ["aa", "ab", "aaab"]


def test_ties_go_to_the_smallest_pair():
    tok = BPETokenizer().train("abcd", 259)
    # all pairs occur once: (a, b) first, then (c, d) = (99, 100) < (256, 99), then (ab, cd)
    assert tok.merges == [(97, 98), (99, 100), (256, 257)]


def test_overlapping_pairs_are_counted_with_chunk_frequency():
    # "aaa" holds (a, a) twice, weighted by the chunk's 3 occurrences: 6 beats 5 of (b, c)
    tok = BPETokenizer().train("\n".join(["aaa"] * 3 + ["bc"] * 5), 257)
    assert tok.merges == [(97, 97)]
    tok = BPETokenizer().train("\n".join(["aaa"] * 2 + ["bc"] * 5), 257)     # 4 < 5
    assert tok.merges == [(98, 99)]


def test_training_stops_when_nothing_is_left_to_merge():
    tok = BPETokenizer().train("ab ab", 1000)
    # chunks "ab" and " ab": merges (a, b), then ( " ", ab); nothing left after that
    assert tok.merges == [(97, 98), (32, 256)]
    assert tok.vocab_size == 258


# --- bookkeeping ----------------------------------------------------------------------------
def test_vocab_size_counts_bytes_merges_and_specials(corpus):
    tok = BPETokenizer().train(corpus, 400, special_tokens=["<|endoftext|>", "<pad>"])
    assert tok.vocab_size == 400 == 256 + len(tok.merges) + 2
    assert sorted(tok.special_tokens.values()) == [398, 399]
    assert BPETokenizer().vocab_size == 256


def test_every_id_is_below_vocab_size_and_bytes_are_consistent(trained, corpus):
    ids = trained.encode(corpus + MIXED)
    assert max(ids) < trained.vocab_size and min(ids) >= 0
    assert max(ids) >= 256 + len(trained.merges) // 2       # the merges are actually used
    for r, (a, b) in enumerate(trained.merges):
        assert trained.id_to_bytes(256 + r) == trained.id_to_bytes(a) + trained.id_to_bytes(b)


def test_deterministic_within_a_process(corpus):
    a = BPETokenizer().train(corpus + MIXED, 500)
    b = BPETokenizer().train(corpus + MIXED, 500)
    assert a.merges == b.merges and len(a.merges) == 244


def test_deterministic_across_hash_seeds():
    code = ("import numpy as np; from dlnotes.bpe import BPETokenizer; "
            "from dlnotes.corpus import corpus_text, template_corpus; "
            "t = corpus_text(template_corpus(300, np.random.default_rng(5))); "
            "print(BPETokenizer().train(t + ' xy yx zz', 420).merges)")
    runs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        runs.append(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert runs[0] == runs[1] and runs[0].count("(") > 100


def test_smaller_vocabulary_is_a_prefix(corpus):
    big = BPETokenizer().train(corpus, 450)
    small = BPETokenizer().train(corpus, 300)
    assert small.merges == big.merges[:44]
    cut = BPETokenizer.from_merges(big.merges[:44])
    assert cut.encode(corpus) == small.encode(corpus)


# --- whitespace and chunks ------------------------------------------------------------------
def test_words_carry_their_leading_space(corpus):
    tok = BPETokenizer().train(corpus, 500)
    the, space_the = tok.encode("the"), tok.encode(" the")
    assert len(the) == 1 and len(space_the) == 1 and the != space_the
    assert tok.encode("the king the") == the + tok.encode(" king") + space_the
    # case matters: "The" never occurs in the lower-case corpus, so it is not one token
    assert len(tok.encode("The")) > 1


def test_merges_never_cross_chunk_boundaries(trained):
    for r in range(len(trained.merges)):
        raw = trained.id_to_bytes(256 + r)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue                          # part of a multi-byte character: inside a chunk
        assert pretokenize(text) == [text], text


def test_pretokenize_examples():
    assert pretokenize("Hello world!  It's 2024") == ["Hello", " world", "!", " ", " It", "'s",
                                                      " 2024"]
    assert pretokenize("a\n\nb ") == ["a", "\n", "\n", "b", " "]
    assert pretokenize("x_y 中文。") == ["x", "_", "y", " 中文", "。"]


@settings(max_examples=300, deadline=None)
@given(unicode_text)
def test_pretokenize_covers_the_text(text):
    assert "".join(pretokenize(text)) == text


# --- round trips ----------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(text=unicode_text)
def test_round_trip_trained(trained, text):
    ids = trained.encode(text)
    assert all(0 <= i < trained.vocab_size for i in ids)
    assert trained.decode(ids) == text
    assert ids == reference_encode(trained, text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_round_trip_edge_cases(trained, text):
    assert trained.decode(trained.encode(text)) == text
    assert BPETokenizer().decode(BPETokenizer().encode(text)) == text


@settings(max_examples=60, deadline=None)
@given(train_text=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80),
       extra=st.integers(0, 40), text=unicode_text)
@example(train_text="中文中文中文", extra=10, text="中文的")
def test_round_trip_after_training_on_random_text(train_text, extra, text):
    tok = BPETokenizer().train(train_text, 256 + extra)
    assert tok.vocab_size <= 256 + extra
    ids = tok.encode(text)
    assert tok.decode(ids) == text and all(i < tok.vocab_size for i in ids)
    assert tok.decode(tok.encode(train_text)) == train_text
    assert ids == reference_encode(tok, text)


def test_untrained_tokenizer_is_utf8_bytes():
    assert BPETokenizer().encode("中文!") == list("中文!".encode())
    assert len(BPETokenizer().encode("中文")) == 6


def test_cjk_characters_become_single_tokens_when_frequent():
    tok = BPETokenizer().train("中文 中文 中文 中文 的", 262)
    assert tok.token_strings(tok.encode(" 中文")) == [" 中文"]
    assert len(tok.encode("的")) == 3                 # seen once inside a chunk of its own


def test_partial_characters_are_shown_as_hex_and_decoded_as_replacement():
    tok = BPETokenizer()
    ids = tok.encode("中")
    assert tok.token_strings(ids) == ["<e4>", "<b8>", "<ad>"]
    assert tok.decode(ids[:2]) == "\ufffd"


def test_special_tokens_are_never_split(corpus):
    tok = BPETokenizer().train(corpus + "<|endoftext|>" * 50, 300, special_tokens=["<|endoftext|>"])
    eot = tok.special_tokens["<|endoftext|>"]
    assert eot == 299
    ids = tok.encode("the king<|endoftext|>the queen")
    assert ids.count(eot) == 1 and tok.decode(ids) == "the king<|endoftext|>the queen"
    assert all(b"|" not in tok.id_to_bytes(256 + r) for r in range(len(tok.merges)))


def test_cache_does_not_change_results(trained, monkeypatch, corpus):
    expected = reference_encode(trained, corpus)
    monkeypatch.setattr(tk, "_CACHE_LIMIT", 3)
    fresh = BPETokenizer.from_merges(trained.merges)
    assert fresh.encode(corpus) == expected and fresh.encode(corpus) == expected
    assert len(fresh._cache) <= 3


def test_decode_accepts_numpy_integers(trained):
    ids = np.array(trained.encode("the king"), dtype=np.int64)
    assert trained.decode(ids) == "the king"


# --- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("args, err, match", [
    (("", 300), ValueError, "must not be empty"),
    ((b"abc", 300), TypeError, "must be a str"),
    ((None, 300), TypeError, "must be a str"),
    (("abc", 255), ValueError, "at least 256"),
    (("abc", 300.0), TypeError, "vocab_size must be an int"),
    (("abc", True), TypeError, "vocab_size must be an int"),
    (("abc\ud800", 300), ValueError, "lone surrogate"),
])
def test_train_rejects_bad_input(args, err, match):
    with pytest.raises(err, match=match):
        BPETokenizer().train(*args)


def test_train_rejects_bad_special_tokens():
    with pytest.raises(ValueError, match="at least 258"):
        BPETokenizer().train("abc", 257, special_tokens=["<a>", "<b>"])
    with pytest.raises(ValueError, match="duplicates"):
        BPETokenizer().train("abc", 300, special_tokens=["<a>", "<a>"])
    with pytest.raises(TypeError, match="not a single str"):
        BPETokenizer().train("abc", 300, special_tokens="<a>")
    with pytest.raises(ValueError, match="empty"):
        BPETokenizer().train("abc", 300, special_tokens=[""])


@pytest.mark.parametrize("text, err", [(123, TypeError), (b"bytes", TypeError),
                                       (["a"], TypeError), ("x\udfff", ValueError)])
def test_encode_rejects_bad_input(trained, text, err):
    with pytest.raises(err):
        trained.encode(text)
    with pytest.raises(TypeError):
        pretokenize(b"bytes")


@pytest.mark.parametrize("ids, err, match", [
    ([600], ValueError, r"outside the vocabulary \[0, 600\)"),
    ([-1], ValueError, "outside the vocabulary"),
    ([1.0], TypeError, "must be an int"),
    ([True], TypeError, "must be an int"),
    ("abc", TypeError, "sequence of ints"),
    (5, TypeError, "sequence of ints"),
])
def test_decode_rejects_bad_ids(trained, ids, err, match):
    assert trained.vocab_size == 600
    with pytest.raises(err, match=match):
        trained.decode(ids)
    with pytest.raises(err):
        trained.token_strings(ids)


def test_id_to_bytes_and_from_merges_reject_bad_input(trained):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        trained.id_to_bytes(trained.vocab_size)
    with pytest.raises(ValueError, match="does not exist yet"):
        BPETokenizer.from_merges([(97, 256)])
    with pytest.raises(TypeError, match="pair of ints"):
        BPETokenizer.from_merges([(97, 98, 99)])


# --- issue 12: NumPy integers accepted, messages name the caller's argument ----------------

def test_from_merges_and_train_accept_numpy_integers():
    # Old code: "merge 0 must be a pair of ints" for np.int64 ids.
    trained = BPETokenizer().train("low lower lowest " * 20, 262)
    as_array = np.array(trained.merges, dtype=np.int64)
    rebuilt = BPETokenizer.from_merges(as_array)
    assert rebuilt.merges == trained.merges
    assert all(type(i) is int for pair in rebuilt.merges for i in pair)
    assert rebuilt.encode("lowest low") == trained.encode("lowest low")
    assert BPETokenizer().train("low lower", np.int64(260)).vocab_size == 260
    with pytest.raises(TypeError, match="pair of ints"):
        BPETokenizer.from_merges([(np.True_, 1)])
    with pytest.raises(TypeError, match="merge 0"):
        BPETokenizer.from_merges([5])
    with pytest.raises(TypeError, match="merges"):
        BPETokenizer.from_merges(None)
    with pytest.raises(TypeError, match="special_tokens"):
        BPETokenizer.from_merges([], special_tokens=None)


def test_id_to_bytes_names_its_argument():
    # Old code: "ids[0] = 999 is outside ...", an argument the caller never passed.
    with pytest.raises(ValueError, match=r"^i = 999 is outside"):
        BPETokenizer().id_to_bytes(999)
    with pytest.raises(TypeError, match=r"^i must be an int"):
        BPETokenizer().id_to_bytes(1.0)
    assert BPETokenizer().id_to_bytes(np.int64(65)) == b"A"
