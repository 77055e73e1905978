"""A small, faithful PyTorch model of Tacotron 2's spectrogram predictor (no training, no weights).

Chapter: 03-sequence-models/05-tacotron2. Architecture of Shen et al. (2018), "Natural TTS
Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions", Sec. 2.2-2.3, with every
width a field of :class:`TacotronConfig` (``TacotronConfig.paper()`` gives the paper's sizes):

    characters -> embedding -> 3 x [conv(k=5) -> batch norm -> ReLU -> dropout] -> BiLSTM = memory
    per output frame t:  p_t = prenet(y_{t-1})           (dropout on even at inference)
                         h_t = LSTM stack([p_t, c_{t-1}])  (2 layers)
                         a_t = location-sensitive attention(h_t, memory, sum_{s<t} a_s)
                         c_t = sum_j a_{t,j} memory_j
                         y_t = W_mel [h_t, c_t] + b,   stop logit_t = w_stop . [h_t, c_t] + b
    mel_postnet = y + postnet(y)   (5 convs, tanh on all but the last: a residual correction)

Layouts are batch first: text ids ``(N, T_in)``, memory ``(N, T_in, E)``, mel frames
``(N, T_out, M)``, alignments ``(N, T_out, T_in)``; convolutions see ``(N, C, T)``.
This module imports torch, so ``dlnotes/__init__.py`` does not import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_positive_int

__all__ = ["SYMBOLS", "TacotronConfig", "lstm_parameter_count", "encode_text", "padding_mask",
           "check_batch", "ConvBlock", "EncoderTrace", "Encoder", "Prenet",
           "LocationSensitiveAttention", "DecoderTrace", "Decoder", "Postnet", "TacotronOutput",
           "Tacotron2"]

SYMBOLS = "_ abcdefghijklmnopqrstuvwxyz'.,;:?!-"   # id 0 ("_") is padding


@dataclass(frozen=True)
class TacotronConfig:
    """Every size of the model. Defaults are small; :meth:`paper` returns the paper's widths."""
    n_symbols: int = len(SYMBOLS)
    embedding_dim: int = 16         # E: character embedding = conv channels = BiLSTM output
    encoder_convs: int = 3
    conv_kernel: int = 5            # encoder and post-net kernels ("same" padding, odd)
    n_mels: int = 8                 # M: channels of one mel frame
    prenet_dim: int = 12            # P: both pre-net layers
    attention_dim: int = 10         # A: the hidden size of the attention energies
    location_filters: int = 4       # F: filters convolving the cumulative weights
    location_kernel: int = 7        # odd
    decoder_dim: int = 20           # H: both decoder LSTM layers
    decoder_layers: int = 2
    postnet_channels: int = 12      # C
    postnet_layers: int = 5
    dropout: float = 0.5            # encoder convs and post-net (training mode only)
    prenet_dropout: float = 0.5     # always applied, also in eval mode
    stop_threshold: float = 0.5

    def __post_init__(self):
        for name in ("n_symbols", "embedding_dim", "encoder_convs", "conv_kernel", "n_mels",
                     "prenet_dim", "attention_dim", "location_filters", "location_kernel",
                     "decoder_dim", "decoder_layers", "postnet_channels"):
            check_positive_int(getattr(self, name), name)
        if self.postnet_layers < 2:
            raise ValueError(f"postnet_layers must be >= 2; got {self.postnet_layers!r}")
        if self.embedding_dim % 2:
            raise ValueError("embedding_dim must be even (the BiLSTM gives E/2 per direction); "
                             f"got {self.embedding_dim}")
        for name in ("conv_kernel", "location_kernel"):
            if getattr(self, name) % 2 == 0:
                raise ValueError(f"{name} must be odd for 'same' padding; "
                                 f"got {getattr(self, name)}")
        for name in ("dropout", "prenet_dropout", "stop_threshold"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must lie in [0, 1); got {getattr(self, name)!r}")

    @classmethod
    def paper(cls) -> TacotronConfig:
        """The widths of Shen et al. (2018): 512, 80 mels, 256, 128, 32 x 31, 1024, 512."""
        return cls(embedding_dim=512, n_mels=80, prenet_dim=256, attention_dim=128,
                   location_filters=32, location_kernel=31, decoder_dim=1024,
                   postnet_channels=512)


def lstm_parameter_count(input_size: int, hidden_size: int) -> int:
    """Parameters of one torch LSTM layer (one direction): 4H(D + H + 2).

    Four gates, each with W_ih (H, D), W_hh (H, H) and torch's two biases b_ih, b_hh (H,).
    """
    d = check_positive_int(input_size, "input_size")
    h = check_positive_int(hidden_size, "hidden_size")
    return 4 * h * (d + h + 2)


def encode_text(sentences, symbols: str = SYMBOLS) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower-case sentences -> padded id matrix ``(N, T_max)`` and lengths ``(N,)``.

    The ids are int64, with 0 as padding.
    """
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)) or not sentences:
        raise ValueError("sentences must be a non-empty list of strings")
    table = {ch: i for i, ch in enumerate(symbols)}
    rows = []
    for s in sentences:
        if not isinstance(s, str) or not s:
            raise ValueError(f"every sentence must be a non-empty string; got {s!r}")
        unknown = sorted({ch for ch in s.lower() if ch not in table or table[ch] == 0})
        if unknown:
            raise ValueError(f"characters {unknown} are not in the symbol table")
        rows.append([table[ch] for ch in s.lower()])
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.int64)
    ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.int64)
    for n, r in enumerate(rows):
        ids[n, :len(r)] = torch.tensor(r, dtype=torch.int64)
    return ids, lengths


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``(N,)`` lengths -> bool ``(N, max_len)``, True at real (unpadded) positions."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def check_batch(ids, lengths, n_symbols: int) -> None:
    """Refuse a text batch that is not ``(N >= 1, T_in >= 1)`` int64 with 1 <= lengths <= T_in."""
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.int64 or ids.dim() != 2:
        raise ValueError(f"ids must be an int64 tensor (N, T_in); got {_describe(ids)}")
    n, t = ids.shape
    if n == 0 or t == 0:
        raise ValueError("ids must hold at least one symbol of one sentence; "
                         f"got shape {tuple(ids.shape)}")
    if (not isinstance(lengths, torch.Tensor) or lengths.dtype != torch.int64
            or lengths.shape != (n,)):
        raise ValueError(f"lengths must be an int64 tensor of shape ({n},); "
                         f"got {_describe(lengths)}")
    if int(lengths.min()) < 1 or int(lengths.max()) > t:
        raise ValueError(f"lengths must lie in [1, T_in={t}]; got {lengths.tolist()}")
    if int(ids.min()) < 0 or int(ids.max()) >= n_symbols:
        raise ValueError(f"ids must lie in [0, {n_symbols}); got values in "
                         f"[{int(ids.min())}, {int(ids.max())}]")


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"{x.dtype} tensor of shape {tuple(x.shape)}"
    return type(x).__name__


class ConvBlock(nn.Module):
    """conv1d (same padding) -> batch norm -> activation -> dropout (training only).

    x: (N, C_in, T) -> (N, C_out, T). ``activation`` is "relu", "tanh" or "none".
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, activation: str, p: float):
        super().__init__()
        if activation not in ("relu", "tanh", "none"):
            raise ValueError(f"activation must be 'relu', 'tanh' or 'none'; got {activation!r}")
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, padding=(kernel - 1) // 2)
        self.norm = nn.BatchNorm1d(out_channels)
        self.activation, self.p = activation, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.conv(x))
        y = {"relu": torch.relu, "tanh": torch.tanh, "none": lambda z: z}[self.activation](y)
        return F.dropout(y, self.p, self.training)


