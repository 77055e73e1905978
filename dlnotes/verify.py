"""The bridge to PyTorch: run a dlnotes function and its torch counterpart on the same data.

``import dlnotes`` stays NumPy-only. Two places import torch, and only when asked: this
module, which compares the from-scratch kernels with torch, and the subpackage
``dlnotes.torch_models``, the PyTorch models that some chapters train.
Comparisons run in float64 on the device chosen by :func:`device` (CUDA when available), with
the data made on the CPU by NumPy and moved there, so a notebook prints the same verdict on a
CPU-only machine and on a GPU runner. A failed comparison raises ``AssertionError``; a passed
one returns a :class:`Verdict`, whose one-line text is stable (it shows the tolerance that was
met, never the device or the exact round-off).

Typical use in a chapter::

    check_pair("dense", dense_forward, dense_backward, torch.nn.functional.linear,
               (x, w, b), rng=rng)
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import numpy as np
import torch

RTOL = 1e-10
ATOL = 1e-12
LINE_WIDTH = 85      # the longest verdict line printed on one line


def device() -> torch.device:
    """CUDA when a GPU is visible, else the CPU: the one place the choice is made."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_torch(a, requires_grad: bool = False) -> torch.Tensor:
    """A *copy* of a NumPy array (or number) as a tensor on :func:`device`.

    Floats become float64, integers int64, booleans stay bool. The copy matters: a tensor
    sharing memory with the array (what ``torch.from_numpy`` gives on the CPU, but not on a
    GPU) would let an in-place torch update change the caller's array on one machine only.
    """
    arr = np.asarray(a)
    if np.issubdtype(arr.dtype, np.floating):
        dtype = torch.float64
    elif np.issubdtype(arr.dtype, np.integer):
        dtype = torch.int64
    elif arr.dtype == bool:
        dtype = torch.bool
    else:
        raise TypeError(f"cannot send an array of dtype {arr.dtype} to torch")
    return torch.tensor(arr, dtype=dtype, device=device(), requires_grad=requires_grad)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor back on the CPU as a NumPy array (detached from autograd)."""
    return t.detach().cpu().numpy()


class Verdict(NamedTuple):
    """The outcome of a comparison; prints as one stable line."""
    name: str
    what: str          # e.g. "forward and backward"
    rtol: float
    atol: float
    against: str = "torch"   # what the values were compared with

    def __repr__(self) -> str:
        claim = f"{self.name}: {self.what} match {self.against}"
        tolerance = f"(float64, rtol={self.rtol:.0e}, atol={self.atol:.0e})"
        # Stored outputs stay readable on a narrow page: a long verdict wraps before the
        # tolerance instead of running past the column.
        if len(claim) + 1 + len(tolerance) > LINE_WIDTH:
            return f"{claim}\n    {tolerance}"
        return f"{claim} {tolerance}"

    __str__ = __repr__


def check_values(name: str, ours, theirs, rtol: float = RTOL, atol: float = ATOL,
                 against: str | None = None) -> Verdict:
    """Compare arrays elementwise: |ours - theirs| <= atol + rtol |theirs|.

    The verdict says "match torch" only when ``theirs`` is a torch tensor; for a NumPy
    reference it says "match the reference", unless ``against`` names it.
    """
    if against is None:
        against = "torch" if isinstance(theirs, torch.Tensor) else "the reference"
    _assert_close(name, "value", ours, theirs, rtol, atol, against)
    return Verdict(name, "values", rtol, atol, against)


def check_pair(name: str, forward: Callable, backward: Callable, reference: Callable,
               inputs: Sequence, rng: np.random.Generator,
               differentiable: Sequence[int] | None = None,
               rtol: float = RTOL, atol: float = ATOL) -> Verdict:
    """Check a forward/backward pair against a torch function and autograd.

    forward(*inputs) -> (out, cache) and backward(dout, cache) -> gradient(s) of the inputs
    listed in ``differentiable`` (default: every floating-point input), in that order.
    reference(*tensors) -> tensor computes the same ``out`` in torch. A random upstream
    gradient ``dout`` drawn from ``rng`` is pushed through both backward passes, so the
    check covers the whole Jacobian, not only its column sums.

    The dlnotes pair gets copies of the inputs and of ``dout``; torch gets the originals. A
    kernel that writes into an argument (its input, ``dout``) or into the ``out`` it returned
    fails the check instead of corrupting the caller's data.
    """
    arrays = [np.asarray(a) for a in inputs]
    if differentiable is None:
        differentiable = [i for i, a in enumerate(arrays) if np.issubdtype(a.dtype, np.floating)]
    ours_in = [a.copy() for a in arrays]
    out, cache = forward(*ours_in)
    _assert_unchanged(name, "forward", ours_in, arrays)
    out_seen = np.array(out, dtype=np.float64, copy=True)
    dout = rng.standard_normal(np.shape(out))
    dout_given = dout.copy()
    grads = backward(dout_given, cache)
    _assert_unchanged(name, "backward", [dout_given], [dout], what="dout")
    _assert_unchanged(name, "backward", [np.asarray(out, dtype=np.float64)], [out_seen],
                      what="the forward output")
    if len(differentiable) == 1 and not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(differentiable):
        raise AssertionError(f"{name}: backward returned {len(grads)} gradients, "
                             f"expected {len(differentiable)}")
    tensors = [to_torch(a, requires_grad=i in differentiable) for i, a in enumerate(arrays)]
    t_out = reference(*tensors)
    _assert_close(name, "forward output", out_seen, t_out, rtol, atol)
    (t_out * to_torch(dout)).sum().backward()
    for i, g in zip(differentiable, grads, strict=True):
        t_grad = tensors[i].grad
        if t_grad is None:
            raise AssertionError(f"{name}: torch gave no gradient for input {i}")
        _assert_close(name, f"gradient of input {i}", g, t_grad, rtol, atol)
    return Verdict(name, "forward and backward", rtol, atol)


def check_loss(name: str, loss_fn: Callable, reference: Callable, inputs: Sequence,
               rtol: float = RTOL, atol: float = ATOL) -> Verdict:
    """Check ``loss_fn(*inputs) -> (loss, grad)`` against a torch loss and autograd.

    ``grad`` must be the gradient with respect to ``inputs[0]``; ``reference(*tensors)``
    returns the scalar torch loss. ``loss_fn`` gets copies of the inputs, which must come
    back unchanged.
    """
    arrays = [np.asarray(a) for a in inputs]
    ours_in = [a.copy() for a in arrays]
    loss, grad = loss_fn(*ours_in)
    _assert_unchanged(name, "the loss", ours_in, arrays)
    tensors = [to_torch(a, requires_grad=(i == 0)) for i, a in enumerate(arrays)]
    t_loss = reference(*tensors)
    _assert_close(name, "loss", loss, t_loss, rtol, atol)
    t_loss.backward()
    _assert_close(name, "gradient", grad, tensors[0].grad, rtol, atol)
    return Verdict(name, "loss and gradient", rtol, atol)


def show_error(call: Callable[[], object], expected: type[BaseException]
               | tuple[type[BaseException], ...] = ValueError, match: str | None = None,
               label: str = "") -> None:
    """Run ``call()``, require that it raises ``expected``, and print the error's message.

    Prints ``"ValueError: <message>"`` (after ``"<label>: "`` if a label is given), wrapped
    at LINE_WIDTH characters onto indented lines, so a stored output fits the page. Raises
    ``AssertionError`` when the call returns normally or when ``match`` (a regular
    expression) is not found in the message;
    an exception of another type propagates unchanged. This is how a chapter demonstrates a
    clear error: if the error stopped being raised, the cell would fail rather than print
    nothing.
    """
    if not callable(call):
        raise TypeError(f"show_error needs a callable taking no arguments (a lambda); "
                        f"got {type(call).__name__}")
    try:
        result = call()
    except expected as e:
        message = str(e)
        if match is not None and not re.search(match, message):
            raise AssertionError(f"the {type(e).__name__} says {message!r}, "
                                 f"which does not match {match!r}") from e
        line = f"{label}: " * bool(label) + f"{type(e).__name__}: {message}"
        print(textwrap.fill(line, LINE_WIDTH, subsequent_indent="    ",
                            break_long_words=False, break_on_hyphens=False))
        return
    names = (expected.__name__ if isinstance(expected, type)
             else " or ".join(t.__name__ for t in expected))
    raise AssertionError(f"expected {names}, but the call returned {result!r:.80}")


_RECURRENT = {"rnn": ("RNN", "RNNCell"), "gru": ("GRU", "GRUCell"), "lstm": ("LSTM", "LSTMCell")}


def torch_recurrent(kind: str, cell: bool = False, **options) -> Callable:
    """A torch recurrent layer (or cell) that runs with the weights it is given.

    Returns ``reference(x, h0, [c0,] w_ih, w_hh, b_ih, b_hh)`` taking tensors, ``c0`` only for
    ``kind="lstm"``. ``kind="simple_gru"`` (a layer) is the notes' GRU without a reset gate
    (:func:`dlnotes.gated.simple_gru_forward`), run as ``torch.nn.GRU`` with the reset gate
    held open and the update gate flipped. Layer: x (T, N, D), h0 (N, H) -> the state after
    every step (T, N, H), as ``torch.nn.RNN``/``GRU``/``LSTM`` with one layer.
    ``cell=True``: x (N, D), h (N, H) -> h' (N, H); for the LSTM cell the output is
    ``cat([h', c'], dim=1)``, (N, 2H), so that a single tensor carries both states. Weights
    are substituted with ``torch.func.functional_call``, so autograd reaches them;
    ``options`` go to the torch module (e.g. ``nonlinearity="relu"``).
    """
    from torch.func import functional_call

    key = kind.lower()
    if key == "simple_gru" and not cell:
        return _simple_gru_as_gru(torch_recurrent("gru", **options))
    if key not in _RECURRENT:
        raise ValueError(f"kind must be one of {sorted(_RECURRENT)}; got {kind!r}")
    cls = getattr(torch.nn, _RECURRENT[key][cell])
    names = (["weight_ih", "weight_hh", "bias_ih", "bias_hh"] if cell else
             ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
    modules: dict = {}

    def reference(x: torch.Tensor, h0: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        if key == "lstm":
            if len(rest) != 5:
                raise TypeError("an LSTM reference takes x, h0, c0, w_ih, w_hh, b_ih, b_hh")
            c0, *weights = rest
            state = (h0, c0) if cell else (h0[None], c0[None])
        else:
            if len(rest) != 4:
                raise TypeError(f"a {key.upper()} reference takes x, h0, w_ih, w_hh, b_ih, b_hh")
            weights, state = list(rest), (h0 if cell else h0[None])
        D, H = x.shape[-1], h0.shape[-1]
        sig = (D, H, x.dtype, x.device)
        if sig not in modules:
            modules[sig] = cls(D, H, dtype=x.dtype, device=x.device, **options)
        params = dict(zip(names, weights, strict=True))
        if cell:
            out = functional_call(modules[sig], params, (x, state))
            return torch.cat(out, dim=1) if key == "lstm" else out
        # cuDNN would warn that the substituted weights are not one flat buffer.
        with torch.backends.cudnn.flags(enabled=False):
            out, _ = functional_call(modules[sig], params, (x, state))
        return out

    return reference


def _simple_gru_as_gru(gru: Callable) -> Callable:
    """The notes' GRU without a reset gate, as torch.nn.GRU with its reset gate held open.

    dlnotes.gated.simple_gru_forward stacks rows [u; c~]; torch's GRU stacks [r; z; n] and
    updates h' = (1 - z) n + z h. So r gets weights 0 and bias 40 (sigmoid(40) is 1 in
    float64), z = 1 - u gets the negated u rows (sigmoid(-a) = 1 - sigmoid(a)), n gets c~'s.
    """
    def reference(x, h0, w_ih, w_hh, b_ih, b_hh):
        H, D = h0.shape[-1], x.shape[-1]
        zeros = partial(torch.zeros, dtype=x.dtype, device=x.device)
        return gru(x, h0, torch.cat([zeros(H, D), -w_ih[:H], w_ih[H:]]),
                   torch.cat([zeros(H, H), -w_hh[:H], w_hh[H:]]),
                   torch.cat([zeros(H) + 40.0, -b_ih[:H], b_ih[H:]]),
                   torch.cat([zeros(H), -b_hh[:H], b_hh[H:]]))

    return reference


def _assert_unchanged(name: str, stage: str, given: Sequence[np.ndarray],
                      originals: Sequence[np.ndarray], what: str | None = None) -> None:
    """The arrays a dlnotes call received must still equal the caller's originals."""
    for i, (g, o) in enumerate(zip(given, originals, strict=True)):
        if g.shape != o.shape or not np.array_equal(g, o, equal_nan=g.dtype.kind in "fc"):
            label = what or f"input {i}"
            raise AssertionError(f"{name}: the {stage} changed {label} in place; a kernel "
                                 "must not write into the arrays it is given")


def _assert_close(name: str, what: str, ours, theirs, rtol: float, atol: float,
                  against: str = "torch") -> None:
    ours = np.asarray(ours, dtype=np.float64)
    theirs = to_numpy(theirs) if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    if theirs.dtype != np.float64:
        raise AssertionError(f"{name}: the {against} {what} is {theirs.dtype}, not float64; "
                             "compare in double precision")
    if ours.shape != theirs.shape:
        raise AssertionError(f"{name}: {what} has shape {ours.shape}, {against} gives "
                             f"{theirs.shape}")
    if not np.allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=False):
        diff = np.abs(ours - theirs)
        worst = tuple(int(i) for i in np.unravel_index(np.nanargmax(diff), diff.shape)) \
            if diff.ndim else ()
        raise AssertionError(f"{name}: {what} differs from {against}: max |diff| = "
                             f"{np.nanmax(diff):.3e} at index {worst} "
                             f"(ours {float(ours[worst]):.6g}, {against} "
                             f"{float(theirs[worst]):.6g}); "
                             f"allowed atol={atol:.0e} + rtol={rtol:.0e} * |{against}|")
