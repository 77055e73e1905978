"""dlnotes.rl: the grid world's moves and model, value iteration against the Bellman optimality
equation and a hand-solved chain, Q-learning's greedy policy against value iteration's, the
TD targets and Bellman backup against torch, and bad input."""
import numpy as np
import pytest
import torch

from dlnotes.rl import (
    ACTIONS,
    GridWorld,
    Model,
    bellman_backup,
    greedy_policy,
    q_learning,
    td_targets,
    value_iteration,
)
from dlnotes.verify import check_values, to_torch

UP, DOWN, LEFT, RIGHT = range(4)
CLASSIC = ["...G", ".#.T", "S..."]
LARGER = ["......", ".#..#G", ".#.#.T", "S....."]


def unique_optimal_states(env, gamma, margin=1e-6):
    """Non-terminal states whose best action beats the second best by more than margin."""
    q_star = bellman_backup(env, value_iteration(env, gamma, tol=1e-12), gamma)
    top2 = np.sort(q_star, axis=1)[:, -2:]
    return q_star, (~env.terminal) & (top2[:, 1] - top2[:, 0] > margin)


def test_moves_walls_edges_and_rewards():
    env = GridWorld(CLASSIC, step_reward=-0.04)
    assert ACTIONS == ("up", "down", "left", "right")
    assert env.n_states == 11 and env.shape == (3, 4)
    s = env.start
    assert env.cells[s] == (2, 0)
    assert env.step(s, LEFT) == (s, -0.04, False)                       # off the grid: stay
    above = env.index[(1, 0)]
    assert env.step(above, RIGHT) == (above, -0.04, False)              # into the wall: stay
    assert env.step(above, UP) == (env.index[(0, 0)], -0.04, False)
    next_to_goal = env.index[(0, 2)]
    assert env.step(next_to_goal, RIGHT) == (env.index[(0, 3)], 1.0, True)
    assert env.step(env.index[(2, 3)], UP) == (env.index[(1, 3)], -1.0, True)
    goal = env.index[(0, 3)]
    assert env.step(goal, LEFT) == (goal, 0.0, True)                    # terminal is absorbing


def test_model_rows_are_distributions_and_match_sampled_slips():
    env = GridWorld(CLASSIC, slip=0.2)
    P, R, terminal = env.model()
    assert P.shape == (11, 4, 11) and R.shape == (11, 4)
    np.testing.assert_allclose(P.sum(axis=2), 1.0, rtol=0, atol=1e-15)
    s = env.index[(1, 2)]                    # up -> (0, 2); sideways: left is a wall, right is T
    assert P[s, UP, env.index[(0, 2)]] == pytest.approx(0.8)
    assert P[s, UP, s] == pytest.approx(0.1)
    assert P[s, UP, env.index[(1, 3)]] == pytest.approx(0.1)
    assert R[s, UP] == pytest.approx(0.8 * -0.04 + 0.1 * -0.04 + 0.1 * -1.0)
    assert np.all(R[terminal] == 0)
    assert np.all(P[terminal].argmax(axis=2) == np.flatnonzero(terminal)[:, None])
    rng = np.random.default_rng(0)
    draws = np.array([env.step(s, UP, rng)[0] for _ in range(20000)])
    freq = np.bincount(draws, minlength=env.n_states) / draws.size
    np.testing.assert_allclose(freq, P[s, UP], atol=0.015)


@pytest.mark.parametrize("layout, slip, gamma", [(CLASSIC, 0.0, 0.9), (CLASSIC, 0.2, 0.99),
                                                 (LARGER, 0.1, 0.95), (LARGER, 0.0, 0.0)])
def test_value_iteration_satisfies_the_bellman_optimality_equation(layout, slip, gamma):
    env = GridWorld(layout, slip=slip)
    tol = 1e-9
    v = value_iteration(env, gamma, tol=tol)
    P, R, terminal = env.model()
    residual = np.abs(v - (R + gamma * P @ v).max(axis=1))
    assert residual.max() < tol
    assert np.all(v[terminal] == 0)
    if gamma == 0:                            # no future: the best immediate reward
        np.testing.assert_allclose(v, R.max(axis=1), rtol=0, atol=0)


