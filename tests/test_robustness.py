"""The robustness suite: every public callable of dlnotes under bad, extreme and mixed-up input.

What is swept. Every module named in ``dlnotes.__all__`` and every name in its ``__all__``
that is callable: functions, classes, and the public methods of public classes that are not
NamedTuples (``dlnotes.optim.SGD.step``, ``dlnotes.ngram.NGramModel.prob``: a method takes
arrays as a function does; a NamedTuple's methods are tuple machinery). Inherited methods
count once per class that exposes them. Left out as a whole: ``dlnotes.verify`` and
``dlnotes.symbolic`` (the checking helpers, which compare rather than compute) and
``dlnotes.torch_models`` (torch modules, whose inputs torch itself checks) and
``dlnotes.exercises`` (self-checks that take a learner's function, not arrays; the
tests/test_exercises*.py files attack them with mutants); none of them is in ``dlnotes.__all__``.

The cases live in ``tests/robustness/cases_*.py`` (each defines ``CASES`` and ``EXCLUDED``);
``tests/robustness/spec.py`` says what a case means. The tests:

* ``test_coverage``: each public callable is the ``func`` of a case or a key of ``EXCLUDED``
  (a class key also covers its methods), and every case and exclusion names a real callable.
* ``test_valid_input``: on the case's own input (hypothesis draws the seeds of ``make``),
  the call succeeds and equals the reference where one is given.
* ``test_mutations``: each array argument of each case, mutated by each of
  ``spec.MUTATIONS``, must end as spec.py's docstring says (rules in ``judge`` below).
* ``test_cache_mixing``: every backward (``..._backward`` with a ``cache`` argument), given
  the cache of every other forward (any other cache type), raises a ``TypeError`` or
  ``ValueError`` that names the backward or says "cache".
* ``test_aliasing``: mutating in place every array a forward returns (not the cache) leaves
  its backward's result unchanged.

Forwards and backwards are found by introspection: the valid call of every case runs once
under ``sys.setprofile``, which records the arguments and results of the dlnotes functions
it reaches; a forward is a function whose result holds a ``...Cache`` NamedTuple, a backward
is a public function named ``..._backward`` with a ``cache`` parameter.

``summary()`` returns the coverage counts; ``sweep()`` returns every failing (case,
argument, mutation) for reports (``tests/robustness/spec.py`` has the rules).
"""
from __future__ import annotations

import copy
import importlib
import inspect
import re
import signal
import sys
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: F401  (the cases compute torch references; marks this module "torch")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlnotes

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from robustness.spec import MUTATIONS, Case  # noqa: E402

LEFT_OUT = ("dlnotes.verify", "dlnotes.symbolic", "dlnotes.torch_models", "dlnotes.exercises")
VALUE_PRESERVING = ("list", "int", "bool", "float32", "object")
SHAPE_MUTATIONS = ("transposed", "extra_axis", "missing_axis", "empty")
CALL_TIMEOUT_S = 10.0
FLOAT32_RTOL, FLOAT32_ATOL = 2e-4, 2e-5


# --- the cases ---------------------------------------------------------------------------------

@cache
def load() -> tuple[dict[str, Case], dict[str, str], dict[str, str]]:
    """(case id -> Case, EXCLUDED merged, case file -> import error) of every case file."""
    cases: dict[str, Case] = {}
    excluded: dict[str, str] = {}
    errors: dict[str, str] = {}
    for path in sorted((HERE / "robustness").glob("cases_*.py")):
        try:
            module = importlib.import_module(f"robustness.{path.stem}")
        except Exception as error:  # noqa: BLE001  (reported by test_case_files_import)
            errors[path.stem] = f"{type(error).__name__}: {error}"
            continue
        for case in module.CASES:
            key, k = case.func, 1
            while key in cases:
                k += 1
                key = f"{case.func}#{k}"
            cases[key] = case
        excluded.update(module.EXCLUDED)
    return cases, excluded, errors


