"""Store benchmarks on CPU, ratios from one run.

1. bytes per token and cell of a compact store (pieces + a checkpoint every P positions) against dense fp32 states, measured on
   the store written in 2 (16 heads of 128 x 128);
2. capture of all 16 heads of one GDN layer of a Qwen3.5-0.8B-like random model (benchmarks/hosts.py's config; --layers sets
   the depth, 24 for the real one) into a compact store, against a plain forward, at T = --T;
3. state rebuild throughput (StoreBatches, fraction 1 and 1/4) against the states/s one WriteSAE training step consumes
   (n_f 2048, k 32, batch 256, 128 x 128);
4. recurrent vs direct WriteSAE encoding (n_f 2048) of every state of one passage of one cell.
Wall-clock and process CPU time are both printed: on a shared machine the wall clock swings, CPU time with one thread does not.
Usage: python benchmarks/store.py [--layers 24] [--T 1024] [--passages 2] [--threads 1]
"""
import argparse, os, shutil, sys, tempfile, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
import transformers
sys.path.insert(0, os.path.dirname(__file__))
from hosts import qwen35_like
from writesae.hosts import Cell, host_for
from writesae.sae import WriteSAEConfig, build_sae
from writesae.train import make_optimizer
from writesae.store import StoreBatches, bilinear_encoder, capture_store, recurrent_pre_acts

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
    a = ap.parse_args()
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
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
