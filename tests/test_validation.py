"""dlnotes.validation: the shared argument checks (append-only; one section per helper)."""
import numpy as np
import pytest

from dlnotes import validation as V

# --- check_rng ------------------------------------------------------------------------------

def test_check_rng_returns_a_generator_and_refuses_the_rest():
    rng = np.random.default_rng(0)
    assert V.check_rng(rng) is rng
    for bad in (np.random, np.random.RandomState(0), 0, None):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            V.check_rng(bad)
    with pytest.raises(TypeError, match="gen must be"):
        V.check_rng(1, "gen")
