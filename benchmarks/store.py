"""Store benchmarks on CPU, ratios from one run.

1. bytes per token and cell of a compact store (pieces + a checkpoint every P positions) against dense fp32 states, measured on
   the store written in 2 (16 heads of 128 x 128);
2. capture of all 16 heads of one GDN layer of a Qwen3.5-0.8B-like random model (benchmarks/hosts.py's config; --layers sets
   the depth, 24 for the real one) into a compact store, against a plain forward, at T = --T;
3. state rebuild throughput (StoreBatches, fraction 1 and 1/4) against the states/s one WriteSAE training step consumes
   (n_f 2048, k 32, batch 256, 128 x 128);
4. recurrent vs direct WriteSAE encoding (n_f 2048) of every state of one passage of one cell;
5. (--only cells) training 4 cells from one store in 1 process vs 2 torchrun processes (gloo), states/s over all cells;
6. WriteSAE training (n_f 2048, k 32, batch 256 = 16 segments x 16 positions) with the recurrent encoding against the dense step on
   the same batch: the step alone, and states/s from the store (segment rebuild included).
Wall-clock and process CPU time are both printed: on a shared machine the wall clock swings, CPU time with one thread does not.
Usage: python benchmarks/store.py [--layers 24] [--T 1024] [--passages 2] [--threads 1] [--only main|cells]
"""
import argparse, os, shutil, sys, tempfile, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
import transformers
sys.path.insert(0, os.path.dirname(__file__))
from hosts import qwen35_like
from writesae.hosts import Cell, host_for
from writesae.sae import WriteSAEConfig, build_sae
from writesae.train import make_optimizer, TrainingState
from writesae.store import StoreBatches, bilinear_encoder, capture_store, recurrent_pre_acts, recurrent_forward

transformers.logging.set_verbosity_error()


