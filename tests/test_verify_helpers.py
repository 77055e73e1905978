"""The checker cannot be fooled by kernels that write into their arguments, and the helpers
``show_error`` and ``torch_recurrent`` do what they promise (each test plants the failure)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes import activations, gated, losses, rnn
from dlnotes.verify import (
    check_loss,
    check_pair,
    check_values,
    show_error,
    to_torch,
    torch_recurrent,
)

# --- planted in-place kernels ------------------------------------------------------------

def _inplace_relu_forward(z):
    np.maximum(z, 0, out=z)                      # overwrites the caller's array
    return z.copy(), activations.ActivationCache(z, z.copy())


def test_check_pair_catches_a_forward_that_overwrites_its_input(rng):
    z = rng.standard_normal(7)
    before = z.copy()
    with pytest.raises(AssertionError, match="forward changed input 0 in place"):
        check_pair("relu", _inplace_relu_forward, activations.relu_backward, torch.relu,
                   (z,), rng=rng)
    np.testing.assert_array_equal(z, before)     # and the caller's data is untouched


def test_the_same_inplace_relu_would_have_passed_without_the_copies(rng):
    # The hole that was closed: feeding the mutated array to torch afterwards agrees with
    # the kernel, so only the copy-and-compare step can catch it.
    z = rng.standard_normal(7)
    out, cache = _inplace_relu_forward(z)
    assert np.array_equal(out, torch.relu(torch.from_numpy(z)).numpy())


def test_check_pair_catches_a_backward_that_overwrites_dout(rng):
    def backward(dout, cache):
        dout *= cache.z > 0
        return dout
    with pytest.raises(AssertionError, match="backward changed dout in place"):
        check_pair("relu", activations.relu_forward, backward, torch.relu,
                   (rng.standard_normal(6),), rng=rng)


def test_check_pair_catches_a_backward_that_overwrites_the_returned_output(rng):
    def forward(z):
        out, cache = activations.tanh_forward(z)
        return cache.out, cache                  # hands out the array its cache keeps

    def backward(dout, cache):
        cache.out[...] = 0.0                     # ... and then scribbles on it
        return dout

    with pytest.raises(AssertionError, match="changed the forward output in place"):
        check_pair("tanh", forward, backward, torch.tanh, (rng.standard_normal(5),), rng=rng)


def test_check_loss_catches_a_loss_that_overwrites_its_logits(rng):
    def loss_fn(logits, y):
        logits -= logits.max(axis=1, keepdims=True)
        return losses.cross_entropy(logits, y)
    logits, y = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    with pytest.raises(AssertionError, match="changed input 0 in place"):
        check_loss("ce", loss_fn, F.cross_entropy, (logits, y))


def test_honest_kernels_still_pass(rng):
    z = rng.standard_normal((3, 4))
    before = z.copy()
    check_pair("relu", activations.relu_forward, activations.relu_backward, torch.relu,
               (z,), rng=rng)
    np.testing.assert_array_equal(z, before)


# --- check_values says what it compared with --------------------------------------------

def test_check_values_names_torch_only_for_tensors(rng):
    a = rng.standard_normal(3)
    assert "match torch" in str(check_values("x", a, to_torch(a)))
    numpy_verdict = str(check_values("x", a, a.copy()))
    assert "torch" not in numpy_verdict and "match the reference" in numpy_verdict
    assert "brute force" in str(check_values("x", a, a.copy(), against="the brute force"))
    with pytest.raises(AssertionError, match="differs from the reference"):
        check_values("x", a, a + 1.0)


# --- show_error --------------------------------------------------------------------------

def test_show_error_prints_the_message(capsys):
    show_error(lambda: activations.relu_forward("a string"), expected=(TypeError, ValueError))
    out = capsys.readouterr().out
    assert out.startswith(("TypeError: ", "ValueError: ")) and out.count("\n") == 1


def test_show_error_requires_the_error():
    with pytest.raises(AssertionError, match="expected ValueError, but the call returned"):
        show_error(lambda: 1 + 1)


def test_show_error_lets_another_exception_through():
    with pytest.raises(ZeroDivisionError):
        show_error(lambda: 1 / 0, expected=ValueError)


def test_show_error_checks_the_message_when_asked(capsys):
    show_error(lambda: int("x"), match="invalid literal")
    with pytest.raises(AssertionError, match="does not match"):
        show_error(lambda: int("x"), match="no such words")


def test_show_error_needs_a_callable():
    with pytest.raises(TypeError, match="needs a callable"):
        show_error(ValueError("not a call"))


# --- torch_recurrent ---------------------------------------------------------------------

def _weights(rng, gates, D, H):
    return (rng.standard_normal((gates * H, D)), rng.standard_normal((gates * H, H)),
            rng.standard_normal(gates * H), rng.standard_normal(gates * H))


@pytest.mark.parametrize("kind, gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_torch_recurrent_layer_matches_dlnotes(rng, kind, gates):
    T, N, D, H = 4, 2, 3, 5
    x, h0, c0 = (rng.standard_normal((T, N, D)), rng.standard_normal((N, H)),
                 rng.standard_normal((N, H)))
    w = _weights(rng, gates, D, H)
    ref = torch_recurrent(kind)
    if kind == "lstm":
        ours, _ = gated.lstm_forward(x, h0, c0, *w)
        theirs = ref(*map(to_torch, (x, h0, c0, *w)))
    else:
        fwd = rnn.rnn_forward if kind == "rnn" else gated.gru_forward
        ours, _ = fwd(x, h0, *w)
        theirs = ref(*map(to_torch, (x, h0, *w)))
    check_values(kind, ours, theirs)


def test_torch_recurrent_cell_and_options(rng):
    N, D, H = 3, 2, 4
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    w = _weights(rng, 4, D, H)
    h1, c1, _ = gated.lstm_cell_forward(x, h, c, *w)
    both = torch_recurrent("LSTM", cell=True)(*map(to_torch, (x, h, c, *w)))
    check_values("lstm cell", np.concatenate([h1, c1], axis=1), both)
    w1 = _weights(rng, 1, D, H)
    relu = torch_recurrent("rnn", cell=True, nonlinearity="relu")(*map(to_torch, (x, h, *w1)))
    expected = np.maximum(x @ w1[0].T + w1[2] + h @ w1[1].T + w1[3], 0)
    check_values("relu rnn cell", expected, relu)


def test_torch_recurrent_refuses_unknown_kinds_and_wrong_arity(rng):
    with pytest.raises(ValueError, match="kind must be one of"):
        torch_recurrent("transformer")
    x, h = torch.zeros(2, 1, 3, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match="LSTM reference takes"):
        torch_recurrent("lstm")(x, h, h)


def test_long_verdicts_wrap_before_the_tolerance(rng):
    a = rng.standard_normal(2)
    short = str(check_values("x", a, to_torch(a)))
    assert "\n" not in short and short.endswith("atol=1e-12)")
    long = str(check_values("a rather long name for a comparison of values", a, to_torch(a)))
    first, second = long.split("\n")
    assert first.endswith("match torch") and second == "    (float64, rtol=1e-10, atol=1e-12)"
    assert max(map(len, long.split("\n"))) <= 85


def test_show_error_wraps_a_long_message_under_its_label(capsys):
    long = "x must be " + "really " * 20 + "finite"
    show_error(lambda: (_ for _ in ()).throw(ValueError(long)), label="a long one")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("a long one: ValueError: x must be really")
    assert len(lines) > 1 and all(len(line) <= 85 for line in lines)
    assert all(line.startswith("    ") for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == f"a long one: ValueError: {long}"
