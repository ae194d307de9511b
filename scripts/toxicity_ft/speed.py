"""Rich tier throughput with and without the toxicity adapter (interleaved; wall and CPU-second rates), and the
false flags on the benign city messages."""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from moderation.false_flags import false_flags, load_benign  # noqa: E402
from moderation.rich import RichEncoders, RichSentiment, RichToxicity  # noqa: E402
from moderation.risk import RiskScorer  # noqa: E402
from moderation.train_jobs import benign_flag_rate  # noqa: E402,F401
from moderation.training import read_jsonl  # noqa: E402

threads = 2
torch.set_num_threads(threads)
VAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "xlmt-fr" / "val.jsonl"
texts = [r["text"] for r in read_jsonl(VAL)][:160]
tiers = {}
for name, adapter in (("without", None), ("with", "default")):
    enc = RichEncoders(threads=threads) if adapter else RichEncoders(threads=threads, adapter=None)
    s, r = RichSentiment(encoders=enc), RiskScorer(toxicity=RichToxicity(encoders=enc))
    s.predict(texts[:8])
    r.flags(texts[:8])
    tiers[name] = (s, r, enc)
    print(name, "adapter:", enc.adapter_path, RichToxicity(encoders=enc).version, flush=True)
res = {k: {"wall": [], "cpu": []} for k in tiers}
for _ in range(2):
    for name, (s, r, _) in tiers.items():
        w, c = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), 64):
            s.predict(texts[i:i + 64])
            r.flags(texts[i:i + 64])
        res[name]["wall"].append(len(texts) / (time.perf_counter() - w))
        res[name]["cpu"].append(len(texts) / (time.process_time() - c))
for name, v in res.items():
    print(f"{name}: best wall {max(v['wall']):.1f} texts/s, best {max(v['cpu']):.1f} texts per CPU-second", flush=True)
lines = load_benign()
for name, (_, r, _) in tiers.items():
    rep = false_flags(r, lines).as_dict()
    print(name, "benign_municipal_fr", rep["false_flag_rate"]["insult"], rep["false_flag_rate"]["hate"],
          rep["false_flag_rate_at_queue_line"]["insult"], flush=True)
from moderation.personal_data_eval import generate_cases  # noqa: E402
from moderation.risk import is_toxic  # noqa: E402

gen = [c.text for c in generate_cases(600, 4)]
muni = [x.text for x in lines]
for name, (_, r, _) in tiers.items():
    print(name, "is_toxic generated600", round(sum(map(is_toxic, r.flags(gen))) / 600, 4),
          "is_toxic benign310", round(sum(map(is_toxic, r.flags(muni))) / len(muni), 4), flush=True)
