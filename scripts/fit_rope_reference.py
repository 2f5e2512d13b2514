"""Reference RoPE tables of the official FiT rope.py for every custom_freqs rule, for FitRopeReferenceTest.

Usage: python3 scripts/fit_rope_reference.py FIT_REPO OUT.json
FIT_REPO is a checkout of whlzy/FiT; einops is replaced by the two patterns rope.py uses.
"""
import json
import sys
import types

import torch


def _repeat(x, pattern, r):
    assert pattern == '... n -> ... (n r)'
    return x.unsqueeze(-1).expand(*x.shape, r).reshape(*x.shape[:-1], x.shape[-1] * r)


def _rearrange(x, pattern, r=None):
    if pattern == '... (d r) -> ... d r':
        return x.reshape(*x.shape[:-1], x.shape[-1] // r, r)
    assert pattern == '... d r -> ... (d r)'
    return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])


sys.modules['einops'] = types.SimpleNamespace(rearrange=_rearrange, repeat=_repeat)
sys.path.insert(0, sys.argv[1] + '/fit/model')
from rope import VisionRotaryEmbedding  # noqa: E402

head_dim, theta, ori = 24, 10000, 8
cases = []
for h, w in [(12, 10), (6, 20), (8, 8), (5, 7), (32, 16)]:
    grid_h, grid_w = torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32)
    g = torch.meshgrid(grid_w, grid_h, indexing='xy')
    grid = torch.cat([g[0].reshape(1, -1), g[1].reshape(1, -1)], dim=0)[None].long()
    for freqs in ['linear', 'ntk-aware', 'ntk-aware-pro1', 'ntk-aware-pro2', 'ntk-by-parts', 'yarn']:
        for decouple in [False, True]:
            rope = VisionRotaryEmbedding(head_dim=head_dim, custom_freqs=freqs, theta=theta, max_pe_len_h=h, max_pe_len_w=w,
                                         decouple=decouple, ori_max_pe_len=ori)
            cos, sin = rope.get_cached_2d_rope_from_grid(grid)
            cases.append(dict(h=h, w=w, custom_freqs=freqs, decouple=decouple, freqs_h=rope.freqs_h.tolist(),
                              freqs_w=rope.freqs_w.tolist(), cos_first=cos[0, 0].tolist(), cos_last=cos[0, -1].tolist(),
                              sin_last=sin[0, -1].tolist()))
with open(sys.argv[2], 'w') as f:
    json.dump(dict(head_dim=head_dim, theta=theta, ori_max_pe_len=ori, source='whlzy/FiT b22b7b0 fit/model/rope.py', cases=cases), f)
