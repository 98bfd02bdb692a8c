"""Where the single-write replacement test wins on gdn-demo layer 3: per-firing features, win rate by feature bin and by head,
multi-step state distance / KL per arm, and the cell `pick_cell` would report.

    nice .venv/bin/python benchmarks/diagnostics.py [--heads 0 1 2 3] [--train-passages 96] [--eval-passages 24]
        [--steps 200] [--max-per-atom 6] [--max-per-passage 12] [--multi-firings 32] [--batch-size 192] [--n-features 1024] [--k 16] [--every 4] [--saes DIR] [--out FILE.json]

Settings (all recorded in the printed header): one bilinear WriteSAE per head of layer 3, trained on every `--every`-th state
(positions >= 8) of `--train-passages` validation-split passages of 256 tokens; `pick_cell` reads 16 further validation-split
passages; every test number is on `--eval-passages` test-split passages. `--saes DIR` caches the trained SAEs (h<head>.pt),
so a second run skips training.
"""
import argparse, json, os, sys, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np
import torch

def train_saes(ad, tok, a, layer):
    from writesae.hosts import Cell
    from writesae.store import store_passages
    from writesae.sae import SAE_VARIANTS
    from writesae.train import TrainConfig, train_sae
    P = store_passages(tok, 'validation', a.train_passages, 256)
    cells = [Cell(layer, h) for h in a.heads]
    pos = torch.arange(8, 256, a.every)
    X = {c: [] for c in cells}
    for i in range(0, len(P), 16):
        cap = ad.capture(P[i:i + 16], cells=cells, states=True)
        for c in cells: X[c].append(cap[c].states[:, pos].reshape(-1, 64, 64).float())
    pid = torch.arange(len(P)).repeat_interleave(len(pos))
    saes = {}
    for c in cells:
        cfg = SAE_VARIANTS['bilinear'](d_k=64, d_v=64, n_features=a.n_features, k=a.k, seed=0)
        tc = TrainConfig(lr=1e-3, lr_min=1e-4, batch_size=a.batch_size, steps=a.steps, seed=0, progress=False)
        r = train_sae(cfg, torch.cat(X[c]), passage_ids=pid, config=tc)
        saes[c.head] = r.sae.eval()
        print(f"  head {c.head}: trained, best val MSE {r.best_val:.4g}", flush=True)
    return saes

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--heads', type=int, nargs='+', default=[0, 1, 2, 3])
    ap.add_argument('--train-passages', type=int, default=96)
    ap.add_argument('--eval-passages', type=int, default=24)
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--batch-size', type=int, default=192)
    ap.add_argument('--n-features', type=int, default=1024)
    ap.add_argument('--k', type=int, default=16)
    ap.add_argument('--every', type=int, default=4)
    ap.add_argument('--multi-firings', type=int, default=32, help='firings per head in the multi-step test')
    ap.add_argument('--max-per-atom', type=int, default=6, help='replacement test: firings per atom used')
    ap.add_argument('--max-per-passage', type=int, default=12, help='replacement test: firings per passage')
    ap.add_argument('--saes', default=None, help='cache folder of the trained SAEs')
    ap.add_argument('--train-only', action='store_true')
    ap.add_argument('--out', default=None, help='write the JSON summary here')
    a = ap.parse_args()
    from writesae.zoo import load_demo
    from writesae.hosts import host_for, Cell
    from writesae.store import store_passages
    t0 = time.time()
    model, tok = load_demo('gdn-demo'); ad = host_for(model); layer = 3
    print(f"gdn-demo layer {layer}, heads {a.heads}; SAEs bilinear n_f={a.n_features} k={a.k}, {a.steps} steps of {a.batch_size}, "
          f"every {a.every}-th state of {a.train_passages} validation passages; eval on {a.eval_passages} test passages; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    cache = a.saes and all(os.path.exists(os.path.join(a.saes, f'h{h}.pt')) for h in a.heads)
    if cache: saes = {h: torch.load(os.path.join(a.saes, f'h{h}.pt'), weights_only=False).eval() for h in a.heads}
    else:
        saes = train_saes(ad, tok, a, layer)
        if a.saes:
            os.makedirs(a.saes, exist_ok=True)
            for h, s in saes.items(): torch.save(s, os.path.join(a.saes, f'h{h}.pt'))
    print(f"SAEs ready at {time.time() - t0:.0f} s ({'cached' if cache else 'trained'})", flush=True)
    if a.train_only: return
    run(ad, tok, a, layer, saes, t0)

def run(ad, tok, a, layer, saes, t0):
    from writesae.hosts import Cell
    from writesae.store import store_passages
    from writesae.firings import encode_cell, select_firings
    from writesae.substitution import replacement_records
    from writesae import diagnostics as D
    test = store_passages(tok, 'test', a.eval_passages, 256)
    cfg = D.DiagnosticsConfig(max_multi_firings=a.multi_firings, steps=10)
    recs, out = {}, {}
    for h in a.heads:  # each head's diagnostics as soon as its records exist, so a cut run still reports the first heads
        codes = encode_cell(ad, saes[h], Cell(layer, h), test, skip_first=8)
        fs = select_firings(codes, max_per_atom=a.max_per_atom, max_per_passage=a.max_per_passage, seed=0)
        recs[h] = replacement_records(ad, saes[h], Cell(layer, h), test, firings=fs, seed=0)
        print(f"  head {h}: {len(recs[h])} replacement records, {int((codes.fire_counts() > 0).sum())} atoms alive on the test passages ({time.time() - t0:.0f} s)", flush=True)
        diag = D.run_diagnostics(ad, saes[h], Cell(layer, h), test, recs[h], cfg)
        out[h] = D.diagnostics_summary(diag)
        print(f"\n=== head {h} ({time.time() - t0:.0f} s) ===")
        print(D.diagnostics_markdown(diag), flush=True)
    rows = D.win_by_head([r for h in a.heads for r in recs[h]])
    print('\n**By head (all heads)**\n\n| cell | n | atom < delete [95% CI] | median KL atom / delete | median KL ratio |\n|---|---|---|---|---|')
    for r in rows: print(f"| L{r['layer']} H{r['head']} | {r['n']} | {100 * r['rate']:.1f}% [{100 * r['ci_lo']:.1f}%, {100 * r['ci_hi']:.1f}%] | {r['median_kl_atom']:.3g} / {r['median_kl_delete']:.3g} | {r['median_ratio']:.3g} |")
    val = store_passages(tok, 'validation', a.train_passages + 8, 256)[a.train_passages:]
    cell, pick = D.pick_cell(ad, rule='lowest_fvu', layer=layer, saes=saes, passages=val, skip_first=8)
    most = min(pick['alive'], key=lambda h: (-pick['alive'][h], h))
    print(f"\npick_cell on {len(val)} further validation passages: lowest_fvu -> head {cell.head}, most_alive -> head {most}; "
          f"FVU {({h: round(v, 4) for h, v in pick['fvu'].items()})}; alive atoms {pick['alive']} ({time.time() - t0:.0f} s)", flush=True)
    if a.out:
        with open(a.out, 'w') as f: json.dump(dict(pick_cell=pick, by_head=rows, heads=out), f, indent=1, default=float)
    print(f"\ntotal {time.time() - t0:.0f} s")

if __name__ == '__main__': main()
