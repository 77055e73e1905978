"""Self-checks for the coding exercises of Part I, Foundations (chapters/01-foundations)."""
from __future__ import annotations

import numpy as np

from .core import CheckCase, Outcome, comparable, run_check

__all__: list[str] = ["check_relu_gradcheck", "check_adam_step_uncorrected",
                      "check_leave_one_out_baseline"]


# --- 03 activations and softmax, exercise "Gradient checking around kinks" --------------------

def _relu_forward(z):
    from dlnotes.activations import relu_forward
    return relu_forward(z)


def relu_backward_torch_rule(dout, cache):
    """A correct ReLU backward: slope 0 at z = 0, as torch and dlnotes."""
    return np.where(cache.z > 0, dout, 0.0)


def relu_backward_slope_one_at_zero(dout, cache):
    """Also correct: ReLU has no derivative at 0, and slope 1 there is a valid subgradient."""
    return np.where(cache.z >= 0, dout, 0.0)


def relu_backward_passes_everything(dout, cache):
    """Wrong: forgets the mask and passes every upstream gradient through."""
    return np.array(dout, dtype=np.float64, copy=True)


def relu_backward_inverted_mask(dout, cache):
    """Wrong: lets the gradient through where z < 0 instead of z > 0."""
    return np.where(cache.z < 0, dout, 0.0)


def relu_backward_times_output(dout, cache):
    """Wrong: multiplies by the output relu(z) instead of by the slope."""
    return dout * cache.out


def _relu_gradcheck_reference(backward, z) -> bool:
    """True when ``backward`` is a correct ReLU backward: dout where z > 0, 0 where z < 0,
    and anything between 0 and dout at z = 0 (no derivative there)."""
    _, cache = _relu_forward(z)
    dout = np.random.default_rng(12345).standard_normal(z.shape)
    got = np.asarray(backward(dout.copy(), cache), dtype=np.float64)
    smooth = z != 0
    right = np.allclose(got[smooth], np.where(z > 0, dout, 0.0)[smooth], rtol=1e-12, atol=0)
    ratio = got[~smooth] / np.where(dout[~smooth] == 0, 1.0, dout[~smooth])
    return bool(right and np.all((ratio >= 0) & (ratio <= 1)))


def _gradcheck_case(backward, shape, near_zero=0, exact_zero=0, scale=1.0):
    """Arguments (backward, z): z: shape, seeded, with some entries at or within 1e-8 of 0."""
    def make(rng):
        z = scale * rng.standard_normal(shape)
        flat = z.reshape(-1)
        picks = rng.permutation(flat.size)[:near_zero + exact_zero]
        flat[picks[:exact_zero]] = 0.0
        flat[picks[exact_zero:]] = rng.choice([-1.0, 1.0], near_zero) * 10.0 ** rng.uniform(
            -12, -8, near_zero)
        return backward, z
    return make


_RELU_GRADCHECK_CASES = (
    CheckCase("correct backward, inputs away from 0",
              _gradcheck_case(relu_backward_torch_rule, (4, 6)),
              "a correct backward must pass: compare analytic and numerical gradients with a "
              "scale-free measure and a tolerance that central differences in float64 meet"),
    CheckCase("wrong backward: no mask",
              _gradcheck_case(relu_backward_passes_everything, (3, 5)),
              "a backward that ignores the sign of z must fail: does your check compare every "
              "entry it can trust?"),
    CheckCase("wrong backward: inverted mask",
              _gradcheck_case(relu_backward_inverted_mask, (1, 7), exact_zero=2),
              "a backward that is wrong on both sides of the kink must fail, even when some "
              "inputs sit exactly at the kink"),
    CheckCase("correct backward, some inputs exactly 0",
              _gradcheck_case(relu_backward_torch_rule, (5, 4), exact_zero=3),
              "ReLU has no derivative at 0: what does a central difference measure at a kink, "
              "and should such an entry be compared at all?"),
    CheckCase("correct backward, inputs within 1e-8 of 0",
              _gradcheck_case(relu_backward_torch_rule, (2, 3, 4), near_zero=4),
              "an input closer to 0 than the step h has its two evaluations on opposite sides "
              "of the kink"),
    CheckCase("correct backward, slope 1 at z = 0",
              _gradcheck_case(relu_backward_slope_one_at_zero, (6, 3), exact_zero=4),
              "any slope in [0, 1] is a correct choice at z = 0: the check must not depend on "
              "the convention"),
    CheckCase("wrong backward: multiplies by the output",
              _gradcheck_case(relu_backward_times_output, (2, 5), scale=3.0, exact_zero=1),
              "the mistake shows only where z > 0 and z != 1: are those entries compared?"),
)


