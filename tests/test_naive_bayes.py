"""dlnotes.naive_bayes at the boundary (issue 12). The fits themselves: test_generative.py."""
import numpy as np
import pytest

from dlnotes import naive_bayes as NB


def test_fit_refuses_nan_and_bad_settings():
    # Old code fitted a model full of NaN without a word.
    x = np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 0.0], [2.0, 1.0]])
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="x must be finite"):
        NB.fit_gaussian_nb(x, y, 2)
    x[1, 0] = 0.5
    with pytest.raises(ValueError, match="var_floor"):
        NB.fit_gaussian_nb(x, y, 2, var_floor=-1.0)
    with pytest.raises(TypeError, match="shared_variance"):
        NB.fit_gaussian_nb(x, y, 2, shared_variance="yes")
    model = NB.fit_gaussian_nb(x, y, np.int64(2))
    with pytest.raises(TypeError, match="model must be a GaussianNB"):
        NB.gaussian_nb_posterior((model.log_prior, model.mean, model.logvar), x)
