"""dlnotes.torch_models.models: the classic networks against the shape tables of dlnotes.shapes,
and the residual block and Inception module against independent NumPy forwards and counts."""
import numpy as np
import pytest
import torch
from torch import nn

from dlnotes import shapes
from dlnotes.conv import conv2d_forward
from dlnotes.pooling import maxpool2d_forward
from dlnotes.torch_models import models
from dlnotes.verify import check_values, to_numpy, to_torch


def n_params(module):
    return sum(p.numel() for p in module.parameters())


NETWORKS = [  # constructor, spec, input side, kwargs, device
    (models.lenet5, shapes.lenet5_spec, 32, {}, "cpu"),
    (models.lenet5, shapes.lenet5_spec, 32, {"in_channels": 3, "num_classes": 10}, "cpu"),
    (models.lenet5, shapes.lenet5_spec, 32, {"in_channels": 2, "num_classes": 7}, "cpu"),
    (models.alexnet, shapes.alexnet_spec, 227, {}, "meta"),
    (models.alexnet, shapes.alexnet_spec, 227, {"in_channels": 1, "num_classes": 10}, "meta"),
    (models.alexnet, shapes.alexnet_spec, 227, {"num_classes": 37, "groups": 2}, "meta"),
    (models.vgg16, shapes.vgg16_spec, 224, {}, "meta"),
    (models.vgg16, shapes.vgg16_spec, 224, {"in_channels": 1, "num_classes": 10}, "meta"),
    (models.vgg16, shapes.vgg16_spec, 224, {"in_channels": 5, "num_classes": 2}, "meta"),
]


@pytest.mark.parametrize("build, spec, side, kwargs, device", NETWORKS)
def test_network_matches_its_shape_table_row_by_row(build, spec, side, kwargs, device):
    c = kwargs.get("in_channels", 1 if build is models.lenet5 else 3)
    spec_kwargs = {k: v for k, v in kwargs.items() if k != "in_channels"}
    table = shapes.shape_table(spec(**spec_kwargs), (c, side, side))
    model = build(**kwargs, device=device)
    rows = models.trace_shapes(model, (c, side, side))
    assert [(r.shape, r.params) for r in table] == rows
    assert rows[-1][0] == (kwargs.get("num_classes", 10 if build is models.lenet5 else 1000),)
    assert n_params(model) == sum(r.params for r in table)


@pytest.mark.parametrize("build, expected", [
    (lambda: models.vgg16(device="meta"), 138_357_544),               # torchvision's vgg16
    (lambda: models.alexnet(device="meta"), 62_378_344),
    (lambda: models.alexnet(groups=2, device="meta"), 60_965_224),
    (lambda: models.lenet5(), 61_706),
    (lambda: models.lenet5(in_channels=3), 62_006),
])
def test_published_parameter_counts(build, expected):
    assert n_params(build()) == expected


def test_real_forward_on_the_cpu_gives_the_same_shapes():
    # The meta device is used above to save time; one real AlexNet forward on the CPU.
    model = models.alexnet(in_channels=2, num_classes=5)
    rows = models.trace_shapes(model, (2, 227, 227))
    table = shapes.shape_table(shapes.alexnet_spec(num_classes=5), (2, 227, 227))
    assert [(r.shape, r.params) for r in table] == rows
    assert model.training                      # trace_shapes restores the mode


def test_trace_shapes_records_every_child_with_hooks():
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, bias=False), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 4 * 3, 5))
    assert models.trace_shapes(model, (2, 9, 7)) == [((3, 4, 3), 54), ((3, 4, 3), 0),
                                                     ((36,), 0), ((5,), 185)]
    assert all(not m._forward_hooks for m in model)
    with pytest.raises(TypeError, match="nn.Sequential"):
        models.trace_shapes(models.residual_block(2), (2, 4, 4))
    with pytest.raises(ValueError, match="input_shape must be a positive integer"):
        models.trace_shapes(model, (2, 0, 7))


def conv2d_np(x, w, b, stride=1, pad=0):
    """dlnotes' NumPy convolution (itself checked against torch by its own tests)."""
    return conv2d_forward(x, w, b, stride, pad)[0]


