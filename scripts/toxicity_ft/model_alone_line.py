"""Decision 0231's table: MLMA held-out macro-F1 (`eval risk`, both tiers) and toxic flags on the 310 benign city
messages, for each line from which the toxicity model alone raises the insult flag (`risk.MODEL_ALONE_MIN`).
A read of both sets: nothing is chosen here. Run from the repository root:
`HF_HUB_OFFLINE=1 python scripts/toxicity_ft/model_alone_line.py`."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import moderation.risk as risk  # noqa: E402
from moderation.false_flags import load_benign  # noqa: E402
from moderation.measure import eval_risk  # noqa: E402
from moderation.rich import RichToxicity  # noqa: E402
from moderation.toxicity import ToxicityModel  # noqa: E402

MLMA = Path(__file__).resolve().parents[3] / "shared" / "data" / "mlma-fr" / "train.jsonl"
benign = [line.text for line in load_benign()]
fast = ToxicityModel()
tiers = {"fast": fast, "rich": RichToxicity(fast=fast)}
for line in (0.5, 0.55, 0.6):
    risk.MODEL_ALONE_MIN = line
    row = {}
    for name, tox in tiers.items():
        flags = risk.RiskScorer(toxicity=tox).flags(benign)
        row[name] = (eval_risk(MLMA, backend=name)["macro_f1"], sum(risk.is_toxic(f) for f in flags))
    print({"line": line, **row}, flush=True)
