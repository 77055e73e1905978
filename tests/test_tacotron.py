"""dlnotes.torch_models.tacotron: shapes, masking, parameter counts, determinism and bad input.

The model is torch itself, so the independent references here are NumPy re-implementations
(pre-net, attention energies), torch's own layer sizes and invariances that a wrong
implementation breaks (padding must not leak, teacher forcing must be causal).
"""
import numpy as np
import pytest
import torch
from torch import nn

from dlnotes.activations import relu
from dlnotes.layers import dense_forward
from dlnotes.torch_models.tacotron import (
    SYMBOLS,
    LocationSensitiveAttention,
    Prenet,
    Tacotron2,
    TacotronConfig,
    encode_text,
    lstm_parameter_count,
    padding_mask,
)
from dlnotes.verify import check_values

CFG = TacotronConfig()


def _model(seed=0, cfg=CFG):
    torch.manual_seed(seed)
    return Tacotron2(cfg).double().eval()


def _batch(lengths, t_in=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths, dtype=torch.int64)
    t_in = t_in or int(lengths.max())
    ids = torch.randint(1, CFG.n_symbols, (len(lengths), t_in), generator=gen)
    return ids * padding_mask(lengths, t_in), lengths


def _targets(n, t_out, seed=0):
    return torch.tensor(np.random.default_rng(seed).standard_normal((n, t_out, CFG.n_mels)))


@pytest.mark.parametrize("lengths, t_in, t_out", [
    ([1], 1, 1), ([5, 3], 5, 4), ([7, 7, 2, 4], 9, 6), ([3, 11, 1], 11, 2)])
def test_every_stage_has_the_documented_shape(lengths, t_in, t_out):
    ids, lens = _batch(lengths, t_in)
    n, e, h, m = len(lengths), CFG.embedding_dim, CFG.decoder_dim, CFG.n_mels
    out = _model()(ids, lens, _targets(n, t_out))
    assert out.encoder.embedded.shape == (n, t_in, e)
    assert len(out.encoder.convs) == CFG.encoder_convs
    assert all(c.shape == (n, e, t_in) for c in out.encoder.convs)
    assert out.encoder.memory.shape == (n, t_in, e)
    assert out.decoder.prenet.shape == (n, t_out, CFG.prenet_dim)
    assert out.decoder.lstm.shape == (n, t_out, h)
    assert out.decoder.contexts.shape == (n, t_out, e)
    assert out.alignments.shape == (n, t_out, t_in)
    assert out.mel.shape == out.mel_postnet.shape == (n, t_out, m)
    assert out.stop_logits.shape == (n, t_out)


def test_attention_sums_to_one_over_real_positions_and_is_zero_on_padding():
    ids, lens = _batch([6, 2, 9, 4], t_in=10)
    a = _model()(ids, lens, _targets(4, 5)).alignments            # (N, T_out, T_in)
    mask = padding_mask(lens, 10)[:, None, :].expand_as(a)
    np.testing.assert_allclose(a.sum(-1).detach().numpy(), 1.0, rtol=0, atol=1e-13)
    assert torch.all(a[~mask] == 0)
    assert torch.all(a[mask] > 0)


def test_encoder_output_is_zero_on_padding_and_independent_of_it():
    model = _model()
    ids, lens = _batch([5, 3], t_in=5)
    alone = model.encoder(ids[1:, :3], lens[1:])                  # (1, 3, E), no padding
    padded = torch.cat([ids, torch.zeros(2, 4, dtype=torch.int64)], dim=1)
    memory = model.encoder(padded, lens)                          # (2, 9, E)
    check_values("encoder, padded vs alone", alone.detach().numpy(), memory[1:, :3])
    assert torch.all(memory[0, 5:] == 0) and torch.all(memory[1, 3:] == 0)


def test_whole_model_output_does_not_depend_on_the_batch_it_is_in():
    model = _model(cfg=TacotronConfig(prenet_dropout=0.0))
    ids, lens = _batch([4, 7, 2], t_in=8)
    targets = _targets(3, 5)
    batch = model(ids, lens, targets)
    alone = model(ids[2:, :2], lens[2:], targets[2:])
    check_values("mel_postnet, batch vs alone", alone.mel_postnet.detach().numpy(),
                 batch.mel_postnet[2:])
    check_values("alignments, batch vs alone", alone.alignments.detach().numpy(),
                 batch.alignments[2:, :, :2])