def check_relu_gradcheck(fn) -> Outcome:
    """Check ``fn(backward, z) -> bool``: a finite-difference check of a ReLU backward.

    backward: a function ``backward(dout, cache) -> dz`` like
    ``dlnotes.activations.relu_backward``, with ``cache`` from
    ``dlnotes.activations.relu_forward(z)``; z: any shape, float64, possibly with entries at
    or very near 0. Returns True when ``backward`` agrees with central differences
    (``dlnotes.gradcheck.numerical_gradient``) wherever they can be trusted, False otherwise.
    Every correct backward must pass, whatever slope in [0, 1] it uses at z = 0; each wrong
    one in the cases must fail. ``z`` must come back unchanged.
    """
    return run_check("check_relu_gradcheck", fn, _RELU_GRADCHECK_CASES,
                     _relu_gradcheck_reference, n_args=2, describe=_describe_gradcheck)


def _describe_gradcheck(got, expected, args):
    if isinstance(got, (bool, np.bool_)):
        if expected:
            return "your check rejected a correct backward"
        return "your check accepted a wrong backward"
    return f"your check returned {type(got).__name__}; it should return True or False"


# --- 06 optimisation, exercise "Adam without correction" ---------------------------------------

def _adam_uncorrected_reference(p, g, m, v, lr, betas, eps):
    """One Adam step with neither bias correction, written out independently in NumPy."""
    b1, b2 = betas
    m_new = b1 * m + (1 - b1) * g
    v_new = b2 * v + (1 - b2) * g * g
    return p - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new


def _adam_case(shape, first_step=False, lr=0.1, betas=(0.9, 0.999), eps=1e-8, g_scale=1.0,
               zero_grads=0):
    """Arguments (p, g, m, v, lr, betas, eps); the state is zero for a first step."""
    def make(rng):
        p = rng.standard_normal(shape)
        g = g_scale * rng.standard_normal(shape)
        g.reshape(-1)[:zero_grads] = 0.0
        if first_step:
            m, v = np.zeros(shape), np.zeros(shape)
        else:
            m = 0.5 * rng.standard_normal(shape)
            v = rng.random(shape) + 0.1
        return p, g, m, v, lr, betas, eps
    return make


_ADAM_CASES = (
    CheckCase("later step, (3, 4) parameters", _adam_case((3, 4)),
              "compare each line with Adam's update, leaving out only the divisions by 1 - beta^t"),
    CheckCase("first step, one parameter", _adam_case((1,), first_step=True),
              "from zero state m and v are tiny, so every detail of the formula shows"),
    CheckCase("beta1 = 0.5, beta2 = 0.9, lr = 0.01", _adam_case((5,), betas=(0.5, 0.9), lr=0.01),
              "betas[0] goes with the gradient, betas[1] with its square"),
    CheckCase("large eps = 0.1", _adam_case((2, 3), eps=0.1),
              "where does eps enter: inside or outside the square root?"),
    CheckCase("first step with zero gradients", _adam_case((4,), first_step=True, zero_grads=2),
              "a zero gradient from zero state gives 0 / (0 + eps): no step, and no NaN"),
    CheckCase("gradients of size 1e3", _adam_case((2, 2), g_scale=1e3),
              "the step should hardly depend on the scale of g"),
)


def check_adam_step_uncorrected(fn) -> Outcome:
    """Check ``fn(p, g, m, v, lr, betas, eps) -> (p_new, m_new, v_new)``: one Adam step
    without the two bias corrections.

    p, g, m, v: arrays of one shape (parameter, gradient, first and second moment state);
    lr > 0; betas = (beta1, beta2); eps > 0. Computes m_new = beta1 m + (1 - beta1) g,
    v_new = beta2 v + (1 - beta2) g^2 and p_new = p - lr m_new / (sqrt(v_new) + eps), with eps
    outside the square root as in ``torch.optim.Adam``. Returns new arrays; the inputs must come
    back unchanged. The reference is an independent NumPy computation (torch has no Adam
    without bias correction).
    """
    return run_check("check_adam_step_uncorrected", fn, _ADAM_CASES, _adam_uncorrected_reference,
                     n_args=7, outputs=("p_new", "m_new", "v_new"), describe=_describe_adam)


