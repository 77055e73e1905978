"""Approximate Q-learning: a small MLP Q-function, its semi-gradient update and DQN.

Chapter: 06-beyond/04-learning-to-act. When the states are too many for a table, Q* is
approximated by a function Q(x, a; theta) of state features x. Q-learning's update becomes a
gradient step on the squared TD error with the target held fixed (the *semi-gradient*):

    y = r + gamma * (1 - done) * max_a' Q(x', a'; theta_target)        (a constant)
    L(theta) = 1/(2B) * sum_b (y_b - Q(x_b, a_b; theta))^2,   theta <- theta - lr * dL/dtheta.

It is not the gradient of any fixed objective, since y moves with theta (through
theta_target). DQN (Mnih et al., 2015) adds two stabilisers used here: a *target network*
theta_target, a copy of theta refreshed every ``target_every`` updates, and a *replay buffer*
of past moves from which each update draws a random mini-batch, so consecutive updates do not
all see the same few correlated moves.

The Q-function is a one-hidden-layer tanh MLP in torch's ``nn.Linear`` layout:
q = tanh(x w1^T + b1) w2^T + b2, with w1: (H, D), b1: (H,), w2: (A, H), b2: (A,).

Usage::

    x = grid_features(env)                                   # (S, D), one row per state
    params, history = train_dqn(env, x, episodes=300, n_hidden=32, lr=3e-3, gamma=0.95,
                                epsilon=0.3, batch_size=32, buffer_size=2000,
                                target_every=50, rng=np.random.default_rng(0))
    q = q_values(params, x)                                  # (S, A)

Reference: Sutton and Barto, Reinforcement Learning: An Introduction (2nd ed., 2018), ch. 9-11
(semi-gradient methods); Mnih et al., Human-level control through deep reinforcement learning
(Nature, 2015).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .optim import Adam
from .rl import GridWorld, _check_gamma
from .validation import (
    as_float,
    as_float_array,
    as_int,
    as_int_array,
    as_probability,
    check_cache,
    check_positive_int,
    check_rng,
)

__all__ = ["init_qnet", "QNetCache", "qnet_forward", "qnet_backward", "q_values", "TDCache",
           "td_loss_forward", "td_loss_backward", "dqn_targets", "Transitions", "semi_gradient",
           "ReplayBuffer", "grid_features", "DQNHistory", "train_dqn"]

PARAM_NAMES = ("w1", "b1", "w2", "b2")


def init_qnet(n_in: int, n_hidden: int, n_actions: int, rng: np.random.Generator) -> dict:
    """Parameters of a tanh MLP Q-function, drawn as ``nn.Linear`` does: U(-1/sqrt(fan_in), +).

    Returns {"w1": (H, D), "b1": (H,), "w2": (A, H), "b2": (A,)} in float64.
    """
    n_in = check_positive_int(n_in, "n_in")
    n_hidden = check_positive_int(n_hidden, "n_hidden")
    n_actions = check_positive_int(n_actions, "n_actions")
    check_rng(rng)
    k1, k2 = 1.0 / np.sqrt(n_in), 1.0 / np.sqrt(n_hidden)
    return {"w1": rng.uniform(-k1, k1, (n_hidden, n_in)),
            "b1": rng.uniform(-k1, k1, n_hidden),
            "w2": rng.uniform(-k2, k2, (n_actions, n_hidden)),
            "b2": rng.uniform(-k2, k2, n_actions)}


class QNetCache(NamedTuple):
    x: np.ndarray       # (B, D) state features
    h: np.ndarray       # (B, H) hidden activations tanh(x w1^T + b1)
    w1: np.ndarray      # (H, D)
    w2: np.ndarray      # (A, H)


def qnet_forward(x, w1, b1, w2, b2) -> tuple[np.ndarray, QNetCache]:
    """Action values of a batch of states: q = tanh(x w1^T + b1) w2^T + b2.

    x: (B, D);  w1: (H, D);  b1: (H,);  w2: (A, H);  b2: (A,).  Returns q: (B, A) and a cache.
    Same as torch.nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, A)); NaN in x or
    a weight propagates into q, as there.
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(B, D)")
    w1 = as_float_array(w1, "w1", ndim=2, shape_hint="(H, D)")
    w2 = as_float_array(w2, "w2", ndim=2, shape_hint="(A, H)")
    b1 = as_float_array(b1, "b1", ndim=1, shape_hint="(H,)")
    b2 = as_float_array(b2, "b2", ndim=1, shape_hint="(A,)")
    B, D = x.shape
    H, A = w1.shape[0], w2.shape[0]
    if w1.shape[1] != D or H == 0:
        raise ValueError(f"w1 must be (H, D) with H >= 1 and D={D} to match x; got {w1.shape}")
    if w2.shape[1] != H or b1.shape != (H,) or b2.shape != (A,):
        raise ValueError(f"expected b1 ({H},), w2 (A, {H}) and b2 (A,) for w1's H = {H}; got "
                         f"b1 {b1.shape}, w2 {w2.shape}, b2 {b2.shape}")
    h = np.tanh(x @ w1.T + b1)                        # (B, H)
    q = h @ w2.T + b2                                 # (B, A)
    # The cache keeps its own copies: changing x or the weights in place afterwards (an
    # optimiser step) cannot change what the backward computes.
    return q, QNetCache(x.copy(), h, w1.copy(), w2.copy())


