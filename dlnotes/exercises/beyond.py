"""Self-checks for the coding exercises of Part VI, Beyond (chapters/06-beyond).

* :func:`check_hinge_loss_bias_penalty`: the soft-margin objective with ``1/2 b^2`` added
  (exercise "The bias is not regularised").
* :func:`check_hinge_loss_clamp`: the soft-margin objective whose subgradient counts a point
  exactly on the margin as active (exercise "Three conventions, one optimum").
* :func:`check_info_nce_one_way`: the image-to-tags half of InfoNCE (exercise "One direction
  only").
"""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, check_callable, describe_difference, run_check

__all__ = ["check_hinge_loss_bias_penalty", "check_hinge_loss_clamp", "check_info_nce_one_way"]


# ----------------------------------------------------------------------------- hinge losses

def _svm_problem(n: int, d: int, c: float, scale: float = 1.0, on_margin: int = 0):
    """A case maker: w (D,), b (a float), x (N, D), y (N,) in {-1, +1}, c.

    ``on_margin`` of the points are moved so that y f(x) = 1 exactly (in binary floating point):
    w and b are multiples of 1/4 and the moved points have coordinates that make f exact.
    """
    def make(rng: np.random.Generator) -> tuple:
        w = rng.integers(-4, 5, size=d) / 4.0
        w[0] = 0.5                          # non-zero, so a point can sit on the margin
        b = float(rng.integers(-4, 5)) / 4.0
        x = scale * rng.standard_normal((n, d))
        y = rng.choice([-1.0, 1.0], size=n)
        for k in range(on_margin):                       # y (w . x + b) = 1 exactly
            x[k, 1:] = 0.0
            x[k, 0] = (y[k] - b) / w[0]
        return w, b, x, y, c
    return make


_MARGIN_HINT = ("a point with y f(x) = 1 exactly sits on the kink: check which side of the "
                "hinge your subgradient takes there")

_COMMON_HINGE_CASES = (
    CheckCase("random points, D = 3, N = 7", _svm_problem(7, 3, 2.0),
              "the hinge term is a mean over the N examples, weighted by c"),
    CheckCase("one example (N = 1)", _svm_problem(1, 2, 1.5),
              "with N = 1 the mean is that example's hinge: are your sums over the batch right?"),
    CheckCase("one feature (D = 1), large c", _svm_problem(9, 1, 100.0),
              "c multiplies the hinge term only, not the regulariser"),
    CheckCase("points far from the origin", _svm_problem(6, 2, 1.0, scale=30.0),
              "large x gives large hinge arguments: the subgradient in w is a sum of y_n x_n "
              "over the active points"),
)

_BIAS_CASES = _COMMON_HINGE_CASES + (
    CheckCase("two points exactly on the margin", _svm_problem(8, 2, 3.0, on_margin=2),
              "as in svm.hinge_loss, a point exactly on the margin is not active (strict "
              "inequality y f(x) < 1)"),
)

_CLAMP_CASES = (
    CheckCase("three points exactly on the margin", _svm_problem(8, 2, 2.0, on_margin=3),
              _MARGIN_HINT + " (here theta = 1: such a point counts as active)"),
) + _COMMON_HINGE_CASES


def _torch_hinge(w, b, x, y, c, *, clamp: bool, bias_penalty: bool):
    """(J, dw, db) from torch autograd; clamp picks torch.clamp's side of the kink."""
    import torch

    from ..verify import to_numpy, to_torch

    wt, bt = to_torch(w, requires_grad=True), to_torch(float(b), requires_grad=True)
    slack = 1 - to_torch(y) * (to_torch(x) @ wt + bt)
    hinge = torch.clamp(slack, min=0) if clamp else torch.relu(slack)
    loss = 0.5 * (wt * wt).sum() + c * hinge.mean()
    if bias_penalty:
        loss = loss + 0.5 * bt * bt
    loss.backward()
    return float(loss.detach()), to_numpy(wt.grad), float(bt.grad)


def _flat_hinge(fn):
    """The learner's (J, (dw, db)) as (J, dw, db); anything else goes through unchanged."""
    def call(w, b, x, y, c):
        out = fn(w, b, x, y, c)
        if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], (tuple, list)):
            return (out[0], *out[1])
        return out
    return call


