"""Writes tests/fixtures/data/metrics_reference.json: scikit-learn's and SciPy's values of the
classification and correlation metrics on random cases, for tests/metrics_test.ts.

Usage: python tools/make_metrics_fixtures.py  (pins in tools/requirements-data.txt)
"""

import json
import pathlib

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "data"

rng = np.random.default_rng(0)
cases = []
for _ in range(20):
    n = int(rng.integers(5, 60))
    k = int(rng.integers(2, 5))
    predictions = rng.integers(0, k, n).tolist()
    targets = rng.integers(0, k, n).tolist()
    # Rounded to one decimal so that Spearman sees ties.
    x = np.round(rng.normal(size=n), 1)
    y = np.round(x + rng.normal(size=n), 1)
    cases.append({
        "classes": k,
        "predictions": predictions,
        "targets": targets,
        "x": x.tolist(),
        "y": y.tolist(),
        "accuracy": accuracy_score(targets, predictions),
        # F1 of class 1 against everything else.
        "f1": f1_score([int(t == 1) for t in targets], [int(p == 1) for p in predictions]),
        "macro_f1": f1_score(targets, predictions, labels=list(range(k)), average="macro",
                             zero_division=0),
        "matthews": matthews_corrcoef(targets, predictions),
        "pearson": float(pearsonr(x, y)[0]),
        "spearman": float(spearmanr(x, y)[0]),
    })
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "metrics_reference.json").write_text(json.dumps(cases) + "\n")
print(len(cases), "cases")
