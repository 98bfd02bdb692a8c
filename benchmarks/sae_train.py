"""Training throughput, peak memory and encoder cost of WriteSAE vs FlatSAE on CPU, plus planted recovery.

    .venv/bin/python benchmarks/sae_train.py [--repeats 7] [--skip-planted]

Each variant runs in its own subprocess so `ru_maxrss` is its own peak. Throughput is the median over
repeats of one full train step (forward, backward, Adam, decoder renormalisation) at d_k = d_v = 128,
n_f = 2048, k = 32, batch 256. A reference GEMM (256 x 16384 x 2048) is timed in the same process so
contention from other jobs on the machine shows up in the printout (its GFLOP/s falls).
"""
import argparse, json, os, resource, subprocess, sys, time
import torch

D_K = D_V = 128; N_F = 2048; K = 32; B = 256

def _median(xs): xs = sorted(xs); return xs[len(xs) // 2]

def _timeit(f, repeats, warmup=2):
    for _ in range(warmup): f()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return _median(ts), min(ts)

def child(variant, repeats, threads):
    from writesae.sae import SAE_VARIANTS, build_sae
    if threads: torch.set_num_threads(threads)
    torch.manual_seed(0)
    gemm_x, gemm_w = torch.randn(B, D_K * D_V), torch.randn(N_F, D_K * D_V)
    gemm_med, _ = _timeit(lambda: gemm_x @ gemm_w.T, repeats)
    del gemm_x, gemm_w
    sae = build_sae(SAE_VARIANTS[variant](d_k=D_K, d_v=D_V, n_features=N_F, k=K))
    sae.train()
    from writesae.train import make_optimizer, TrainingState
    opt = make_optimizer(sae, 1e-4)
    ts = TrainingState(sae)  # the trainer's forward: dead counters and the aux loss with the SAE's own
    X = torch.randn(B, D_K, D_V)
    def step():
        out = ts(X)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        sae.normalize_decoder()
    step_med, step_min = _timeit(step, repeats)
    def enc():  # encoder forward + backward with the gradient a TopK step sends it (k non-zeros per state)
        sae.zero_grad(set_to_none=True)
        pre = sae.pre_acts(X)
        pre.backward(torch.zeros_like(pre).scatter_(1, pre.detach().topk(K, dim=1).indices, 1.0))
    enc_med, enc_min = _timeit(enc, repeats)
    with torch.no_grad(): fwd_med, _ = _timeit(lambda: sae.pre_acts(X), repeats)
    n_params = sum(p.numel() for p in sae.parameters())
    print(json.dumps(dict(variant=variant, states_per_s=B / step_med, states_per_s_best=B / step_min,
                          step_s=step_med, encoder_fwd_bwd_s=enc_med, encoder_fwd_s=fwd_med, encoder_fwd_bwd_min_s=enc_min, n_params=n_params,
                          peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          gemm_gflops=2 * B * D_K * D_V * N_F / gemm_med / 1e9, threads=torch.get_num_threads())))

def planted():
    from writesae.sae import SAE_VARIANTS
    from writesae.train import TrainConfig, train_sae, planted_states, recovery
    torch.set_num_threads(1)  # tiny problem: one thread avoids OpenMP hand-offs on a busy shared CPU
    X, P = planted_states(2000, seed=0)
    cfg = TrainConfig(lr=3e-3, lr_min=3e-4, batch_size=128, epochs=15, progress=False, val_fraction=0.1)
    rows = {}
    for name in SAE_VARIANTS:
        t = time.perf_counter()
        r = train_sae(SAE_VARIANTS[name](d_k=24, d_v=40, n_features=64, k=3, seed=0), X, config=cfg)
        frac, best = recovery(r.sae, P)
        rows[name] = dict(recovered=frac, median_cos=best.median().item(), seconds=time.perf_counter() - t)
    return rows

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeats', type=int, default=7)
    ap.add_argument('--skip-planted', action='store_true')
    ap.add_argument('--child')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    a = ap.parse_args()
    if a.child: return child(a.child, a.repeats, a.threads)
    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}  torch threads: {torch.get_num_threads()}")
    res = {}
    for v in ('bilinear', 'flat'):
        out = subprocess.run([sys.executable, __file__, '--child', v, '--repeats', str(a.repeats), '--threads', str(a.threads)],
                             capture_output=True, text=True, check=True)
        res[v] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nfull train step, d_k=d_v={D_K}, n_f={N_F}, k={K}, batch {B} (median of {a.repeats}, {res['bilinear']['threads']} threads):")
    for v, r in res.items():
        print(f"  {v:9s} {r['states_per_s']:8.0f} states/s (best {r['states_per_s_best']:.0f})  step {r['step_s']*1e3:7.1f} ms"
              f"  encoder fwd+bwd {r['encoder_fwd_bwd_s']*1e3:7.1f} ms  params {r['n_params']/1e6:6.2f} M"
              f"  peak RSS {r['peak_rss_mib']:7.0f} MiB  ref GEMM {r['gemm_gflops']:5.0f} GFLOP/s")
    w, f = res['bilinear'], res['flat']
    print(f"\nratios (WriteSAE / FlatSAE): throughput {w['states_per_s']/f['states_per_s']:.2f}x, "
          f"encoder cost {w['encoder_fwd_bwd_s']/f['encoder_fwd_bwd_s']:.2f}x (best-of: {w['encoder_fwd_bwd_min_s']/f['encoder_fwd_bwd_min_s']:.2f}x), "
          f"encoder forward only {w['encoder_fwd_s']/f['encoder_fwd_s']:.2f}x, peak memory {w['peak_rss_mib']/f['peak_rss_mib']:.2f}x")
    print(f"target >= 1000 states/s for WriteSAE: {'met' if w['states_per_s'] >= 1000 else 'NOT met'} at this load")
    if not a.skip_planted:
        print("\nplanted dictionary (24x40, 32 unit rank-1 atoms, 3 active, n_f=64, k=3, 2000 states, 15 epochs):")
        for name, r in planted().items():
            print(f"  {name:14s} recovered {r['recovered']:5.0%} at cos>=0.9  median best cos {r['median_cos']:.4f}  ({r['seconds']:.1f}s)")
    print(f"\nload average after: {os.getloadavg()}")

if __name__ == '__main__':
    main()
