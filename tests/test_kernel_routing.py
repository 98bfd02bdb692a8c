"""On CPU, writesae must run the pure-torch kernels even when fla / triton / mamba_ssm / causal_conv1d are importable.

transformers resolves its GDN, Mamba-2 and conv kernels when the modeling module is imported: if `fla`, `mamba_ssm` or
`causal_conv1d` import, their (Triton/CUDA) kernels are used on every device and a CPU forward crashes. This test builds
fake packages whose kernels raise when called, puts them on sys.path of a fresh interpreter BEFORE transformers is
imported, checks that transformers did route to them (a plain forward raises), and that the writesae adapter still runs
the torch path and reproduces the logits / greedy tokens / captures of a clean interpreter without the fake packages.
Each side runs in its own subprocess so that nothing imported by pytest (or another test) leaks in.

No fake `triton` package: transformers' routing decision depends only on whether `fla` / `mamba_ssm` / `causal_conv1d`
import (with real triton installed, real fla imports and the same routing happens); a stub `triton` would instead break
`torch._dynamo`'s own import, which inspects `triton.language`.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

FAKE_MSG = "fake Triton kernel called: 0 active drivers"
FAKE_PACKAGES = {
    "fla/__init__.py": "from .ops.gated_delta_rule import chunk_gated_delta_rule, fused_recurrent_gated_delta_rule\n",
    "fla/ops/__init__.py": "",
    "fla/ops/gated_delta_rule/__init__.py": (
        "def chunk_gated_delta_rule(*a, **k): raise RuntimeError({m!r})\n"
        "def fused_recurrent_gated_delta_rule(*a, **k): raise RuntimeError({m!r})\n"),
    "causal_conv1d/__init__.py": (
        "def causal_conv1d_fn(*a, **k): raise RuntimeError({m!r})\n"
        "def causal_conv1d_update(*a, **k): raise RuntimeError({m!r})\n"),
    "mamba_ssm/__init__.py": (
        "def mamba_chunk_scan_combined(*a, **k): raise RuntimeError({m!r})\n"
        "def selective_state_update(*a, **k): raise RuntimeError({m!r})\n"
        "def mamba_split_conv1d_scan_combined(*a, **k): raise RuntimeError({m!r})\n"),
}

SCRIPT = textwrap.dedent('''
    import json, sys, torch
    fake = sys.argv[1] == "fake"
    import writesae.hosts as H
    torch.set_num_threads(1)
    out = {}
    for family in ("gated_deltanet", "mamba2"):
        model = H.tiny_host_model(family, seed=0)
        mod = sys.modules[type(next(m for m in model.modules() if type(m).__name__.endswith(("GatedDeltaNet", "Mamba2Mixer")))).__module__]
        name = "torch_chunk_gated_delta_rule" if family == "gated_deltanet" else "mamba2_chunk_scan"
        host = H.host_for(model)
        torch.manual_seed(1)
        ids = torch.randint(0, 101, (1, 70))
        res = {}
        if fake:
            # transformers did pick the fake kernel: a plain forward hits it
            try:
                with torch.no_grad(): model(ids)
                res["plain_forward_raised"] = ""
            except RuntimeError as e: res["plain_forward_raised"] = str(e)
            res["routed_to_fake"] = getattr(mod, name).__wrapped__ is not None and "fake" in res["plain_forward_raised"]
        else:
            with torch.no_grad(): res["plain_logits"] = model(ids).logits.flatten().tolist()
        L = host.layers[-1]
        edits = [H.Edit(H.Cell(L, 1), 20, "delete")]
        res["logits"] = host.forward(ids).flatten().tolist()
        res["edit_logits"] = host.forward(ids, edits).flatten().tolist()
        cap = host.capture(ids, cells=[(L, 1)], states=True)
        res["final_state"] = cap[(L, 1)].final_state.flatten().tolist()
        res["gen"] = host.generate(ids[:, :10], 6, edits=[H.Edit(H.Cell(L, 1), 12, "add", torch.ones(*host.dims((L, 1))))]).flatten().tolist()
        out[family] = res
    print("RESULT" + json.dumps(out))
''')

def _run(mode, pythonpath, tmp):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1")
    if pythonpath: env["PYTHONPATH"] = pythonpath
    script = Path(tmp) / "routing_script.py"
    script.write_text(SCRIPT)
    p = subprocess.run([sys.executable, str(script), mode], env=env, capture_output=True, text=True, timeout=600, cwd=tmp)
    assert p.returncode == 0, p.stderr[-4000:]
    line = next(l for l in p.stdout.splitlines() if l.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])

def _close(a, b, eps):
    assert len(a) == len(b)
    err = max(abs(x - y) for x, y in zip(a, b))
    assert err <= eps, err

def test_cpu_uses_torch_kernels_even_with_fake_fla_and_triton(tmp_path):
    fake_dir = tmp_path / "fake_site"
    for rel, text in FAKE_PACKAGES.items():
        f = fake_dir / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text.format(m=FAKE_MSG))
    clean = _run("clean", None, tmp_path)
    fake = _run("fake", str(fake_dir), tmp_path)
    for family in ("gated_deltanet", "mamba2"):
        c, f = clean[family], fake[family]
        assert FAKE_MSG in f["plain_forward_raised"], f"transformers did not route {family} to the fake kernels"
        _close(f["logits"], c["plain_logits"], 1e-5)   # adapter (fake env) == plain torch-fallback forward (clean env)
        _close(f["logits"], c["logits"], 1e-6)
        _close(f["edit_logits"], c["edit_logits"], 1e-6)
        _close(f["final_state"], c["final_state"], 1e-6)
        assert f["gen"] == c["gen"]
        assert c["edit_logits"] != c["logits"]
