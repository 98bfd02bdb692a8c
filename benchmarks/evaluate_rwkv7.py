"""Wall time of the demo's quick evaluation on rwkv7-demo: the fast replay engine vs the reference engine (one run).

    .venv/bin/python benchmarks/evaluate_rwkv7.py [--model rwkv7-demo] [--threads N]

Setup as `writesae demo --model rwkv7-demo --quick` does it (`DemoConfig.quick()`): the demo model, its default cell,
validation-split passages for training, test-split passages for the tests; one WriteSAE, one FlatSAE and one SAE per
head of the layer are trained here once (not timed). Then the engine-dependent part of the quick evaluation runs twice
on the same SAEs and passages: `evaluate_cell` (partition, replacement test, flat+SVD baseline, closed form, passage
checks) and `sweep_heads` (the replacement test on every head), first with the host's fast replays, then with
`fast_replay = False` on the adapter (so `evaluate` picks the reference engine: whole-passage forwards). Printed: each
run's stage times from `evaluate_cell`'s own `seconds`, the ratio of the replacement-test stages and of the totals, and
the largest |KL fast - KL reference| over all replacement records of both runs (same firings, same arms).
"""
import argparse, os, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default='rwkv7-demo')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: leave as is)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from writesae.zoo import load_demo
    from writesae.hosts import host_for, Cell
    from writesae.demo import DemoConfig, collect_states, _passages, _default_cell
    from writesae.sae import SAE_VARIANTS
    from writesae.train import train_sae, TrainConfig
    from writesae import evaluate as E
    cfg = DemoConfig.quick(model=a.model)
    model, tok = load_demo(a.model)
    ad = host_for(model)
    cell = _default_cell(ad, cfg)
    d_k, d_v = ad.dims(cell)
    train_p = _passages(tok, 'validation', cfg.n_train_passages, cfg.seq_len)
    eval_p = _passages(tok, 'test', cfg.n_eval_passages, cfg.seq_len)
    def fit(variant, X, pid, steps):
        c = SAE_VARIANTS[variant](d_k=d_k, d_v=d_v, n_features=cfg.n_features, k=cfg.k, seed=cfg.seed)
        tc = TrainConfig(lr=cfg.lr, lr_min=cfg.lr / 10, batch_size=cfg.batch_size, steps=steps, seed=cfg.seed, progress=False)
        return train_sae(c, X, passage_ids=pid, config=tc).sae.eval()
    t = time.perf_counter()
    S, pid, _ = collect_states(ad, train_p, cell, cfg.skip_first, cfg.every, cfg.capture_batch, False)
    sae, flat = fit(cfg.variant, S, pid, cfg.steps), fit('flat', S, pid, cfg.steps)
    heads = {}
    for h in range(ad.n_heads(cell.layer)):
        X, hp, _ = collect_states(ad, train_p, Cell(cell.layer, h), cfg.skip_first, cfg.sweep_every, cfg.capture_batch, False)
        heads[h] = sae if h == cell.head else fit(cfg.variant, X, hp, cfg.sweep_steps)
    print(f"host {a.model} ({ad.family}), cell L{cell.layer} H{cell.head} ({d_k}x{d_v}), {len(eval_p)} test passages of {cfg.seq_len} tokens, "
          f"SAEs trained in {time.perf_counter() - t:.0f} s (not timed below), torch threads {torch.get_num_threads()}")
    ecfg = E.EvalConfig(**{'seed': cfg.seed, **cfg.eval_config, 'skip_first': cfg.skip_first})
    runs = {}
    for engine in ('fast', 'reference'):
        ad.fast_replay = engine == 'fast'
        assert E._engine_for(ad) == engine
        t = time.perf_counter()
        ev = E.evaluate_cell(ad, sae, cell, eval_p, ecfg, flat_sae=flat, head_saes=heads)
        t_ev = time.perf_counter() - t
        t = time.perf_counter()
        sw = E.sweep_heads(ad, heads, cell.layer, eval_p, ecfg)
        t_sw = time.perf_counter() - t
        runs[engine] = dict(ev=ev, sw=sw, t_ev=t_ev, t_sw=t_sw)
        s = ev['seconds']
        print(f"{engine:9s}: evaluate_cell {t_ev:7.1f} s (replacement {s['replacement']:.1f}, baseline {s.get('baseline', 0):.1f}, "
              f"closed form {s['closed_form']:.1f}, passage checks {s['passage_checks']:.1f}), sweep_heads {t_sw:7.1f} s, "
              f"{len(ev['replacement']['records'])} + {len(sw['records'])} replacement records, engine {ev['replacement']['records'][0]['engine']}")
    ad.fast_replay = True
    f, r = runs['fast'], runs['reference']
    pairs = list(zip(f['ev']['replacement']['records'], r['ev']['replacement']['records'])) + list(zip(f['sw']['records'], r['sw']['records']))
    pairs += list(zip(f['ev'].get('baseline', {}).get('records', []), r['ev'].get('baseline', {}).get('records', [])))
    assert all((x['passage'], x['position'], x['layer'], x['head']) == (y['passage'], y['position'], y['layer'], y['head']) for x, y in pairs)
    err = max(abs(x[k] - y[k]) for x, y in pairs for k in x if k.startswith('kl_') and k != 'kl_direction')
    big = max(y[k] for x, y in pairs for k in y if k.startswith('kl_') and k != 'kl_direction')
    rep_f = f['ev']['seconds']['replacement'] + f['ev']['seconds'].get('baseline', 0) + f['t_sw']
    rep_r = r['ev']['seconds']['replacement'] + r['ev']['seconds'].get('baseline', 0) + r['t_sw']
    print(f"max |KL fast - KL reference| over {len(pairs)} paired records (all KL fields): {err:.1e} (largest KL {big:.3g})")
    print(f"speed-up of the replay stages (replacement + flat+SVD baseline + heads sweep): {rep_r:.1f} s / {rep_f:.1f} s = {rep_r / rep_f:.1f}x")
    tot_f, tot_r = f['t_ev'] + f['t_sw'], r['t_ev'] + r['t_sw']
    print(f"speed-up of the whole quick evaluation (evaluate_cell + sweep_heads): {tot_r:.1f} s / {tot_f:.1f} s = {tot_r / tot_f:.1f}x")

if __name__ == '__main__': main()