def _describe_bias(got, expected, args) -> str | None:
    b = args[1]
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return None
    try:
        J, db = float(np.asarray(got[0]).reshape(-1)[0]), float(np.asarray(got[2]).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return None
    J_ref, db_ref = expected[0], expected[2]
    problem = _describe_regulariser(got, expected, args)
    if problem is not None:
        return problem
    if b != 0 and abs(J - (J_ref - 0.5 * b * b)) < 1e-9 * max(1.0, abs(J_ref)):
        return "the objective has no 1/2 b^2 term: the penalty on the bias is missing"
    if b != 0 and abs(J - (J_ref + 0.5 * b * b)) < 1e-9 * max(1.0, abs(J_ref)):
        return "the objective has b^2 where 1/2 b^2 was asked for"
    if b != 0 and abs(db - (db_ref - b)) < 1e-9 * max(1.0, abs(db_ref)):
        return ("the objective includes the penalty but db does not: what is the derivative of "
                "1/2 b^2?")
    if b != 0 and abs(db - (db_ref + b)) < 1e-9 * max(1.0, abs(db_ref)):
        return "db has 2 b where the derivative of 1/2 b^2 is b"
    return None


def check_hinge_loss_bias_penalty(fn) -> Outcome:
    """Check ``fn(w, b, x, y, c) -> (J, (dw, db))``: the soft-margin objective with the bias
    penalised too, and a subgradient, following ``svm.hinge_loss``'s conventions:

    J = 1/2 ||w||^2 + 1/2 b^2 + c * mean_n max(0, 1 - y_n (x_n . w + b)),

    w: (D,);  b: a float;  x: (N, D);  y: (N,) in {-1, +1};  c > 0. Returns J (a number),
    dw (D,) and db (a number); a point exactly on the margin is not active (the gradient of
    ``torch.relu`` at 0). Reference: torch autograd in float64.
    """
    check_callable(fn, 5, "check_hinge_loss_bias_penalty")
    return run_check("check_hinge_loss_bias_penalty", _flat_hinge(fn), _BIAS_CASES,
                     lambda *a: _torch_hinge(*a, clamp=False, bias_penalty=True), n_args=5,
                     outputs=("J", "dw", "db"), describe=_describe_bias)


def _describe_regulariser(got, expected, args) -> str | None:
    """A missing 1/2 ||w||^2, or c multiplying it too, seen in J."""
    w, c = args[0], args[4]
    try:
        J = float(np.asarray(got[0]).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return None
    reg, close = 0.5 * float(w @ w), lambda u, v: abs(u - v) < 1e-9 * max(1.0, abs(v))
    if reg > 0 and close(J, expected[0] - reg):
        return "J lacks the regulariser 1/2 ||w||^2"
    if reg > 0 and c != 1 and close(J, expected[0] + (c - 1) * reg):
        return "J has c times 1/2 ||w||^2: c weights the hinge term only, not the regulariser"
    return None


def _describe_clamp(got, expected, args) -> str | None:
    w, b, x, y, c = args
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return None
    problem = _describe_regulariser(got, expected, args)
    if problem is not None:
        return problem
    relu = _torch_hinge(w, b, x, y, c, clamp=False, bias_penalty=False)
    margin = y * (x @ w + b)
    if np.any(margin == 1.0) and all(describe_difference(g, r) is None
                                     for g, r in zip(got[1:], relu[1:], strict=True)):
        return ("your subgradient takes 0 for points exactly on the margin (theta = 0, the "
                "torch.relu side), not theta = 1")
    return None


def check_hinge_loss_clamp(fn) -> Outcome:
    """Check ``fn(w, b, x, y, c) -> (J, (dw, db))``: ``svm.hinge_loss`` with the other
    subgradient at the kink (theta = 1, the ``torch.clamp(., min=0)`` convention):

    J = 1/2 ||w||^2 + c * mean_n max(0, 1 - m_n),  m_n = y_n (x_n . w + b),
    dw = w - c/N sum_{m_n <= 1} y_n x_n,  db = -c/N sum_{m_n <= 1} y_n.

    w: (D,);  b: a float;  x: (N, D);  y: (N,) in {-1, +1};  c > 0. Returns J (a number),
    dw (D,) and db (a number). Reference: torch autograd through ``torch.clamp`` in float64.
    """
    check_callable(fn, 5, "check_hinge_loss_clamp")
    return run_check("check_hinge_loss_clamp", _flat_hinge(fn), _CLAMP_CASES,
                     lambda *a: _torch_hinge(*a, clamp=True, bias_penalty=False), n_args=5,
                     outputs=("J", "dw", "db"), describe=_describe_clamp)


# --------------------------------------------------------------------- one-way InfoNCE

def _embeddings(n: int, e: int, temperature: float, scale: float = 1.0, unit: bool = True):
    def make(rng: np.random.Generator) -> tuple:
        za, zb = rng.standard_normal((n, e)), rng.standard_normal((n, e))
        zb = zb + 0.5 * za                               # partners somewhat alike
        if unit:
            za = za / np.linalg.norm(za, axis=1, keepdims=True)
            zb = zb / np.linalg.norm(zb, axis=1, keepdims=True)
        return scale * za, scale * zb, temperature
    return make


_INFO_NCE_CASES = (
    CheckCase("unit rows, N = 5, E = 3, tau = 0.5", _embeddings(5, 3, 0.5),
              "the pair of row n is column n; the loss is a mean over the N rows"),
    CheckCase("two pairs (N = 2)", _embeddings(2, 4, 1.0),
              "each row of S = za zb^T / tau is a softmax over the gallery zb"),
    CheckCase("non-square batch shape, N = 6, E = 1", _embeddings(6, 1, 0.3, unit=False),
              "za and zb enter only through S = za zb^T / tau: the chain rule gives dS zb / tau "
              "and dS^T za / tau"),
    CheckCase("small temperature, tau = 0.01", _embeddings(7, 4, 0.01),
              "a small temperature makes each row's softmax nearly one-hot: is tau in the "
              "loss and in both gradients?"),
    CheckCase("large embeddings (entries near 30)", _embeddings(4, 3, 0.05, scale=30.0,
                                                                unit=False),
              "logits near 1e4: a log-softmax must subtract the row maximum before exp"),
)


def _torch_info_nce_one_way(za, zb, temperature):
    import torch.nn.functional as F

    from ..verify import to_numpy, to_torch

    ta, tb = to_torch(za, requires_grad=True), to_torch(zb, requires_grad=True)
    logits = ta @ tb.T / temperature                     # (N, N)
    loss = F.cross_entropy(logits, to_torch(np.arange(len(za))))
    loss.backward()
    return float(loss.detach()), to_numpy(ta.grad), to_numpy(tb.grad)


def _flat_loss(fn):
    def call(za, zb, temperature):
        out = fn(za, zb, temperature)
        if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], (tuple, list)):
            return (out[0], *out[1])
        return out
    return call


