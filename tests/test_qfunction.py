"""dlnotes.qfunction: the MLP Q-function against torch.nn, the semi-gradient TD update against
torch autograd with the target detached, the replay buffer, DQN's greedy policy against value
iteration's, and bad input."""
import numpy as np
import pytest
import torch

from dlnotes.qfunction import (
    PARAM_NAMES,
    ReplayBuffer,
    Transitions,
    dqn_targets,
    grid_features,
    init_qnet,
    q_values,
    qnet_backward,
    qnet_forward,
    semi_gradient,
    td_loss_backward,
    td_loss_forward,
    train_dqn,
)
from dlnotes.rl import GridWorld, bellman_backup, value_iteration
from dlnotes.verify import check_loss, check_pair, check_values, to_numpy, to_torch

CHAPTER = ["......", ".#.#..", "S.....", "#TTTTG"]


def torch_qnet(params):
    """nn.Sequential(Linear, Tanh, Linear) in float64 holding a copy of params."""
    A, H = params["w2"].shape
    net = torch.nn.Sequential(torch.nn.Linear(params["w1"].shape[1], H), torch.nn.Tanh(),
                              torch.nn.Linear(H, A)).double()
    with torch.no_grad():
        for layer, (w, b) in ((net[0], ("w1", "b1")), (net[2], ("w2", "b2"))):
            layer.weight.copy_(to_torch(params[w]).cpu())
            layer.bias.copy_(to_torch(params[b]).cpu())
    return net


def random_batch(rng, B, D):
    return Transitions(rng.standard_normal((B, D)), rng.integers(0, 4, B), rng.standard_normal(B),
                       rng.standard_normal((B, D)), rng.random(B) < 0.3)


@pytest.mark.parametrize("B, D, H, A", [(1, 3, 5, 4), (7, 10, 16, 4), (4, 1, 1, 2)])
def test_qnet_forward_backward_match_torch(B, D, H, A):
    rng = np.random.default_rng(B + D)
    inputs = [rng.standard_normal((B, D)), rng.standard_normal((H, D)), rng.standard_normal(H),
              rng.standard_normal((A, H)), rng.standard_normal(A)]

    def ref(x, w1, b1, w2, b2):
        return torch.tanh(x @ w1.T + b1) @ w2.T + b2

    check_pair("qnet", qnet_forward, qnet_backward, ref, inputs, rng=rng)

    params = init_qnet(D, H, A, rng)
    net = torch_qnet(params)
    check_values("q_values vs nn.Sequential", q_values(params, inputs[0]),
                 net(torch.tensor(inputs[0])).detach())


def test_td_loss_matches_torch_mse_on_the_taken_actions():
    rng = np.random.default_rng(0)
    q, a, y = rng.standard_normal((9, 4)), rng.integers(0, 4, 9), rng.standard_normal(9)

    def ours(q, a, y):
        loss, cache = td_loss_forward(q, a, y)
        return loss, td_loss_backward(1.0, cache)

    def ref(q, a, y):
        return 0.5 * torch.nn.functional.mse_loss(q.gather(1, a[:, None])[:, 0], y)

    check_loss("TD loss", ours, ref, [q, a, y])


def test_dqn_targets_match_torch():
    rng = np.random.default_rng(1)
    q_next, r, done = rng.standard_normal((8, 4)), rng.standard_normal(8), rng.random(8) < 0.5
    t = to_torch(q_next).amax(dim=1).masked_fill(to_torch(done), 0.0)
    check_values("targets", dqn_targets(q_next, r, done, 0.9), to_torch(r) + 0.9 * t)