class EncoderTrace(NamedTuple):
    """Every stage of the encoder (padded positions are exactly zero in each)."""
    embedded: torch.Tensor   # (N, T_in, E)
    convs: tuple             # each (N, E, T_in)
    memory: torch.Tensor     # (N, T_in, E): [forward half | backward half] of the BiLSTM


class Encoder(nn.Module):
    """Character embedding, a stack of conv blocks and one bidirectional LSTM (E/2 per direction).

    After each conv block the padded frames are set back to zero, so a sentence's encoding does
    not depend on how much padding its batch gave it (the paper does not say; NVIDIA's
    implementation lets the convolutions see the padding).
    """

    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        e = cfg.embedding_dim
        self.n_symbols = cfg.n_symbols
        self.embedding = nn.Embedding(cfg.n_symbols, e, padding_idx=0)
        self.convs = nn.ModuleList(ConvBlock(e, e, cfg.conv_kernel, "relu", cfg.dropout)
                                   for _ in range(cfg.encoder_convs))
        self.lstm = nn.LSTM(e, e // 2, batch_first=True, bidirectional=True)

    def trace(self, ids: torch.Tensor, lengths: torch.Tensor) -> EncoderTrace:
        """ids: (N, T_in) int64, lengths: (N,) int64 -> :class:`EncoderTrace`."""
        check_batch(ids, lengths, self.n_symbols)
        t_in = ids.shape[1]
        # keep: (N, 1, T_in)
        keep = padding_mask(lengths, t_in)[:, None, :].to(self.embedding.weight.dtype)
        embedded = self.embedding(ids)                              # (N, T_in, E)
        x, convs = embedded.transpose(1, 2), []                     # (N, E, T_in)
        for block in self.convs:
            x = block(x) * keep
            convs.append(x)
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), lengths.cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t_in)
        return EncoderTrace(embedded, tuple(convs), memory)          # memory: (N, T_in, E)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.trace(ids, lengths).memory


