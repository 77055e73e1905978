"""Robustness cases of group g1: activations, layers, losses, logistic, mlp, init, gradcheck,
optim, schedules, batchnorm, surrogates, tuning, datasets, augment (see spec.py).

References are torch in float64 where torch has the function (autograd for the backwards),
else an independent computation (``math.hypot`` for norms, slicing for crops). Each is
computed on the *mutated* input, so NaN, inf and 1e300 must give what torch gives. Random
functions are called with a freshly seeded generator, so their results are comparable.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dlnotes import activations as A
from dlnotes import augment as AU
from dlnotes import batchnorm as BN
from dlnotes import gradcheck as GC
from dlnotes import layers as LY
from dlnotes import logistic as LR
from dlnotes import mlp as MLP
from dlnotes import optim as OP
from dlnotes import surrogates as SU
from dlnotes import tuning as TU

from .spec import Case
from .torch_helpers import _f64, _n, _t


def _seed() -> np.random.Generator:
    return np.random.default_rng(1234)


CASES: list[Case] = []
EXCLUDED: dict[str, str] = {}


# --- activations ---------------------------------------------------------------------------

_ELEMENTWISE = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                "leaky_relu": lambda t: F.leaky_relu(t, 0.1)}
_NORMALISING = {"softmax": lambda t: torch.softmax(t, -1),
                "log_softmax": lambda t: torch.log_softmax(t, -1)}
_ALL_ACT = {**_ELEMENTWISE, **_NORMALISING}


def _act_kwargs(name):
    return {"negative_slope": 0.1} if name == "leaky_relu" else {}


def _z(rng):
    return {"z": 3 * rng.standard_normal((3, 4))}


def _zd(rng):
    return {"z": 3 * rng.standard_normal((3, 4)), "dout": rng.standard_normal((3, 4))}


def _torch_vjp(op):
    def reference(kw):
        zt = _t(kw["z"], grad=True)
        op(zt).backward(_t(kw["dout"]))
        return _n(zt.grad)
    return reference


for _name, _op in _ALL_ACT.items():
    _fn = getattr(A, _name)
    CASES.append(Case(
        func=f"dlnotes.activations.{_name}", make=_z, arrays=("z",),
        call=lambda kw, fn=_fn, name=_name: fn(kw["z"], **_act_kwargs(name)),
        reference=lambda kw, op=_op: _n(op(_t(kw["z"])))))
    _fwd, _bwd = getattr(A, f"{_name}_forward"), getattr(A, f"{_name}_backward")
    CASES.append(Case(
        func=f"dlnotes.activations.{_name}_forward", make=_z, arrays=("z",),
        call=lambda kw, fwd=_fwd, name=_name: fwd(kw["z"], **_act_kwargs(name)),
        output=lambda r: r[0],
        reference=lambda kw, op=_op: _n(op(_t(kw["z"])))))
    CASES.append(Case(
        func=f"dlnotes.activations.{_name}_backward", make=_zd, arrays=("dout",),
        call=lambda kw, fwd=_fwd, bwd=_bwd, name=_name:
            bwd(kw["dout"], fwd(kw["z"], **_act_kwargs(name))[1]),
        reference=_torch_vjp(_op)))


def _jacobian_reference(kw):
    s = _f64(kw["s"])
    rows = s.reshape(-1, s.shape[-1])
    jacs = [_n(torch.autograd.functional.jacobian(lambda z: torch.softmax(z, -1),
                                                  torch.log(_t(row)))) for row in rows]
    c = s.shape[-1]
    return np.array(jacs).reshape(s.shape[:-1] + (c, c))


CASES.append(Case(
    func="dlnotes.activations.softmax_jacobian",
    make=lambda rng: {"s": A.softmax(rng.standard_normal((2, 4)))}, arrays=("s",),
    reference=_jacobian_reference))

for _cache in ("ActivationCache", "SigmoidCache", "TanhCache", "ReluCache", "LeakyReluCache",
               "SoftmaxCache", "LogSoftmaxCache"):
    EXCLUDED[f"dlnotes.activations.{_cache}"] = (
        "a cache type (NamedTuple) that its forward builds; the cache-mixing and aliasing "
        "tests cover it")


# --- layers --------------------------------------------------------------------------------

def _dense(rng):
    return {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((2, 3)),
            "b": rng.standard_normal(2)}


_ANY_SHAPE = {m: "valid: dropout is elementwise, any shape (empty included) is valid"
              for m in ("transposed", "extra_axis", "missing_axis", "empty")}


def _dense_backward_reference(kw):
    xt, wt, bt = (_t(kw[k], grad=True) for k in ("x", "w", "b"))
    F.linear(xt, wt, bt).backward(_t(kw["dout"]))
    return _n(xt.grad), _n(wt.grad), _n(bt.grad)


CASES += [
    Case(func="dlnotes.layers.dense_forward", make=_dense, arrays=("x", "w", "b"),
         output=lambda r: r[0],
         reference=lambda kw: _n(F.linear(_t(kw["x"]), _t(kw["w"]), _t(kw["b"])))),
    Case(func="dlnotes.layers.dense_backward",
         make=lambda rng: {**_dense(rng), "dout": rng.standard_normal((4, 2))},
         arrays=("dout",),
         call=lambda kw: LY.dense_backward(kw["dout"],
                                           LY.dense_forward(kw["x"], kw["w"], kw["b"])[1]),
         reference=_dense_backward_reference),
    Case(func="dlnotes.layers.dropout_forward",
         make=lambda rng: {"x": rng.standard_normal((4, 5))}, arrays=("x",),
         call=lambda kw: LY.dropout_forward(kw["x"], 0.5, _seed())[0],
         expect={**_ANY_SHAPE,
                 "nan": "propagates: NaN * mask is NaN also where dropped, as in torch",
                 "inf": "valid: inf where kept, NaN where dropped (inf * 0), as in torch",
                 "huge": "valid: 1e300 * 2 is finite"}),
    Case(func="dlnotes.layers.dropout_backward",
         make=lambda rng: {"x": rng.standard_normal((4, 5)), "dout": rng.standard_normal((4, 5))},
         arrays=("dout",),
         call=lambda kw: LY.dropout_backward(kw["dout"],
                                             LY.dropout_forward(kw["x"], 0.5, _seed())[1]),
         expect={"nan": "propagates: NaN * mask is NaN also where dropped, as in torch",
                 "inf": "valid: inf where kept, NaN where dropped (inf * 0), as in torch",
                 "huge": "valid: 1e300 * 2 is finite"}),
]
EXCLUDED["dlnotes.layers.DenseCache"] = EXCLUDED["dlnotes.layers.DropoutCache"] = (
    "a cache type (NamedTuple) that its forward builds; the cache-mixing and aliasing tests "
    "cover it")


# --- losses --------------------------------------------------------------------------------

def _loss_reference(fn, first, second):
    def reference(kw):
        at = _t(kw[first], grad=True)
        loss = fn(at, _t(kw[second]))
        loss.backward()
        return loss.item(), _n(at.grad)
    return reference


def _probs(rng, shape=(3, 4)):
    return A.softmax(rng.standard_normal(shape))


def _entropy_reference(kw):
    p = _f64(kw["p"])
    if p.size == 0:
        return np.zeros(p.shape[:-1])
    h = torch.distributions.Categorical(probs=_t(p)).entropy() / math.log(2)
    return _n(h) if p.ndim > 1 else h.item()


def _cross_entropy_dist_reference(kw):
    p, q = _f64(kw["p"]), _f64(kw["q"])
    if p.size == 0:
        return np.zeros(p.shape[:-1])
    p2, q2 = p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1])
    h = F.cross_entropy(torch.log(_t(q2)), _t(p2), reduction="none") / math.log(2)
    return _n(h).reshape(p.shape[:-1]) if p.ndim > 1 else h.item()


def _kl_reference(kw):
    p, q = _f64(kw["p"]), _f64(kw["q"])
    if p.size == 0:
        return np.zeros(p.shape[:-1])
    d = F.kl_div(torch.log(_t(q)), _t(p), reduction="none").sum(-1) / math.log(2)
    return _n(d) if p.ndim > 1 else d.item()


CASES += [
    Case(func="dlnotes.losses.binary_cross_entropy",
         make=lambda rng: {"p": rng.uniform(0.05, 0.95, (3, 4)), "y": rng.random((3, 4))},
         arrays=("p", "y"), reference=_loss_reference(F.binary_cross_entropy, "p", "y"),
         aliases={"p": ("p (probabilities)",), "y": ("y (targets)",)}),
    Case(func="dlnotes.losses.binary_cross_entropy_with_logits",
         make=lambda rng: {"z": 3 * rng.standard_normal((3, 4)), "y": rng.random((3, 4))},
         arrays=("z", "y"),
         reference=_loss_reference(F.binary_cross_entropy_with_logits, "z", "y"),
         aliases={"y": ("y (targets)",)}),
    Case(func="dlnotes.losses.cross_entropy",
         make=lambda rng: {"logits": 3 * rng.standard_normal((5, 4)),
                           "target": rng.integers(0, 4, 5)},
         arrays=("logits", "target"),
         reference=lambda kw: _loss_reference(
             lambda a, _: F.cross_entropy(a, torch.as_tensor(np.asarray(kw["target"]),
                                                             device=a.device)),
             "logits", "logits")(kw)),
    Case(func="dlnotes.losses.mse",
         make=lambda rng: {"pred": rng.standard_normal((3, 4)),
                           "target": rng.standard_normal((3, 4))},
         arrays=("pred", "target"), reference=_loss_reference(F.mse_loss, "pred", "target")),
    Case(func="dlnotes.losses.entropy", make=lambda rng: {"p": _probs(rng)}, arrays=("p",),
         reference=_entropy_reference),
    Case(func="dlnotes.losses.cross_entropy_dist",
         make=lambda rng: {"p": _probs(rng), "q": _probs(rng)}, arrays=("p", "q"),
         reference=_cross_entropy_dist_reference),
    Case(func="dlnotes.losses.kl_divergence",
         make=lambda rng: {"p": _probs(rng), "q": _probs(rng)}, arrays=("p", "q"),
         reference=_kl_reference),
]


# --- logistic ------------------------------------------------------------------------------

def _logistic(rng):
    return {"x": rng.standard_normal((5, 3)), "w": rng.standard_normal(3),
            "b": rng.standard_normal(1)}


def _logits_t(kw, grad=False):
    xt, wt, bt = (_t(kw[k], grad=grad) for k in ("x", "w", "b"))
    return xt, wt, bt, xt @ wt + bt


def _logistic_backward_reference(kw):
    xt, wt, bt, z = _logits_t(kw, grad=True)
    torch.sigmoid(z).backward(_t(kw["da"]))
    return _n(xt.grad), _n(wt.grad), _n(bt.grad)


def _logistic_cost_reference(kw):
    xt, wt, bt, z = _logits_t(kw, grad=True)
    cost = F.binary_cross_entropy_with_logits(z, _t(kw["y"]))
    cost.backward()
    return cost.item(), _n(wt.grad), _n(bt.grad)


def _train_logistic_reference(kw, lr=0.5, steps=4):
    xt, yt = _t(kw["x"]), _t(kw["y"])
    wt = torch.zeros(xt.shape[1], dtype=torch.float64, device=xt.device, requires_grad=True)
    bt = torch.zeros((), dtype=torch.float64, device=xt.device, requires_grad=True)
    opt = torch.optim.SGD([wt, bt], lr=lr)
    history = []
    for _ in range(steps + 1):
        opt.zero_grad()
        cost = F.binary_cross_entropy_with_logits(xt @ wt + bt, yt)
        history.append(cost.item())
        cost.backward()
        if len(history) <= steps:
            opt.step()
    return _n(wt), _n(bt), np.array(history)


CASES += [
    Case(func="dlnotes.logistic.logistic_forward", make=_logistic, arrays=("x", "w", "b"),
         output=lambda r: r[0], reference=lambda kw: _n(torch.sigmoid(_logits_t(kw)[3]))),
    Case(func="dlnotes.logistic.logistic_backward",
         make=lambda rng: {**_logistic(rng), "da": rng.standard_normal(5)}, arrays=("da",),
         call=lambda kw: LR.logistic_backward(
             kw["da"], LR.logistic_forward(kw["x"], kw["w"], kw["b"])[1]),
         reference=_logistic_backward_reference),
    Case(func="dlnotes.logistic.logistic_cost",
         make=lambda rng: {**_logistic(rng), "y": rng.random(5)}, arrays=("x", "y", "w", "b"),
         reference=_logistic_cost_reference, aliases={"y": ("y (targets)",)}),
    Case(func="dlnotes.logistic.train_logistic_regression",
         make=lambda rng: {"x": rng.standard_normal((6, 2)),
                           "y": (rng.random(6) > 0.5).astype(float)},
         arrays=("x", "y"),
         call=lambda kw: LR.train_logistic_regression(kw["x"], kw["y"], lr=0.5, steps=4),
         reference=_train_logistic_reference, rtol=1e-9, atol=1e-11,
         aliases={"y": ("y (targets)",)}),
    Case(func="dlnotes.logistic.predict_proba", make=_logistic, arrays=("x", "w", "b"),
         reference=lambda kw: _n(torch.sigmoid(_logits_t(kw)[3]))),
    Case(func="dlnotes.logistic.predict", make=_logistic, arrays=("x", "w", "b"),
         reference=lambda kw: _n((_logits_t(kw)[3] >= 0).long())),
]
EXCLUDED["dlnotes.logistic.LogisticCache"] = (
    "a cache type (NamedTuple) that its forward builds; the cache-mixing and aliasing tests "
    "cover it")


# --- mlp -----------------------------------------------------------------------------------

_MLP_KEYS = ("w1", "b1", "w2", "b2")


def _mlp(rng):
    params = MLP.init_mlp([3, 5, 4], rng)
    return {"x": rng.standard_normal((6, 3)), "y": rng.integers(0, 4, 6), **params}


def _mlp_params(kw):
    return {k: kw[k] for k in _MLP_KEYS}


def _mlp_torch_logits(kw, grad=False):
    t = {k: _t(kw[k], grad=grad) for k in _MLP_KEYS}
    h = torch.relu(F.linear(_t(kw["x"]), t["w1"], t["b1"]))
    return t, F.linear(h, t["w2"], t["b2"])


def _mlp_loss_reference(kw, l2=0.3):
    t, logits = _mlp_torch_logits(kw, grad=True)
    y = torch.as_tensor(np.asarray(kw["y"]), device=logits.device)
    n = logits.shape[0]
    loss = F.cross_entropy(logits, y) + l2 / (2 * n) * ((t["w1"] ** 2).sum() + (t["w2"] ** 2).sum())
    loss.backward()
    return loss.item(), {k: _n(t[k].grad) for k in _MLP_KEYS}


def _mlp_train_reference(kw, lr=0.2, steps=3):
    t = {k: _t(kw[k], grad=True) for k in _MLP_KEYS}
    opt = torch.optim.SGD(list(t.values()), lr=lr)
    y = torch.as_tensor(np.asarray(kw["y"]), device=t["w1"].device)
    for _ in range(steps):
        opt.zero_grad()
        h = torch.relu(F.linear(_t(kw["x"]), t["w1"], t["b1"]))
        F.cross_entropy(F.linear(h, t["w2"], t["b2"]), y).backward()
        opt.step()
    return {k: _n(v) for k, v in t.items()}


_MLP_ARRAYS = ("x",) + _MLP_KEYS
CASES += [
    Case(func="dlnotes.mlp.mlp_logits", make=_mlp, arrays=_MLP_ARRAYS,
         call=lambda kw: MLP.mlp_logits(_mlp_params(kw), kw["x"]),
         reference=lambda kw: _n(_mlp_torch_logits(kw)[1])),
    Case(func="dlnotes.mlp.mlp_predict", make=_mlp, arrays=_MLP_ARRAYS,
         call=lambda kw: MLP.mlp_predict(_mlp_params(kw), kw["x"]),
         reference=lambda kw: _n(torch.argmax(_mlp_torch_logits(kw)[1], dim=1))),
    Case(func="dlnotes.mlp.mlp_loss_and_grads", make=_mlp, arrays=_MLP_ARRAYS + ("y",),
         call=lambda kw: MLP.mlp_loss_and_grads(_mlp_params(kw), kw["x"], kw["y"], l2=0.3),
         reference=_mlp_loss_reference),
    Case(func="dlnotes.mlp.train_gd", make=_mlp, arrays=_MLP_ARRAYS + ("y",),
         call=lambda kw: MLP.train_gd(_mlp_params(kw), kw["x"], kw["y"], lr=0.2, steps=3),
         output=lambda r: r[0], reference=_mlp_train_reference),
]
EXCLUDED["dlnotes.mlp.init_mlp"] = (
    "no array argument: sizes is a list of ints (tests/test_mlp.py checks floats, bools and "
    "zeros are refused)")
EXCLUDED["dlnotes.mlp.HiddenCache"] = (
    "an internal cache type of mlp_loss_and_grads, never handed to a caller's backward")
EXCLUDED["dlnotes.mlp.History"] = "a record type (NamedTuple of lists) that train_gd returns"


# --- init, schedules, datasets: no array arguments -----------------------------------------

for _f in ("fans", "he_normal", "xavier_uniform"):
    EXCLUDED[f"dlnotes.init.{_f}"] = (
        "no array argument: shape is a tuple of ints (tests/test_init.py checks floats, "
        "strings, bools and negative gains are refused)")
for _f in ("inverse_time_decay", "exponential_decay", "step_decay", "inverse_sqrt_decay"):
    EXCLUDED[f"dlnotes.schedules.{_f}"] = (
        "scalar arguments only (tests/test_schedules.py checks NumPy integers, negative "
        "gammas and NaN)")
for _f in ("two_blobs", "spirals"):
    EXCLUDED[f"dlnotes.datasets.{_f}"] = (
        "scalar arguments only (tests/test_datasets.py checks NaN, strings and NumPy "
        "integers)")


# --- gradcheck -----------------------------------------------------------------------------

def _numgrad_reference(kw):
    xt = _t(kw["x"], grad=True)
    (torch.sin(xt) * xt).sum().backward()
    return _n(xt.grad)


def _relative_error_reference(kw):
    a, b = _f64(kw["a"]).ravel(), _f64(kw["b"]).ravel()
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.nan
    den = math.hypot(*a) + math.hypot(*b)
    return 0.0 if den == 0 else math.hypot(*(a - b)) / den


CASES += [
    Case(func="dlnotes.gradcheck.numerical_gradient",
         make=lambda rng: {"x": rng.standard_normal((3, 4))}, arrays=("x",),
         call=lambda kw: GC.numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), kw["x"]),
         reference=_numgrad_reference, rtol=1e-6, atol=1e-8),
    Case(func="dlnotes.gradcheck.relative_error",
         make=lambda rng: {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal((3, 4))},
         arrays=("a", "b"), reference=_relative_error_reference),
]


# --- optim ---------------------------------------------------------------------------------

_W0 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
_OPTIMISERS = {
    "SGD": (lambda p: OP.SGD(p, lr=0.1, momentum=0.9),
            lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    "Momentum": (lambda p: OP.Momentum(p, lr=0.1, beta=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.1 * (1 - 0.9), momentum=0.9)),
    "RMSprop": (lambda p: OP.RMSprop(p, lr=0.01, alpha=0.9),
                lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9)),
    "RMSpropEpsInSqrt": (lambda p: OP.RMSpropEpsInSqrt(p, lr=0.01, alpha=0.9), None),
    "Adam": (lambda p: OP.Adam(p, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
}


_ANY_PARAM_SHAPE = {m: "valid: a parameter may have any shape (the gradient has the same)"
                    for m in ("transposed", "extra_axis", "missing_axis", "empty")}


def _own(w):
    """A copy of an array (updated in place by the step), anything else as it is."""
    return w.copy() if isinstance(w, np.ndarray) else w


def _ours_two_steps(make_opt, w, g):
    params = {"w": w}
    opt = make_opt(params)
    opt.step({"w": g})
    opt.step({"w": g})
    return params["w"]


def _torch_two_steps(make_opt, w, g):
    wt = _t(w, grad=True)
    opt = make_opt([wt])
    for _ in range(2):
        wt.grad = _t(g)
        opt.step()
    return _n(wt)


for _name, (_ours, _theirs) in _OPTIMISERS.items():
    _no_torch = {} if _theirs else {
        "nan": "propagates: NaN in g, NaN in the parameters, as in torch.optim",
        "inf": "propagates: s = inf and g / sqrt(s + eps) = inf / inf, as RMSprop in torch",
        "huge": "valid: g * g overflows to inf as in torch.optim.RMSprop, so the step is 0"}
    CASES.append(Case(
        func=f"dlnotes.optim.{_name}.step",
        make=lambda rng: {"g": rng.standard_normal((2, 3))}, arrays=("g",),
        call=lambda kw, o=_ours: _ours_two_steps(o, _W0.copy(), kw["g"]),
        reference=(lambda kw, t=_theirs: _torch_two_steps(t, _W0, kw["g"])) if _theirs else None,
        aliases={"g": ("grads['w']",)}, expect=_no_torch))
    CASES.append(Case(
        func=f"dlnotes.optim.{_name}",
        make=lambda rng: {"w": rng.standard_normal((2, 3))}, arrays=("w",),
        call=lambda kw, o=_ours: _ours_two_steps(o, _own(kw["w"]), np.ones(np.shape(kw["w"]))),
        reference=(lambda kw, t=_theirs: _torch_two_steps(t, kw["w"], np.ones(np.shape(kw["w"]))))
        if _theirs else None,
        aliases={"w": ("params['w']",)}, expect=_no_torch and {
            **_ANY_PARAM_SHAPE,
            "nan": "propagates: a NaN parameter stays NaN",
            "inf": "valid: an infinite parameter stays infinite",
            "huge": "valid: 1e300 minus a step of about lr"},
        skip={"list": "params are updated in place, so they must be NumPy arrays (refused)"}))
EXCLUDED["dlnotes.optim.Optimizer"] = (
    "the abstract base class (its _update is not implemented); every subclass has a case")


def _ewa_reference(kw, beta=0.8):
    # The closed form v_t = (1 - beta) sum_{k <= t} beta^(t - k) theta_k (an independent
    # definition; torch's Adam state agrees for finite input, but its lerp turns an infinite
    # gradient into NaN at the next step).
    values = _t(kw["values"])
    rows = [sum((1 - beta) * beta ** (t - k) * values[k] for k in range(t + 1))
            for t in range(values.shape[0])]
    return np.array([_n(r) for r in rows]).reshape(values.shape)


CASES.append(Case(
    func="dlnotes.optim.exponentially_weighted_average",
    make=lambda rng: {"values": rng.standard_normal((5, 3))}, arrays=("values",),
    call=lambda kw: OP.exponentially_weighted_average(kw["values"], 0.8, bias_correction=False),
    reference=_ewa_reference))


# --- batchnorm -----------------------------------------------------------------------------

_BN_KEYS = ("x", "gamma", "beta", "running_mean", "running_var")


def _bn(rng):
    return {"x": rng.standard_normal((6, 3)), "gamma": rng.standard_normal(3),
            "beta": rng.standard_normal(3), "running_mean": rng.standard_normal(3),
            "running_var": rng.uniform(0.5, 2.0, 3)}


def _bn_reference(kw):
    mean, var = _t(kw["running_mean"]), _t(kw["running_var"])
    out = F.batch_norm(_t(kw["x"]), mean, var, _t(kw["gamma"]), _t(kw["beta"]), True, 0.1, 1e-5)
    return _n(out), _n(mean), _n(var)


def _bn_backward_reference(kw):
    xt, gt, bt = _t(kw["x"], grad=True), _t(kw["gamma"], grad=True), _t(kw["beta"], grad=True)
    out = F.batch_norm(xt, _t(kw["running_mean"]), _t(kw["running_var"]), gt, bt, True, 0.1,
                       1e-5)
    out.backward(_t(kw["dout"]))
    return _n(xt.grad), _n(gt.grad), _n(bt.grad)


CASES += [
    Case(func="dlnotes.batchnorm.batchnorm_forward", make=_bn, arrays=_BN_KEYS,
         call=lambda kw: BN.batchnorm_forward(*(kw[k] for k in _BN_KEYS), training=True),
         output=lambda r: (r[0], r[2].mean, r[2].var), reference=_bn_reference),
    Case(func="dlnotes.batchnorm.batchnorm_backward",
         make=lambda rng: {**_bn(rng), "dout": rng.standard_normal((6, 3))}, arrays=("dout",),
         call=lambda kw: BN.batchnorm_backward(
             kw["dout"], BN.batchnorm_forward(*(kw[k] for k in _BN_KEYS), training=True)[1]),
         reference=_bn_backward_reference),
]
EXCLUDED["dlnotes.batchnorm.RunningStats"] = (
    "a record type (NamedTuple) that batchnorm_forward returns")
EXCLUDED["dlnotes.batchnorm.BatchNormCache"] = (
    "a cache type (NamedTuple) that its forward builds; the cache-mixing and aliasing tests "
    "cover it")


# --- surrogates ----------------------------------------------------------------------------

def _binary(rng):
    return {"scores": 2 * rng.standard_normal(6), "y": rng.integers(0, 2, 6)}


def _categorical(rng):
    return {"logits": rng.standard_normal(4), "rewards": rng.standard_normal(4)}


def _soft_accuracy_reference(kw, t=0.5):
    st = _t(kw["scores"], grad=True)
    sign = 2 * _t(kw["y"]) - 1
    value = torch.sigmoid(sign * st / t).mean()
    value.backward()
    return value.item(), _n(st.grad)


def _expected_reward_reference(kw):
    lt = _t(kw["logits"], grad=True)
    value = (torch.softmax(lt, -1) * _t(kw["rewards"])).sum()
    value.backward()
    return value.item(), _n(lt.grad)


def _score_function_reference(kw, b=0.25):
    rewards = _f64(kw["rewards"])
    rows = []
    for x in np.asarray(kw["samples"]):
        lt = _t(kw["logits"], grad=True)
        torch.log_softmax(lt, -1)[int(x)].backward()
        rows.append((rewards[int(x)] - b) * _n(lt.grad))
    return np.array(rows)


CASES += [
    Case(func="dlnotes.surrogates.accuracy", make=_binary, arrays=("scores", "y"),
         reference=lambda kw: ((_t(kw["scores"]) > 0) == (_t(kw["y"]) == 1)).double()
         .mean().item()),
    Case(func="dlnotes.surrogates.soft_accuracy", make=_binary, arrays=("scores", "y"),
         call=lambda kw: SU.soft_accuracy(kw["scores"], kw["y"], temperature=0.5),
         reference=_soft_accuracy_reference),
    Case(func="dlnotes.surrogates.expected_reward_gradient", make=_categorical,
         arrays=("logits", "rewards"), reference=_expected_reward_reference),
    Case(func="dlnotes.surrogates.score_function_estimates",
         make=lambda rng: {**_categorical(rng), "samples": rng.integers(0, 4, 5)},
         arrays=("logits", "rewards", "samples"),
         call=lambda kw: SU.score_function_estimates(kw["logits"], kw["rewards"],
                                                     kw["samples"], baseline=0.25),
         reference=_score_function_reference),
    Case(func="dlnotes.surrogates.reinforce_accuracy_gradient", make=_binary,
         arrays=("scores", "y"),
         call=lambda kw: SU.reinforce_accuracy_gradient(kw["scores"], kw["y"], _seed(),
                                                        n_samples=3),
         expect={"scores:huge": "valid: sigmoid(1e300) is exactly 1, a certain prediction"}),
]


# --- tuning --------------------------------------------------------------------------------

_SPACE = {"lr": (1e-4, 1.0, "log"), "beta": (0.0, 1.0)}


def _objective(points):
    # |.| rather than squares, so that 1e300-sized points do not overflow the objective.
    return np.abs(np.log10(np.abs(points[:, 0]) + 1e-12) + 2) + np.abs(points[:, 1] - 0.3)


CASES += [
    Case(func="dlnotes.tuning.train_dev_test_split",
         make=lambda rng: {"fractions": np.array([0.6, 0.2, 0.2])}, arrays=("fractions",),
         call=lambda kw: TU.train_dev_test_split(20, kw["fractions"], _seed()),
         expect={"float32": "valid: float32 fractions need only sum to 1 within float32 "
                            "round-off (validation.sum_tolerance); widened to float64 the same "
                            "values miss 1 by 3e-8, beyond float64's tolerance"}),
    Case(func="dlnotes.tuning.evaluate",
         make=lambda rng: {"points": TU.random_points(_SPACE, 5, rng)}, arrays=("points",),
         call=lambda kw: TU.evaluate(_objective, _SPACE, kw["points"]),
         output=lambda r: (r.points, r.scores, r.best_index),
         expect={"huge": "valid: the points lie outside the space, which evaluate allows"}),
]
for _f, _why in [("log_uniform", "scalar arguments only"),
                 ("grid_points", "no array argument: a space dict and a count"),
                 ("random_points", "no array argument: a space dict and a count"),
                 ("grid_search", "no array argument: an objective, a space dict and a count"),
                 ("random_search", "no array argument: an objective, a space dict and a count"),
                 ("zoom", "no array argument: a space dict, a SearchResult and a count"),
                 ("diagnose", "scalar arguments only (four error rates)")]:
    EXCLUDED[f"dlnotes.tuning.{_f}"] = f"{_why} (tests/test_tuning.py checks their validation)"
EXCLUDED["dlnotes.tuning.SearchResult"] = "a record type (NamedTuple) that evaluate returns"
EXCLUDED["dlnotes.tuning.Diagnosis"] = "a record type (NamedTuple) that diagnose returns"


# --- augment -------------------------------------------------------------------------------

def _image(rng):
    return {"x": rng.random((3, 4, 5))}


_MOVES_PIXELS = {"nan": "valid: the NaN pixel may be moved out of the frame",
                 "inf": "valid: the inf pixel may be moved out of the frame",
                 "huge": "valid: pixels are only moved"}
_ANY_IMAGE = {"transposed": "valid: the transpose (W, H, C) is another (C, H, W) image"}
CASES += [
    Case(func="dlnotes.augment.mirror", make=_image, arrays=("x",),
         reference=lambda kw: _n(torch.flip(_t(kw["x"]), dims=(2,)))),
    Case(func="dlnotes.augment.random_mirror", make=_image, arrays=("x",),
         call=lambda kw: AU.random_mirror(kw["x"], _seed(), p=1.0),
         reference=lambda kw: _n(torch.flip(_t(kw["x"]), dims=(2,)))),
    Case(func="dlnotes.augment.crop", make=_image, arrays=("x",),
         call=lambda kw: AU.crop(kw["x"], 1, 0, 2, 2),
         reference=lambda kw: _n(_t(kw["x"])[:, 1:3, 0:2])),
    Case(func="dlnotes.augment.random_crop", make=_image, arrays=("x",),
         call=lambda kw: AU.random_crop(kw["x"], (2, 2), _seed()),
         expect={**_MOVES_PIXELS, **_ANY_IMAGE}),
    Case(func="dlnotes.augment.rotate90", make=_image, arrays=("x",),
         call=lambda kw: AU.rotate90(kw["x"], 1),
         reference=lambda kw: _n(torch.rot90(_t(kw["x"]), 1, dims=(1, 2)))),
    Case(func="dlnotes.augment.rotate", make=_image, arrays=("x",),
         call=lambda kw: AU.rotate(kw["x"], 30.0), expect={**_MOVES_PIXELS, **_ANY_IMAGE}),
    Case(func="dlnotes.augment.colour_shift", make=_image, arrays=("x",),
         call=lambda kw: AU.colour_shift(kw["x"], _seed(), clip=False),
         expect={**_ANY_IMAGE, "nan": "propagates: NaN + shift is NaN",
                 "inf": "valid: inf + shift is inf", "huge": "valid: 1e300 + shift"}),
    Case(func="dlnotes.augment.random_augment", make=_image, arrays=("x",),
         call=lambda kw: AU.random_augment(kw["x"], _seed(), crop_size=(3, 3)),
         expect={**_ANY_IMAGE,
                 "huge": "valid: pixels of 1e300 are moved, and clipped to [0, 1]"}),
]