def resolve(dotted: str):
    """The object at a dotted path "dlnotes.module.name[.method]"."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def public_callables() -> list[str]:
    """Dotted names of every public callable of the swept modules (see the docstring)."""
    names = []
    for module_name in dlnotes.__all__:
        dotted = f"dlnotes.{module_name}"
        if dotted.startswith(LEFT_OUT):
            continue
        module = importlib.import_module(dotted)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not callable(obj):
                continue
            names.append(f"{dotted}.{name}")
            if inspect.isclass(obj) and not issubclass(obj, tuple):
                for attr in dir(obj):
                    if attr.startswith("_"):
                        continue
                    member = inspect.getattr_static(obj, attr)
                    func = getattr(member, "__func__", member)
                    if inspect.isfunction(func) and func.__module__.startswith("dlnotes"):
                        names.append(f"{dotted}.{name}.{attr}")
    return names


def summary() -> dict[str, int]:
    """Counts for the report: public callables, covered by a case, excluded, missing; cases."""
    cases, excluded, _ = load()
    funcs = {case.func for case in cases.values()}
    covered = excluded_n = missing = 0
    for name in public_callables():
        if name in funcs:
            covered += 1
        elif name in excluded or name.rsplit(".", 1)[0] in excluded:
            excluded_n += 1
        else:
            missing += 1
    return {"public": covered + excluded_n + missing, "covered": covered,
            "excluded": excluded_n, "missing": missing, "cases": len(cases)}


# --- calling ---------------------------------------------------------------------------------

class CallTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CallTimeout(f"no answer within {CALL_TIMEOUT_S} s")


def run(case: Case, kw: dict):
    """Call the case on a copy of kw, warnings ignored (results are judged), with a time limit."""
    kw = copy.deepcopy(kw)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT_S)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = case.call(kw) if case.call is not None else resolve(case.func)(**kw)
            return case.output(result)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def expected(case: Case, kw: dict):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return case.reference(copy.deepcopy(kw))


# --- comparing -------------------------------------------------------------------------------

def _numeric(x) -> np.ndarray | None:
    if isinstance(x, (str, bytes)):
        return None
    if isinstance(x, (np.ndarray, np.generic, int, float, complex, bool)):
        a = np.asarray(x)
        return a if a.dtype.kind in "biufc" else None
    return None


def leaves(x):
    """The numeric arrays inside a result (tuples, lists, dicts, NamedTuples)."""
    a = _numeric(x)
    if a is not None:
        yield a
    elif isinstance(x, dict):
        for v in x.values():
            yield from leaves(v)
    elif isinstance(x, (list, tuple)):
        arr = None
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError):
            pass
        if arr is not None and arr.dtype.kind in "biufc":
            yield arr
        else:
            for v in x:
                yield from leaves(v)


def mismatch(ours, theirs, rtol: float, atol: float, where: str = "result") -> str | None:
    """None if ours equals theirs (NaN equal to NaN), else a short description."""
    if isinstance(theirs, dict) or isinstance(ours, dict):
        if not (isinstance(ours, dict) and isinstance(theirs, dict)) or set(ours) != set(theirs):
            return f"{where}: keys differ"
        for k in theirs:
            bad = mismatch(ours[k], theirs[k], rtol, atol, f"{where}[{k!r}]")
            if bad:
                return bad
        return None
    a, b = _numeric(ours), _numeric(theirs)
    if a is None or b is None:
        seqs = isinstance(ours, (list, tuple, np.ndarray)) and \
            isinstance(theirs, (list, tuple, np.ndarray))
        if seqs:
            try:
                a2, b2 = np.asarray(ours), np.asarray(theirs)
            except (ValueError, TypeError):
                a2 = b2 = None
            if a2 is not None and a2.dtype.kind in "biufc" and b2.dtype.kind in "biufc":
                return mismatch(a2, b2, rtol, atol, where)
            if len(ours) != len(theirs):
                return f"{where}: length {len(ours)} != {len(theirs)}"
            for i, (u, v) in enumerate(zip(ours, theirs, strict=True)):
                bad = mismatch(u, v, rtol, atol, f"{where}[{i}]")
                if bad:
                    return bad
            return None
        try:
            same = bool(ours == theirs)
        except Exception:  # noqa: BLE001
            same = False
        return None if same else f"{where}: {ours!r:.60} != {theirs!r:.60}"
    if a.shape != b.shape:
        return f"{where}: shape {a.shape} != {b.shape}"
    if a.size == 0:
        return None
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        a, b = a.astype(complex), b.astype(complex)
    else:
        a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        ok = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    if ok.all():
        return None
    i = np.flatnonzero(~ok.ravel())[0]
    return f"{where}: {a.ravel()[i]!r} != {b.ravel()[i]!r} at flat index {i} ({(~ok).sum()} differ)"


def has_nan(result) -> bool:
    return any(a.dtype.kind in "fc" and np.isnan(a).any() for a in leaves(result))


def all_finite(result) -> bool:
    return all(a.dtype.kind not in "fc" or np.isfinite(a).all() for a in leaves(result))


# --- mutations -------------------------------------------------------------------------------

class NotApplicable(Exception):
    pass


def mutate(value, mutation: str):
    """The mutated copy of one array argument (spec.MUTATIONS)."""
    a = np.array(value)                      # a copy
    if mutation == "transposed":
        if a.ndim < 2:
            raise NotApplicable("fewer than two axes")
        return a.T
    if mutation == "extra_axis":
        return a[np.newaxis]
    if mutation == "missing_axis":
        if a.ndim == 0:
            raise NotApplicable("a scalar has no axis to drop")
        return a[0, ...].copy()
    if mutation == "empty":
        if a.ndim == 0 or a.size == 0:
            raise NotApplicable("a scalar or already empty")
        return a[:0].copy()
    if mutation == "list":
        return a.tolist()
    if mutation == "int":
        if a.dtype.kind in "iu":
            raise NotApplicable("already integers")
        return np.round(a.real).astype(np.int64) if a.dtype.kind in "fc" else a.astype(np.int64)
    if mutation == "bool":
        if a.dtype.kind == "b":
            raise NotApplicable("already bools")
        return a > 0
    if mutation == "float32":
        if a.dtype == np.float32:
            raise NotApplicable("already float32")
        return a.astype(np.float32)
    if mutation == "complex":
        return a.astype(np.complex128) + 1j
    if mutation == "object":
        return a.astype(object)
    if mutation == "str":
        return a.astype(str)
    if a.size == 0:
        raise NotApplicable("empty: no entry to replace")
    if mutation in ("nan", "inf"):
        b = a.astype(np.float64) if a.dtype.kind not in "fc" else a
        b.flat[0] = np.nan if mutation == "nan" else np.inf
        return b
    if mutation == "huge":
        b = a.astype(np.float64)
        top = np.max(np.abs(b))
        return b * (1e300 / top) if 0 < top < np.inf else np.full_like(b, 1e300)
    raise ValueError(f"unknown mutation {mutation!r}")


def names_argument(message: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in names)


def rule(case: Case, arg: str, mutation: str) -> str | None:
    """The case's expect rule ("valid", "propagates", "raises") for arg and mutation, or None."""
    text = case.expect.get(f"{arg}:{mutation}", case.expect.get(mutation))
    if text is None:
        return None
    kind = text.split(":", 1)[0].strip()
    if kind not in ("valid", "propagates", "raises"):
        raise AssertionError(f"expect[{mutation!r}] = {text!r}: must start with valid:, "
                             "propagates: or raises:")
    return kind