def maxpool3_np(x):
    """3 x 3 max pooling, stride 1, padding 1 (padding never wins: -inf)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    return maxpool2d_forward(xp, 3, 1)[0]


def weights(module):
    return {name: to_numpy(p) for name, p in module.named_parameters()}


@pytest.mark.parametrize("c_in, c_out, stride, size", [(4, 4, 1, (5, 6)), (3, 6, 2, (7, 4)),
                                                        (2, 2, 2, (1, 1)), (5, 3, 1, (3, 3))])
def test_residual_block_forward_against_numpy(c_in, c_out, stride, size, rng):
    torch.manual_seed(0)
    block = models.residual_block(c_in, c_out, stride=stride, batch_norm=False,
                                  dtype=torch.float64, device=to_torch(0.0).device)
    x = rng.standard_normal((2, c_in, *size))
    p = weights(block)
    relu = lambda z: np.maximum(z, 0)                                      # noqa: E731
    h = relu(conv2d_np(x, p["conv1.weight"], p["conv1.bias"], stride, 1))
    branch = conv2d_np(h, p["conv2.weight"], p["conv2.bias"], 1, 1)
    if c_in == c_out and stride == 1:
        assert isinstance(block.shortcut, nn.Identity)
        short = x
    else:
        short = conv2d_np(x, p["shortcut.0.weight"], p["shortcut.0.bias"], stride, 0)
    with torch.no_grad():
        check_values("residual block", relu(branch + short), block(to_torch(x)))


@pytest.mark.parametrize("batch_norm", [False, True])
def test_residual_block_with_zero_weights_is_the_identity_on_nonnegative_inputs(batch_norm, rng):
    block = models.residual_block(3, batch_norm=batch_norm, dtype=torch.float64)
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()
        x = torch.tensor(rng.standard_normal((4, 3, 6, 5)))
        out = block.train()(x)
    assert torch.equal(out, torch.relu(x))
    assert torch.equal(out[x >= 0], x[x >= 0])


@pytest.mark.parametrize("c_in, c_out, stride, batch_norm, expected", [
    (8, 8, 1, False, 2 * (9 * 8 + 1) * 8),
    (8, 16, 2, False, (9 * 8 + 1) * 16 + (9 * 16 + 1) * 16 + (8 + 1) * 16),
    (8, 8, 1, True, 2 * 9 * 8 * 8 + 2 * 2 * 8),
    (8, 16, 2, True, 9 * 8 * 16 + 9 * 16 * 16 + 8 * 16 + 3 * 2 * 16),
    (4, 4, 2, True, 2 * 9 * 4 * 4 + 4 * 4 + 3 * 2 * 4),
])
def test_residual_block_parameters_and_shapes(c_in, c_out, stride, batch_norm, expected):
    block = models.residual_block(c_in, c_out, stride=stride, batch_norm=batch_norm)
    assert n_params(block) == expected
    out = block.eval()(torch.zeros(2, c_in, 9, 8))
    assert tuple(out.shape) == (2, c_out, (9 - 1) // stride + 1, (8 - 1) // stride + 1)


@pytest.mark.parametrize("config, size", [((192, 64, 96, 128, 16, 32, 32), (28, 28)),
                                          ((3, 1, 2, 3, 1, 2, 5), (5, 4)),
                                          ((1, 2, 1, 1, 1, 1, 1), (1, 1))])
def test_inception_output_channels_and_parameters(config, size):
    c, a, r3, c3, r5, c5, pp = config
    module = models.inception_module(*config)
    out = module(torch.zeros(2, c, *size))
    assert module.out_channels == a + c3 + c5 + pp
    assert tuple(out.shape) == (2, a + c3 + c5 + pp, *size)
    expected = ((c + 1) * a + (c + 1) * r3 + (9 * r3 + 1) * c3 + (c + 1) * r5
                + (25 * r5 + 1) * c5 + (c + 1) * pp)
    assert n_params(module) == expected


def test_inception_block_3a_has_163696_parameters():
    assert n_params(models.inception_module(192, 64, 96, 128, 16, 32, 32)) == 163_696


def test_inception_forward_against_numpy(rng):
    torch.manual_seed(1)
    module = models.inception_module(3, 2, 2, 3, 1, 2, 2, dtype=torch.float64,
                                     device=to_torch(0.0).device)
    x = rng.standard_normal((2, 3, 5, 6))
    p = weights(module)
    relu = lambda z: np.maximum(z, 0)                                      # noqa: E731

    def cr(name, z, pad):
        return relu(conv2d_np(z, p[f"{name}.weight"], p[f"{name}.bias"], 1, pad))

    expected = np.concatenate([
        cr("branch1.0", x, 0),
        cr("branch3.2", cr("branch3.0", x, 0), 1),
        cr("branch5.2", cr("branch5.0", x, 0), 2),
        cr("branch_pool.1", maxpool3_np(x), 0)], axis=1)
    with torch.no_grad():
        check_values("inception module", expected, module(to_torch(x)))


@pytest.mark.parametrize("build, message", [
    (lambda: models.lenet5(in_channels=0), r"in_channels must be a positive integer; got 0"),
    (lambda: models.lenet5(num_classes=-3), r"num_classes must be a positive integer"),
    (lambda: models.alexnet(in_channels=2.0), r"in_channels must be a positive integer"),
    (lambda: models.alexnet(groups=3), r"groups must be 1"),
    (lambda: models.alexnet(dropout=1.0), r"dropout must be a probability in \[0, 1\)"),
    (lambda: models.vgg16(num_classes=0), r"num_classes must be a positive integer"),
    (lambda: models.vgg16(in_channels=True), r"in_channels must be a positive integer"),
    (lambda: models.residual_block(0), r"in_channels must be a positive integer"),
    (lambda: models.residual_block(4, -1), r"out_channels must be a positive integer"),
    (lambda: models.residual_block(4, stride=0), r"stride must be a positive integer"),
    (lambda: models.inception_module(192, 64, 96, 128, 0, 32, 32),
     r"ch5x5_reduce must be a positive integer; got 0"),
    (lambda: models.inception_module(-1, 1, 1, 1, 1, 1, 1), r"in_channels must be a positive"),
])
def test_bad_arguments_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_batch_norm_flag_must_be_bool():
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        models.residual_block(4, batch_norm="yes")


def test_import_dlnotes_does_not_load_the_models_module():
    import subprocess
    import sys
    code = ("import sys, dlnotes; "
            "print('dlnotes.torch_models.models' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