def test_teacher_forcing_is_causal():
    model = _model()
    ids, lens = _batch([6, 4])
    targets = _targets(2, 6)
    changed = targets.clone()
    changed[:, 3] += 1.0
    outs = []
    for t in (targets, changed):
        torch.manual_seed(7)                                      # same pre-net dropout masks
        outs.append(model(ids, lens, t).mel_postnet.detach())
    # Frame 3 is read by step 4 only; the post-net (kernel 5, 5 layers) spreads the change
    # backwards in time, so compare the decoder's frames before the post-net too.
    torch.manual_seed(7)
    before = model(ids, lens, targets).mel.detach()
    torch.manual_seed(7)
    after = model(ids, lens, changed).mel.detach()
    assert torch.equal(before[:, :4], after[:, :4])
    assert not torch.allclose(before[:, 4], after[:, 4])
    assert not torch.equal(outs[0], outs[1])


def test_postnet_is_a_residual_correction():
    model = _model()
    ids, lens = _batch([3, 5])
    out = model(ids, lens, _targets(2, 4))
    check_values("postnet residual", (out.mel_postnet - out.mel).detach().numpy(),
                 model.postnet(out.mel))


def test_deterministic_with_a_fixed_seed_and_different_with_another():
    ids, lens = _batch([6, 4])
    targets = _targets(2, 5)
    runs = []
    for seed in (0, 0, 1):
        model = _model(seed)
        torch.manual_seed(seed)
        runs.append(model(ids, lens, targets).mel_postnet.detach())
    assert torch.equal(runs[0], runs[1])
    assert not torch.allclose(runs[0], runs[2])


@pytest.mark.parametrize("d, h", [(1, 1), (3, 7), (16, 8), (40, 20)])
def test_lstm_parameter_count_matches_torch_layers(d, h):
    assert lstm_parameter_count(d, h) == sum(p.numel() for p in nn.LSTM(d, h).parameters())
    assert lstm_parameter_count(d, h) == sum(p.numel() for p in nn.LSTMCell(d, h).parameters())