def judge(case: Case, kw: dict, arg: str, mutation: str) -> str | None:
    """None if the case ends as the rules say under this mutation, else what went wrong.

    A ``ValueError``/``TypeError`` that names ``arg`` (or an alias) passes unless the case's
    expect says "valid". Anything else raised fails. A result passes:
    * "valid": if there is a reference, when it equals the reference on the mutated input
      (a reference that raises accepts any result); otherwise always;
    * "propagates": when the output holds a NaN (nan) or any non-finite value (inf, huge);
    * value-preserving mutations (list, int, bool, float32, object): when it equals the
      reference on, or else our own result for, the same values in the original dtype
      (float32 within 2e-4 relative); if that call is refused, the mutation must be too;
    * complex and str: never (an imaginary part or a string is not a number to drop);
    * other mutations with a reference: when it equals the reference on the mutated input;
      a reference that raises (torch refuses the shape) means ours must raise too;
    * without a reference: transposed when the shape is unchanged (another valid input);
      nan when a NaN propagates to the output (never a finite silent answer); inf when some
      output is non-finite; huge when every output is finite (an overflow must be refused
      or be right, which needs a reference); other shape mutations never.
    """
    names = (arg, *case.aliases.get(arg, ()))
    try:
        mutated_value = mutate(kw[arg], mutation)
    except NotApplicable:
        return None
    mutated = {**kw, arg: mutated_value}
    kind = rule(case, arg, mutation)
    try:
        ours = run(case, mutated)
    except (ValueError, TypeError) as error:
        if kind == "valid":
            return f"raised {type(error).__name__}: {error!s:.100} (expect says valid)"
        if names_argument(str(error), names):
            return None
        return f"{type(error).__name__} does not name {'/'.join(names)}: {error!s:.120}"
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error!s:.120}"
    rtol, atol = case.rtol, case.atol
    if kind == "raises":
        return "returned a result (expect says raises)"
    if kind == "propagates":
        ok = has_nan(ours) if mutation == "nan" else not all_finite(ours)
        return None if ok else "a finite answer (expect says propagates)"
    if kind == "valid":
        if case.reference is None:
            return None
        try:
            theirs = expected(case, mutated)
        except Exception:  # noqa: BLE001
            return None
        return mismatch(ours, theirs, rtol, atol)
    if mutation in VALUE_PRESERVING:
        original = np.asarray(kw[arg])
        same_values = np.asarray(np.array(mutated_value).astype(original.dtype))
        base = {**kw, arg: same_values}
        if mutation == "float32":
            rtol, atol = max(rtol, FLOAT32_RTOL), max(atol, FLOAT32_ATOL)
        theirs = None
        if case.reference is not None:
            try:
                theirs = expected(case, base)
            except Exception:  # noqa: BLE001
                theirs = None
        if theirs is None:
            try:
                theirs = run(case, base)
            except (ValueError, TypeError):
                return "returned a result where the same values in the original dtype are refused"
        if mutation == "float32":
            scale = max([1.0] + [float(np.nanmax(np.abs(x[np.isfinite(x)])))
                                 for x in leaves(theirs) if x.size and np.isfinite(x).any()
                                 and x.dtype.kind in "fc"])
            atol = atol * scale
        return mismatch(ours, theirs, rtol, atol)
    if mutation in ("complex", "str"):
        return f"returned a result for {mutation} input (must be refused)"
    if case.reference is not None:
        try:
            theirs = expected(case, mutated)
        except Exception as error:  # noqa: BLE001
            return f"returned a result where the reference raises {type(error).__name__}"
        return mismatch(ours, theirs, rtol, atol)
    if mutation == "transposed":
        if np.shape(mutated_value) == np.shape(kw[arg]):
            return None
        return "returned a result for a transposed input (no reference or expect)"
    if mutation in SHAPE_MUTATIONS:
        return f"returned a result for the {mutation} input (no reference or expect)"
    if mutation == "nan":
        return None if has_nan(ours) else "a finite answer for NaN input"
    if mutation == "inf":
        return None if not all_finite(ours) else "a finite answer for inf input (no reference)"
    if mutation == "huge":
        return None if all_finite(ours) else "a non-finite answer for 1e300-sized input"
    return None


