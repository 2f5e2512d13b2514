"""What the official FiTv1 code (whlzy/FiT) imports beyond Debian's torch 1.13, so it runs unchanged there: timm's SwiGLU
and Mlp (timm's parameter names), the einops patterns it uses, the torch >= 2.1 API (scaled_dot_product_attention with a
boolean mask, LayerNorm(bias=False)), and stubs for triton, safetensors, tqdm and the missing fit.model.sincos."""
import math
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.SiLU, norm_layer=None, bias=True, drop=0.):
        super().__init__()
        out_features = out_features or in_features
        self.fc1_g = nn.Linear(in_features, hidden_features, bias=bias)
        self.fc1_x = nn.Linear(in_features, hidden_features, bias=bias)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features, bias=bias)

    def forward(self, x):
        return self.fc2(self.act(self.fc1_g(x)) * self.fc1_x(x))


class Mlp(nn.Module):
    def __init__(self, in_features, hidden_features, act_layer=nn.GELU, bias=True, drop=0.):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features, bias=bias)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, in_features, bias=bias)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def rearrange(x, pattern, **sizes):
    if pattern in ('B C N -> B N C', 'B N C -> B C N'):
        return x.transpose(1, 2)
    if pattern == '... (d r) -> ... d r':
        return x.reshape(*x.shape[:-1], x.shape[-1] // sizes['r'], sizes['r'])
    if pattern == '... d r -> ... (d r)':
        return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])
    if pattern == 'b c (h w) -> b c h w':
        return x.reshape(x.shape[0], x.shape[1], sizes['h'], sizes['w'])
    if pattern == 'b (c p1 p2) h w -> b c (h p1) (w p2)':
        b, _, h, w = x.shape
        p1, p2 = sizes['p1'], sizes['p2']
        x = x.reshape(b, -1, p1, p2, h, w).permute(0, 1, 4, 2, 5, 3)
        return x.reshape(b, -1, h * p1, w * p2)
    raise NotImplementedError(pattern)


def repeat(x, pattern, r):
    assert pattern == '... n -> ... (n r)'
    return x.unsqueeze(-1).expand(*x.shape, r).reshape(*x.shape[:-1], x.shape[-1] * r)


def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0):
    """torch 2's documented math: softmax(q·kᵀ/sqrt(d), −inf where a boolean mask is False) @ v."""
    s = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if attn_mask is not None:
        s = s.masked_fill(~attn_mask, float('-inf'))
    return s.softmax(-1) @ v


class _LayerNorm(nn.LayerNorm):
    def __init__(self, *args, bias=True, **kwargs):
        super().__init__(*args, **kwargs)


def install(fit_repo):
    F.scaled_dot_product_attention = scaled_dot_product_attention
    nn.LayerNorm = _LayerNorm
    mlp = types.ModuleType('timm.layers.mlp')
    mlp.SwiGLU, mlp.Mlp = SwiGLU, Mlp
    stubs = {'timm': types.ModuleType('timm'), 'timm.layers': types.ModuleType('timm.layers'), 'timm.layers.mlp': mlp,
             'einops': types.SimpleNamespace(rearrange=rearrange, repeat=repeat),
             'triton': types.ModuleType('triton'), 'triton.language': types.ModuleType('triton.language'),
             'safetensors': types.ModuleType('safetensors'), 'safetensors.torch': types.SimpleNamespace(load_file=None),
             'tqdm': types.SimpleNamespace(tqdm=lambda x, **k: x),
             'fit.model.sincos': types.SimpleNamespace(get_2d_sincos_pos_embed_from_grid=None)}
    sys.modules.update(stubs)
    sys.path.insert(0, fit_repo)
