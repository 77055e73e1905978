"""Robustness cases for group g4: likelihoods, variational, gan, naive_bayes, autoregressive,
svm, clustering, rl, qfunction, algorithms (see spec.py for what a case means).

References are torch in float64 where torch has the operation, otherwise an independent
definition (exact rationals, ``math.dist``/``math.hypot``, itertools, a direct loop) that
neither overflows nor shares our code.
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from dlnotes import (
    algorithms,
    autoregressive,
    clustering,
    gan,
    likelihoods,
    naive_bayes,
    qfunction,
    rl,
    svm,
    variational,
)

from .spec import Case

LL, VI, GAN, NB, AR = likelihoods, variational, gan, naive_bayes, autoregressive
KM, QF = clustering, qfunction

GRID = ["...G", ".#.T", "S..."]


def _torch():
    import torch
    return torch


def _t(a):
    """A float64 tensor of a (possibly mutated) argument: ints, bools and lists become floats."""
    from dlnotes.verify import to_torch
    torch = _torch()
    if isinstance(a, torch.Tensor):
        return a
    return to_torch(np.asarray(a, dtype=np.float64))


def _i(a):
    """An int64 tensor of index arguments (actions, states, labels)."""
    torch = _torch()
    return torch.as_tensor(np.asarray(a, dtype=np.int64))


def _b(a):
    torch = _torch()
    return torch.as_tensor(np.asarray(a, dtype=bool))


def _n(t):
    from dlnotes.verify import to_numpy
    return to_numpy(t)


def _probs(rng, shape):
    p = rng.random(shape) + 0.1
    return p / p.sum(axis=-1, keepdims=True)


def _binary(rng, shape):
    return (rng.random(shape) < 0.5).astype(np.float64)


# --- likelihoods and variational -----------------------------------------------------------

def _normal_log_prob(kw):
    torch = _torch()
    from torch.distributions import Independent, Normal
    x, mean, logvar = (_t(kw[k]) for k in ("x", "mean", "logvar"))
    return _n(Independent(Normal(mean, torch.exp(logvar / 2)), 1).log_prob(x))


def _bce_log_lik(logits, x):
    import torch.nn.functional as F
    return -F.binary_cross_entropy_with_logits(_t(logits), _t(x), reduction="none").sum(-1)


def _bernoulli_backward_ref(kw):
    z = _t(kw["logits"]).requires_grad_()
    (_bce_log_lik(z, kw["x"]) * _t(kw["dll"])).sum().backward()
    return _n(z.grad)


def _kl_ref(mu, logvar):
    torch = _torch()
    from torch.distributions import Independent, Normal, kl_divergence
    mu, logvar = _t(mu), _t(logvar)
    q = Independent(Normal(mu, torch.exp(logvar / 2)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    return kl_divergence(q, prior)


def _kl_backward_ref(kw):
    mu, logvar = _t(kw["mu"]).requires_grad_(), _t(kw["logvar"]).requires_grad_()
    torch = _torch()
    from torch.distributions import Independent, Normal, kl_divergence
    q = Independent(Normal(mu, torch.exp(logvar / 2)), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    (kl_divergence(q, prior) * _t(kw["dkl"])).sum().backward()
    return _n(mu.grad), _n(logvar.grad)


def _bern_make(rng):
    return {"logits": rng.standard_normal((4, 3)), "x": _binary(rng, (4, 3))}


def _bern_backward_make(rng):
    kw = _bern_make(rng)
    kw["dll"] = rng.standard_normal(4)
    return kw


def _kl_make(rng):
    return {"mu": rng.standard_normal((4, 3)), "logvar": 0.5 * rng.standard_normal((4, 3))}


def _kl_backward_make(rng):
    kw = _kl_make(rng)
    kw["dkl"] = rng.standard_normal(4)
    return kw


# --- gan --------------------------------------------------------------------------------------

def _d_star_ref(kw):
    p, q = np.asarray(kw["p_data"], dtype=float), np.asarray(kw["p_g"], dtype=float)
    out = [0.5 if a + b == 0 else float(Fraction(a) / (Fraction(a) + Fraction(b)))
           for a, b in zip(p.ravel().tolist(), q.ravel().tolist(), strict=True)]
    return np.array(out).reshape(p.shape)


def _js_ref(kw):
    torch = _torch()
    p, q = _t(kw["p"]), _t(kw["q"])
    m = (p + q) / 2
    js = 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m)).sum(-1) \
        + 0.5 * (torch.xlogy(q, q) - torch.xlogy(q, m)).sum(-1)
    return _n(js)


def _gan_value_ref(kw):
    torch = _torch()
    d, pd, pg = _t(kw["d"]), _t(kw["p_data"]), _t(kw["p_g"])
    return _n((torch.xlogy(pd, d) + torch.xlogy(pg, 1 - d)).sum(-1))


def _gan_losses_torch(r, f):
    import torch.nn.functional as F
    torch = _torch()
    d_loss = F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) \
        + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    g_loss = F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
    return d_loss, g_loss


def _gan_losses_ref(kw):
    d, g = _gan_losses_torch(_t(kw["d_real"]), _t(kw["d_fake"]))
    return d.item(), g.item()


def _gan_grads_ref(kw):
    r = _t(kw["d_real"]).requires_grad_()
    f = _t(kw["d_fake"]).requires_grad_()
    d, g = _gan_losses_torch(r, f)
    torch = _torch()
    dr, df = torch.autograd.grad(d, (r, f))
    (gf,) = torch.autograd.grad(g, (f,))
    return _n(dr), _n(df), _n(gf)


def _gan_make(rng):
    p_data, p_g = _probs(rng, 5), _probs(rng, 5)
    return {"d": rng.uniform(0.1, 0.9, 5), "p_data": p_data, "p_g": p_g}


# --- naive Bayes --------------------------------------------------------------------------------

def _nb_data(rng):
    x = rng.standard_normal((8, 2))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    return x, y


def _nb_fit_ref(kw):
    torch = _torch()
    x, y = _t(kw["x"]), _i(kw["y"])
    prior, mean, logvar = [], [], []
    for k in range(3):
        xk = x[y == k]
        prior.append(math.log(len(xk) / len(x)))
        mean.append(xk.mean(0))
        logvar.append(torch.log(torch.clamp(xk.var(0, unbiased=False), min=1e-9)))
    return np.array(prior), _n(torch.stack(mean)), _n(torch.stack(logvar))


def _nb_model(rng):
    x, y = _nb_data(rng)
    return NB.fit_gaussian_nb(x, y, 3)


def _nb_joint_ref(kw):
    torch = _torch()
    from torch.distributions import Normal
    m = kw["model"]
    x = _t(kw["x"])
    cols = [Normal(_t(m.mean[k]), torch.exp(_t(m.logvar[k]) / 2)).log_prob(x).sum(-1)
            + float(m.log_prior[k]) for k in range(len(m.log_prior))]
    return _n(torch.stack(cols, 1))


# --- autoregressive models --------------------------------------------------------------------

def _ar_log_prob_ref(kind):
    def ref(kw):
        torch = _torch()
        x = _t(kw["x"])
        model = _ar_model(kind)
        p = {k: _t(v) for k, v in model.params.items()}
        n = x.shape[1]
        if kind == "bernoulli":
            z = p["b"].expand_as(x)
        elif kind == "fvsbn":
            z = x @ torch.tril(p["W"], -1).T + p["b"]
        else:                                   # NADE, one conditional at a time
            cols = []
            for i in range(n):
                h = torch.sigmoid(p["c"] + x[:, :i] @ p["W"][:, :i].T)
                cols.append(p["b"][i] + h @ p["V"][i])
            z = torch.stack(cols, 1)
        return _n(_bce_log_lik(z, x))
    return ref


def _ar_model(kind):
    rng = np.random.default_rng(3)
    if kind == "bernoulli":
        model = AR.Bernoulli(4)
        model.params["b"] = rng.standard_normal(4)
    elif kind == "fvsbn":
        model = AR.FVSBN(4, rng)
        model.params["W"] = rng.standard_normal((4, 4)) * model.mask
    else:
        model = AR.NADE(4, 3, rng)
    return model


def _ar_case(kind, cls):
    return Case(f"dlnotes.autoregressive.{cls}.log_prob",
                make=lambda rng: {"x": _binary(rng, (5, 4))}, arrays=("x",),
                call=lambda kw: _ar_model(kind).log_prob(kw["x"]),
                reference=_ar_log_prob_ref(kind))


def _all_binary_ref(kw):
    return np.array(list(itertools.product([0.0, 1.0], repeat=kw["n"])))


# --- svm ------------------------------------------------------------------------------------------

def _svm_make(rng):
    x = rng.standard_normal((6, 2))
    return {"w": rng.standard_normal(2), "b": 0.3, "x": x,
            "y": np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0]), "c": 2.0}


def _hinge_ref(kw):
    torch = _torch()
    w = _t(kw["w"]).requires_grad_()
    b = torch.tensor(float(kw["b"]), dtype=torch.float64, requires_grad=True)
    x, y = _t(kw["x"]), _t(kw["y"])
    loss = 0.5 * (w * w).sum() + kw["c"] * torch.relu(1 - y * (x @ w + b)).mean()
    dw, db = torch.autograd.grad(loss, (w, b))
    return loss.item(), (_n(dw), _n(db))


def _scores_ref(kw):
    return _n(_t(kw["x"]) @ _t(kw["w"]) + float(kw["b"]))


def _hypot(w):
    return math.hypot(*np.asarray(w, dtype=float).tolist())


def _signed_distance_ref(kw):
    norm = _hypot(kw["w"])
    w = np.asarray(kw["w"], dtype=float)
    return _n(_t(kw["x"]) @ _t(w / norm) + float(kw["b"]) / norm)


def _geometric_margin_ref(kw):
    return float(np.min(np.asarray(kw["y"], dtype=float) * _signed_distance_ref(kw)))


def _ovr_make(rng):
    return {"x": rng.standard_normal((5, 2)), "W": rng.standard_normal((3, 2)),
            "B": rng.standard_normal(3)}


def _ovr_predict_ref(kw):
    torch = _torch()
    return _n(torch.argmax(_t(kw["x"]) @ _t(kw["W"]).T + _t(kw["B"]), dim=1))


# --- clustering ---------------------------------------------------------------------------------

def _km_make(rng):
    x = np.concatenate([rng.standard_normal((4, 2)), rng.standard_normal((4, 2)) + 5])
    return {"x": x, "centroids": x[[0, 5]].copy()}


def _cdist2_ref(kw):
    torch = _torch()
    return _n(torch.cdist(_t(kw["x"]), _t(kw["centroids"])) ** 2)


def _assign_ref(kw):
    x, c = np.asarray(kw["x"], dtype=float), np.asarray(kw["centroids"], dtype=float)
    return np.array([min(range(len(c)), key=lambda j: (math.dist(p, c[j]), j))
                     for p in x.tolist()], dtype=np.int64)


def _objective_ref(kw):
    x, c = _t(kw["x"]), _t(kw["centroids"])
    return ((x - c[_i(kw["labels"])]) ** 2).sum().item()


# --- rl and qfunction ---------------------------------------------------------------------------

def _env(slip=0.2):
    return rl.GridWorld(GRID, slip=slip)


def _bellman_ref(kw):
    torch = _torch()
    P, R, _ = _env().model()
    return _n(_t(R) + 0.9 * torch.einsum("sat,t->sa", _t(P), _t(kw["v"])))


def _td_make(rng):
    return {"q": rng.standard_normal((5, 3)), "r": rng.standard_normal(4),
            "s_next": np.array([0, 4, 2, 2]), "done": np.array([False, True, False, False])}


def _td_ref(kw):
    q, r, s, d = _t(kw["q"]), _t(kw["r"]), _i(kw["s_next"]), _b(kw["done"])
    return _n(r + 0.9 * (~d).double() * q[s].max(dim=1).values)


def _dqn_targets_make(rng):
    return {"q_next": rng.standard_normal((4, 3)), "rewards": rng.standard_normal(4),
            "done": np.array([False, True, False, False])}


def _dqn_targets_ref(kw):
    q, r, d = _t(kw["q_next"]), _t(kw["rewards"]), _b(kw["done"])
    return _n(r + 0.9 * (~d).double() * q.max(dim=1).values)


def _qnet_make(rng):
    p = QF.init_qnet(3, 5, 2, np.random.default_rng(0))
    return {"x": rng.standard_normal((4, 3)), **p}


def _qnet_torch(x, w1, b1, w2, b2):
    torch = _torch()
    return torch.tanh(x @ w1.T + b1) @ w2.T + b2


def _qnet_ref(kw):
    return _n(_qnet_torch(*(_t(kw[k]) for k in ("x", "w1", "b1", "w2", "b2"))))


def _qnet_backward_make(rng):
    kw = _qnet_make(rng)
    kw["dq"] = rng.standard_normal((4, 2))
    return kw


def _qnet_backward_call(kw):
    _, cache = QF.qnet_forward(*(kw[k] for k in ("x", "w1", "b1", "w2", "b2")))
    return QF.qnet_backward(kw["dq"], cache)


def _qnet_backward_ref(kw):
    ts = [_t(kw[k]).requires_grad_() for k in ("x", "w1", "b1", "w2", "b2")]
    (_qnet_torch(*ts) * _t(kw["dq"])).sum().backward()
    return tuple(_n(t.grad) for t in ts)


def _td_loss_make(rng):
    return {"q": rng.standard_normal((4, 3)), "actions": np.array([0, 2, 1, 2]),
            "targets": rng.standard_normal(4)}


def _td_loss_ref(kw):
    torch = _torch()
    q = _t(kw["q"])
    picked = q[torch.arange(q.shape[0]), _i(kw["actions"])]
    return 0.5 * torch.nn.functional.mse_loss(picked, _t(kw["targets"])).item()


def _td_loss_backward_ref(kw):
    torch = _torch()
    q = _t(kw["q"]).requires_grad_()
    picked = q[torch.arange(q.shape[0]), _i(kw["actions"])]
    (0.5 * torch.nn.functional.mse_loss(picked, _t(kw["targets"]))).backward()
    return _n(q.grad)


def _td_loss_backward_call(kw):
    _, cache = QF.td_loss_forward(kw["q"], kw["actions"], kw["targets"])
    return QF.td_loss_backward(1.0, cache)


def _transitions(rng):
    x = QF.grid_features(_env())
    s = np.array([0, 3, 5, 7])
    return QF.Transitions(x[s], np.array([0, 1, 2, 3]), rng.standard_normal(4), x[s + 1],
                          np.array([False, False, True, False]))


def _semi_gradient_call(kw):
    p = QF.init_qnet(7, 4, 4, np.random.default_rng(0))
    target = QF.init_qnet(7, 4, 4, np.random.default_rng(1))
    return QF.semi_gradient(p, target, _transitions(np.random.default_rng(2)), 0.9)


def _buffer_add_call(kw):
    buf = QF.ReplayBuffer(3, 2)
    buf.add(kw["x"], 1, 0.5, kw["x_next"], False)
    return buf.x[0].copy(), buf.x_next[0].copy()


def _to_grid_ref(kw):
    env = _env()
    grid = np.full(env.shape, np.nan)
    values = np.asarray(kw["values"], dtype=float)
    for s, (i, j) in enumerate(env.cells):
        grid[i, j] = values[s]
    return grid


def _running_median_call(kw):
    rm = algorithms.RunningMedian()
    for v in kw["xs"]:
        rm.add(v)
    return rm.median()


def _mst_ref(kw):
    """Brute force: the lightest of all spanning subsets of n - 1 edges."""
    n, edges = kw["n"], kw["edges"]
    best = math.inf
    def find(uf, a):
        while uf[a] != a:
            a = uf[a]
        return a

    for subset in itertools.combinations(edges, n - 1):
        uf = list(range(n))
        ok = True
        for u, v, _ in subset:
            ru, rv = find(uf, u), find(uf, v)
            if ru == rv:
                ok = False
                break
            uf[ru] = rv
        if ok:
            best = min(best, math.fsum(w for _, _, w in subset))
    return best


_NAN_TORCH = "propagates: NaN in, NaN out, as torch"
_HUGE_LOGVAR = ("valid: at logvar = 1e300 torch's scale exp(logvar / 2) overflows to inf "
                "(log_prob -inf, KL NaN); ours keeps the exact -logvar / 2 term")
_HUGE_KL = ("valid: KL is +inf at mu = 1e300 or logvar = 1e300 (exp overflows, as it should); "
            "torch's closed form forms inf - inf = NaN for the logvar case")
_ANY_POINTS = {"transposed": "valid: any (N, D) array of points (with N >= k) is a data set",
               "huge": "valid: points near 1e300 are clustered with overflow-safe distances"}

CASES: list[Case] = [
    # likelihoods
    Case("dlnotes.likelihoods.gaussian_log_likelihood",
         make=lambda rng: {"x": rng.standard_normal((4, 3)), "mean": rng.standard_normal((4, 3)),
                           "logvar": 0.5 * rng.standard_normal((4, 3))},
         arrays=("x", "mean", "logvar"), reference=_normal_log_prob,
         expect={"huge": _HUGE_LOGVAR}),
    Case("dlnotes.likelihoods.bernoulli_log_likelihood_forward", make=_bern_make,
         arrays=("logits", "x"), output=lambda r: r[0],
         reference=lambda kw: _n(_bce_log_lik(kw["logits"], kw["x"]))),
    Case("dlnotes.likelihoods.bernoulli_log_likelihood_backward", make=_bern_backward_make,
         arrays=("dll",),
         call=lambda kw: LL.bernoulli_log_likelihood_backward(
             kw["dll"], LL.bernoulli_log_likelihood_forward(kw["logits"], kw["x"])[1]),
         reference=_bernoulli_backward_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.likelihoods.bernoulli_log_likelihood", make=_bern_make,
         arrays=("logits", "x"),
         reference=lambda kw: _n(_bce_log_lik(kw["logits"], kw["x"]))),
    # variational
    Case("dlnotes.variational.gaussian_kl_forward", make=_kl_make, arrays=("mu", "logvar"),
         output=lambda r: r[0], reference=lambda kw: _n(_kl_ref(kw["mu"], kw["logvar"])),
         expect={"huge": _HUGE_KL}),
    Case("dlnotes.variational.gaussian_kl_backward", make=_kl_backward_make, arrays=("dkl",),
         call=lambda kw: VI.gaussian_kl_backward(
             kw["dkl"], VI.gaussian_kl_forward(kw["mu"], kw["logvar"])[1]),
         reference=_kl_backward_ref,
         expect={"nan": _NAN_TORCH,
                 "inf": "propagates: an infinite upstream gradient gives non-finite gradients "
                        "(+-inf here; torch's chain forms inf - inf = NaN in dlogvar)"}),
    Case("dlnotes.variational.gaussian_kl", make=_kl_make, arrays=("mu", "logvar"),
         reference=lambda kw: _n(_kl_ref(kw["mu"], kw["logvar"])), expect={"huge": _HUGE_KL}),
    Case("dlnotes.variational.elbo",
         make=lambda rng: {"log_px_given_z": rng.standard_normal(4), **_kl_make(rng)},
         arrays=("log_px_given_z", "mu", "logvar"),
         reference=lambda kw: np.asarray(kw["log_px_given_z"], dtype=float)
         - _n(_kl_ref(kw["mu"], kw["logvar"])),
         expect={"nan": "propagates: a NaN log-likelihood gives a NaN ELBO, as torch would",
                 "huge": _HUGE_KL}),
    # gan
    Case("dlnotes.gan.optimal_discriminator",
         make=lambda rng: {"p_data": _probs(rng, 5), "p_g": _probs(rng, 5)},
         arrays=("p_data", "p_g"), reference=_d_star_ref),
    Case("dlnotes.gan.js_divergence",
         make=lambda rng: {"p": _probs(rng, (3, 5)), "q": _probs(rng, (3, 5))},
         arrays=("p", "q"), reference=_js_ref),
    Case("dlnotes.gan.gan_value", make=_gan_make, arrays=("d", "p_data", "p_g"),
         reference=_gan_value_ref),
    Case("dlnotes.gan.gan_losses",
         make=lambda rng: {"d_real": rng.standard_normal(6), "d_fake": rng.standard_normal(4)},
         arrays=("d_real", "d_fake"), reference=_gan_losses_ref),
    Case("dlnotes.gan.gan_loss_grads",
         make=lambda rng: {"d_real": rng.standard_normal(6), "d_fake": rng.standard_normal(4)},
         arrays=("d_real", "d_fake"), reference=_gan_grads_ref),
    # naive Bayes
    Case("dlnotes.naive_bayes.fit_gaussian_nb",
         make=lambda rng: dict(zip(("x", "y"), _nb_data(rng), strict=True), n_classes=3),
         arrays=("x", "y"), output=tuple, reference=_nb_fit_ref),
    Case("dlnotes.naive_bayes.gaussian_nb_log_joint",
         make=lambda rng: {"model": _nb_model(rng), "x": rng.standard_normal((5, 2))},
         arrays=("x",), reference=_nb_joint_ref),
    Case("dlnotes.naive_bayes.gaussian_nb_posterior",
         make=lambda rng: {"model": _nb_model(rng), "x": rng.standard_normal((5, 2))},
         arrays=("x",),
         reference=lambda kw: _n(_torch().softmax(_t(_nb_joint_ref(kw)), dim=1)),
         expect={"huge": "propagates: every log p(x, y) is -inf at x = 1e300, and the "
                         "softmax of a row of -inf is NaN, as in torch"}),
    Case("dlnotes.naive_bayes.sample_gaussian_nb",
         make=lambda rng: {"model": _nb_model(rng), "n": 6},
         call=lambda kw: NB.sample_gaussian_nb(kw["model"], kw["n"], np.random.default_rng(0))),
    # autoregressive
    Case("dlnotes.autoregressive.binary_shapes", make=lambda rng: {"n": 3, "size": 5},
         call=lambda kw: AR.binary_shapes(kw["n"], kw["size"], np.random.default_rng(0), 0.1)),
    Case("dlnotes.autoregressive.all_binary_vectors", make=lambda rng: {"n": 3},
         reference=_all_binary_ref),
    Case("dlnotes.autoregressive.bernoulli_log_prob",
         make=lambda rng: {"x": _binary(rng, (4, 3)), "logits": rng.standard_normal((4, 3))},
         arrays=("x", "logits"),
         reference=lambda kw: _n(_bce_log_lik(kw["logits"], kw["x"])),
         expect={"nan": _NAN_TORCH}),
    _ar_case("bernoulli", "Bernoulli"),
    _ar_case("fvsbn", "FVSBN"),
    _ar_case("nade", "NADE"),
    Case("dlnotes.autoregressive.fit", make=lambda rng: {"x": _binary(rng, (6, 4))},
         arrays=("x",),
         call=lambda kw: AR.fit(AR.Bernoulli(4), kw["x"], steps=3, lr=0.1,
                                rng=np.random.default_rng(0), batch_size=2)),
    Case("dlnotes.autoregressive.sequential_sample", make=lambda rng: {"n": 4, "num": 3},
         call=lambda kw: AR.sequential_sample(_ar_model("nade").logits, kw["n"], kw["num"],
                                              np.random.default_rng(0))),
    # svm
    Case("dlnotes.svm.hinge_loss", make=_svm_make, arrays=("w", "x", "y"),
         reference=_hinge_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.svm.train_linear_svm", make=_svm_make, arrays=("x", "y"),
         call=lambda kw: svm.train_linear_svm(kw["x"], kw["y"], c=1.0, lr=0.1, epochs=3),
         output=lambda r: (r[0], r[2])),
    Case("dlnotes.svm.decision_function", make=_svm_make, arrays=("x", "w"),
         call=lambda kw: svm.decision_function(kw["x"], kw["w"], kw["b"]),
         reference=_scores_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.svm.predict", make=_svm_make, arrays=("x", "w"),
         call=lambda kw: svm.predict(kw["x"], kw["w"], kw["b"]),
         reference=lambda kw: np.where(_scores_ref(kw) >= 0, 1, -1)),
    Case("dlnotes.svm.signed_distance", make=_svm_make, arrays=("x",),
         call=lambda kw: svm.signed_distance(kw["x"], kw["w"], kw["b"]),
         reference=_signed_distance_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.svm.geometric_margin", make=_svm_make, arrays=("x", "y"),
         call=lambda kw: svm.geometric_margin(kw["x"], kw["y"], kw["w"], kw["b"]),
         reference=_geometric_margin_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.svm.margin_width", make=lambda rng: {"w": rng.standard_normal(3)},
         arrays=("w",), reference=lambda kw: 2 / _hypot(kw["w"])),
    Case("dlnotes.svm.train_one_vs_rest",
         make=lambda rng: {"x": rng.standard_normal((6, 2)),
                           "labels": np.array([0, 1, 2, 0, 1, 2])},
         arrays=("x", "labels"),
         call=lambda kw: svm.train_one_vs_rest(kw["x"], kw["labels"], 3, c=1.0, lr=0.1,
                                               epochs=2)),
    Case("dlnotes.svm.predict_one_vs_rest", make=_ovr_make, arrays=("x", "W", "B"),
         reference=_ovr_predict_ref),
    # clustering
    Case("dlnotes.clustering.pairwise_sq_distances", make=_km_make, arrays=("x", "centroids"),
         reference=_cdist2_ref),
    Case("dlnotes.clustering.assign", make=_km_make, arrays=("x", "centroids"),
         reference=_assign_ref),
    Case("dlnotes.clustering.kmeans_objective",
         make=lambda rng: {**_km_make(rng), "labels": np.array([0, 0, 0, 0, 1, 1, 1, 1])},
         arrays=("x", "centroids", "labels"), reference=_objective_ref),
    Case("dlnotes.clustering.kmeans_plus_plus", make=lambda rng: {"x": _km_make(rng)["x"]},
         arrays=("x",), expect=_ANY_POINTS,
         call=lambda kw: KM.kmeans_plus_plus(kw["x"], 2, np.random.default_rng(0))),
    Case("dlnotes.clustering.lloyd", make=_km_make, arrays=("x", "centroids"), output=tuple,
         expect={**_ANY_POINTS,
                 "x:transposed": "raises: x.T is 2 points in 8-D, which no longer match the "
                                 "2-D centroids (the message names both)"}),
    Case("dlnotes.clustering.kmeans", make=lambda rng: {"x": _km_make(rng)["x"]},
         arrays=("x",), output=tuple, expect=_ANY_POINTS,
         call=lambda kw: KM.kmeans(kw["x"], 2, np.random.default_rng(0), n_init=2)),
    # rl
    Case("dlnotes.rl.GridWorld", make=lambda rng: {"layout": GRID, "slip": 0.2},
         output=lambda env: env.model().P),
    Case("dlnotes.rl.GridWorld.to_grid",
         make=lambda rng: {"values": rng.standard_normal(_env().n_states)}, arrays=("values",),
         call=lambda kw: _env().to_grid(kw["values"]),
         reference=_to_grid_ref,
         expect={"nan": "propagates: a NaN value is shown as NaN on the grid"}),
    Case("dlnotes.rl.bellman_backup",
         make=lambda rng: {"v": rng.standard_normal(_env().n_states)}, arrays=("v",),
         call=lambda kw: rl.bellman_backup(_env(), kw["v"], 0.9), reference=_bellman_ref),
    Case("dlnotes.rl.value_iteration", make=lambda rng: {"gamma": 0.9},
         call=lambda kw: rl.value_iteration(_env(), kw["gamma"], tol=1e-10)),
    Case("dlnotes.rl.greedy_policy", make=lambda rng: {"q": rng.standard_normal((5, 4))},
         arrays=("q",), reference=lambda kw: _n(_torch().argmax(_t(kw["q"]), dim=1))),
    Case("dlnotes.rl.td_targets", make=_td_make, arrays=("q", "r", "s_next", "done"),
         call=lambda kw: rl.td_targets(kw["q"], kw["r"], kw["s_next"], kw["done"], 0.9),
         reference=_td_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.rl.q_learning",
         make=lambda rng: {"q_init": rng.standard_normal((_env().n_states, 4))},
         arrays=("q_init",),
         call=lambda kw: rl.q_learning(_env(), episodes=5, alpha=0.5, gamma=0.9, epsilon=0.2,
                                       rng=np.random.default_rng(0), q_init=kw["q_init"]),
         expect={"huge": "valid: a huge initial value is a valid (if odd) starting table"}),
    # qfunction
    Case("dlnotes.qfunction.init_qnet", make=lambda rng: {"n_in": 3, "n_hidden": 4,
                                                          "n_actions": 2},
         call=lambda kw: QF.init_qnet(**kw, rng=np.random.default_rng(0)),
         output=lambda p: tuple(p[k] for k in QF.PARAM_NAMES)),
    Case("dlnotes.qfunction.qnet_forward", make=_qnet_make, arrays=("x", "w1", "b1", "w2", "b2"),
         output=lambda r: r[0], reference=_qnet_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.qfunction.qnet_backward", make=_qnet_backward_make, arrays=("dq",),
         call=_qnet_backward_call, reference=_qnet_backward_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.qfunction.q_values", make=_qnet_make, arrays=("x",),
         call=lambda kw: QF.q_values({k: kw[k] for k in QF.PARAM_NAMES}, kw["x"]),
         reference=_qnet_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.qfunction.td_loss_forward", make=_td_loss_make,
         arrays=("q", "actions", "targets"), output=lambda r: r[0], reference=_td_loss_ref,
         expect={"nan": _NAN_TORCH}),
    Case("dlnotes.qfunction.td_loss_backward", make=_td_loss_make,
         arrays=("q", "actions", "targets"), call=_td_loss_backward_call,
         reference=_td_loss_backward_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.qfunction.dqn_targets", make=_dqn_targets_make,
         arrays=("q_next", "rewards", "done"),
         call=lambda kw: QF.dqn_targets(kw["q_next"], kw["rewards"], kw["done"], 0.9),
         reference=_dqn_targets_ref, expect={"nan": _NAN_TORCH}),
    Case("dlnotes.qfunction.semi_gradient", make=lambda rng: {}, call=_semi_gradient_call,
         output=lambda r: (r[0], tuple(r[1][k] for k in QF.PARAM_NAMES))),
    Case("dlnotes.qfunction.ReplayBuffer.add",
         make=lambda rng: {"x": rng.standard_normal(2), "x_next": rng.standard_normal(2)},
         arrays=("x", "x_next"), call=_buffer_add_call,
         reference=lambda kw: (np.asarray(kw["x"], dtype=float),
                               np.asarray(kw["x_next"], dtype=float)),
         expect={"nan": "propagates: a stored move keeps its NaN (the buffer only stores)",
                 "huge": "valid: a stored move is stored as it is"}),
    Case("dlnotes.qfunction.grid_features", make=lambda rng: {"env": _env()}),
    Case("dlnotes.qfunction.train_dqn",
         make=lambda rng: {"features": QF.grid_features(_env(slip=0.0))}, arrays=("features",),
         call=lambda kw: QF.train_dqn(_env(slip=0.0), kw["features"], episodes=2, n_hidden=4,
                                      lr=1e-2, gamma=0.9, epsilon=0.3, batch_size=4,
                                      buffer_size=20, target_every=5,
                                      rng=np.random.default_rng(0), max_steps=10),
         output=lambda r: tuple(r[0][k] for k in QF.PARAM_NAMES)),
    # algorithms
    Case("dlnotes.algorithms.UnionFind", make=lambda rng: {"n": 4},
         call=lambda kw: [algorithms.UnionFind(kw["n"]).find(i) for i in range(kw["n"])]),
    Case("dlnotes.algorithms.minimum_spanning_tree",
         make=lambda rng: {"n": 4, "edges": [(0, 1, 1.0), (1, 2, 2.5), (0, 2, 2.0),
                                             (2, 3, -1.0), (1, 3, 4.0)]},
         output=lambda r: r[0], reference=_mst_ref),
    Case("dlnotes.algorithms.RunningMedian", make=lambda rng: {"xs": rng.standard_normal(7)},
         arrays=("xs",), call=_running_median_call, aliases={"xs": ("x", "stream")},
         skip={"missing_axis": "the case feeds xs one number at a time; a scalar is no "
                               "stream"},
         reference=lambda kw: float(np.median(np.asarray(kw["xs"], dtype=float)))),
    Case("dlnotes.algorithms.top_k", make=lambda rng: {"iterable": rng.standard_normal(7),
                                                       "k": 3},
         arrays=("iterable",),
         reference=lambda kw: sorted((float(v) for v in kw["iterable"]), reverse=True)[:3]),
    Case("dlnotes.algorithms.bottom_k", make=lambda rng: {"iterable": rng.standard_normal(7),
                                                          "k": 3},
         arrays=("iterable",),
         reference=lambda kw: sorted(float(v) for v in kw["iterable"])[:3]),
]

_CACHE = "a cache type (NamedTuple), not a function: the cache-mixing test covers it"
_CONTAINER = "a NamedTuple of results, not a function: nothing to call"

EXCLUDED: dict[str, str] = {
    "dlnotes.algorithms.UnionFind.find": "scalar node arguments only (the UnionFind case calls "
        "it; tests/test_algorithms.py checks -1, n, floats and bools are refused)",
    "dlnotes.algorithms.UnionFind.union": "scalar node arguments only (tests/test_algorithms.py "
        "checks -1, n, floats and bools are refused, naming x or y)",
    "dlnotes.algorithms.RunningMedian.add": "one number at a time (the RunningMedian case feeds "
        "a stream; tests/test_algorithms.py checks NaN and strings are refused)",
    "dlnotes.algorithms.RunningMedian.median": "no argument (tests/test_algorithms.py checks "
        "it against statistics.median and that an empty stream raises)",
    "dlnotes.rl.GridWorld.model": "no argument (the GridWorld case compares its P; "
        "tests/test_rl.py checks every row of P sums to 1)",
    "dlnotes.rl.GridWorld.outcomes": "scalar state and action only (tests/test_rl.py checks "
        "out-of-range and non-int states and actions are refused)",
    "dlnotes.rl.GridWorld.step": "scalar state and action only (tests/test_rl.py checks "
        "out-of-range states, string actions and a missing rng are refused)",
    "dlnotes.likelihoods.BernoulliCache": _CACHE,
    "dlnotes.variational.GaussianKLCache": _CACHE,
    "dlnotes.qfunction.QNetCache": _CACHE,
    "dlnotes.qfunction.TDCache": _CACHE,
    "dlnotes.naive_bayes.GaussianNB": _CONTAINER + " (fit_gaussian_nb returns it)",
    "dlnotes.rl.Model": _CONTAINER + " (GridWorld.model returns it; bellman_backup checks it)",
    "dlnotes.qfunction.Transitions": _CONTAINER + " (semi_gradient's case builds one)",
    "dlnotes.qfunction.DQNHistory": _CONTAINER + " (train_dqn returns it)",
    "dlnotes.autoregressive.AutoregressiveModel": "an abstract base class: its methods are "
                                                  "covered through Bernoulli, FVSBN and NADE",
    "dlnotes.autoregressive.Bernoulli": "a model class: covered by its log_prob case",
    "dlnotes.autoregressive.FVSBN": "a model class: covered by its log_prob case",
    "dlnotes.autoregressive.NADE": "a model class: covered by its log_prob case",
    "dlnotes.qfunction.ReplayBuffer": "a class: covered by its add case",
}