def case_failures(key: str) -> list[str]:
    cases, _, _ = load()
    case = cases[key]
    try:
        kw = case.make(np.random.default_rng(0))
    except Exception as error:  # noqa: BLE001
        return [f"make: {type(error).__name__}: {error}"]
    failures = []
    for arg in case.arrays:
        if arg not in kw:
            failures.append(f"{arg}: not an argument that make returns")
            continue
        for mutation in MUTATIONS:
            if mutation in case.skip or f"{arg}:{mutation}" in case.skip:
                continue
            try:
                verdict = judge(case, kw, arg, mutation)
            except Exception as error:  # noqa: BLE001
                verdict = f"the check itself failed: {type(error).__name__}: {error!s:.120}"
            if verdict:
                failures.append(f"{arg}/{mutation}: {verdict}")
    return failures


def sweep() -> dict[str, list[str]]:
    """case id -> its failing (argument/mutation: what happened), for every case with any."""
    result = {}
    for key in load()[0]:
        failures = case_failures(key)
        if failures:
            result[key] = failures
    return result


# --- coverage ---------------------------------------------------------------------------------

def test_case_files_import():
    assert not load()[2], load()[2]


def test_coverage():
    cases, excluded, _ = load()
    funcs = {case.func for case in cases.values()}
    public = public_callables()
    missing = [n for n in public
               if n not in funcs and n not in excluded and n.rsplit(".", 1)[0] not in excluded]
    unknown = sorted(n for n in funcs | set(excluded) if n not in public)
    bad_reasons = sorted(n for n, why in excluded.items() if not str(why).strip())
    counts = summary()
    assert not (missing or unknown or bad_reasons), (
        f"{counts}\nno case and not excluded: {missing}\nnot a public callable: {unknown}\n"
        f"excluded without a reason: {bad_reasons}")


# --- valid input and mutations -----------------------------------------------------------------

CASE_IDS = list(load()[0])


