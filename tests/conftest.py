"""Shared fixtures: a seeded generator per test, so failures reproduce."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
