"""The bridge to PyTorch: run a dlnotes function and its torch counterpart on the same data.

This is the only dlnotes module that imports torch (``import dlnotes`` stays NumPy-only).
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

from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch

RTOL = 1e-10
ATOL = 1e-12


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
    """The outcome of a comparison with torch; prints as one stable line."""
    name: str
    what: str          # e.g. "forward and backward"
    rtol: float
    atol: float

    def __repr__(self) -> str:
        return (f"{self.name}: {self.what} match torch "
                f"(float64, rtol={self.rtol:.0e}, atol={self.atol:.0e})")

    __str__ = __repr__


def check_values(name: str, ours, theirs, rtol: float = RTOL, atol: float = ATOL) -> Verdict:
    """Compare arrays (or a tensor) elementwise: |ours - theirs| <= atol + rtol |theirs|."""
    _assert_close(name, "value", ours, theirs, rtol, atol)
    return Verdict(name, "values", rtol, atol)


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
    """
    arrays = [np.asarray(a) for a in inputs]
    if differentiable is None:
        differentiable = [i for i, a in enumerate(arrays) if np.issubdtype(a.dtype, np.floating)]
    out, cache = forward(*arrays)
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if len(differentiable) == 1 and not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(differentiable):
        raise AssertionError(f"{name}: backward returned {len(grads)} gradients, "
                             f"expected {len(differentiable)}")
    tensors = [to_torch(a, requires_grad=i in differentiable) for i, a in enumerate(arrays)]
    t_out = reference(*tensors)
    _assert_close(name, "forward output", out, t_out, rtol, atol)
    (t_out * to_torch(dout)).sum().backward()
    for i, g in zip(differentiable, grads):
        t_grad = tensors[i].grad
        if t_grad is None:
            raise AssertionError(f"{name}: torch gave no gradient for input {i}")
        _assert_close(name, f"gradient of input {i}", g, t_grad, rtol, atol)
    return Verdict(name, "forward and backward", rtol, atol)


def check_loss(name: str, loss_fn: Callable, reference: Callable, inputs: Sequence,
               rtol: float = RTOL, atol: float = ATOL) -> Verdict:
    """Check ``loss_fn(*inputs) -> (loss, grad)`` against a torch loss and autograd.

    ``grad`` must be the gradient with respect to ``inputs[0]``; ``reference(*tensors)``
    returns the scalar torch loss.
    """
    arrays = [np.asarray(a) for a in inputs]
    loss, grad = loss_fn(*arrays)
    tensors = [to_torch(a, requires_grad=(i == 0)) for i, a in enumerate(arrays)]
    t_loss = reference(*tensors)
    _assert_close(name, "loss", loss, t_loss, rtol, atol)
    t_loss.backward()
    _assert_close(name, "gradient", grad, tensors[0].grad, rtol, atol)
    return Verdict(name, "loss and gradient", rtol, atol)


def _assert_close(name: str, what: str, ours, theirs, rtol: float, atol: float) -> None:
    ours = np.asarray(ours, dtype=np.float64)
    theirs = to_numpy(theirs) if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    if theirs.dtype != np.float64:
        raise AssertionError(f"{name}: the torch {what} is {theirs.dtype}, not float64; "
                             "compare in double precision")
    if ours.shape != theirs.shape:
        raise AssertionError(f"{name}: {what} has shape {ours.shape}, torch gives {theirs.shape}")
    if not np.allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=False):
        diff = np.abs(ours - theirs)
        worst = np.unravel_index(np.nanargmax(diff), diff.shape) if diff.ndim else ()
        raise AssertionError(f"{name}: {what} differs from torch: max |diff| = "
                             f"{np.nanmax(diff):.3e} at index {worst} "
                             f"(ours {ours[worst]!r}, torch {theirs[worst]!r}); "
                             f"allowed atol={atol:.0e} + rtol={rtol:.0e} * |torch|")