class Prenet(nn.Module):
    """Dense -> ReLU -> dropout, twice. Dropout is applied in eval mode too (p = 0 turns it off).

    x: (..., in_dim) -> (..., sizes[-1]).
    """

    def __init__(self, in_dim: int, sizes: tuple, p: float):
        super().__init__()
        dims = (in_dim, *sizes)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(dims))
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = F.dropout(torch.relu(layer(x)), self.p, training=True)
        return x


class LocationSensitiveAttention(nn.Module):
    """e_{t,j} = v . tanh(W s_t + b + V h_j + U f_{t,j}),  f_t = conv1d(sum_{s<t} alpha_s).

    Chorowski et al. (2015), with Tacotron 2's cumulative weights as the location input.
    """

    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int,
                 n_filters: int, kernel: int):
        super().__init__()
        self.query = nn.Linear(query_dim, attention_dim)                     # W, b
        self.memory = nn.Linear(memory_dim, attention_dim, bias=False)        # V
        self.location_conv = nn.Conv1d(1, n_filters, kernel, padding=(kernel - 1) // 2,
                                       bias=False)
        self.location = nn.Linear(n_filters, attention_dim, bias=False)       # U
        self.v = nn.Linear(attention_dim, 1, bias=False)

    def energies(self, query, processed_memory, cumulative) -> torch.Tensor:
        """query: (N, Q), processed_memory = V h: (N, T_in, A), cumulative: (N, T_in).

        Returns the energies, (N, T_in).
        """
        n, t_in, a = processed_memory.shape
        if query.dim() != 2 or query.shape[0] != n or cumulative.shape != (n, t_in):
            raise ValueError(f"query must be (N, Q) and cumulative (N, T_in) = ({n}, {t_in}); got "
                             f"{tuple(query.shape)} and {tuple(cumulative.shape)}")
        f = self.location_conv(cumulative[:, None, :]).transpose(1, 2)       # (N, T_in, F)
        hidden = torch.tanh(self.query(query)[:, None, :] + processed_memory + self.location(f))
        return self.v(hidden).squeeze(-1)                                     # (N, T_in)

    def forward(self, query, memory, processed_memory, cumulative, mask):
        """-> context (N, E), weights (N, T_in): softmax over the positions where mask is True."""
        e = self.energies(query, processed_memory, cumulative).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(e, dim=1)                                     # (N, T_in)
        context = torch.bmm(weights[:, None, :], memory).squeeze(1)           # (N, E)
        return context, weights


class DecoderTrace(NamedTuple):
    """The decoder's per-step quantities, stacked over the T_out steps."""
    mel: torch.Tensor          # (N, T_out, M) frames before the post-net
    stop_logits: torch.Tensor  # (N, T_out); sigmoid gives P(this is the last frame)
    alignments: torch.Tensor   # (N, T_out, T_in) attention weights
    contexts: torch.Tensor     # (N, T_out, E)
    prenet: torch.Tensor       # (N, T_out, P)
    lstm: torch.Tensor         # (N, T_out, H) output of the top LSTM layer (the query)