def test_value_iteration_on_a_chain_with_a_known_answer():
    # Corridor S . . G with step reward -1 and goal +10: from k steps away, V = sum of the
    # discounted step costs plus the discounted goal reward.
    env = GridWorld(["S..G"], step_reward=-1.0, goal_reward=10.0)
    g = 0.5
    v = value_iteration(env, g, tol=1e-13)
    expected = [-1 - g + g ** 2 * 10, -1 + g * 10, 10.0, 0.0]
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-12)
    assert greedy_policy(bellman_backup(env, v, g))[:3].tolist() == [RIGHT] * 3


@pytest.mark.parametrize("layout, gamma, seed", [(CLASSIC, 0.9, 0), (CLASSIC, 0.95, 1),
                                                 (LARGER, 0.9, 2), (LARGER, 0.95, 3)])
def test_q_learning_finds_the_optimal_greedy_policy(layout, gamma, seed):
    env = GridWorld(layout)
    q_star, unique = unique_optimal_states(env, gamma)
    assert unique.sum() >= 8
    q = q_learning(env, episodes=2000, alpha=0.5, gamma=gamma, epsilon=0.2,
                   rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(greedy_policy(q)[unique], greedy_policy(q_star)[unique])
    # in a deterministic world with exploring starts the greedy values converge to V*
    assert np.abs(q.max(axis=1) - q_star.max(axis=1))[~env.terminal].max() < 1e-3


def test_q_learning_is_reproducible_and_continues_from_q_init():
    env = GridWorld(CLASSIC, slip=0.1)
    kw = dict(episodes=50, alpha=0.3, gamma=0.9, epsilon=0.3)
    q1 = q_learning(env, **kw, rng=np.random.default_rng(7))
    q2 = q_learning(env, **kw, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(q1, q2)
    q3 = q_learning(env, **dict(kw, episodes=10), rng=np.random.default_rng(8), q_init=q1)
    assert not np.array_equal(q3, q1) and np.all(q3[env.terminal] == 0)


def test_q_learning_update_replayed_by_hand():
    # Replay one episode with the same seed and the same order of random draws (one for
    # exploration, one for the greedy tie-break), updating with td_targets: q_learning's inline
    # update must give the same table, entry by entry.
    env = GridWorld(["S.G"], step_reward=-0.1, goal_reward=1.0)
    q = q_learning(env, episodes=1, alpha=0.5, gamma=0.9, epsilon=0.0, rng=np.random.default_rng(0),
                   start=1)
    replay = np.zeros((3, 4))
    rng = np.random.default_rng(0)
    s = 1
    while not env.terminal[s]:
        best = np.flatnonzero(replay[s] == replay[s].max())
        rng.random()
        a = int(best[rng.integers(best.size)]) if best.size > 1 else int(best[0])
        s2, r, done = env.step(s, a)
        target = td_targets(replay, [r], [s2], [done], 0.9)[0]
        replay[s, a] += 0.5 * (target - replay[s, a])
        s = s2
    np.testing.assert_array_equal(q, replay)


def test_td_targets_and_bellman_backup_against_torch(rng):
    S, A, B, g = 7, 4, 13, 0.9
    q = rng.standard_normal((S, A))
    r = rng.standard_normal(B)
    s_next = rng.integers(0, S, size=B)
    done = rng.random(B) < 0.3
    ours = td_targets(q, r, s_next, done, g)
    q_t, r_t, s_t, d_t = to_torch(q), to_torch(r), to_torch(s_next), to_torch(done)
    theirs = r_t + g * (~d_t).double() * q_t[s_t].max(dim=1).values
    check_values("td_targets", ours, theirs)

    env = GridWorld(LARGER, slip=0.2)
    P, R, _ = env.model()
    v = rng.standard_normal(env.n_states)
    theirs = to_torch(R) + g * torch.einsum("sat,t->sa", to_torch(P), to_torch(v))
    check_values("bellman_backup", bellman_backup(env, v, g), theirs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(episodes=0), "episodes"), (dict(episodes=2.5), "episodes"),
    (dict(alpha=0.0), "alpha"), (dict(alpha=1.5), "alpha"),
    (dict(gamma=1.0), "gamma"), (dict(gamma=-0.1), "gamma"),
    (dict(epsilon=1.2), "epsilon"),
])
def test_q_learning_bad_arguments(kwargs, match):
    args = dict(episodes=10, alpha=0.5, gamma=0.9, epsilon=0.1, rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        q_learning(GridWorld(CLASSIC), **args)


def test_other_bad_input():
    env = GridWorld(CLASSIC, slip=0.2)
    for gamma in (1.0, 1.5, -0.5, float("nan")):
        with pytest.raises(ValueError, match="gamma"):
            value_iteration(env, gamma)
    with pytest.raises(ValueError, match="tol"):
        value_iteration(env, 0.9, tol=0.0)
    with pytest.raises(ValueError, match="rng"):
        env.step(0, UP)                                  # slippery world without an rng
    with pytest.raises(ValueError, match="out of range"):
        env.step(11, UP)
    with pytest.raises(TypeError):
        env.step(0, "up")
    for s, a in ((-1, UP), (11, UP), (0, 4), (0, -1)):
        with pytest.raises(ValueError, match="out of range"):
            env.outcomes(s, a)
    with pytest.raises(TypeError):
        env.outcomes(0.5, UP)
    with pytest.raises(ValueError, match="v must have shape"):
        bellman_backup(env, np.zeros(3), 0.9)
    with pytest.raises(TypeError):
        value_iteration("grid", 0.9)
    with pytest.raises(ValueError, match="equal length"):
        GridWorld(["..", "..."])
    with pytest.raises(ValueError, match="layout may only use"):
        GridWorld(["S.X"])
    with pytest.raises(ValueError, match="slip"):
        GridWorld(CLASSIC, slip=1.5)
    with pytest.raises(TypeError):
        GridWorld("S..G")
    with pytest.raises(ValueError, match="shape"):
        greedy_policy(np.zeros(4))
    assert isinstance(env.model(), Model)


# --- issue 12: bad and extreme input ---------------------------------------------------------

def test_q_learning_refuses_nan_in_q_init():
    # Old code ran, and the NaN sat in the returned table (and in every target reaching it).
    env = GridWorld(["S..G"])
    q0 = np.zeros((env.n_states, 4))
    q0[0, 0] = np.nan
    with pytest.raises(ValueError, match="q_init must be finite"):
        q_learning(env, episodes=3, alpha=0.5, gamma=0.9, epsilon=0.1,
                   rng=np.random.default_rng(0), q_init=q0)
    with pytest.raises(TypeError, match="q_init"):
        q_learning(env, episodes=3, alpha=0.5, gamma=0.9, epsilon=0.1,
                   rng=np.random.default_rng(0), q_init=np.zeros((4, 4), complex))


def test_td_targets_refuse_states_out_of_range():
    # Old code read q[-1] (the last state) for s_next = -1: a silently wrong target.
    q = np.arange(8.0).reshape(4, 2)
    r, done = np.zeros(2), np.array([False, False])
    with pytest.raises(ValueError, match=r"s_next must hold states of q, in 0..3"):
        td_targets(q, r, np.array([0, -1]), done, 0.5)
    with pytest.raises(TypeError, match="done must be a bool"):
        td_targets(q, r, np.array([0, 1]), np.array([0, 1]), 0.5)


def test_numpy_scalars_are_accepted_and_models_checked():
    env = GridWorld(CLASSIC, slip=0.2)
    v = value_iteration(env, np.float32(0.9), tol=np.float64(1e-8))
    assert v.shape == (env.n_states,)
    P, R, terminal = env.model()
    with pytest.raises(ValueError, match="probability distribution"):
        bellman_backup(Model(P * 2, R, terminal), v, 0.9)
    with pytest.raises(ValueError, match="env.R"):
        bellman_backup(Model(P, R[:, :2], terminal), v, 0.9)
    with pytest.raises(TypeError, match="rng"):
        env.step(0, UP, rng=0)
