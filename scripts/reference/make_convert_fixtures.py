#!/usr/bin/env python3
"""Weight-layout fixtures for `dit4j convert` tests, made from the official tiny DiT in ../shared/fixtures.

Usage: /usr/bin/python3 scripts/reference/make_convert_fixtures.py --fixtures ../shared/fixtures --out src/test/resources/convert

Writes: the legacy (pre-1.6, non-zip) torch.save format; float16 and bfloat16 zip checkpoints; a U-ViT-style
{"nnet", "nnet_ema"} dict; a diffusers DiTTransformer2DModel folder (.bin) and a diffusers pipeline folder
(transformer/ with .safetensors). The diffusers renaming follows diffusers' scripts/convert_dit_to_diffusers.py.
Needs Debian's python3-torch; never used by dit4j at run time.
"""
import argparse
import json
import os
import struct

import torch


def to_diffusers(sd, depth):
    d = {}
    d["pos_embed.proj.weight"] = sd["x_embedder.proj.weight"]
    d["pos_embed.proj.bias"] = sd["x_embedder.proj.bias"]
    for i in range(depth):
        e = "transformer_blocks.%d.norm1.emb." % i
        d[e + "timestep_embedder.linear_1.weight"] = sd["t_embedder.mlp.0.weight"].clone()
        d[e + "timestep_embedder.linear_1.bias"] = sd["t_embedder.mlp.0.bias"].clone()
        d[e + "timestep_embedder.linear_2.weight"] = sd["t_embedder.mlp.2.weight"].clone()
        d[e + "timestep_embedder.linear_2.bias"] = sd["t_embedder.mlp.2.bias"].clone()
        d[e + "class_embedder.embedding_table.weight"] = sd["y_embedder.embedding_table.weight"].clone()
        b, t = "blocks.%d." % i, "transformer_blocks.%d." % i
        d[t + "norm1.linear.weight"] = sd[b + "adaLN_modulation.1.weight"]
        d[t + "norm1.linear.bias"] = sd[b + "adaLN_modulation.1.bias"]
        for name, w in zip(("to_q", "to_k", "to_v"), torch.chunk(sd[b + "attn.qkv.weight"], 3, dim=0)):
            d[t + "attn1.%s.weight" % name] = w.contiguous()
        for name, w in zip(("to_q", "to_k", "to_v"), torch.chunk(sd[b + "attn.qkv.bias"], 3, dim=0)):
            d[t + "attn1.%s.bias" % name] = w.contiguous()
        d[t + "attn1.to_out.0.weight"] = sd[b + "attn.proj.weight"]
        d[t + "attn1.to_out.0.bias"] = sd[b + "attn.proj.bias"]
        d[t + "ff.net.0.proj.weight"] = sd[b + "mlp.fc1.weight"]
        d[t + "ff.net.0.proj.bias"] = sd[b + "mlp.fc1.bias"]
        d[t + "ff.net.2.weight"] = sd[b + "mlp.fc2.weight"]
        d[t + "ff.net.2.bias"] = sd[b + "mlp.fc2.bias"]
    d["proj_out_1.weight"] = sd["final_layer.adaLN_modulation.1.weight"]
    d["proj_out_1.bias"] = sd["final_layer.adaLN_modulation.1.bias"]
    d["proj_out_2.weight"] = sd["final_layer.linear.weight"]
    d["proj_out_2.bias"] = sd["final_layer.linear.bias"]
    return d


def write_safetensors(path, tensors):
    """The safetensors layout by hand (Debian has no python3-safetensors): u64 header size, JSON header, raw data."""
    header, blobs, offset = {}, [], 0
    for k, v in tensors.items():
        b = v.contiguous().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tiny = os.path.join(a.fixtures, "dit-tiny")
    sd = torch.load(os.path.join(tiny, "weights", "DiT-tiny.pt"), map_location="cpu")
    kw = json.load(open(os.path.join(tiny, "config.json")))["model_kwargs"]
    os.makedirs(a.out, exist_ok=True)
    torch.save(sd, os.path.join(a.out, "DiT-tiny-legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save({k: v.half() for k, v in sd.items()}, os.path.join(a.out, "DiT-tiny-fp16.pt"))
    torch.save({k: v.bfloat16() for k, v in sd.items()}, os.path.join(a.out, "DiT-tiny-bf16.pt"))
    torch.save({"nnet": sd, "nnet_ema": sd, "step": 7}, os.path.join(a.out, "DiT-tiny-nnet.pth"))
    d = to_diffusers(sd, kw["depth"])
    config = {"_class_name": "DiTTransformer2DModel", "activation_fn": "gelu-approximate", "attention_bias": True,
              "attention_head_dim": kw["hidden_size"] // kw["num_heads"], "in_channels": kw["in_channels"],
              "norm_elementwise_affine": False, "norm_type": "ada_norm_zero", "num_attention_heads": kw["num_heads"],
              "num_embeds_ada_norm": kw["num_classes"], "num_layers": kw["depth"],
              "out_channels": kw["in_channels"] * 2, "patch_size": kw["patch_size"], "sample_size": kw["input_size"]}
    model_dir = os.path.join(a.out, "diffusers-tiny")
    os.makedirs(model_dir, exist_ok=True)
    torch.save(d, os.path.join(model_dir, "diffusion_pytorch_model.bin"))
    json.dump(config, open(os.path.join(model_dir, "config.json"), "w"), indent=1)
    pipe_dir = os.path.join(a.out, "diffusers-pipeline", "transformer")
    os.makedirs(pipe_dir, exist_ok=True)
    write_safetensors(os.path.join(pipe_dir, "diffusion_pytorch_model.safetensors"), d)
    json.dump(config, open(os.path.join(pipe_dir, "config.json"), "w"), indent=1)
    json.dump({"_class_name": "DiTPipeline"}, open(os.path.join(a.out, "diffusers-pipeline", "model_index.json"), "w"))
    print("wrote", a.out)


if __name__ == "__main__":
    main()