def test_model_lstms_have_the_formula_counts():
    model, c = _model(), CFG
    e, h = c.embedding_dim, c.decoder_dim
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(model.encoder.lstm) == 2 * lstm_parameter_count(e, e // 2)
    assert count(model.decoder.lstms[0]) == lstm_parameter_count(c.prenet_dim + e, h)
    assert count(model.decoder.lstms[1]) == lstm_parameter_count(h, h)


def test_prenet_dropout_stays_on_in_eval_and_matches_numpy_without_it(rng):
    torch.manual_seed(0)
    on = Prenet(5, (6, 4), p=0.5).double().eval()
    x = torch.tensor(rng.standard_normal((3, 5)))
    assert not torch.equal(on(x), on(x))
    off = Prenet(5, (6, 4), p=0.0).double().eval()
    off.load_state_dict(on.state_dict())
    w1, b1, w2, b2 = (p.detach().numpy() for p in off.parameters())
    ours = relu(dense_forward(relu(dense_forward(x.numpy(), w1, b1)[0]), w2, b2)[0])
    check_values("prenet", ours, off(x))


def _numpy_energies(att, query, memory, cumulative):
    g = {k: v.detach().numpy() for k, v in att.state_dict().items()}
    n, t_in = cumulative.shape
    n_filters, _, k = g["location_conv.weight"].shape
    padded = np.pad(cumulative, ((0, 0), (k // 2, k // 2)))
    f = np.zeros((n, t_in, n_filters))
    for j in range(t_in):
        f[:, j, :] = padded[:, j:j + k] @ g["location_conv.weight"][:, 0, :].T
    hidden = np.tanh((query @ g["query.weight"].T + g["query.bias"])[:, None, :]
                     + memory @ g["memory.weight"].T + f @ g["location.weight"].T)
    return hidden @ g["v.weight"][0]


@pytest.mark.parametrize("n, t_in, kernel", [(1, 1, 3), (2, 5, 7), (3, 9, 31)])
def test_attention_energies_and_weights_match_numpy(n, t_in, kernel, rng):
    torch.manual_seed(0)
    att = LocationSensitiveAttention(6, 4, 5, 3, kernel).double()
    query, memory = rng.standard_normal((n, 6)), rng.standard_normal((n, t_in, 4))
    cumulative = rng.random((n, t_in))
    lengths = torch.tensor(rng.integers(1, t_in + 1, size=n))
    mask = padding_mask(lengths, t_in)
    tq, tm, tc = (torch.tensor(a) for a in (query, memory, cumulative))
    e = _numpy_energies(att, query, memory, cumulative)
    check_values("energies", e, att.energies(tq, att.memory(tm), tc))
    e = np.where(mask.numpy(), e, -np.inf)
    w = np.exp(e - e.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    context, weights = att(tq, tm, att.memory(tm), tc, mask)
    check_values("weights", w, weights)
    check_values("context", np.einsum("nt,nte->ne", w, memory), context)


def test_location_input_is_the_sum_of_all_previous_weights():
    model = _model()
    ids, lens = _batch([7, 4])
    out = model(ids, lens, _targets(2, 5))
    att, memory = model.decoder.attention, out.encoder.memory
    mask = padding_mask(lens, ids.shape[1])
    for t in range(5):
        cumulative = out.alignments[:, :t].sum(dim=1)             # (N, T_in), zeros at t = 0
        _, weights = att(out.decoder.lstm[:, t], memory, att.memory(memory), cumulative, mask)
        check_values(f"weights at step {t}", weights.detach().numpy(), out.alignments[:, t])


def test_free_running_stops_when_every_stop_probability_passes_the_threshold():
    model = _model()
    ids, lens = _batch([4, 3])
    with torch.no_grad():
        model.decoder.stop_proj.bias.fill_(50.0)
        assert model(ids, lens, max_steps=9).mel.shape == (2, 1, CFG.n_mels)
        model.decoder.stop_proj.bias.fill_(-50.0)
        assert model(ids, lens, max_steps=9).mel.shape == (2, 9, CFG.n_mels)


def test_encode_text_pads_with_zero_and_maps_characters():
    ids, lengths = encode_text(["Ab", "c a."])
    assert lengths.tolist() == [2, 4]
    expected = [[SYMBOLS.index(ch) for ch in "ab"] + [0, 0], [SYMBOLS.index(ch) for ch in "c a."]]
    assert ids.tolist() == expected


@pytest.mark.parametrize("ids, lengths, message", [
    (torch.zeros(0, 4, dtype=torch.int64), torch.zeros(0, dtype=torch.int64), "at least one"),
    (torch.ones(2, 4, dtype=torch.int64), torch.tensor([4, 5]),
     r"lengths must lie in \[1, T_in=4\]"),
    (torch.ones(2, 4, dtype=torch.int64), torch.tensor([4, 0]), r"lengths must lie in"),
    (torch.ones(2, 4, dtype=torch.int64), torch.tensor([4]), r"lengths must be an int64 tensor"),
    (torch.ones(2, 4), torch.tensor([4, 4]), r"ids must be an int64 tensor"),
    (torch.ones(4, dtype=torch.int64), torch.tensor([4]),
     r"ids must be an int64 tensor \(N, T_in\)"),
    (torch.full((1, 3), 99), torch.tensor([3]), r"ids must lie in \[0, "),
])
def test_bad_text_batches_raise(ids, lengths, message):
    with pytest.raises(ValueError, match=message):
        _model()(ids, lengths, _targets(ids.shape[0] if ids.dim() == 2 else 1, 2))


def test_bad_targets_and_steps_raise():
    model = _model()
    ids, lens = _batch([3, 2])
    with pytest.raises(ValueError, match=r"targets must be \(N, T_out, M\)"):
        model(ids, lens, _targets(3, 2))
    with pytest.raises(ValueError, match=r"targets must be \(N, T_out, M\)"):
        model(ids, lens, _targets(2, 0))
    with pytest.raises(ValueError, match="targets must be torch.float64"):
        model(ids, lens, _targets(2, 2).float())
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        model(ids, lens)


@pytest.mark.parametrize("call, error, message", [
    (lambda: encode_text([]), ValueError, "non-empty list"),
    (lambda: encode_text("abc"), ValueError, "non-empty list"),
    (lambda: encode_text(["ok", ""]), ValueError, "non-empty string"),
    (lambda: encode_text(["caf\u00e9"]), ValueError, "not in the symbol table"),
    (lambda: TacotronConfig(conv_kernel=4), ValueError, "conv_kernel must be odd"),
    (lambda: TacotronConfig(embedding_dim=15), ValueError, "embedding_dim must be even"),
    (lambda: TacotronConfig(prenet_dropout=1.0), ValueError,
     r"prenet_dropout must lie in \[0, 1\)"),
    (lambda: TacotronConfig(decoder_dim=0), ValueError, "decoder_dim must be a positive integer"),
    (lambda: lstm_parameter_count(0, 3), ValueError, "input_size must be a positive integer"),
    (lambda: Tacotron2({"n_mels": 8}), TypeError, "cfg must be a TacotronConfig"),
])
def test_bad_configuration_and_text_raise(call, error, message):
    with pytest.raises(error, match=message):
        call()
