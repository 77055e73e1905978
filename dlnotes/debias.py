"""Hard debiasing of word vectors: find a bias direction, neutralise words, equalise pairs.

Chapter: 04-language/05-debiasing. Reference: Bolukbasi et al., "Man is to computer programmer
as woman is to homemaker? Debiasing word embeddings", NeurIPS 2016.

Every vector is 1-D, ``e: (D,)``; the bias direction ``g: (D,)`` may have any non-zero length
(the formulas divide by ``|g|^2``). The method is defined for unit-length embeddings: the
equalised pair is real and of unit norm only when |nu| <= 1, which unit inputs guarantee, so
:func:`equalize` normalises its two inputs first, and :func:`bias_direction` (by default)
normalises every word vector before taking differences. :func:`neutralize` keeps the notes'
form (remove the component, do not rescale) unless ``unit=True`` asks for the paper's final
renormalisation.

* :func:`bias_direction`  g from definitional pairs (first principal component, or mean difference)
* :func:`projection`      the component of e along g, (e.g / |g|^2) g
* :func:`neutralize`      e minus that component: orthogonal to g
* :func:`equalize`        a pair made unit length, symmetric about g, with equal orthogonal parts

Cosine similarity lives in ``dlnotes.embeddings.cosine_similarity``.

The equalise step follows the paper. With ``mu = (e1 + e2) / 2``, ``mu_B`` its component along
g and ``nu = mu - mu_B``:  ``e_i' = nu + sqrt(1 - |nu|^2) (e_iB - mu_B) / |e_iB - mu_B|``.
Note 004 divides by ``|(e_i - nu) - mu_B| = |e_i - mu|`` instead, the length of the whole
difference rather than of its component along g, which leaves the result shorter than 1
whenever e1 - e2 has a part orthogonal to g (see the chapter).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .validation import as_float_array, safe_norm
from .validation import unit as _unit_and_norm

__all__ = ["bias_direction", "projection", "neutralize", "equalize"]

# Below this length of e1B - mu_B = ((e1 - e2) . g / (2 |g|^2)) g, for unit e1 and e2, a pair
# has no usable side of the bias axis.
_DEGENERATE = 1e-12


def _vector(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name, ndim=1, shape_hint="(D,)")
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one component; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or inf")
    return arr


def _direction(g) -> np.ndarray:
    """g / |g| (overflow-safe), refusing a direction of length zero."""
    g = _vector(g, "g (the bias direction)")
    g_hat, norm = _unit_and_norm(g)
    if not norm > 0:
        raise ValueError("g (the bias direction) must be non-zero; got a vector of length 0")
    return g_hat


def _same_dim(e: np.ndarray, g: np.ndarray, name: str) -> None:
    if e.shape != g.shape:
        raise ValueError(f"{name} and g must have the same dimension D; got {name} {e.shape} "
                         f"and g {g.shape}")


def _unit(e: np.ndarray, name: str) -> np.ndarray:
    direction, norm = _unit_and_norm(e)
    if not norm > 0:
        raise ValueError(f"{name} has length 0 and cannot be normalised to unit length")
    return direction


def _along(e: np.ndarray, g_hat: np.ndarray) -> np.ndarray:
    """(e . g_hat) g_hat for a unit g_hat, with e scaled by its largest |entry| first so that
    e . g_hat neither overflows (|e| near 1e300) nor underflows (|e| near 1e-300)."""
    scale = float(np.max(np.abs(e)))
    if scale == 0:
        return np.zeros_like(e)
    return ((e / scale) @ g_hat) * g_hat * scale


def _dtype(*arrays) -> np.dtype:
    return np.result_type(*arrays)


def projection(e, g) -> np.ndarray:
    """The component of e along g:  e_B = (e . g / |g|^2) g.

    e: (D,);  g: (D,), non-zero, any length  ->  (D,), in the dtype of e and g together
    (float32 for two float32 vectors). Computed as (e . g_hat) g_hat with g_hat = g / |g|
    and e rescaled first, so magnitudes from 1e-300 to 1e300 give the right component.
    NaN or inf in e or g raises ValueError.
    """
    g_in = _vector(g, "g (the bias direction)")
    g_hat = _direction(g_in)
    e = _vector(e, "e")
    _same_dim(e, g_hat, "e")
    return _along(e, g_hat).astype(_dtype(e, g_in), copy=False)


def neutralize(e, g, unit: bool = False) -> np.ndarray:
    """Remove the bias component:  e_perp = e - (e . g / |g|^2) g, orthogonal to g.

    e: (D,);  g: (D,), non-zero  ->  (D,). The map is a projection, so applying it twice
    changes nothing. With ``unit=True`` the result is rescaled to length 1, the last step of
    the paper's neutralise (a ValueError if e lies along g, leaving nothing to rescale).
    Overflow-safe as :func:`projection`; NaN or inf raises ValueError.
    """
    if not isinstance(unit, (bool, np.bool_)):
        raise TypeError(f"unit must be True or False; got {type(unit).__name__} {unit!r}")
    g_in = _vector(g, "g (the bias direction)")
    g_hat = _direction(g_in)
    e = _vector(e, "e")
    _same_dim(e, g_hat, "e")
    e_perp = e - _along(e, g_hat)
    if unit:
        e_perp = _unit(e_perp, "the neutralised e (e lies along g)")
    return e_perp.astype(_dtype(e, g_in), copy=False)


def equalize(e1, e2, g) -> tuple[np.ndarray, np.ndarray]:
    """Equalise a definitional pair (man/woman) about the bias direction g.

    e1, e2: (D,);  g: (D,), non-zero  ->  (e1', e2'), each (D,), in the inputs' common
    dtype (float32 in, float32 out).
    e1 and e2 are first scaled to unit length (overflow-safe: 1e200-sized inputs work).
    Then, with mu = (e1 + e2) / 2, mu_B = projection(mu, g) and nu = mu - mu_B
    (Bolukbasi et al. 2016):

        e_i' = nu + sqrt(1 - |nu|^2) * (e_iB - mu_B) / |e_iB - mu_B|,   e_iB = projection(e_i, g).

    The results have length 1, the same part orthogonal to g (nu) and opposite components
    along g, so every vector orthogonal to g has the same cosine similarity with both.
    Raises ValueError when e1 and e2 have (almost) the same component along g: the pair then
    gives no side of the axis to send each word to, and for NaN or inf in any input.
    """
    g_in = _vector(g, "g (the bias direction)")
    g_hat = _direction(g_in)
    e1_in, e2_in = _vector(e1, "e1"), _vector(e2, "e2")
    _same_dim(e1_in, g_hat, "e1")
    _same_dim(e2_in, g_hat, "e2")
    dtype = _dtype(e1_in, e2_in, g_in)
    # The arithmetic runs in float64; the result is cast back to the inputs' dtype.
    g_hat = g_hat.astype(np.float64)
    e1 = _unit(e1_in.astype(np.float64), "e1")
    e2 = _unit(e2_in.astype(np.float64), "e2")
    mu = (e1 + e2) / 2
    mu_b = (mu @ g_hat) * g_hat
    nu = mu - mu_b                              # (D,) the shared part, orthogonal to g
    d = (e1 @ g_hat) * g_hat - mu_b             # e1B - mu_B = -(e2B - mu_B), along g
    d_norm = float(safe_norm(d))
    if not d_norm > _DEGENERATE:
        raise ValueError("e1 and e2 have the same component along g (after normalising to unit "
                         f"length they differ by {d_norm:.1e} along it): nothing to equalise")
    # |nu| <= |mu| <= 1 for unit inputs; the clip only absorbs rounding at |nu| = 1.
    along = np.sqrt(max(1.0 - float(nu @ nu), 0.0)) * d / d_norm
    return (nu + along).astype(dtype), (nu - along).astype(dtype)


def bias_direction(pairs: Sequence, vectors, method: str = "pca",
                   normalize: bool = True) -> np.ndarray:
    """A unit bias direction g from definitional pairs such as (he, she), (man, woman).

    pairs: P >= 1 pairs (a, b) of keys into ``vectors``;  vectors: a mapping from word to a
    (D,) vector, or an array (V, D) indexed by integer pairs  ->  g: (D,), |g| = 1.

    With d_p = v[a_p] - v[b_p] (each v first scaled to unit length when ``normalize``):

    * ``"pca"`` (default, as in the paper): the first principal component of the vectors
      centred on their pair's mean, {+d_p / 2, -d_p / 2}; that set has mean zero, so this is
      the top right singular vector of the (P, D) matrix of differences;
    * ``"mean"``: the mean difference, mean_p d_p, scaled to unit length.

    The sign is fixed so that g . mean_p d_p >= 0: g points from the second word of a pair
    towards the first. Raises ValueError when the differences give no direction (all zero).
    """
    if method not in ("pca", "mean"):
        raise ValueError(f"method must be 'pca' or 'mean'; got {method!r}")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True or False; got {type(normalize).__name__}")
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or len(pairs) == 0:
        raise ValueError("pairs must be a non-empty sequence of (a, b) pairs")
    if isinstance(vectors, Mapping):
        lookup = vectors
    else:
        table = as_float_array(vectors, "vectors", ndim=2, shape_hint="(V, D) or a mapping")
        lookup = {i: row for i, row in enumerate(table)}
    rows, dim = [], None
    for p, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"pairs[{p}] must be a pair (a, b); got {pair!r}")
        two = []
        for word in pair:
            if isinstance(word, (bool, np.bool_)):
                raise TypeError(f"pairs[{p}] holds the bool {word!r}; name a word or a row index")
            key = int(word) if isinstance(word, (int, np.integer)) else word
            if key not in lookup:
                raise ValueError(f"pairs[{p}] names {word!r}, which has no vector in vectors")
            v = _vector(lookup[key], f"vectors[{word!r}]")
            if dim is not None and v.shape != dim:
                raise ValueError(f"every vector must have the same shape; {word!r} has "
                                 f"{v.shape}, earlier ones {dim}")
            dim = v.shape
            two.append(_unit(v, f"vectors[{word!r}]") if normalize else v)
        rows.append(two[0] - two[1])
    diffs = np.stack(rows)                              # (P, D)
    scale = np.max(np.abs(diffs))
    if scale > 0:                                       # no direction changes; no overflow
        diffs = diffs / scale
    mean = diffs.mean(axis=0)                           # (D,)
    if method == "mean":
        g = mean
    else:
        _, s, vt = np.linalg.svd(diffs, full_matrices=False)
        g = vt[0] if s[0] > 0 else np.zeros_like(mean)
        if g @ mean < 0:
            g = -g
    g_hat, norm = _unit_and_norm(g)
    if not norm > 0:
        raise ValueError("the differences of the pairs' vectors give no direction (they are "
                         "all zero, or their mean is zero for method='mean')")
    return g_hat