def timed(f, repeats=1):
    "Median (wall, cpu) seconds of `repeats` calls and the last result."
    ws, cs = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        r = f()
        ws.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    return sorted(ws)[len(ws) // 2], sorted(cs)[len(cs) // 2], r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=24); ap.add_argument("--T", type=int, default=1024)
    ap.add_argument("--passages", type=int, default=2); ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--P", type=int, default=256, help="checkpoint_every")
    ap.add_argument("--only", default=None, choices=["main", "cells"], help="run only the main cases (1-4) or only case 5")
    ap.add_argument("--steps", type=int, default=100, help="case 5: steps per cell")
    a = ap.parse_args()
    if a.only != "main": bench_cells(a)
    if a.only == "cells": return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = qwen35_like(a.layers, 32000)
    host = host_for(model)
    L = host.layers[len(host.layers) // 2]
    cells = [Cell(L, h) for h in range(host.n_heads(L))]
    ids = torch.randint(0, 32000, (a.passages, a.T))
    tmp = tempfile.mkdtemp()
    print(f"Qwen3.5-0.8B-like random model, {a.layers} layers, {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M params; "
          f"layer {L}, {len(cells)} heads of {host.dims(cells[0])}; T = {a.T}, {a.passages} passages, P = {a.P}, {a.threads} thread(s)")

    # 2. capture vs plain forward (one passage per forward, as the store does with batch_size 1)
    def plain():
        with torch.no_grad():
            for i in range(a.passages): model(ids[i:i + 1], use_cache=False)
    def capture():
        shutil.rmtree(f"{tmp}/s", ignore_errors=True)
        return capture_store(f"{tmp}/s", model, ids, cells, checkpoint_every=a.P, shard_passages=a.passages, batch_size=1, progress=False)
    plain()  # warm-up
    wp, cp, _ = timed(plain)
    wc, cc, st = timed(capture)
    print(f"[capture] plain forward {wp:.2f} s wall / {cp:.2f} s cpu; capture of {len(cells)} heads to a compact store "
          f"{wc:.2f} s / {cc:.2f} s: ratio {wc / wp:.2f}x wall, {cc / cp:.2f}x cpu (target <= 1.5x)")

    # 1. bytes per token and cell
    size = sum(os.path.getsize(f"{tmp}/s/{f['file']}") for f in st.manifest["shards"])
    per = size / (a.passages * a.T * len(cells))
    d_k, d_v = host.dims(cells[0])
    print(f"[bytes] compact store {per:.0f} B per token and cell (tokens and headers included) vs dense fp32 {d_k * d_v * 4} B: "
          f"{d_k * d_v * 4 / per:.1f}x smaller (target >= 50x)")

    # 3. rebuild throughput vs a WriteSAE training step's consumption
    cell = cells[4]
    sae = build_sae(WriteSAEConfig(d_k=d_k, d_v=d_v, n_features=2048, k=32))
    opt = make_optimizer(sae, 3e-4)
    X = st.states(cell, [0], 0, 256)[0]
    def step():
        o = sae(X); opt.zero_grad(set_to_none=True); o.loss.backward(); opt.step(); sae.normalize_decoder()
    step()
    ws, cs, _ = timed(step, 3)
    train_rate_w, train_rate_c = 256 / ws, 256 / cs
    print(f"[train] WriteSAE n_f 2048, k 32, batch 256: {train_rate_w:.0f} states/s wall, {train_rate_c:.0f} states/s cpu")
    for frac in (1.0, 0.25):
        sb = StoreBatches(st, cell, split="train" if st.split("train") else "test", batch_size=256, fraction=frac)
        n = sb.n_states
        wr, cr, _ = timed(lambda: sum(len(b) for b in sb(0)))
        print(f"[rebuild] fraction {frac}: {n} states in {wr:.2f} s wall / {cr:.2f} s cpu = {n / wr:.0f} / {n / cr:.0f} states/s: "
              f"{n / wr / train_rate_w:.1f}x wall, {n / cr / train_rate_c:.1f}x cpu the training step's consumption (target >= 3x)")

    # 4. recurrent vs direct encoding of every state of one passage
    data = st.cell_data(cell, [0])
    pieces = {k: data[k] for k in st.recurrence.pieces}
    with torch.no_grad():
        S = st.states(cell, [0])[0]
        wd, cd, direct = timed(lambda: torch.cat([sae.pre_acts(S[i:i + 256]) for i in range(0, a.T, 256)]), 3)
        wb, cb, _ = timed(lambda: st.states(cell, [0]), 3)
        enc = bilinear_encoder(sae)  # the encoder factors and offset, once per SAE
        wrc, crc, rec = timed(lambda: recurrent_pre_acts(sae, st.recurrence, pieces, data["checkpoints"], a.P, enc), 3)
    err = ((rec[0] - direct).abs().max() / direct.abs().max()).item()
    print(f"[encode] {a.T} states, n_f 2048: direct pre_acts of formed states {wd:.3f} s wall / {cd:.3f} s cpu "
          f"(+ rebuilding them {wb:.3f} / {cb:.3f}); recurrent {wrc:.3f} / {crc:.3f}: "
          f"{wd / wrc:.1f}x wall, {cd / crc:.1f}x cpu faster than encoding formed states, "
          f"{(wd + wb) / wrc:.1f}x / {(cd + cb) / crc:.1f}x counting the rebuild (target >= 10x); max rel. difference {err:.1e}")

    # 6. recurrent vs dense training step on the same segment batch (16 x 16, then 8 x 32), then from the store
    ts = TrainingState(sae)  # dead counters and the aux loss, as the trainer runs them
    def rec_step(b):
        o = recurrent_forward(ts, b); opt.zero_grad(set_to_none=True); o.loss.backward(); opt.step(); sae.normalize_decoder()
    for seg_len in (32, 16):
        sbs = StoreBatches(st, cell, split="train" if st.split("train") else "test", batch_size=256, segment_len=seg_len)
        seg = next(iter(sbs(0)))
        Xs = seg.flat()
        def dense_step():
            o = ts(Xs); opt.zero_grad(set_to_none=True); o.loss.backward(); opt.step(); sae.normalize_decoder()
        with torch.no_grad():  # the recurrent step computes the dense step's loss (checked before timing either)
            l_d, l_r = ts(Xs, update=False).loss.item(), recurrent_forward(ts, seg, update=False).loss.item()
        assert abs(l_d - l_r) <= 1e-4 * abs(l_d), (l_d, l_r)
        dense_step(); rec_step(seg)
        wds, cds, _ = timed(dense_step, 5)
        wrs, crs, _ = timed(lambda: rec_step(seg), 5)
        print(f"[rtrain] {256 // seg_len} segments x {seg_len} positions: dense step {256 / wds:.0f} states/s wall / {256 / cds:.0f} cpu; "
              f"recurrent step {256 / wrs:.0f} / {256 / crs:.0f}: {wds / wrs:.1f}x wall, {cds / crs:.1f}x cpu (target >= 3x); "
              f"losses {l_d:.6g} vs {l_r:.6g}")
    def from_store():
        n = 0
        for b in sbs(0): rec_step(b); n += b.states.shape[0] * seg_len  # 16 x 16 batches
        return n
    wf, cf, n = timed(from_store)
    wb2, cb2, _ = timed(lambda: sum(1 for _ in sbs(0)))
    print(f"[rtrain] from the store, segment rebuild included: {n} states in {wf:.2f} s wall / {cf:.2f} s cpu = {n / wf:.0f} / {n / cf:.0f} "
          f"states/s: {n / wf / (256 / wds):.1f}x wall, {n / cf / (256 / cds):.1f}x cpu the dense step (which excludes its own rebuild); "
          f"the segment rebuild alone runs at {n / wb2:.0f} states/s wall")
    shutil.rmtree(tmp, ignore_errors=True)


CELLS_SCRIPT = """
import sys, time, torch
from writesae.store import Store, train_cells, init_distributed
from writesae.train import TrainConfig
rank, world = init_distributed()
st = Store(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
res = train_cells(st, st.cells, sys.argv[2], dict(n_features=1024, k=16), TrainConfig(steps=int(sys.argv[3]), batch_size=256, log_every=50))
print(f"RANK {rank} {len(res)} {time.perf_counter() - t:.3f} {time.process_time() - c:.3f}", flush=True)
"""

def bench_cells(a):
    "Case 5: 4 cells of 64 x 64, one SAE each, trained from one store by 1 process and by 2 torchrun processes."
    import subprocess
    from transformers import Qwen3_5TextConfig, Qwen3_5ForCausalLM
    torch.manual_seed(0)
    cfg = Qwen3_5TextConfig(vocab_size=1000, hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                            layer_types=["linear_attention", "full_attention"], num_attention_heads=4, num_key_value_heads=2,
                            head_dim=64, linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=64,
                            linear_value_head_dim=64, linear_conv_kernel_dim=4)
    model = Qwen3_5ForCausalLM(cfg).eval()
    tmp = tempfile.mkdtemp()
    st = capture_store(f"{tmp}/s", model, torch.randint(0, 1000, (16, 256)), checkpoint_every=64, progress=False)
    script = f"{tmp}/train.py"; open(script, "w").write(CELLS_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    def go(cmd, out):
        r = subprocess.run(cmd + [script, str(st.path), f"{tmp}/{out}", str(a.steps)], env=env, capture_output=True, text=True)
        if r.returncode: raise RuntimeError(r.stderr[-2000:])
        rows = [l.split() for l in r.stdout.splitlines() if l.startswith("RANK")]
        return max(float(x[3]) for x in rows), sum(float(x[4]) for x in rows)
    t1, c1 = go([sys.executable], "one")
    t2, c2 = go([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"], "two")
    states = len(st.cells) * a.steps * 256
    print(f"[cells] {len(st.cells)} cells of 64 x 64, WriteSAE n_f 1024, k 16, batch 256, {a.steps} steps each: "
          f"1 process {states / t1:.0f} states/s ({t1:.1f} s), 2 torchrun processes {states / t2:.0f} states/s ({t2:.1f} s, slowest rank): "
          f"{t1 / t2:.2f}x wall; CPU time summed over processes {c1:.1f} s vs {c2:.1f} s (1 thread per process; wall-clock speed-up needs free cores)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