def qnet_backward(dq, cache: QNetCache) -> tuple[np.ndarray, ...]:
    """Gradients (dx, dw1, db1, dw2, db2) of the forward's inputs, given dq: (B, A).

    NaN in dq propagates into every gradient it reaches, as in torch.
    """
    x, h, w1, w2 = check_cache(cache, QNetCache, "qnet_backward")
    dq = as_float_array(dq, "dq", ndim=2, shape_hint="(B, A)")
    if dq.shape != (x.shape[0], w2.shape[0]):
        raise ValueError(f"dq must have shape {(x.shape[0], w2.shape[0])}; got {dq.shape}")
    with np.errstate(over="ignore", invalid="ignore"):   # inf in dq: inf/NaN, as in torch
        dw2 = dq.T @ h                                # (A, H)
        db2 = dq.sum(axis=0)                          # (A,)
        dpre = (dq @ w2) * (1.0 - h * h)              # (B, H): tanh' = 1 - tanh^2
        dw1 = dpre.T @ x                              # (H, D)
        db1 = dpre.sum(axis=0)                        # (H,)
        dx = dpre @ w1                                # (B, D)
    return dx, dw1, db1, dw2, db2


def q_values(params: dict, x) -> np.ndarray:
    """q = Q(x, .; params): (B, A) for states x: (B, D)."""
    _check_params(params)
    return qnet_forward(x, *(params[k] for k in PARAM_NAMES))[0]


class TDCache(NamedTuple):
    error: np.ndarray    # (B,) q[b, a_b] - y_b
    actions: np.ndarray  # (B,) int
    n_actions: int


def td_loss_forward(q, actions, targets) -> tuple[float, TDCache]:
    """Half the mean squared TD error, L = 1/(2B) sum_b (y_b - q[b, a_b])^2.

    q: (B, A) online action values;  actions: (B,) int;  targets: (B,) the TD targets y,
    treated as constants (no gradient flows into them). NaN in q or targets gives a NaN loss
    (as ``torch.nn.functional.mse_loss``); B = 0 is refused.
    """
    q = as_float_array(q, "q", ndim=2, shape_hint="(B, A)")
    B, A = q.shape
    actions = as_int_array(actions, "actions", ndim=1)
    targets = as_float_array(targets, "targets", ndim=1)
    if actions.shape != (B,) or targets.shape != (B,):
        raise ValueError(f"actions and targets must be ({B},) to match q; got "
                         f"{actions.shape} and {targets.shape}")
    if B == 0 or A == 0:
        raise ValueError(f"q must hold at least one move and one action; got shape {q.shape}")
    if np.any((actions < 0) | (actions >= A)):
        raise ValueError(f"actions must lie in 0..{A - 1}; got {actions.min()}..{actions.max()}")
    with np.errstate(over="ignore", invalid="ignore"):   # huge errors: an inf loss, as torch
        error = q[np.arange(B), actions] - targets    # (B,)
        loss = 0.5 * float(np.mean(error * error))
    return loss, TDCache(error, actions.copy(), A)


def td_loss_backward(dloss: float, cache: TDCache) -> np.ndarray:
    """dL/dq: (B, A), zero except at the taken actions, where it is dloss * (q - y) / B."""
    error, actions, A = check_cache(cache, TDCache, "td_loss_backward")
    dloss = as_float(dloss, "dloss", finite=False)
    B = error.shape[0]
    dq = np.zeros((B, A), dtype=error.dtype)
    dq[np.arange(B), actions] = dloss * error / B
    return dq


