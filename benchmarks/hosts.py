"""Overhead of writesae's host patch on CPU: capture of one cell (no states) and one edit, relative to a plain forward.

Random-weight models with Qwen3.5-0.8B-like dimensions (24 layers, full attention every fourth, 16 value heads with
d_k = d_v = 128, hidden 1024, intermediate 3584) and a Mamba-2 of similar size (24 layers, hidden 1024, 32 heads of
head_dim 64, state 128), and an RWKV-7 like the official 0.1B (writesae's pure-torch model: 12 layers, hidden 768, 12
heads of 64, channel mix 3072, low-rank widths 64/64/32/128; weights drawn by `random_rwkv7`). The vocabulary is reduced to 32k (the real Qwen3.5 has 248k) to save memory and time; it only
changes the shared lm_head cost. T = 1024, batch 1, no grad, fp32; median of --repeats timed runs after one warm-up, the
three conditions interleaved. Prints wall-clock and process CPU-time ratios: on a machine shared with other jobs the
wall clock swings by 4x between runs, while CPU time with one torch thread (the default here) stays stable.
Targets: capture <= 1.3x, one edit <= 1.5x.
Usage: python benchmarks/hosts.py [--family all] [--layers 24] [--rwkv-layers 12] [--T 1024] [--repeats 3] [--threads 1]
"""
import argparse, os, statistics, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
import transformers
from writesae.hosts import Cell, Edit, host_for

transformers.logging.set_verbosity_error()

def qwen35_like(layers, vocab):
    from transformers import Qwen3_5TextConfig, Qwen3_5ForCausalLM
    types = ["full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(layers)]
    cfg = Qwen3_5TextConfig(vocab_size=vocab, hidden_size=1024, intermediate_size=3584, num_hidden_layers=layers,
                            layer_types=types, num_attention_heads=8, num_key_value_heads=2, head_dim=256,
                            linear_num_key_heads=16, linear_num_value_heads=16, linear_key_head_dim=128,
                            linear_value_head_dim=128, linear_conv_kernel_dim=4, tie_word_embeddings=True)
    return Qwen3_5ForCausalLM(cfg).eval()

def mamba2_like(layers, vocab):
    from transformers import Mamba2Config, Mamba2ForCausalLM
    cfg = Mamba2Config(vocab_size=vocab, hidden_size=1024, num_heads=32, head_dim=64, expand=2, state_size=128,
                       n_groups=1, num_hidden_layers=layers, chunk_size=256, tie_word_embeddings=True)
    return Mamba2ForCausalLM(cfg).eval()

def rwkv7_like(layers, vocab):
    from writesae.rwkv7 import RWKV7Config, random_rwkv7
    cfg = RWKV7Config(vocab_size=vocab, hidden_size=768, num_hidden_layers=layers, head_dim=64, intermediate_size=3072,
                      decay_low_rank_dim=64, a_low_rank_dim=64, v_low_rank_dim=32, gate_low_rank_dim=128)
    return random_rwkv7(cfg)


def bench(name, model, T, repeats):
    host = host_for(model)
    L = host.layers[len(host.layers) // 2]
    cell = Cell(L, 4)
    d_k, d_v = host.dims(cell)
    torch.manual_seed(0)
    ids = torch.randint(0, model.config.vocab_size, (1, T))
    edit = [Edit(cell, T // 2 + 5, "replace", torch.randn(d_k, d_v) / d_k)]

    def plain():
        with torch.no_grad(): model(ids, use_cache=False)
    def capture():
        with host.patched(capture=[cell]), torch.no_grad(): model(ids, use_cache=False)
    def one_edit():
        host.forward(ids, edit)
    # interleave the three conditions so that load from other jobs hits them alike
    # interleave the three conditions so that load from other jobs hits them alike; record wall and CPU time
    wall, cpu = {k: [] for k in ("plain", "capture", "edit")}, {k: [] for k in ("plain", "capture", "edit")}
    for f in (plain, capture, one_edit): f()  # warm-up
    for _ in range(repeats):
        for k, f in (("plain", plain), ("capture", capture), ("edit", one_edit)):
            t, c = time.perf_counter(), time.process_time()
            f()
            wall[k].append(time.perf_counter() - t); cpu[k].append(time.process_time() - c)
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"{name}: {n_params:.0f}M params, T={T}, batch 1, cell {cell}, torch threads={torch.get_num_threads()}, {repeats} repeats")
    for label, res in (("wall", wall), ("cpu", cpu)):
        med = {k: statistics.median(v) for k, v in res.items()}
        print(f"  [{label} time] plain {med['plain']:.2f} s (runs {[round(x, 1) for x in res['plain']]})")
        print(f"  [{label} time] capture 1 cell, no states: {med['capture']:.2f} s, ratio {med['capture']/med['plain']:.3f} (target <= 1.3)")
        print(f"  [{label} time] one edit:                  {med['edit']:.2f} s, ratio {med['edit']/med['plain']:.3f} (target <= 1.5)")
    print(flush=True)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--T", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rwkv-layers", type=int, default=12)
    ap.add_argument("--family", default="all", choices=["all", "both", "gated_deltanet", "mamba2", "rwkv7"], help="both: GDN and Mamba-2")
    ap.add_argument("--threads", type=int, default=1, help="torch threads; 1 makes CPU time a stable measure on a shared machine")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.family in ("all", "both", "gated_deltanet"):
        bench("Qwen3.5-0.8B-like (GDN)", qwen35_like(a.layers, a.vocab), a.T, a.repeats)
    if a.family in ("all", "both", "mamba2"):
        bench("Mamba-2 (similar size)", mamba2_like(a.layers, a.vocab), a.T, a.repeats)
    if a.family in ("all", "rwkv7"):
        bench("RWKV-7 (0.1B-like)", rwkv7_like(a.rwkv_layers, a.vocab), a.T, a.repeats)
