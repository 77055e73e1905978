"""Learning to act: a grid world, value iteration and tabular Q-learning.

Chapter: 06-beyond/04-learning-to-act. A finite Markov decision process has states s,
actions a, a transition model P(s' | s, a) and rewards. With discount gamma in [0, 1) the
optimal action values Q* and state values V* = max_a Q* solve the Bellman optimality equation

    Q*(s, a) = R(s, a) + gamma * sum_s' P(s' | s, a) * max_a' Q*(s', a'),

where R(s, a) is the expected reward of the move. Value iteration applies the right-hand side
as an update until it stops changing (it needs P); Q-learning (Watkins, 1989) samples moves
instead and nudges one entry at a time towards the TD target r + gamma * max_a' Q(s', a').

Usage::

    env = GridWorld(["...G", ".#.T", "S..."], step_reward=-0.04)
    v = value_iteration(env, gamma=0.9, tol=1e-10)
    q = q_learning(env, episodes=2000, alpha=0.5, gamma=0.9, epsilon=0.2, rng=rng)
    greedy_policy(q), greedy_policy(bellman_backup(env, v, 0.9))

Reference: Sutton and Barto, Reinforcement Learning: An Introduction (2nd ed., 2018), ch. 3-6.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_float, as_float_array, check_positive_int, check_rng, sum_tolerance

__all__ = ["Model", "GridWorld", "bellman_backup", "value_iteration", "greedy_policy",
           "td_targets", "q_learning"]

ACTIONS = ("up", "down", "left", "right")
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))          # (d_row, d_col) of each action
PERPENDICULAR = ((2, 3), (2, 3), (0, 1), (0, 1))     # the two sideways slips of each action
CELLS = {".": "free", "S": "start", "G": "goal", "T": "trap", "#": "wall"}


class Model(NamedTuple):
    """The tabular model of an MDP, with S states and A actions.

    P: (S, A, S) transition probabilities P[s, a, s'], each row sums to 1;
    R: (S, A) expected reward of taking a in s;
    terminal: (S,) bool, terminal states are absorbing with reward 0.
    """
    P: np.ndarray
    R: np.ndarray
    terminal: np.ndarray


class GridWorld:
    """A rectangular grid of cells; the agent moves up, down, left or right.

    layout: list of equal-length strings, one per row: ``.`` free, ``S`` start (free),
    ``G`` goal and ``T`` trap (both terminal), ``#`` wall. States are the non-wall cells,
    numbered row by row. A move into a wall or off the grid leaves the agent where it is.
    The reward is that of the cell entered: ``goal_reward``, ``trap_reward`` or, for any other
    cell (including staying put), ``step_reward``. With ``slip`` = p > 0 the intended move
    happens with probability 1 - p and each of the two sideways moves with probability p / 2
    (p = 0.2 is the classic 0.8 / 0.1 / 0.1 world).
    """

    def __init__(self, layout, step_reward: float = -0.04, goal_reward: float = 1.0,
                 trap_reward: float = -1.0, slip: float = 0.0):
        if isinstance(layout, str) or not isinstance(layout, (list, tuple)) or not layout:
            raise TypeError("layout must be a non-empty list of strings (one per row)")
        if not all(isinstance(row, str) for row in layout):
            raise TypeError("layout must hold strings, one per grid row")
        widths = {len(row) for row in layout}
        if len(widths) != 1 or 0 in widths:
            raise ValueError("layout rows must be non-empty and of equal length; "
                             f"got {sorted(widths)}")
        bad = sorted({c for row in layout for c in row} - set(CELLS))
        if bad:
            raise ValueError(f"layout may only use {''.join(CELLS)}; found {bad}")
        for name, value in (("step_reward", step_reward), ("goal_reward", goal_reward),
                            ("trap_reward", trap_reward)):
            as_float(value, name)
        as_float(slip, "slip")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip must be a probability in [0, 1]; got {slip!r}")
        self.layout = tuple(layout)
        self.shape = (len(layout), len(layout[0]))                    # (H, W)
        self.cells = [(i, j) for i, row in enumerate(layout) for j, c in enumerate(row) if c != "#"]
        if not self.cells:
            raise ValueError("layout has no free cell")
        self.index = {cell: s for s, cell in enumerate(self.cells)}
        kinds = [layout[i][j] for i, j in self.cells]
        self.terminal = np.array([k in "GT" for k in kinds])          # (S,)
        starts = [s for s, k in enumerate(kinds) if k == "S"]
        if len(starts) > 1:
            raise ValueError(f"layout has {len(starts)} start cells; at most one is allowed")
        self.start = starts[0] if starts else None
        self.rewards = np.array([goal_reward if k == "G" else trap_reward if k == "T"
                                 else step_reward for k in kinds], dtype=np.float64)  # (S,)
        self.slip = float(slip)
        self.n_states, self.n_actions = len(self.cells), len(ACTIONS)

    def _check_state_action(self, s, a, names=("s", "a")) -> tuple[int, int]:
        checked = []
        for value, name, size in ((s, names[0], self.n_states), (a, names[1], self.n_actions)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int index; got {type(value).__name__}")
            if not 0 <= value < size:
                raise ValueError(f"{name}={value} is out of range 0..{size - 1}")
            checked.append(int(value))
        return checked[0], checked[1]

    def _move(self, s: int, a: int) -> int:
        i, j = self.cells[s]
        di, dj = MOVES[a]
        return self.index.get((i + di, j + dj), s)    # walls and edges are not in the index

    def outcomes(self, s: int, a: int) -> list[tuple[float, int]]:
        """The model of one move: a list of (probability, next state); terminal s stays put."""
        s, a = self._check_state_action(s, a)
        if self.terminal[s]:
            return [(1.0, s)]
        result = [(1.0 - self.slip, self._move(s, a))]
        if self.slip > 0:
            result += [(self.slip / 2, self._move(s, b)) for b in PERPENDICULAR[a]]
        return result

    def step(
        self, s: int, a: int, rng: np.random.Generator | None = None
    ) -> tuple[int, float, bool]:
        """Take action a in state s: returns (s', r, done). A terminal s gives (s, 0.0, True).

        rng draws the slips; it is needed only when ``slip`` > 0.
        """
        s, a = self._check_state_action(s, a)
        if self.terminal[s]:
            return s, 0.0, True
        if self.slip > 0:
            if rng is None:
                raise ValueError("a slippery world (slip > 0) needs an rng to draw the slips")
            check_rng(rng)
            u = rng.random()
            if u >= 1.0 - self.slip:
                a = PERPENDICULAR[a][0 if u < 1.0 - self.slip / 2 else 1]
        s_next = self._move(s, a)
        return s_next, float(self.rewards[s_next]), bool(self.terminal[s_next])

    def model(self) -> Model:
        """The full tabular model (P, R, terminal) that value iteration needs."""
        S, A = self.n_states, self.n_actions
        P = np.zeros((S, A, S))
        for s in range(S):
            for a in range(A):
                for p, s_next in self.outcomes(s, a):
                    P[s, a, s_next] += p
        R = P @ self.rewards                           # (S, A): expected reward of entering
        R[self.terminal] = 0.0
        return Model(P, R, self.terminal.copy())

    def to_grid(self, values) -> np.ndarray:
        """Per-state values (S,) laid out on the grid: (H, W), NaN on walls (for heat maps)."""
        values = as_float_array(values, "values")
        if values.shape != (self.n_states,):
            raise ValueError(f"values must have shape ({self.n_states},); got {values.shape}")
        grid = np.full(self.shape, np.nan)
        for s, (i, j) in enumerate(self.cells):
            grid[i, j] = values[s]
        return grid


def _check_gamma(gamma) -> float:
    gamma = as_float(gamma, "gamma")
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma (the discount) must lie in [0, 1); got {gamma!r}")
    return gamma


def _as_model(env) -> Model:
    if isinstance(env, GridWorld):
        return env.model()
    if not isinstance(env, Model):
        raise TypeError(f"env must be a GridWorld or a Model; got {type(env).__name__}")
    P = as_float_array(env.P, "env.P", ndim=3, shape_hint="(S, A, S)")
    S, A = P.shape[:2]
    if S == 0 or A == 0 or P.shape[2] != S:
        raise ValueError(f"env.P must be (S, A, S) with S, A >= 1; got {P.shape}")
    R = as_float_array(env.R, "env.R", ndim=2, shape_hint="(S, A)")
    terminal = np.asarray(env.terminal)
    if R.shape != (S, A) or terminal.shape != (S,) or terminal.dtype != bool:
        raise ValueError(f"env.R must be (S, A) = {(S, A)} and env.terminal a bool (S,) "
                         f"array; got {R.shape} and {terminal.dtype} {terminal.shape}")
    if not (np.all(np.isfinite(P)) and np.all(np.isfinite(R))):
        raise ValueError("env.P and env.R must be finite")
    if np.any(P < 0) or np.max(np.abs(P.sum(axis=2) - 1)) > sum_tolerance(P.dtype, S):
        raise ValueError("env.P[s, a] must be a probability distribution over s' for every "
                         "(s, a)")
    return Model(P, R, terminal)


def bellman_backup(env, v, gamma: float) -> np.ndarray:
    """One Bellman backup of state values: q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] v[s'].

    env: GridWorld or Model with S states; v: (S,), finite (NaN and inf are refused).
    Returns q: (S, A).
    """
    model = _as_model(env)
    gamma = _check_gamma(gamma)
    S = model.P.shape[0]
    v = as_float_array(v, "v")
    if v.shape != (S,):
        raise ValueError(f"v must have shape ({S},) to match the model; got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("v must be finite; it holds NaN or inf")
    return model.R + gamma * model.P @ v              # (S, A)


def value_iteration(env, gamma: float, tol: float = 1e-10, max_iter: int = 100_000) -> np.ndarray:
    """Optimal state values V*: (S,), by iterating v <- max_a bellman_backup(v).

    Stops at the first update that moves no value by ``tol`` or more and returns that update,
    so the result satisfies the Bellman optimality equation to within gamma * tol < tol.
    """
    model = _as_model(env)
    gamma = _check_gamma(gamma)
    tol = as_float(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol must be > 0; got {tol!r}")
    max_iter = check_positive_int(max_iter, "max_iter")
    v = np.zeros(model.P.shape[0])
    for _ in range(max_iter):
        v_new = bellman_backup(model, v, gamma).max(axis=1)
        if np.max(np.abs(v_new - v)) < tol:
            return v_new
        v = v_new
    raise RuntimeError(f"value iteration did not reach tol={tol} in {max_iter} sweeps")


def greedy_policy(q) -> np.ndarray:
    """The greedy action of each state, argmax_a q[s, a] (lowest index on ties): (S,) int.

    A NaN in a row wins that row's argmax (its first NaN), as ``torch.argmax`` does.
    """
    q = as_float_array(q, "q")
    if q.ndim != 2 or q.shape[1] == 0:
        raise ValueError(f"q must be an (S, A) table with A >= 1 actions; got shape {q.shape}")
    return q.argmax(axis=1)


def td_targets(q, r, s_next, done, gamma: float) -> np.ndarray:
    """Q-learning's targets for a batch of B moves: r + gamma * (1 - done) * max_a' q[s', a'].

    q: (S, A); r: (B,) rewards; s_next: (B,) int next states; done: (B,) bool. Returns (B,).
    """
    gamma = _check_gamma(gamma)
    q = as_float_array(q, "q")
    r = as_float_array(r, "r")
    s_next, done = np.asarray(s_next), np.asarray(done)
    if not np.issubdtype(s_next.dtype, np.integer):
        raise TypeError(f"s_next must hold int state indices; got dtype {s_next.dtype}")
    if done.dtype != bool:
        raise TypeError(f"done must be a bool array; got dtype {done.dtype}")
    if q.ndim != 2 or q.shape[1] == 0 or r.ndim != 1 or s_next.shape != r.shape \
            or done.shape != r.shape:
        raise ValueError(f"expected q (S, A) and r, s_next, done all (B,); got {q.shape}, "
                         f"{r.shape}, {s_next.shape}, {done.shape}")
    if q.shape[0] == 0:
        raise ValueError(f"q must hold at least one state; got shape {q.shape}")
    if s_next.size and np.any((s_next < 0) | (s_next >= q.shape[0])):
        raise ValueError(f"s_next must hold states of q, in 0..{q.shape[0] - 1} (q has "
                         f"{q.shape[0]} rows); got {s_next.min()}..{s_next.max()}")
    return r + gamma * np.where(done, 0.0, q[s_next].max(axis=1))


def q_learning(env: GridWorld, *, episodes: int, alpha: float, gamma: float, epsilon: float,
               rng: np.random.Generator, max_steps: int = 200, start: int | None = None,
               q_init=None) -> np.ndarray:
    """Tabular Q-learning with an epsilon-greedy behaviour policy: returns q, (S, A).

    Each episode starts in ``start`` or, if None, in a uniformly drawn non-terminal state
    (exploring starts), and runs until a terminal state or ``max_steps`` moves. After each move
    (s, a, r, s') the entry q[s, a] moves a fraction alpha towards the TD target
    r + gamma * max_a' q[s', a'] (just r when s' is terminal). Greedy ties are broken at random.
    ``q_init`` (S, A) continues from an earlier table (default: zeros; it is copied, and NaN or
    inf in it is refused with a ValueError).
    """
    if not isinstance(env, GridWorld):
        raise TypeError(f"env must be a GridWorld; got {type(env).__name__}")
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1; got {episodes!r}")
    alpha = as_float(alpha, "alpha")
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha (the step size) must lie in (0, 1]; got {alpha!r}")
    gamma = _check_gamma(gamma)
    epsilon = as_float(epsilon, "epsilon")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be a probability in [0, 1]; got {epsilon!r}")
    check_rng(rng)
    max_steps = check_positive_int(max_steps, "max_steps")
    S, A = env.n_states, env.n_actions
    if q_init is None:
        q = np.zeros((S, A))
    else:
        q = as_float_array(q_init, "q_init").astype(np.float64)   # a copy: q_init is kept
        if q.shape != (S, A):
            raise ValueError(f"q_init must have shape ({S}, {A}); got {q.shape}")
        if not np.all(np.isfinite(q)):
            raise ValueError("q_init must be finite; it holds NaN or inf (a NaN entry would "
                             "spread through every TD target that reaches it)")
    starts = np.flatnonzero(~env.terminal)
    if start is not None:
        start, _ = env._check_state_action(start, 0, names=("start", "a"))
    elif starts.size == 0:
        raise ValueError("every state is terminal: there is nothing to learn")
    for _ in range(int(episodes)):
        s = int(start) if start is not None else int(starts[rng.integers(starts.size)])
        for _ in range(max_steps):
            if env.terminal[s]:
                break
            if rng.random() < epsilon:
                a = int(rng.integers(A))
            else:
                best = np.flatnonzero(q[s] == q[s].max())
                a = int(best[rng.integers(best.size)]) if best.size > 1 else int(best[0])
            s_next, r, done = env.step(s, a, rng)
            target = r if done else r + gamma * q[s_next].max()
            q[s, a] += alpha * (target - q[s, a])
            s = s_next
    return q