def dqn_targets(q_next, rewards, done, gamma: float) -> np.ndarray:
    """TD targets y = r + gamma * (1 - done) * max_a' q_next[b, a']: (B,).

    q_next: (B, A) the *target* network's values at the next states;  rewards: (B,);
    done: (B,) bool, True where the next state is terminal (no bootstrap).
    """
    gamma = _check_gamma(gamma)
    q_next = as_float_array(q_next, "q_next", ndim=2, shape_hint="(B, A)")
    rewards = as_float_array(rewards, "rewards", ndim=1)
    done = np.asarray(done)
    if done.dtype != bool:
        raise TypeError(f"done must be a bool array; got dtype {done.dtype}")
    if rewards.shape != (q_next.shape[0],) or done.shape != rewards.shape:
        raise ValueError(f"rewards and done must be ({q_next.shape[0]},) to match q_next; "
                         f"got {rewards.shape} and {done.shape}")
    if q_next.shape[1] == 0:
        raise ValueError(f"q_next must hold at least one action; got shape {q_next.shape}")
    return rewards + gamma * np.where(done, 0.0, q_next.max(axis=1))


class Transitions(NamedTuple):
    """A batch of B moves (x, a, r, x', done) in feature form."""
    x: np.ndarray        # (B, D) features of s
    a: np.ndarray        # (B,) int actions
    r: np.ndarray        # (B,) rewards
    x_next: np.ndarray   # (B, D) features of s'
    done: np.ndarray     # (B,) bool, s' terminal


def semi_gradient(params: dict, target_params: dict, batch: Transitions,
                  gamma: float) -> tuple[float, dict]:
    """The semi-gradient Q-learning (DQN) loss and its gradient w.r.t. the online ``params``.

    y = dqn_targets(Q(x'; target_params), r, done, gamma) is computed first and held fixed;
    the loss is td_loss_forward(Q(x; params), a, y). Returns (loss, grads) with grads keyed
    like params. With target_params = params this is plain semi-gradient Q-learning: the
    gradient still ignores the dependence of y on params.
    """
    _check_params(params)
    _check_params(target_params)
    if not isinstance(batch, Transitions):
        raise TypeError(f"batch must be a Transitions; got {type(batch).__name__}")
    y = dqn_targets(q_values(target_params, batch.x_next), batch.r, batch.done, gamma)
    q, net_cache = qnet_forward(batch.x, *(params[k] for k in PARAM_NAMES))
    loss, td_cache = td_loss_forward(q, batch.a, y)
    _, *grads = qnet_backward(td_loss_backward(1.0, td_cache), net_cache)
    return loss, dict(zip(PARAM_NAMES, grads, strict=True))


class ReplayBuffer:
    """The last ``capacity`` moves, overwritten oldest first; ``sample`` draws with replacement.

    Holds features x, x': (capacity, D), actions, rewards and done flags: (capacity,).
    """

    def __init__(self, capacity: int, n_features: int):
        self.capacity = check_positive_int(capacity, "capacity")
        n_features = check_positive_int(n_features, "n_features")
        self.x = np.zeros((self.capacity, n_features))
        self.x_next = np.zeros((self.capacity, n_features))
        self.a = np.zeros(self.capacity, dtype=np.int64)
        self.r = np.zeros(self.capacity)
        self.done = np.zeros(self.capacity, dtype=bool)
        self.size = 0        # number of stored moves, at most capacity
        self.next = 0        # slot the next move is written to

    def __len__(self) -> int:
        return self.size

    def add(self, x, a: int, r: float, x_next, done: bool) -> None:
        """Store one move; x, x_next: (D,);  a: an int >= 0;  r: a finite number;  done: a bool."""
        D = self.x.shape[1]
        x = as_float_array(x, "x", ndim=1)
        x_next = as_float_array(x_next, "x_next", ndim=1)
        if x.shape != (D,) or x_next.shape != (D,):
            raise ValueError(f"x and x_next must be ({D},); got {x.shape} and {x_next.shape}")
        a = as_int(a, "a", minimum=0)
        r = as_float(r, "r")
        if not isinstance(done, (bool, np.bool_)):
            raise TypeError(f"done must be a bool; got {type(done).__name__} {done!r}")
        i = self.next
        self.x[i], self.a[i], self.r[i], self.x_next[i], self.done[i] = x, a, r, x_next, done
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Transitions:
        """A mini-batch of ``batch_size`` stored moves drawn uniformly with replacement."""
        batch_size = check_positive_int(batch_size, "batch_size")
        check_rng(rng)
        if self.size == 0:
            raise ValueError("the replay buffer is empty: add moves before sampling")
        idx = rng.integers(self.size, size=batch_size)
        return Transitions(self.x[idx], self.a[idx], self.r[idx], self.x_next[idx],
                           self.done[idx])


