"""dlnotes.schedules at the boundary: NumPy integers accepted, no negative or NaN rates."""
import numpy as np
import pytest

from dlnotes import schedules


def test_numpy_integers_are_accepted_like_python_ints():
    assert schedules.step_decay(0.5, np.int64(7), step_size=np.int64(3), gamma=0.5) == 0.125
    assert schedules.exponential_decay(1.0, np.int32(2), gamma=np.float64(0.5)) == 0.25
    assert schedules.inverse_time_decay(np.float32(1.0), np.int64(4), decay_rate=0.5) \
        == pytest.approx(1 / 3)
    assert schedules.inverse_sqrt_decay(2.0, np.uint8(3)) == pytest.approx(1.0)


@pytest.mark.parametrize("gamma", [-0.5, 0.0, 1.5, float("nan"), float("inf")])
def test_a_decay_factor_outside_zero_one_is_refused(gamma):
    # step_decay used to accept gamma = -0.5 and return a negative learning rate.
    with pytest.raises(ValueError, match="gamma"):
        schedules.step_decay(0.5, 3, step_size=1, gamma=gamma)
    with pytest.raises(ValueError, match="gamma"):
        schedules.exponential_decay(0.5, 3, gamma=gamma)


@pytest.mark.parametrize("call, error, match", [
    (lambda: schedules.step_decay(0.1, 2.0, step_size=2), TypeError, "epoch must be an int"),
    (lambda: schedules.step_decay(0.1, True, step_size=2), TypeError, "epoch must be an int"),
    (lambda: schedules.step_decay(0.1, 2, step_size=0), ValueError, "step_size must be >= 1"),
    (lambda: schedules.step_decay(0.1, 2, step_size=1.5), TypeError, "step_size must be an int"),
    (lambda: schedules.inverse_sqrt_decay(float("inf"), 2), ValueError, "lr0"),
    (lambda: schedules.inverse_sqrt_decay("0.1", 2), TypeError, "lr0"),
    (lambda: schedules.inverse_time_decay(0.1, 2, decay_rate=-1.0), ValueError, "decay_rate"),
    (lambda: schedules.inverse_time_decay(0.1, 2, decay_rate=float("nan")), ValueError,
     "decay_rate"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