@pytest.mark.parametrize("key", CASE_IDS)
@settings(max_examples=2, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_valid_input(key, seed):
    case = load()[0][key]
    kw = case.make(np.random.default_rng(seed))
    ours = run(case, kw)
    if case.reference is not None:
        bad = mismatch(ours, expected(case, kw), case.rtol, case.atol)
        assert bad is None, f"{key} (seed {seed}): {bad}"


@pytest.mark.parametrize("key", CASE_IDS)
def test_mutations(key):
    failures = case_failures(key)
    assert not failures, f"{key}:\n  " + "\n  ".join(failures)


# --- forwards and backwards, found by introspection --------------------------------------------

def _is_cache(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields") and \
        type(x).__name__.endswith("Cache")


def _caches_in(result) -> list:
    items = result if isinstance(result, tuple) and not _is_cache(result) else (result,)
    return [x for x in items if _is_cache(x)]


@cache
def _functions_by_code() -> dict:
    """code object -> public dlnotes function (module level, or a class's method)."""
    found = {}
    for module_name in dlnotes.__all__:
        if module_name == "validation":              # check_cache returns the cache it checks
            continue
        module = importlib.import_module(f"dlnotes.{module_name}")
        for name, obj in vars(module).items():      # every public name, __all__ or not
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            members = [(name, obj)] if inspect.isfunction(obj) else [
                (f"{name}.{k}", v) for k, v in vars(obj).items()
                if inspect.isclass(obj) and not k.startswith("_")]
            for dotted, member in members:
                func = getattr(member, "__func__", member)
                if inspect.isfunction(func):
                    func = inspect.unwrap(func)
                    found.setdefault(func.__code__, (f"{module.__name__}.{dotted}", func))
    return found


@cache
def recorded_calls() -> dict[str, dict]:
    """dotted name -> {"func", "args" (bound, copied), "result", "backward"} of its first call.

    Only forwards (a cache in the result) and backwards (``..._backward`` with a ``cache``
    parameter) are kept. A backward's record also holds, under "forward", the record of the
    forward call that made the cache it was given (None if no recorded forward made it).
    """
    by_code = _functions_by_code()
    calls: dict[str, dict] = {}
    producers: dict[int, tuple] = {}      # id(cache) -> (the cache, the forward's record)
    stack: list = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in by_code:
            dotted, func = by_code[frame.f_code]
            params = inspect.signature(func).parameters
            given = None
            try:
                given = producers.get(id(frame.f_locals.get("cache")))
                args = copy.deepcopy({k: frame.f_locals[k] for k in params})
            except Exception:  # noqa: BLE001
                args = None
            stack.append((frame, dotted, func, args, given))
        elif event == "return" and stack and stack[-1][0] is frame:
            _, dotted, func, args, given = stack.pop()
            if args is None:
                return
            is_backward = func.__name__.endswith("backward") and \
                "cache" in inspect.signature(func).parameters
            record = {"name": dotted, "func": func, "args": args, "result": arg,
                      "backward": is_backward}
            if not is_backward:
                for c in _caches_in(arg):
                    producers[id(c)] = (c, record)
            else:
                record["forward"] = given[1] if given else None   # ids stay unique: kept alive
            if dotted not in calls and (is_backward or _caches_in(arg)):
                calls[dotted] = record
            elif is_backward and calls[dotted].get("forward") is None:
                calls[dotted] = record

    for case in load()[0].values():
        try:
            kw = case.make(np.random.default_rng(0))
        except Exception:  # noqa: BLE001
            continue
        sys.setprofile(profile)
        try:
            run(case, kw)
        except Exception:  # noqa: BLE001
            pass
        finally:
            sys.setprofile(None)
            stack.clear()
    return calls


def _call(func, args: dict):
    positional, keywords = [], {}
    for name, p in inspect.signature(func).parameters.items():
        if p.kind is p.VAR_POSITIONAL:
            positional.extend(args[name])
        elif p.kind is p.VAR_KEYWORD:
            keywords.update(args[name])
        elif p.kind is p.POSITIONAL_ONLY:
            positional.append(args[name])
        else:
            keywords[name] = args[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return func(*positional, **keywords)


def _backwards() -> dict[str, dict]:
    return {k: v for k, v in recorded_calls().items()
            if v["backward"] and _is_cache(v["args"]["cache"])}


def _forwards() -> dict[str, dict]:
    return {k: v for k, v in recorded_calls().items() if not v["backward"]}


def _mixes():
    caches = {}
    for name, call in _forwards().items():
        for c in _caches_in(call["result"]):
            caches.setdefault(type(c), (name, c))
    return [(b, f) for b, call in _backwards().items()
            for kind, (f, _) in caches.items() if kind is not type(call["args"]["cache"])], caches


def test_introspection_finds_the_pairs():
    """Each backward with a case has been seen with its own cache, and every forward too."""
    public = [n for n in public_callables()
              if n.endswith("_backward") and "cache" in
              inspect.signature(resolve(n)).parameters]
    seen = _backwards()
    unseen = [n for n in public if n not in seen]
    assert not unseen, f"backwards that no case reaches (no cache-mixing check): {unseen}"
    assert len(_forwards()) >= len(seen) // 2


def test_cache_mixing():
    mixes, caches = _mixes()
    failures = []
    for backward, forward in mixes:
        call = _backwards()[backward]
        foreign = copy.deepcopy(caches[next(k for k, v in caches.items() if v[0] == forward)][1])
        args = {**copy.deepcopy(call["args"]), "cache": foreign}
        short = backward.rsplit(".", 1)[1]
        try:
            _call(call["func"], args)
        except (TypeError, ValueError) as error:
            if not re.search(rf"{re.escape(short)}|cache", str(error), re.IGNORECASE):
                failures.append(f"{short} <- {type(foreign).__name__}: unclear {error!s:.80}")
            continue
        except Exception as error:  # noqa: BLE001
            failures.append(f"{short} <- {type(foreign).__name__}: {type(error).__name__}: "
                            f"{error!s:.80}")
            continue
        failures.append(f"{short} <- {type(foreign).__name__} ({forward}): no error")
    assert not failures, (f"{len(failures)} of {len(mixes)} mixes are not refused:\n  "
                          + "\n  ".join(failures))


def _mutate_outputs(result, skip) -> None:
    """out *= 2 (and + 1) on every writeable array in result except inside skip."""
    if any(result is s for s in skip):
        return
    if isinstance(result, np.ndarray):
        if result.flags.writeable and result.size:
            if result.dtype.kind == "b":
                np.logical_not(result, out=result)
            elif result.dtype.kind in "iufc":
                result *= 2
                result += 1
        return
    if isinstance(result, dict):
        for v in result.values():
            _mutate_outputs(v, skip)
    elif isinstance(result, (tuple, list)):
        for v in result:
            _mutate_outputs(v, skip)


def _aliasing_pairs():
    """(forward, backward) names for each recorded backward and the forward that made its cache."""
    return [(bcall["forward"]["name"], b) for b, bcall in _backwards().items()
            if bcall.get("forward")]


def _gradient(fcall, bcall, kind, upstream, mutate_outputs: bool):
    """The backward's result on a fresh forward's cache (its other outputs mutated or not)."""
    result = _call(fcall["func"], copy.deepcopy(fcall["args"]))
    cache_ = next(c for c in _caches_in(result) if type(c) is kind)
    if mutate_outputs:
        _mutate_outputs(result, skip=[cache_])
    return _call(bcall["func"], {**copy.deepcopy(upstream), "cache": cache_})


def test_aliasing():
    rng = np.random.default_rng(7)
    pairs = _aliasing_pairs()
    failures = []
    for f, b in pairs:
        bcall = _backwards()[b]
        fcall = bcall["forward"]
        kind = type(bcall["args"]["cache"])
        upstream = {k: (rng.standard_normal(np.shape(v)) if isinstance(v, np.ndarray)
                        and v.dtype.kind == "f" else v)
                    for k, v in bcall["args"].items() if k != "cache"}

        try:
            before = _gradient(fcall, bcall, kind, upstream, mutate_outputs=False)
            after = _gradient(fcall, bcall, kind, upstream, mutate_outputs=True)
        except Exception as error:  # noqa: BLE001
            failures.append(f"{f} -> {b}: {type(error).__name__}: {error!s:.80}")
            continue
        bad = mismatch(after, before, 0.0, 0.0)
        if bad:
            failures.append(f"{f.rsplit('.', 1)[1]} -> {b.rsplit('.', 1)[1]}: {bad}")
    assert not failures, (f"{len(failures)} of {len(pairs)} forward/backward pairs alias:\n  "
                          + "\n  ".join(failures))


def test_each_forward_has_its_own_cache_type():
    """Two forwards never share a cache type (check_cache could not tell their caches apart)."""
    makers: dict[type, set[str]] = {}
    for name, call in _forwards().items():
        for c in _caches_in(call["result"]):
            makers.setdefault(type(c), set()).add(name.rsplit(".", 1)[1])
    shared = {kind.__name__: sorted(names) for kind, names in makers.items() if len(names) > 1}
    assert not shared, f"cache types made by more than one forward: {shared}"
