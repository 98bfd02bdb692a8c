"""The paper's tables of `writesae.tables` on one shipped demo host, printed as Markdown.

    .venv/bin/python benchmarks/tables.py --model gdn-demo [--steps 300] [--batch-size 256] [--train-passages 96] [--eval-passages 16]
                                         [--n-features 512] [--k 16] [--quick] [--layer L --head H] [--json OUT]

Cell: --layer/--head, default the demo's cell (middle recurrent layer, head 0: gdn-demo layer 3, mamba2-demo layer 4).
States: --train-passages validation-split passages of --seq-len tokens (the split the demo SAEs train on), positions from 8 on;
a fifth of those passages (by passage) is held out for the encoder swap. The main SAE (WriteSAE, --n-features atoms, k = --k,
--steps steps) is trained here on the rest; the firings, replacement tests, selectivity and spectral audit use --eval-passages
test-split passages. Every SAE of the tables uses the same size, k, steps and seed. --quick: a few-second smoke setting.
"""
import argparse, json, os, sys, time, warnings
os.environ.setdefault('HF_HUB_OFFLINE', '1')
warnings.filterwarnings('ignore')
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='gdn-demo', help="'gdn-demo' or 'mamba2-demo'")
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--layer', type=int, default=None)
    ap.add_argument('--head', type=int, default=0)
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--train-passages', type=int, default=96)
    ap.add_argument('--eval-passages', type=int, default=16)
    ap.add_argument('--n-features', type=int, default=512)
    ap.add_argument('--k', type=int, default=16)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--batch-size', type=int, default=256)
    ap.add_argument('--json', default=None, help='also write tables_summary as JSON here')
    a = ap.parse_args()
    from writesae.zoo import load_demo
    from writesae.hosts import host_for, Cell
    from writesae.store import store_passages
    from writesae.demo import collect_states
    from writesae.train import split_by_passage
    from writesae.report import Report
    from writesae import tables as T
    if a.quick: a.seq_len, a.train_passages, a.eval_passages, a.n_features, a.k, a.steps = 64, 8, 3, 64, 4, 20
    t0 = time.time()
    model, tok = load_demo(a.model); adapter = host_for(model)
    cell = adapter.check_cell(Cell(a.layer if a.layer is not None else adapter.layers[len(adapter.layers) // 2], a.head))
    train_p = store_passages(tok, 'validation', a.train_passages, a.seq_len)
    eval_p = store_passages(tok, 'test', a.eval_passages, a.seq_len)
    S, pid, _ = collect_states(adapter, train_p, cell, skip_first=8, progress=False)
    tr, va = split_by_passage(len(S), pid, val_fraction=0.2, split_seed=a.seed)
    S_tr, S_va, pid_tr = S[tr], S[va], pid[tr]; del S
    print(f"{a.model} L{cell.layer} H{cell.head} {tuple(adapter.dims(cell))}: {len(S_tr)} train / {len(S_va)} held-out states "
          f"({time.time() - t0:.0f} s)", flush=True)
    t1 = time.time()
    sae = T.fit_sae('bilinear', S_tr, a.n_features, a.k, a.steps, a.seed, batch_size=a.batch_size, passage_ids=pid_tr)
    print(f"main WriteSAE trained ({time.time() - t1:.0f} s)", flush=True)
    cfg = T.TablesConfig(n_features=a.n_features, k=a.k, steps=a.steps, seed=a.seed, batch_size=a.batch_size, max_per_passage=16)
    if a.quick: cfg = T.TablesConfig.quick(n_features=a.n_features, k=a.k, steps=a.steps)
    tb = T.run_tables(adapter, sae, cell, S_tr, S_va, eval_p, cfg, progress=True, train_passage_ids=pid_tr)
    rep = T.add_tables(Report(f'tables: {a.model}'), tb, a.model)
    print(rep.markdown())
    print(f"\nseconds: {tb['seconds']} total {time.time() - t0:.0f}")
    if a.json:
        with open(a.json, 'w') as f: json.dump(T.tables_summary(tb), f, indent=1)

if __name__ == '__main__': main()