def _describe_adam(got, expected, args):
    p, g, m, v, lr, betas, eps = args
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return None
    try:
        p_new = np.asarray(got[0], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if p_new.shape != p.shape:
        return None
    b1, b2 = betas
    m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    m_swap, v_swap = b2 * m + (1 - b2) * g, b1 * v + (1 - b1) * g * g
    mistakes = (
        (p - lr * (m_new / (1 - b1)) / (np.sqrt(v_new / (1 - b2)) + eps),
         "p_new looks bias-corrected (as at step t = 1); this version has no correction"),
        (p - lr * m_new / np.sqrt(v_new + eps),
         "p_new looks as if eps were added inside the square root; torch adds it outside"),
        (p - lr * m / (np.sqrt(v) + eps),
         "p_new uses the averages from BEFORE this step's gradient was added"),
        (p - lr * m_swap / (np.sqrt(v_swap) + eps),
         "p_new looks as if beta1 and beta2 were swapped"),
    )
    for wrong, words in mistakes:
        if np.allclose(p_new, wrong, rtol=1e-9, atol=1e-12) and not np.allclose(
                wrong, expected[0], rtol=1e-9, atol=1e-12):
            return words
    return None


# --- 08 non-differentiable metrics, exercise "Leave-one-out baseline" -------------------------

def _loo_reference(rewards):
    """b_i = (sum_j r_j - r_i) / (S - 1): the mean reward of the other S - 1 samples."""
    r = np.asarray(rewards, dtype=np.float64)
    return (r.sum() - r) / (r.size - 1)


def _rewards_case(S, kind="accuracy"):
    def make(rng):
        if kind == "equal":
            return (np.full(S, 0.75),)
        if kind == "spread":
            return (rng.uniform(-5.0, 5.0, S),)
        return (rng.integers(200, 380, S) / 400.0,)        # accuracies of a 400-example batch
    return make


_LOO_CASES = (
    CheckCase("S = 4 accuracies", _rewards_case(4),
              "sample i's baseline is the mean of the OTHER samples' rewards"),
    CheckCase("S = 2", _rewards_case(2),
              "with two samples each one's baseline is the other one's reward"),
    CheckCase("S = 16 rewards of either sign", _rewards_case(16, "spread"),
              "how many other samples are there to average over?"),
    CheckCase("S = 5 equal rewards", _rewards_case(5, "equal"),
              "when every reward is the same, so is every baseline"),
    CheckCase("S = 3 accuracies", _rewards_case(3),
              "an odd number of samples: is each baseline its own?"),
)


def check_leave_one_out_baseline(fn) -> Outcome:
    """Check ``fn(rewards) -> baselines``: the leave-one-out baseline of REINFORCE.

    rewards: (S,) the rewards R_1 .. R_S of S >= 2 samples drawn at one step. Returns (S,),
    entry i the mean reward of the other S - 1 samples, (sum_j R_j - R_i) / (S - 1), which
    does not depend on sample i and so keeps the estimate unbiased. The reference is that
    formula in NumPy.
    """
    return run_check("check_leave_one_out_baseline", fn, _LOO_CASES, _loo_reference, n_args=1,
                     outputs=("the baseline vector",), describe=_describe_loo)


def _describe_loo(got, expected, args):
    (r,) = args
    got = comparable(got, r)
    if got is None:
        return None
    S = r.size
    mistakes = ((np.full(S, r.mean()), "every baseline is the mean of ALL rewards, its own "
                 "included: then it depends on its own sample"),
                ((r.sum() - r) / S, "the sum of the others is divided by S instead of S - 1"),
                (r.sum() - r, "the others' rewards are summed but not averaged"))
    for wrong, words in mistakes:
        if np.allclose(got, wrong, rtol=1e-9, atol=1e-12) and not np.allclose(
                wrong, expected, rtol=1e-9, atol=1e-12):
            return words
    return None
