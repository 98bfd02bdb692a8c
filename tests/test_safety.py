"""The CLI is safe to run: bad input gets one line and exit status 2 and changes nothing on disk; kill -9 at any point
loses nothing and a rerun resumes bit-identically; the same seed gives the same bytes. These need their own processes."""
import hashlib, json, os, random, shutil, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest

ENV = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', TOKENIZERS_PARALLELISM='false', OMP_NUM_THREADS='1')
EXE = [sys.executable, '-c', 'import sys; from writesae.cli import main; sys.exit(main(sys.argv[1:]))']

def ws(*args, check=None, **kw):
    "Run `writesae ARGS` in a fresh process; returns the CompletedProcess."
    r = subprocess.run(EXE + [str(a) for a in args], env=ENV, capture_output=True, text=True, timeout=600, **kw)
    if check is not None: assert r.returncode == check, (r.returncode, r.stdout[-2000:], r.stderr[-3000:])
    return r

def snapshot(root):
    "Every path under `root` with its size and content hash (folders too), to compare before and after a command."
    out = {}
    for p in sorted(Path(root).rglob('*')):
        out[str(p.relative_to(root))] = ('dir',) if p.is_dir() else (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
    return out

@pytest.fixture(scope='session')
def fx(tmp_path_factory):
    "A states file from gdn-demo, a finished training run on it, a states file of one passage, and a few odd folders."
    d = tmp_path_factory.mktemp('fx')
    ws('capture', '--layer', 3, '--head', 0, '--passages', 4, '--seq-len', 40, '--out', d/'st.safetensors', check=0)
    ws('train', d/'st.safetensors', '--out', d/'run', '--n-features', 32, '--k', 4, '--steps', 10, check=0)
    import torch
    from writesae.cli import save_states
    from writesae.files import save_safetensors
    from transformers import LlamaConfig
    from writesae.hosts import tiny_host_model
    from writesae.zoo import load_demo
    (d/'empty').mkdir(); (d/'plain.txt').write_text('hello')
    (d/'trunc.safetensors').write_bytes((d/'st.safetensors').read_bytes()[:100])
    save_safetensors({'states': torch.randn(6, 12), 'passage_ids': torch.arange(6), 'positions': torch.arange(6)}, d/'flat.safetensors', {'writesae': '{}'})
    (d/'badcfg').mkdir(); (d/'badcfg'/'config.json').write_text('{"model_type": "qwen3_5_te')
    LlamaConfig(num_hidden_layers=1, hidden_size=8, intermediate_size=8, num_attention_heads=1).save_pretrained(d/'llama')
    m, tok = load_demo('gdn-demo'); m.save_pretrained(d/'notok')
    small = tiny_host_model('gated_deltanet')  # a model whose vocabulary is smaller than the tokenizer's
    small.save_pretrained(d/'smallvocab'); tok.save_pretrained(d/'smallvocab')
    (d/'unfinished').mkdir(); shutil.copytree(d/'run'/'last', d/'unfinished'/'last')
    return d

# (name, argv built from the fixture folder f and a fresh folder t, what the one-line message must say)
CASES = [
    ('evaluate into a folder with other files', lambda f, t: (t.joinpath('rep').mkdir(), t.joinpath('rep', 'capture.bin').write_bytes(b'x'), ['evaluate', '--sae', f/'run', '--out', t/'rep'])[-1], 'is not empty and was not written by `writesae evaluate`'),
    ('evaluate into the folder holding the SAE', lambda f, t: ['evaluate', '--sae', f/'run'/'final', '--out', f/'run'], 'contains the input --sae'),
    ('evaluate into an existing file', lambda f, t: ['evaluate', '--sae', f/'run', '--out', f/'plain.txt'], 'plain.txt is a file; expected a folder'),
    ('evaluate under a file', lambda f, t: ['evaluate', '--sae', f/'run', '--out', f/'plain.txt'/'rep'], 'plain.txt is a file, not a folder'),
    ('evaluate with another model', lambda f, t: ['evaluate', '--sae', f/'run', '--model', 'mamba2-demo', '--out', t/'rep'], "is not the model the SAE was trained on ('gdn-demo')"),
    ('evaluate an unfinished run', lambda f, t: ['evaluate', '--sae', f/'unfinished', '--out', t/'rep'], 'holds an unfinished training run (no final/)'),
    ('evaluate an empty folder', lambda f, t: ['evaluate', '--sae', f/'empty', '--out', t/'rep'], 'is not an SAE checkpoint folder (no config.json)'),
    ('train again into a run folder', lambda f, t: ['train', f/'st.safetensors', '--out', f/'run', '--steps', 10], 'holds a training run (last/ at step 10 of 10); resume it (--resume) or start over (--force)'),
    ('train --resume with nothing to resume', lambda f, t: ['train', f/'st.safetensors', '--out', t/'new', '--resume'], 'holds no resume state'),
    ('train --lr inf', lambda f, t: ['train', f/'st.safetensors', '--out', t/'new', '--lr', 'inf'], 'lr=inf must be a finite number > 0'),
    ('train on a truncated states file', lambda f, t: ['train', f/'trunc.safetensors', '--out', t/'new'], 'trunc.safetensors is not a safetensors file or is truncated'),
    ('train on a text file', lambda f, t: ['train', f/'plain.txt', '--out', t/'new'], 'plain.txt is not a safetensors file or is truncated'),
    ('train on 2-D states', lambda f, t: ['train', f/'flat.safetensors', '--out', t/'new'], 'states must be a float tensor (N, d_k, d_v), got torch.float32 (6, 12)'),
    ('train into the folder of its states', lambda f, t: ['train', f/'st.safetensors', '--out', f], 'contains the input states file'),
    ('train --every-step save of 0', lambda f, t: ['train', f/'st.safetensors', '--out', t/'new', '--save-every', 0], '--save-every 0 must be >= 1'),
    ('capture on a missing CUDA device', lambda f, t: ['capture', '--layer', 3, '--head', 0, '--device', 'cuda', '--out', t/'s.safetensors'], '--device cuda: CUDA is not available here'),
    ('capture a hub id offline', lambda f, t: ['capture', '--model', 'nobody/no-such-model', '--layer', 0, '--head', 0, '--out', t/'s.safetensors'], "model 'nobody/no-such-model' is not in the local Hugging Face cache and downloads are off"),
    ('capture a truncated config.json', lambda f, t: ['capture', '--model', f/'badcfg', '--layer', 0, '--head', 0, '--out', t/'s.safetensors'], 'config.json cannot be read'),
    ('capture a plain file as model', lambda f, t: ['capture', '--model', f/'plain.txt', '--layer', 0, '--head', 0, '--out', t/'s.safetensors'], 'plain.txt is a file; expected a demo name'),
    ('capture an empty folder as model', lambda f, t: ['capture', '--model', f/'empty', '--layer', 0, '--head', 0, '--out', t/'s.safetensors'], 'has no config.json'),
    ('capture a non-recurrent model', lambda f, t: ['capture', '--model', f/'llama', '--layer', 0, '--head', 0, '--out', t/'s.safetensors'], "model type 'llama' has no matrix-state layer writesae supports"),
    ('capture a folder without tokenizer', lambda f, t: ['capture', '--model', f/'notok', '--layer', 0, '--head', 0, '--out', t/'s.safetensors'], 'has no tokenizer files'),
    ('capture out-of-vocabulary ids', lambda f, t: ['capture', '--model', f/'smallvocab', '--layer', 0, '--head', 0, '--passages', 2, '--seq-len', 32, '--out', t/'s.safetensors'], "out of range for the model's vocabulary of"),
    ('capture a layer that has no state', lambda f, t: ['capture', '--layer', 99, '--head', 0, '--out', t/'s.safetensors'], 'layer 99 is not a recurrent layer of this gated_deltanet model'),
    ('capture --every 0', lambda f, t: ['capture', '--layer', 3, '--head', 0, '--every', 0, '--out', t/'s.safetensors'], '--every 0 must be >= 1'),
    ('capture under a file', lambda f, t: ['capture', '--layer', 3, '--head', 0, '--out', f/'plain.txt'/'s.safetensors'], 'plain.txt is a file, not a folder'),
    ('capture onto a folder', lambda f, t: (t.joinpath('d.safetensors').mkdir(), ['capture', '--layer', 3, '--head', 0, '--out', t/'d.safetensors'])[-1], 'd.safetensors is a folder; expected a file'),
    ('capture over a file it did not write', lambda f, t: (t.joinpath('x.safetensors').write_bytes(b'mine'), ['capture', '--layer', 3, '--head', 0, '--out', t/'x.safetensors', '--force'])[-1], 'exists and was not written by `writesae capture`'),
    ('capture over its own file without --force', lambda f, t: ['capture', '--layer', 3, '--head', 0, '--out', f/'st.safetensors'], 'pass --force to replace it'),
    ('capture into an unwritable place', lambda f, t: ['capture', '--layer', 3, '--head', 0, '--out', '/proc/writesae-test/s.safetensors'], 'cannot write in /proc'),
    ('capture --text that is missing', lambda f, t: ['capture', '--layer', 3, '--head', 0, '--text', t/'none.txt', '--out', t/'s.safetensors'], 'none.txt: no such file'),
    ('demo into a folder with other files', lambda f, t: ['demo', '--quick', '--out', f], 'is not empty and was not written by `writesae demo`'),
]

@pytest.mark.parametrize('name,argv,want', CASES, ids=[c[0] for c in CASES])
def test_bad_input(fx, tmp_path, name, argv, want):
    args = argv(fx, tmp_path)
    before, before_t = snapshot(fx), snapshot(tmp_path)
    r = ws(*args)
    lines = [l for l in r.stderr.splitlines() if l.strip() and '%|' not in l]  # progress bars of a model load are not errors
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    errors = [l for l in lines if l.startswith(f'writesae {args[0]}: error: ')]
    assert len(errors) == 1 and lines[-1] == errors[0] and 'Traceback' not in r.stderr, r.stderr[-3000:]  # one line, the last
    assert want in errors[0], (want, errors[0])
    assert snapshot(fx) == before and snapshot(tmp_path) == before_t  # nothing created, changed or deleted

def test_one_passage_trains_without_validation(tmp_path):
    ws('capture', '--layer', 3, '--head', 0, '--passages', 1, '--seq-len', 40, '--out', tmp_path/'one.safetensors', check=0)
    r = ws('train', tmp_path/'one.safetensors', '--out', tmp_path/'run', '--n-features', 16, '--k', 2, '--steps', 5, check=0)
    assert 'no validation split (1 passage(s)' in r.stdout, r.stdout
    assert (tmp_path/'run'/'final'/'model.safetensors').exists() and not (tmp_path/'run'/'best').exists()
    for line in (tmp_path/'run'/'metrics.jsonl').read_text().splitlines():  # strict JSON: no NaN / Infinity tokens
        json.loads(line, parse_constant=lambda c: pytest.fail(f'non-JSON constant {c} in metrics.jsonl'))

def test_modes_follow_umask(fx, tmp_path):
    r = subprocess.run(EXE + ['train', str(fx/'st.safetensors'), '--out', str(tmp_path/'run'), '--n-features', '16', '--k', '2', '--steps', '3'],
                       env=ENV, capture_output=True, text=True, preexec_fn=lambda: os.umask(0o027))
    assert r.returncode == 0, r.stderr[-2000:]
    for p in (tmp_path/'run').rglob('*'):
        want = 0o750 if p.is_dir() else 0o640
        assert (p.stat().st_mode & 0o777) == want, (p, oct(p.stat().st_mode & 0o777))

def test_same_seed_same_bytes(fx, tmp_path):
    "Two processes (different hash seeds, so different dict orders inside safetensors) write identical checkpoint files."
    for name, hs in (('a', '1'), ('b', '2')):
        subprocess.run(EXE + ['train', str(fx/'st.safetensors'), '--out', str(tmp_path/name), '--n-features', '32', '--k', '4', '--steps', '12',
                              '--save-every', '5'], env=dict(ENV, PYTHONHASHSEED=hs), check=True, capture_output=True)
    files = sorted(p.relative_to(tmp_path/'a') for p in (tmp_path/'a').rglob('*') if p.is_file() and p.name != 'metrics.jsonl')
    assert {str(f.parts[0]) for f in files} >= {'last', 'best', 'final'}
    for f in files: assert (tmp_path/'a'/f).read_bytes() == (tmp_path/'b'/f).read_bytes(), f

TRAIN = ['--n-features', '64', '--k', '4', '--steps', '1500', '--batch-size', '32', '--save-every', '7']

def _final_bytes(run): return {p.name: p.read_bytes() for p in sorted((run/'final').iterdir())}

@pytest.fixture(scope='session')
def reference_run(fx, tmp_path_factory):
    d = tmp_path_factory.mktemp('ref') / 'run'
    ws('train', fx/'st.safetensors', '--out', d, *TRAIN, check=0)
    return _final_bytes(d)

def test_kill_during_training_then_resume(fx, tmp_path, reference_run):
    "kill -9 at a random step, rerun with --resume: the final weights are bit-identical to an uninterrupted run."
    run = tmp_path/'run'
    p = subprocess.Popen(EXE + ['train', str(fx/'st.safetensors'), '--out', str(run), *TRAIN], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (run/'last'/'trainer_state.safetensors').exists():
        assert p.poll() is None and time.time() - t0 < 300, 'training ended before its first resume state'
        time.sleep(0.02)
    time.sleep(random.Random(os.getpid()).uniform(0.0, 0.5))
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (run/'final').exists(), 'the run finished before the kill; make it longer'
    r = ws('train', fx/'st.safetensors', '--out', run, *TRAIN)  # the same command again is refused ...
    assert r.returncode == 2 and 'resume it (--resume)' in r.stderr
    ws('train', fx/'st.safetensors', '--out', run, '--resume', check=0)  # ... and --resume finishes it
    assert _final_bytes(run) == reference_run

DIE_IN_SAVE = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    n = {'k': 0}
    orig = Path.write_text
    def write_text(self, *a, **kw):
        if self.name == 'config.json' and '.last.writesae-tmp-' in str(self.parent):
            n['k'] += 1
            if n['k'] == int(os.environ['DIE_AT_SAVE']): os.kill(os.getpid(), signal.SIGKILL)  # weights and trainer state written, config not
        return orig(self, *a, **kw)
    Path.write_text = write_text
    from writesae.cli import main
    sys.exit(main(sys.argv[1:]))
''')

def test_kill_inside_checkpoint_save(fx, tmp_path, reference_run):
    "kill -9 between the files of a checkpoint: the previous last/ loads whole, and --resume ends bit-identical."
    run = tmp_path/'run'
    r = subprocess.run([sys.executable, '-c', DIE_IN_SAVE, 'train', str(fx/'st.safetensors'), '--out', str(run), *TRAIN],
                       env=dict(ENV, DIE_AT_SAVE='3'), capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-2000:])
    from writesae.sae import load_sae, load_meta
    from writesae.train import run_progress, load_trainer_state
    assert 0 < run_progress(run)['step'] < 1500  # the previous save is whole; the third died half written
    load_sae(run/'last')
    assert load_trainer_state(run/'last')['weights_sha256'] == load_meta(run/'last')['weights_sha256']
    assert [p.name for p in run.iterdir() if '.writesae-tmp-' in p.name], 'the half-written folder should be left for the next run'
    r = ws('train', fx/'st.safetensors', '--out', run, '--resume', check=0)
    assert 'removed 1 temporaries a killed run left' in r.stderr, r.stderr
    assert not [p for p in run.rglob('*') if '.writesae-tmp-' in p.name]
    assert _final_bytes(run) == reference_run

DIE_IN_WRITE = textwrap.dedent('''
    import os, signal, sys
    import writesae.files as F
    orig = F.fsync_path
    def fsync_path(p):
        if '.writesae-tmp-' in str(p): os.kill(os.getpid(), signal.SIGKILL)  # the temporary is written, not yet renamed
        return orig(p)
    F.fsync_path = fsync_path
    from writesae.cli import main
    sys.exit(main(sys.argv[1:]))
''')

def test_kill_during_capture(fx, tmp_path):
    "kill -9 while a capture writes its file: the previous file is intact, and the next run removes the temporary."
    out = tmp_path/'st.safetensors'; shutil.copy(fx/'st.safetensors', out)
    before = out.read_bytes()
    args = ['capture', '--layer', '3', '--head', '0', '--passages', '3', '--seq-len', '40', '--out', str(out), '--force']
    r = subprocess.run([sys.executable, '-c', DIE_IN_WRITE, *args], env=ENV, capture_output=True, text=True)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-2000:])
    assert out.read_bytes() == before
    assert len([p for p in tmp_path.iterdir() if '.writesae-tmp-' in p.name]) == 1
    r = ws(*args, check=0)
    assert 'removed 1 temporaries a killed capture left' in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['st.safetensors']
    from writesae.cli import load_states
    assert load_states(out)[0].shape[0] == 3 * 32
