"""dlnotes.augment: properties of each augmentation, torch's flip/rot90, reproducibility,
bad input."""
import numpy as np
import pytest
import torch

from dlnotes import augment as A
from dlnotes.verify import check_values, to_torch

SHAPES = [(1, 1, 1), (3, 4, 4), (3, 5, 7), (2, 6, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_mirror_matches_torch_flip_and_is_an_involution(shape, rng):
    x = rng.standard_normal(shape)
    out = A.mirror(x)
    check_values("mirror", out, torch.flip(to_torch(x), dims=(2,)))
    np.testing.assert_array_equal(A.mirror(out), x)
    np.testing.assert_array_equal(out[:, :, 0], x[:, :, -1])
    out[...] = 0.0
    assert np.any(x != 0.0)        # a new array, not a view of x


def test_random_mirror_probability_and_seed(rng):
    x = rng.standard_normal((1, 2, 5))
    flips = [np.array_equal(A.random_mirror(x, rng), A.mirror(x)) for _ in range(400)]
    assert 0.4 < np.mean(flips) < 0.6
    np.testing.assert_array_equal(A.random_mirror(x, rng, p=0.0), x)
    np.testing.assert_array_equal(A.random_mirror(x, rng, p=1.0), A.mirror(x))
    with pytest.raises(ValueError, match="p must lie"):
        A.random_mirror(x, rng, p=1.5)


@pytest.mark.parametrize("size", [(1, 1), (3, 3), (4, 2), (5, 7)])
def test_random_crop_is_a_window_of_the_image(size, rng):
    x = rng.standard_normal((2, 5, 7))   # continuous values: every window is unique
    out = A.random_crop(x, size, rng)
    h, w = size
    assert out.shape == (2, h, w)
    matches = [(top, left) for top in range(5 - h + 1) for left in range(7 - w + 1)
               if np.array_equal(x[:, top:top + h, left:left + w], out)]
    assert len(matches) == 1


def test_random_crop_covers_all_positions_and_is_reproducible():
    x = np.arange(2 * 4 * 5, dtype=float).reshape(2, 4, 5)
    rng = np.random.default_rng(0)
    corners = {A.random_crop(x, (2, 3), rng)[0, 0, 0] for _ in range(300)}
    assert len(corners) == (4 - 2 + 1) * (5 - 3 + 1)
    a = [A.random_crop(x, (2, 2), np.random.default_rng(7)) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
def test_rotate90_matches_torch(shape, k, rng):
    x = rng.standard_normal(shape)
    check_values("rotate90", A.rotate90(x, k), torch.rot90(to_torch(x), k, dims=(1, 2)))
    np.testing.assert_array_equal(A.rotate90(A.rotate90(x, k), 4 - k), x)


def test_rotate90_direction_is_counter_clockwise():
    x = np.zeros((1, 3, 3))
    x[0, 0, 2] = 1.0                    # top-right corner
    assert A.rotate90(x, 1)[0, 0, 0] == 1.0   # goes to the top-left
    assert A.rotate(x, 90.0)[0, 0, 0] == 1.0


@pytest.mark.parametrize("n", [1, 4, 5, 8])
@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_rotate_by_quarter_turns_equals_rotate90_on_squares(n, k, rng):
    x = rng.standard_normal((2, n, n))
    np.testing.assert_array_equal(A.rotate(x, 90.0 * k), A.rotate90(x, k))


def test_rotate_small_angles(rng):
    x = rng.uniform(size=(3, 9, 11))
    np.testing.assert_array_equal(A.rotate(x, 0.0), x)
    out = A.rotate(x, 7.0, fill=-1.0)
    assert out.shape == x.shape
    # nearest-neighbour: every output value is an input value of the same channel, or the fill
    for c in range(3):
        assert np.all(np.isin(out[c], np.append(x[c], -1.0)))
    assert out[:, 4, 5].tolist() == x[:, 4, 5].tolist()   # the centre pixel stays put
    assert np.sum(out[0] == -1.0) > 0                      # corners come from outside
    # rotating there and back moves at most a few pixels away from the centre
    back = A.rotate(A.rotate(x, 5.0), -5.0)
    assert np.mean(back == x) > 0.6


def test_colour_shift_bounds_and_structure(rng):
    x = rng.uniform(0.2, 0.8, size=(3, 6, 5))
    out = A.colour_shift(x, rng, max_shift=0.15, clip=False)
    shift = out - x
    np.testing.assert_allclose(shift, shift[:, :1, :1] * np.ones_like(x), atol=1e-15)
    assert np.all(np.abs(shift) <= 0.15)
    assert np.ptp(shift[:, 0, 0]) > 0          # channels get different shifts
    clipped = A.colour_shift(np.full((3, 2, 2), 0.98), np.random.default_rng(1), max_shift=0.5)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    np.testing.assert_array_equal(A.colour_shift(x, rng, max_shift=0.0), x)


def test_random_augment_is_reproducible(rng):
    x = rng.uniform(size=(3, 16, 16))
    a = A.random_augment(x, np.random.default_rng(5), crop_size=(12, 12))
    b = A.random_augment(x, np.random.default_rng(5), crop_size=(12, 12))
    c = A.random_augment(x, np.random.default_rng(6), crop_size=(12, 12))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 12, 12) and not np.array_equal(a, c)
    assert A.random_augment(x, rng).shape == x.shape


def test_augment_rejects_bad_input(rng):
    x = rng.standard_normal((3, 4, 4))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        A.mirror(x[0])
    with pytest.raises(ValueError, match="non-empty"):
        A.mirror(np.zeros((3, 0, 4)))
    with pytest.raises(ValueError, match="cannot crop"):
        A.random_crop(x, (5, 2), rng)
    with pytest.raises(ValueError, match=r"size\[0\] \(h\) must be >= 1"):
        A.random_crop(x, (0, 2), rng)
    with pytest.raises(ValueError, match="pair"):
        A.random_crop(x, 3, rng)
    with pytest.raises(ValueError, match="does not fit"):
        A.crop(x, 2, 0, 3, 1)
    with pytest.raises(ValueError, match="top"):
        A.crop(x, -1, 0, 1, 1)
    with pytest.raises(TypeError, match="Generator"):
        A.colour_shift(x, 0)
    with pytest.raises(ValueError, match="max_shift"):
        A.colour_shift(x, rng, max_shift=-0.1)
    with pytest.raises(TypeError, match="quarter turns"):
        A.rotate90(x, 1.5)
    with pytest.raises(ValueError, match="angle"):
        A.rotate(x, np.inf)
    with pytest.raises(TypeError, match="real numeric"):
        A.mirror(np.array([[["a"]]]))


# --- issue 12: the boundary -----------------------------------------------------------------

def test_float32_images_stay_float32(rng):
    # colour_shift used to add a float64 shift and return float64.
    x = rng.random((3, 6, 6)).astype(np.float32)
    assert A.colour_shift(x, rng).dtype == np.float32
    assert A.colour_shift(x, rng, clip=False).dtype == np.float32
    assert A.rotate(x, 30.0).dtype == np.float32
    assert A.random_augment(x, rng, crop_size=(4, 4)).dtype == np.float32


def test_numpy_integers_are_accepted_for_positions_and_sizes(rng):
    x = rng.standard_normal((1, 5, 5))
    assert A.crop(x, np.int64(1), np.int32(0), np.int64(2), 3).shape == (1, 2, 3)
    assert A.random_crop(x, np.array([2, 2]), rng).shape == (1, 2, 2)
    assert A.rotate90(x, np.int64(2)).shape == (1, 5, 5)


def test_random_augment_names_x_for_a_nan_image(rng):
    x = rng.random((3, 4, 4))
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x must be finite"):
        A.random_augment(x, rng)
    assert np.isnan(A.mirror(x)[0, 0, 3])          # mirror moves NaN like torch.flip


def test_clip_must_be_a_bool(rng):
    with pytest.raises(TypeError, match="clip"):
        A.colour_shift(np.zeros((1, 2, 2)), rng, clip="no")
