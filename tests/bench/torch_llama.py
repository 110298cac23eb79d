"""The benchmarks' measuring stick: the engine's LLaMA-style decoder
(src/model/transformer.ts: RMSNorm, RoPE, causal attention with grouped KV
heads, SwiGLU MLP, untied LM head; fp32) in PyTorch on the CPU. Shared by
engine_torch.py and round_torch.py; run with Debian's /usr/bin/python3
(python3-torch 1.13).

`Llama.forward` takes ids of any leading shape [..., T]. Its weights may be
handed in instead of the module's own: `stacked` gives every tensor a
leading client axis (several models side by side, run by batched matmuls),
and the ids are then [clients, T].
"""
import base64
import math

import torch
import torch.nn.functional as F


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


# This module's parameter names → Hugging Face names (src/model/layout.ts).
_LAYER_NAMES = {
    "q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
    "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
    "down": "mlp.down_proj", "n1": "input_layernorm", "n2": "post_attention_layernorm",
}


def hf_name(name):
    """The Hugging Face name of parameter `name` (`layers.0.q` → `model.layers.0.self_attn.q_proj.weight`)."""
    if name == "embed":
        return "model.embed_tokens.weight"
    if name == "norm":
        return "model.norm.weight"
    if name == "head":
        return "lm_head.weight"
    _, i, short = name.split(".")
    return f"model.layers.{i}.{_LAYER_NAMES[short]}.weight"


class Llama(torch.nn.Module):
    """The decoder for a job's config dict: hidden, layers, heads, kv_heads,
    intermediate, vocab, max_positions, rope_theta, eps."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        C, I, V = c["hidden"], c["intermediate"], c["vocab"]
        D = C // c["heads"]
        Ckv = c["kv_heads"] * D
        g = torch.Generator().manual_seed(0)
        p = lambda *s: torch.nn.Parameter(torch.randn(*s, generator=g) * 0.02)
        self.embed = p(V, C)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["layers"]):
            layer = torch.nn.Module()
            layer.q, layer.k, layer.v, layer.o = p(C, C), p(Ckv, C), p(Ckv, C), p(C, C)
            layer.gate, layer.up, layer.down = p(I, C), p(I, C), p(C, I)
            layer.n1 = torch.nn.Parameter(torch.ones(C))
            layer.n2 = torch.nn.Parameter(torch.ones(C))
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(C))
        self.head = p(V, C)
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2).float() / D))
        t = torch.arange(c["max_positions"]).float()
        freqs = torch.outer(t, inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def load_f32_base64(self, tensors):
        """Sets every parameter from {HF name: base64 of little-endian f32 values}."""
        with torch.no_grad():
            for name, param in self.named_parameters():
                raw = bytearray(base64.b64decode(tensors[hf_name(name)]))
                values = torch.frombuffer(raw, dtype=torch.float32)
                param.copy_(values.view(param.shape))

    def stacked(self, clients):
        """The module's weights repeated over a leading client axis, as leaf tensors
        that require grad (1-D weights as [clients, 1, n], to broadcast over tokens)."""
        out = {}
        for name, param in self.named_parameters():
            w = param.detach()
            if w.dim() == 1:
                w = w.unsqueeze(0)
            out[name] = w.unsqueeze(0).repeat(clients, *([1] * w.dim())).requires_grad_()
        return out

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["eps"]) * w

    def forward(self, ids, past=None, start=0, weights=None):
        """Logits [..., T, vocab] and the KV cache ([(k, v)] per layer, each
        [..., S, kv_heads, head_dim]) of ids [..., T] at positions start … start + T − 1."""
        c = self.c
        w = weights if weights is not None else dict(self.named_parameters())
        T = ids.shape[-1]
        H, Hkv = c["heads"], c["kv_heads"]
        D = c["hidden"] // H
        cos = self.cos[start:start + T, None, :]
        sin = self.sin[start:start + T, None, :]
        embed = w["embed"]
        if embed.dim() == 3:  # stacked clients: ids [clients, T]
            x = embed[torch.arange(embed.shape[0])[:, None], ids]
        else:
            x = embed[ids]
        lin = lambda h, W: h @ W.transpose(-1, -2)
        new_past = []
        for i in range(c["layers"]):
            L = lambda name: w[f"layers.{i}.{name}"]
            h = self.rms(x, L("n1"))
            q = lin(h, L("q")).unflatten(-1, (H, D))
            k = lin(h, L("k")).unflatten(-1, (Hkv, D))
            v = lin(h, L("v")).unflatten(-1, (Hkv, D))
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if past is not None:
                k = torch.cat((past[i][0], k), -3)
                v = torch.cat((past[i][1], v), -3)
            new_past.append((k, v))
            rep = H // Hkv
            kk = k.repeat_interleave(rep, dim=-2).transpose(-3, -2)
            vv = v.repeat_interleave(rep, dim=-2).transpose(-3, -2)
            qq = q.transpose(-3, -2)
            scores = qq @ kk.transpose(-1, -2) / math.sqrt(D)
            S = kk.shape[-2]
            mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            scores = scores.masked_fill(~mask, float("-inf"))
            a = (scores.softmax(-1) @ vv).transpose(-3, -2).flatten(-2)
            x = x + lin(a, L("o"))
            h2 = self.rms(x, L("n2"))
            x = x + lin(F.silu(lin(h2, L("gate"))) * lin(h2, L("up")), L("down"))
        return lin(self.rms(x, w["norm"]), w["head"]), new_past


def blas_library():
    """Debian's torch links the generic libblas.so.3; the alternatives link says which one."""
    import glob
    import os
    for link in glob.glob("/etc/alternatives/libblas.so.3*"):
        target = os.path.realpath(link)
        return "OpenBLAS" if "openblas" in target else target
    return "unknown"