def _describe_info_nce(got, expected, args) -> str | None:
    za, zb, T = args
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return None
    try:
        loss = float(np.asarray(got[0]).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return None
    columns = _torch_info_nce_one_way(zb, za, T)         # b-to-a: columns of S
    if abs(loss - columns[0]) < 1e-9 * max(1.0, abs(columns[0])) \
            and abs(loss - expected[0]) > 1e-9 * max(1.0, abs(expected[0])):
        return ("your loss normalises each column of S (tags-to-image); this half "
                "normalises each row, over the gallery zb")
    both = 0.5 * (expected[0] + columns[0])
    if abs(loss - both) < 1e-9 * max(1.0, abs(both)):
        return ("your loss averages both directions (the symmetric InfoNCE); this half keeps "
                "only the rows of S")
    return None


def check_info_nce_one_way(fn) -> Outcome:
    """Check ``fn(za, zb, temperature) -> (loss, (dza, dzb))``: the image-to-tags half of
    InfoNCE, a cross-entropy over the rows of the similarity matrix:

    S = za zb^T / tau  (N, N);  loss = mean_n -log softmax(S_n)_n  (row n's partner is column n).

    za, zb: (N, E);  temperature tau > 0. Returns the loss (a number), dza (N, E), dzb (N, E).
    Reference: ``F.cross_entropy(za @ zb.T / tau, arange(N))`` and autograd, float64.
    """
    check_callable(fn, 3, "check_info_nce_one_way")
    return run_check("check_info_nce_one_way", _flat_loss(fn), _INFO_NCE_CASES,
                     _torch_info_nce_one_way, n_args=3, outputs=("loss", "dza", "dzb"),
                     describe=_describe_info_nce)