@pytest.mark.parametrize("separate_target", [False, True])
def test_semi_gradient_is_autograd_with_the_target_detached(separate_target):
    rng = np.random.default_rng(2)
    params = init_qnet(6, 8, 4, rng)
    target = init_qnet(6, 8, 4, rng) if separate_target else params
    batch = random_batch(rng, 11, 6)
    loss, grads = semi_gradient(params, target, batch, gamma=0.9)

    online, frozen = torch_qnet(params), torch_qnet(target)
    x, x_next = torch.tensor(batch.x), torch.tensor(batch.x_next)
    with torch.no_grad():
        y = torch.tensor(batch.r) + 0.9 * frozen(x_next).amax(dim=1) * ~torch.tensor(batch.done)
    q_sa = online(x).gather(1, torch.tensor(batch.a)[:, None])[:, 0]
    t_loss = 0.5 * torch.nn.functional.mse_loss(q_sa, y)
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    torch_grads = {"w1": online[0].weight.grad, "b1": online[0].bias.grad,
                   "w2": online[2].weight.grad, "b2": online[2].bias.grad}
    for k in PARAM_NAMES:
        np.testing.assert_allclose(grads[k], to_numpy(torch_grads[k]), rtol=1e-10, atol=1e-13)

    if not separate_target:
        # The full gradient (target not detached) differs: the check can tell them apart.
        net = torch_qnet(params)
        y_live = torch.tensor(batch.r) + 0.9 * net(x_next).amax(dim=1) * ~torch.tensor(batch.done)
        q_live = net(x).gather(1, torch.tensor(batch.a)[:, None])[:, 0]
        (0.5 * torch.nn.functional.mse_loss(q_live, y_live)).backward()
        assert np.abs(grads["w1"] - to_numpy(net[0].weight.grad)).max() > 1e-3


def test_replay_buffer_overwrites_the_oldest_and_samples_what_it_holds():
    buf = ReplayBuffer(capacity=3, n_features=2)
    for i in range(5):
        buf.add([i, -i], i % 4, float(i), [i + 1, 0], i == 4)
    assert len(buf) == 3
    assert sorted(buf.r.tolist()) == [2.0, 3.0, 4.0]
    batch = buf.sample(200, np.random.default_rng(0))
    assert batch.x.shape == (200, 2) and set(batch.r.tolist()) == {2.0, 3.0, 4.0}
    np.testing.assert_array_equal(batch.x[:, 0], batch.r)
    np.testing.assert_array_equal(batch.done, batch.r == 4.0)


def test_grid_features_are_one_hot_row_and_column():
    env = GridWorld(CHAPTER)
    x = grid_features(env)
    assert x.shape == (env.n_states, 4 + 6)
    np.testing.assert_array_equal(x.sum(axis=1), 2.0)
    i, j = env.cells[env.start]
    assert x[env.start, i] == 1 and x[env.start, 4 + j] == 1
    assert len({tuple(row) for row in x}) == env.n_states        # states stay distinguishable


@pytest.mark.parametrize("seed", [0, 1])
def test_dqn_greedy_policy_is_optimal_on_the_chapter_grid(seed):
    env, gamma = GridWorld(CHAPTER, step_reward=-0.04), 0.95
    v_star = value_iteration(env, gamma, tol=1e-12)
    q_star = bellman_backup(env, v_star, gamma)
    x = grid_features(env)
    params, history = train_dqn(env, x, episodes=300, n_hidden=32, lr=3e-3, gamma=gamma,
                                epsilon=0.3, batch_size=32, buffer_size=2000, target_every=50,
                                rng=np.random.default_rng(seed))
    q = q_values(params, x)
    greedy = q.argmax(axis=1)
    for s in np.flatnonzero(~env.terminal):
        assert q_star[s, greedy[s]] >= q_star[s].max() - 1e-9, f"state {env.cells[s]}"
    assert np.abs(q.max(axis=1) - v_star)[~env.terminal].max() < 0.05
    assert history.losses.shape == history.lengths.shape == (300,)


