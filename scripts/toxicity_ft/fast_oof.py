"""Out-of-fold fast-model and USE-head toxicity probabilities on the same 3 folds as ft_cv.py (fit part only)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oof5 import ROOT, oof  # noqa: E402

result = oof(3)
np.savez(ROOT / "data" / "ftcv" / "fast_use_oof.npz", fast=np.nan_to_num(result["fast"]),
         use=np.nan_to_num(result["use"]))
print("done")
