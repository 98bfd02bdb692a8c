"""How often one `evaluate_cell` run checks its inputs and captures states, on the tiny random GDN host.

    python benchmarks/evaluate_checks.py

Counts the calls of `check_sae_for_cell` and `check_token_passages` (wherever a writesae module imported them), of the
adapter's `check_cell` and `capture`, and for each `capture(states=True)` the writesae functions that asked for it. The
numbers depend on the settings below (6 passages of 48 tokens, a FlatSAE, `EvalConfig.quick`), not on the machine.
"""
import collections, functools, importlib, pkgutil, traceback
import torch
import writesae
import writesae.substitution as SU
from writesae.hosts import tiny_host_model, host_for, Cell
from writesae.sae import build_sae, WriteSAEConfig, FlatSAEConfig
from writesae.evaluate import evaluate_cell, EvalConfig

calls = collections.Counter()

def counted(name, f):
    @functools.wraps(f)
    def g(*a, **k): calls[name] += 1; return f(*a, **k)
    return g

original = {name: getattr(SU, name) for name in ('check_sae_for_cell', 'check_token_passages')}
wrapped = {name: counted(name, f) for name, f in original.items()}
for info in pkgutil.iter_modules(writesae.__path__):  # every module that holds a checker (substitution too) gets the counted one
    try: mod = importlib.import_module(f'writesae.{info.name}')
    except Exception: continue
    for name, f in original.items():
        if getattr(mod, name, None) is f: setattr(mod, name, wrapped[name])

gdn = host_for(tiny_host_model('gated_deltanet', seed=0, gain=1.0))
cls = type(gdn)
check_cell, capture = cls.check_cell, cls.capture
def counted_check_cell(self, *a, **k): calls['adapter.check_cell'] += 1; return check_cell(self, *a, **k)
def counted_capture(self, *a, **k):
    calls['adapter.capture'] += 1
    if k.get('states'):
        chain = [f.name for f in traceback.extract_stack()[:-1] if 'writesae' in f.filename][-3:]
        calls['capture(states=True) from ' + ' > '.join(chain)] += 1
    return capture(self, *a, **k)
cls.check_cell, cls.capture = counted_check_cell, counted_capture

cell = Cell(2, 1); d_k, d_v = gdn.dims(cell)
held = torch.randint(0, 101, (6, 48), generator=torch.Generator().manual_seed(1))
sae = build_sae(WriteSAEConfig(d_k=d_k, d_v=d_v, n_features=48, k=4, seed=0)).eval()
flat = build_sae(FlatSAEConfig(d_k=d_k, d_v=d_v, n_features=48, k=4, seed=0)).eval()
calls.clear()
ev = evaluate_cell(gdn, sae, cell, held, EvalConfig.quick(skip_first=0, max_per_passage=8, cf_horizon=3), flat_sae=flat)
print(f"one evaluate_cell: {len(ev['replacement']['records'])} replacement records")
for name, n in sorted(calls.items()): print(f"{n:6d}  {name}")