def test_bad_input_raises_clear_errors():
    rng = np.random.default_rng(0)
    params = init_qnet(3, 4, 2, rng)
    w = [params[k] for k in PARAM_NAMES]
    with pytest.raises(ValueError, match="w1 must be"):
        qnet_forward(np.zeros((2, 5)), *w)
    with pytest.raises(ValueError, match="x must have 2"):
        qnet_forward(np.zeros(3), *w)
    with pytest.raises(ValueError, match="actions must lie"):
        td_loss_forward(np.zeros((2, 2)), np.array([0, 2]), np.zeros(2))
    with pytest.raises(TypeError, match="integer"):
        td_loss_forward(np.zeros((2, 2)), np.array([0.0, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match="gamma"):
        dqn_targets(np.zeros((2, 2)), np.zeros(2), np.zeros(2, bool), 1.0)
    with pytest.raises(TypeError, match="done must be a bool"):
        dqn_targets(np.zeros((2, 2)), np.zeros(2), np.zeros(2), 0.5)
    with pytest.raises(ValueError, match="keys"):
        semi_gradient({"w1": w[0]}, params, random_batch(rng, 2, 3), 0.5)
    with pytest.raises(TypeError, match="Transitions"):
        semi_gradient(params, params, (1, 2, 3, 4, 5), 0.5)
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(4, 3).sample(2, rng)
    with pytest.raises(ValueError, match=r"x and x_next must be \(3,\)"):
        ReplayBuffer(4, 3).add(np.zeros(2), 0, 0.0, np.zeros(2), False)
    env = GridWorld(CHAPTER)
    with pytest.raises(ValueError, match="one row per state"):
        train_dqn(env, np.zeros((3, 2)), episodes=1, n_hidden=2, lr=0.1, gamma=0.9, epsilon=0.1,
                  batch_size=2, buffer_size=10, target_every=1, rng=rng)
    with pytest.raises(TypeError, match="positional"):
        train_dqn(env, grid_features(env), 1, 2, 0.1, 0.9, 0.1, 2, 10, 1, rng)


# --- issue 12: caches, aliasing, bad input ----------------------------------------------------

def _net(rng, B=4, D=3, H=5, A=2):
    x = rng.standard_normal((B, D))
    params = init_qnet(D, H, A, rng)
    return x, params


def test_backwards_refuse_each_others_caches(rng):
    x, p = _net(rng)
    q, net_cache = qnet_forward(x, *(p[k] for k in PARAM_NAMES))
    _, td_cache = td_loss_forward(q, np.array([0, 1, 0, 1]), np.zeros(4))
    with pytest.raises(TypeError, match="qnet_backward got a TDCache"):
        qnet_backward(np.ones_like(q), td_cache)
    with pytest.raises(TypeError, match="td_loss_backward got a QNetCache"):
        td_loss_backward(1.0, net_cache)


def test_in_place_changes_after_the_forward_do_not_change_the_backward(rng):
    # Old code kept the caller's x and w1 in the cache: an in-place optimiser step between
    # forward and backward silently changed the gradient.
    x, p = _net(rng)
    dq = rng.standard_normal((4, 2))
    q, cache = qnet_forward(x, *(p[k] for k in PARAM_NAMES))
    before = qnet_backward(dq, cache)
    x *= 2
    p["w1"] += 1
    p["w2"] -= 1
    q *= 3
    for a, b in zip(before, qnet_backward(dq, cache), strict=True):
        np.testing.assert_array_equal(a, b)


def test_replay_buffer_refuses_a_fractional_action():
    # Old code stored a = 1.5 as action 1 without a word.
    buf = ReplayBuffer(4, 2)
    with pytest.raises(TypeError, match="a must be an int"):
        buf.add(np.zeros(2), 1.5, 0.0, np.zeros(2), False)
    with pytest.raises(ValueError, match="r must be a finite"):
        buf.add(np.zeros(2), 1, np.nan, np.zeros(2), False)
    with pytest.raises(TypeError, match="done must be a bool"):
        buf.add(np.zeros(2), 1, 0.0, np.zeros(2), 1)