def grid_features(env: GridWorld) -> np.ndarray:
    """Features of every state of a grid world: one-hot row next to one-hot column, (S, H + W).

    Far fewer numbers than a table needs per action when the grid is large (H + W, not H W),
    so the network must share what it learns between cells in the same row or column.
    """
    if not isinstance(env, GridWorld):
        raise TypeError(f"env must be a GridWorld; got {type(env).__name__}")
    H, W = env.shape
    x = np.zeros((env.n_states, H + W))
    for s, (i, j) in enumerate(env.cells):
        x[s, i] = x[s, H + j] = 1.0
    return x


class DQNHistory(NamedTuple):
    losses: np.ndarray    # (E,) mean TD loss of each episode's updates (NaN before learning)
    lengths: np.ndarray   # (E,) moves per episode


def train_dqn(env: GridWorld, features, *, episodes: int, n_hidden: int, lr: float,
              gamma: float, epsilon: float, batch_size: int, buffer_size: int,
              target_every: int, rng: np.random.Generator, max_steps: int = 200,
              warmup: int | None = None) -> tuple[dict, DQNHistory]:
    """DQN on a grid world: an epsilon-greedy agent, a replay buffer, a target network, Adam.

    features: (S, D), the input row of each state (e.g. :func:`grid_features`). Each episode
    starts in a uniformly drawn non-terminal state (exploring starts, as ``rl.q_learning``)
    and runs to a terminal state or ``max_steps`` moves. After each move, once the buffer
    holds ``warmup`` moves (default: ``batch_size``), one Adam step of size ``lr`` follows the
    :func:`semi_gradient` of a sampled mini-batch; the target network is the online one as it
    was at the last multiple of ``target_every`` updates. Returns (params, history).
    """
    if not isinstance(env, GridWorld):
        raise TypeError(f"env must be a GridWorld; got {type(env).__name__}")
    features = as_float_array(features, "features", ndim=2, shape_hint="(S, D)")
    if features.shape[0] != env.n_states:
        raise ValueError(f"features must have one row per state ({env.n_states}); "
                         f"got shape {features.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError("features must be finite; they hold NaN or inf")
    episodes = check_positive_int(episodes, "episodes")
    batch_size = check_positive_int(batch_size, "batch_size")
    target_every = check_positive_int(target_every, "target_every")
    max_steps = check_positive_int(max_steps, "max_steps")
    warmup = batch_size if warmup is None else check_positive_int(warmup, "warmup")
    gamma = _check_gamma(gamma)
    try:
        epsilon = as_probability(epsilon, "epsilon")
    except TypeError:
        raise ValueError(f"epsilon must be a probability in [0, 1]; got {epsilon!r}") from None
    lr = as_float(lr, "lr", positive=True)
    check_rng(rng)
    params = init_qnet(features.shape[1], n_hidden, env.n_actions, rng)
    target = {k: v.copy() for k, v in params.items()}
    opt = Adam(params, lr=lr)
    buffer = ReplayBuffer(buffer_size, features.shape[1])
    starts = np.flatnonzero(~env.terminal)
    if starts.size == 0:
        raise ValueError("every state is terminal: there is nothing to learn")
    losses, lengths, updates = [], [], 0
    for _ in range(episodes):
        s = int(starts[rng.integers(starts.size)])
        episode_losses, t = [], 0
        while t < max_steps and not env.terminal[s]:
            if rng.random() < epsilon:
                a = int(rng.integers(env.n_actions))
            else:
                a = int(q_values(params, features[s:s + 1])[0].argmax())
            s_next, r, done = env.step(s, a, rng)
            buffer.add(features[s], a, r, features[s_next], done)
            s, t = s_next, t + 1
            if len(buffer) >= warmup:
                loss, grads = semi_gradient(params, target, buffer.sample(batch_size, rng), gamma)
                opt.step(grads)
                episode_losses.append(loss)
                updates += 1
                if updates % target_every == 0:
                    target = {k: v.copy() for k, v in params.items()}
        losses.append(np.mean(episode_losses) if episode_losses else np.nan)
        lengths.append(t)
    return params, DQNHistory(np.array(losses), np.array(lengths))


def _check_params(params) -> None:
    if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {list(PARAM_NAMES)}; got {got}")