class Decoder(nn.Module):
    """Autoregressive decoder: pre-net, LSTM stack, location-sensitive attention, projections."""

    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        e, h, m = cfg.embedding_dim, cfg.decoder_dim, cfg.n_mels
        self.cfg = cfg
        self.prenet = Prenet(m, (cfg.prenet_dim, cfg.prenet_dim), cfg.prenet_dropout)
        self.lstms = nn.ModuleList(nn.LSTMCell(cfg.prenet_dim + e if i == 0 else h, h)
                                   for i in range(cfg.decoder_layers))
        self.attention = LocationSensitiveAttention(h, e, cfg.attention_dim,
                                                    cfg.location_filters, cfg.location_kernel)
        self.mel_proj = nn.Linear(h + e, m)
        self.stop_proj = nn.Linear(h + e, 1)

    def forward(self, memory, lengths, targets=None, max_steps=None) -> DecoderTrace:
        """memory: (N, T_in, E), lengths: (N,).

        With ``targets`` (N, T_out, M): teacher forcing, step t reads the true frame t-1.
        Without: free running for at most ``max_steps`` steps, each reading its own previous
        prediction, stopping once every sentence's stop probability exceeds the threshold.
        """
        if memory.dim() != 3 or not isinstance(lengths, torch.Tensor) \
                or lengths.shape != (memory.shape[0],):
            raise ValueError(f"memory must be (N, T_in, E) and lengths (N,); got "
                             f"{_describe(memory)} and {_describe(lengths)}")
        n, t_in, _ = memory.shape
        if n == 0 or int(lengths.min()) < 1 or int(lengths.max()) > t_in:
            raise ValueError(f"need N >= 1 and lengths in [1, T_in={t_in}]; got {lengths.tolist()}")
        free = targets is None
        if free:
            steps = check_positive_int(max_steps, "max_steps")
        else:
            if targets.dim() != 3 or targets.shape[0] != n or targets.shape[2] != self.cfg.n_mels \
                    or targets.shape[1] == 0:
                raise ValueError(f"targets must be (N, T_out, M) = ({n}, T_out >= 1, "
                                 f"{self.cfg.n_mels}); got {tuple(targets.shape)}")
            if targets.dtype != memory.dtype:
                raise ValueError(f"targets must be {memory.dtype} like the model; "
                                 f"got {targets.dtype}")
            steps = targets.shape[1]
            go = memory.new_zeros(n, 1, self.cfg.n_mels)
            prenet_all = self.prenet(torch.cat([go, targets[:, :-1]], dim=1))   # (N, T_out, P)
        mask = padding_mask(lengths.to(memory.device), t_in)
        processed = self.attention.memory(memory)                                # (N, T_in, A)
        hs = [memory.new_zeros(n, cell.hidden_size) for cell in self.lstms]
        cs = [memory.new_zeros(n, cell.hidden_size) for cell in self.lstms]
        context, cumulative = memory.new_zeros(n, memory.shape[2]), memory.new_zeros(n, t_in)
        frame = memory.new_zeros(n, self.cfg.n_mels)                             # the "go" frame
        out = {k: [] for k in DecoderTrace._fields}
        for t in range(steps):
            p = self.prenet(frame) if free else prenet_all[:, t]                 # (N, P)
            x = torch.cat([p, context], dim=1)                                   # (N, P + E)
            for i, cell in enumerate(self.lstms):
                hs[i], cs[i] = cell(x, (hs[i], cs[i]))
                x = hs[i]                                                        # (N, H)
            context, weights = self.attention(x, memory, processed, cumulative, mask)
            cumulative = cumulative + weights
            both = torch.cat([x, context], dim=1)                                # (N, H + E)
            frame = self.mel_proj(both)                                          # (N, M)
            stop = self.stop_proj(both).squeeze(1)                               # (N,)
            step_values = (frame, stop, weights, context, p, x)
            for k, v in zip(DecoderTrace._fields, step_values, strict=True):
                out[k].append(v)
            if free and bool((torch.sigmoid(stop) > self.cfg.stop_threshold).all()):
                break
        return DecoderTrace(*(torch.stack(out[k], dim=1) for k in DecoderTrace._fields))


class Postnet(nn.Module):
    """postnet_layers conv blocks (tanh on all but the last).

    mel (N, T, M) -> residual (N, T, M).
    """

    def __init__(self, cfg: TacotronConfig):
        super().__init__()
        m, c, k, n = cfg.n_mels, cfg.postnet_channels, cfg.conv_kernel, cfg.postnet_layers
        chans = [m] + [c] * (n - 1) + [m]
        self.blocks = nn.ModuleList(
            ConvBlock(chans[i], chans[i + 1], k, "tanh" if i < n - 1 else "none", cfg.dropout)
            for i in range(n))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel.transpose(1, 2)                     # (N, M, T)
        for block in self.blocks:
            x = block(x)                            # (N, C, T), last block (N, M, T)
        return x.transpose(1, 2)                    # (N, T, M)


class TacotronOutput(NamedTuple):
    """What :class:`Tacotron2` returns: the final frames plus both traces."""
    mel: torch.Tensor           # (N, T_out, M) before the post-net
    mel_postnet: torch.Tensor   # (N, T_out, M) = mel + postnet(mel)
    stop_logits: torch.Tensor   # (N, T_out)
    alignments: torch.Tensor    # (N, T_out, T_in)
    encoder: EncoderTrace
    decoder: DecoderTrace


class Tacotron2(nn.Module):
    """The spectrogram predictor of Tacotron 2 (the WaveNet vocoder is not part of it).

    forward(ids (N, T_in) int64, lengths (N,) int64, targets (N, T_out, M) or None,
    max_steps) -> :class:`TacotronOutput`. Build, then ``.double()`` and ``.eval()`` as needed.
    """

    def __init__(self, cfg: TacotronConfig = TacotronConfig()):
        super().__init__()
        if not isinstance(cfg, TacotronConfig):
            raise TypeError(f"cfg must be a TacotronConfig; got {type(cfg).__name__}")
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.postnet = Postnet(cfg)

    def forward(self, ids, lengths, targets=None, max_steps=None) -> TacotronOutput:
        enc = self.encoder.trace(ids, lengths)
        dec = self.decoder(enc.memory, lengths, targets, max_steps)
        mel_postnet = dec.mel + self.postnet(dec.mel)
        return TacotronOutput(dec.mel, mel_postnet, dec.stop_logits, dec.alignments, enc, dec)
