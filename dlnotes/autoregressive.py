"""Autoregressive models of binary vectors: exact log-likelihood and ancestral sampling.

Chapter: 05-generative-models/02-autoregressive-models. Data are rows ``x: (N, n)`` of 0/1
values. Every model factorises p(x) by the chain rule, p(x) = prod_i p(x_i | x_<i), with
p(x_i = 1 | x_<i) = sigmoid(z_i) and the logit z_i a function of x_<i only, so

    log p(x) = sum_i [x_i log sigmoid(z_i) + (1 - x_i) log sigmoid(-z_i)]
             = -sum_i softplus((1 - 2 x_i) z_i).

* :class:`Bernoulli`: z_i = b_i (independent pixels, the baseline; n parameters).
* :class:`FVSBN`: z_i = b_i + sum_{j<i} W_ij x_j, one logistic regression per dimension
  (Frey, 1998); W strictly lower triangular, n(n+1)/2 parameters.
* :class:`NADE`: h_i = sigmoid(c + W[:, :i] x_<i), z_i = b_i + V_i . h_i (Larochelle and
  Murray, 2011); W: (H, n), c: (H,), V: (n, H), b: (n,), i.e. 2nH + n + H parameters.

Each model has ``params`` (a dict of arrays, updated in place by ``dlnotes.optim``),
``logits(x) -> (N, n)``, ``log_prob(x) -> (N,)`` in nats, ``nll_and_grads(x)`` (the mean
negative log-likelihood and its gradient dict, written by hand) and ``sample(num, rng)``.
:func:`fit` trains any of them with Adam; :func:`sequential_sample` samples from any logits
function with one full evaluation per dimension; :func:`binary_shapes` draws toy images.
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid
from .optim import Adam
from .validation import as_float, as_float_array, check_positive_int, check_rng, check_same_shape

__all__ = ["binary_shapes", "all_binary_vectors", "bernoulli_log_prob", "AutoregressiveModel",
           "Bernoulli", "FVSBN", "NADE", "fit", "sequential_sample"]


def binary_shapes(n: int, size: int, rng: np.random.Generator, noise: float = 0.0) -> np.ndarray:
    """Draw n binary images of one simple shape each on a size x size grid, flattened.

    Shapes, chosen uniformly: a horizontal bar, a vertical bar, a hollow square, a plus-shaped
    cross, a diagonal line (either direction), each at a random position and length. With
    ``noise > 0`` every pixel is flipped independently with that probability.
    n >= 1, size >= 4  ->  (n, size * size) float64 of 0/1, row-major (pixel (r, c) at r*size + c).
    """
    n = check_positive_int(n, "n")
    size = check_positive_int(size, "size")
    check_rng(rng)
    if size < 4:
        raise ValueError(f"size must be at least 4 to draw the shapes; got {size}")
    noise = as_float(noise, "noise", nonnegative=True)
    if not noise < 0.5:
        raise ValueError(f"noise must be a flip probability in [0, 0.5); got {noise!r}")
    imgs = np.zeros((n, size, size))
    for k in range(n):
        kind = rng.integers(5)
        if kind in (0, 1):                                       # bar: row or column
            length = rng.integers(3, size + 1)
            line, start = rng.integers(size), rng.integers(size - length + 1)
            if kind == 0:
                imgs[k, line, start:start + length] = 1
            else:
                imgs[k, start:start + length, line] = 1
        elif kind == 2:                                          # hollow square
            side = rng.integers(3, size + 1)
            r, c = rng.integers(size - side + 1, size=2)
            imgs[k, r:r + side, c:c + side] = 1
            imgs[k, r + 1:r + side - 1, c + 1:c + side - 1] = 0
        elif kind == 3:                                          # cross: arms of length arm
            arm = rng.integers(1, (size - 1) // 2 + 1)
            r, c = rng.integers(arm, size - arm, size=2)
            imgs[k, r, c - arm:c + arm + 1] = 1
            imgs[k, r - arm:r + arm + 1, c] = 1
        else:                                                    # diagonal, either direction
            length = rng.integers(3, size + 1)
            r, c = rng.integers(size - length + 1, size=2)
            steps = np.arange(length)
            cols = c + steps if rng.integers(2) == 0 else c + length - 1 - steps
            imgs[k, r + steps, cols] = 1
    if noise > 0:
        imgs = np.abs(imgs - (rng.random(imgs.shape) < noise))
    return imgs.reshape(n, size * size)


def all_binary_vectors(n: int) -> np.ndarray:
    """Every x in {0,1}^n as the rows of a (2^n, n) float64 array (x_1 is the most significant
    bit). Meant for checks by enumeration, so n is capped at 20."""
    n = check_positive_int(n, "n")
    if n > 20:
        raise ValueError(f"n must be at most 20 (2^n rows); got {n}")
    codes = np.arange(2 ** n)[:, None]                           # (2^n, 1)
    return ((codes >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def bernoulli_log_prob(x, logits: np.ndarray) -> np.ndarray:
    """sum_i log Bernoulli(x_i; sigmoid(z_i)) = -sum_i softplus((1 - 2 x_i) z_i), stable for
    any finite logit.  x: (N, n), every entry exactly 0 or 1;  logits: (N, n)  ->  (N,).

    x is data, so anything but 0 and 1 (0.5, 7, NaN) is refused with a ValueError: the
    formula would otherwise return a number that is no log-probability. A NaN logit gives a
    NaN log-probability for its row, as ``binary_cross_entropy_with_logits`` does; a logit of
    +-inf gives 0 or -inf. float32 in, float32 out.
    Reference: ``-binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)``.
    """
    x = _binary(x, "x")
    logits = as_float_array(logits, "logits", ndim=2, shape_hint="(N, n)")
    check_same_shape(x, logits, "x", "logits")
    x = x.astype(np.result_type(x.dtype, logits.dtype), copy=False)
    with np.errstate(invalid="ignore"):   # a NaN logit: NaN for its row, without a warning
        return -np.logaddexp(0, (1 - 2 * x) * logits).sum(axis=1)


def _binary(x, name: str) -> np.ndarray:
    """An (N, n) float array of exact 0s and 1s (NaN, 0.5 and 7 are refused)."""
    x = as_float_array(x, name, ndim=2, shape_hint="(N, n)")
    ok = (x == 0) | (x == 1)
    if not np.all(ok):
        bad = x[~ok].ravel()[0]
        raise ValueError(f"{name} must be binary (only 0 and 1); found {float(bad)!r}")
    return x


class AutoregressiveModel:
    """Shared code: input checks, log_prob, the loss and ancestral sampling.

    A subclass sets ``self.n`` and ``self.params`` and implements ``_logits(x)`` (the logits
    and a cache), ``_backward(dz, cache)`` (dz = dL/dz -> gradient dict) and
    ``_sample(u)`` (one pass over the dimensions with uniforms u: (num, n)).
    """

    n: int
    params: dict

    @property
    def n_params(self) -> int:
        """The number of free parameters (fixed zeros such as W's upper triangle excluded)."""
        return int(sum(p.size for p in self.params.values())) - self._fixed_zeros()

    def _fixed_zeros(self) -> int:
        return 0

    def _check_x(self, x) -> np.ndarray:
        x = as_float_array(x, "x", ndim=2, shape_hint=f"(N, n={self.n})")
        if x.shape[1] != self.n:
            raise ValueError(f"x must be (N, n={self.n}); got shape {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("x must hold at least one example; got N = 0")
        return _binary(x, "x").astype(np.float64)

    def logits(self, x) -> np.ndarray:
        """z: (N, n), z[:, i] the logit of p(x_i = 1 | x_<i); x: (N, n) binary."""
        return self._logits(self._check_x(x))[0]

    def log_prob(self, x) -> np.ndarray:
        """Exact log p(x) in nats, one per row.  x: (N, n) binary  ->  (N,)."""
        x = self._check_x(x)
        return bernoulli_log_prob(x, self._logits(x)[0])

    def nll_and_grads(self, x) -> tuple[float, dict]:
        """Mean negative log-likelihood over the rows of x and its gradient in each parameter.

        dL/dz = (sigmoid(z) - x) / N is pushed back through the logits by ``_backward``.
        x: (N, n) binary  ->  (loss, {name: array shaped like params[name]}).
        """
        x = self._check_x(x)
        z, cache = self._logits(x)
        loss = -float(bernoulli_log_prob(x, z).mean())
        return loss, self._backward((sigmoid(z) - x) / x.shape[0], cache)

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """Ancestral sampling: x_1, then x_2 given x_1, ... (n sequential steps).

        Uniforms u: (num, n) are drawn from ``rng`` in one call and x_i = [u_i < p_i], so the
        same generator state gives the same samples.  ->  (num, n) float64 of 0/1.
        """
        num = check_positive_int(num, "num")
        check_rng(rng)
        return self._sample(rng.random((num, self.n)))


class Bernoulli(AutoregressiveModel):
    """Independent pixels: p(x) = prod_i sigmoid(b_i)^x_i sigmoid(-b_i)^(1 - x_i); b: (n,).

    Its maximum-likelihood fit has the closed form b_i = logit(mean of x_i); :func:`fit`
    reaches it by gradient descent like the other models. Starts at b = 0 (p = 1/2).
    """

    def __init__(self, n: int):
        self.n = check_positive_int(n, "n")
        self.params = {"b": np.zeros(self.n)}

    def _logits(self, x):
        return np.broadcast_to(self.params["b"], x.shape).copy(), None

    def _backward(self, dz, cache):
        return {"b": dz.sum(axis=0)}

    def _sample(self, u):
        return (u < sigmoid(self.params["b"])).astype(np.float64)


class FVSBN(AutoregressiveModel):
    """Fully visible sigmoid belief network: z = x W^T + b with W strictly lower triangular.

    W: (n, n) with W[i, j] = 0 for j >= i (kept at zero: its gradient is masked), b: (n,).
    Initialised with b = 0 and W's free entries ~ N(0, 0.01^2) drawn from ``rng``.
    """

    def __init__(self, n: int, rng: np.random.Generator):
        self.n = check_positive_int(n, "n")
        check_rng(rng)
        self.mask = np.tril(np.ones((self.n, self.n)), k=-1)    # (n, n), 1 where j < i
        self.params = {"W": 0.01 * rng.standard_normal((self.n, self.n)) * self.mask,
                       "b": np.zeros(self.n)}

    def _fixed_zeros(self) -> int:
        return self.n * (self.n + 1) // 2

    def _logits(self, x):
        return x @ (self.params["W"] * self.mask).T + self.params["b"], x     # (N, n)

    def _backward(self, dz, x):
        return {"W": (dz.T @ x) * self.mask, "b": dz.sum(axis=0)}

    def _sample(self, u):
        W, b = self.params["W"] * self.mask, self.params["b"]
        x = np.zeros_like(u)
        for i in range(self.n):                                  # row i only sees x[:, :i]
            x[:, i] = u[:, i] < sigmoid(b[i] + x[:, :i] @ W[i, :i])
        return x


class NADE(AutoregressiveModel):
    """Neural autoregressive distribution estimator with H sigmoid hidden units.

    a_i = c + sum_{j<i} W[:, j] x_j   (so a_1 = c and a_{i+1} = a_i + W[:, i] x_i),
    h_i = sigmoid(a_i),  z_i = b_i + V[i] . h_i.
    The recursion makes all n conditionals cost O(nH) instead of O(n^2 H) (the hidden sigmoid
    is computed as (1 + tanh(a/2)) / 2, one transcendental per entry, never overflowing). W: (H, n),
    c: (H,), V: (n, H), b: (n,); W's last column never affects p (x_n conditions nothing)
    and gets a zero gradient. W and V start ~ N(0, 1/n) and N(0, 1/H), c and b at zero.
    """

    def __init__(self, n: int, hidden: int, rng: np.random.Generator):
        self.n = check_positive_int(n, "n")
        self.hidden = check_positive_int(hidden, "hidden")
        check_rng(rng)
        H = self.hidden
        self.params = {"W": rng.standard_normal((H, self.n)) / np.sqrt(self.n),
                       "c": np.zeros(H),
                       "V": rng.standard_normal((self.n, H)) / np.sqrt(H),
                       "b": np.zeros(self.n)}

    def _logits(self, x):
        W, c, V, b = (self.params[k] for k in ("W", "c", "V", "b"))
        N, n = x.shape
        steps = x[:, :-1, None] * W.T[None, :-1]                 # (N, n-1, H): x_j W[:, j]
        # a_i = c + sum_{j<i} x_j W[:, j]: a shifted running sum, so a_i never touches x_i
        # (not even through round-off, as a subtraction of x_i's own term would).
        a = np.empty((N, n, self.hidden))
        a[:, 0] = c
        a[:, 1:] = c + np.cumsum(steps, axis=1)
        h = 0.5 + 0.5 * np.tanh(0.5 * a)                         # sigmoid(a): (N, n, H)
        return b + np.einsum("nih,ih->ni", h, V), (x, h)         # (N, n)

    def _backward(self, dz, cache):
        x, h = cache
        V = self.params["V"]
        da = dz[:, :, None] * V[None] * h * (1.0 - h)            # (N, n, H)
        # a_i sums x_j W[:, j] over j < i, so dW[:, j] collects da_i over i > j.
        later = np.zeros_like(da)                                # (N, n, H): sum_{i>j} da_i
        later[:, :-1] = np.cumsum(da[:, :0:-1], axis=1)[:, ::-1]
        return {"W": np.einsum("nj,njh->hj", x, later), "c": da.sum(axis=(0, 1)),
                "V": np.einsum("ni,nih->ih", dz, h), "b": dz.sum(axis=0)}

    def _sample(self, u):
        W, c, V, b = (self.params[k] for k in ("W", "c", "V", "b"))
        x = np.zeros_like(u)
        a = np.broadcast_to(c, (u.shape[0], self.hidden)).copy()  # (num, H)
        for i in range(self.n):
            x[:, i] = u[:, i] < sigmoid(b[i] + sigmoid(a) @ V[i])
            a += x[:, i:i + 1] * W[:, i]                          # O(H) update, no recompute
        return x


def fit(model: AutoregressiveModel, x, steps: int, lr: float, rng: np.random.Generator,
        batch_size: int | None = None) -> np.ndarray:
    """Minimise the mean NLL of ``model`` on x with ``dlnotes.optim.Adam``, in place.

    Each step uses a minibatch of ``batch_size`` rows drawn without replacement by ``rng``
    (all rows when None).  x: (N, n) binary  ->  (steps,) the minibatch losses in nats.
    """
    if not isinstance(model, AutoregressiveModel):
        raise TypeError(f"model must be a Bernoulli, FVSBN or NADE; got {type(model).__name__}")
    x = model._check_x(x)
    steps = check_positive_int(steps, "steps")
    lr = as_float(lr, "lr", positive=True)
    check_rng(rng)
    N = x.shape[0]
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
        if batch_size > N:
            raise ValueError(f"batch_size must be at most N = {N}; got {batch_size}")
    opt = Adam(model.params, lr=lr)
    losses = np.empty(steps)
    for t in range(steps):
        batch = x if batch_size is None else x[rng.choice(N, batch_size, replace=False)]
        losses[t], grads = model.nll_and_grads(batch)
        opt.step(grads)
    return losses


def sequential_sample(logits_fn, n: int, num: int, rng: np.random.Generator) -> np.ndarray:
    """Ancestral sampling that re-runs a full logits function once per dimension.

    logits_fn(x: (num, n)) -> (num, n) must be autoregressive (column i depends on x[:, :i]
    only); step i evaluates it on the partial sample (later columns still 0) and draws column i.
    With the same rng this gives exactly ``model.sample(num, rng)``, after n calls instead of 1.
    """
    n = check_positive_int(n, "n")
    num = check_positive_int(num, "num")
    check_rng(rng)
    u = rng.random((num, n))
    x = np.zeros((num, n))
    if not callable(logits_fn):
        raise TypeError(f"logits_fn must be callable; got {type(logits_fn).__name__}")
    for i in range(n):
        z = as_float_array(logits_fn(x.copy()), "logits_fn's result")
        if z.shape != (num, n):
            raise ValueError(f"logits_fn must return (num, n) = {(num, n)}; got {z.shape}")
        if np.isnan(z[:, i]).any():
            raise ValueError(f"logits_fn returned NaN logits in column {i}")
        x[:, i] = u[:, i] < sigmoid(z[:, i])
    return x


