"""One model per category output field: TF-IDF features (word 1-2-grams and character 2-5-grams within
word boundaries, sublinear term frequency) and, chosen per field by cross-validated macro-F1 on the
training part, one of three linear models, with calibrated probabilities:

- `linear_svm`: a class-balanced linear SVM, C from a small grid;
- `logistic_regression`: class-balanced multinomial logistic regression with C=10 — the configuration of
  the plain TF-IDF + logistic regression baseline a user would set up by hand, on our (masked, folded) text;
- `ensemble`: the average of the SVM's calibrated probabilities and the logistic regression's.

Why a choice and not one model — measured beside the baseline on the demo tickets and documents, a
larger generated ticket set, German program messages and German manual pages (bench/classifier_*.py):
the SVM wins on short texts with many classes (program messages, priorities), the ensemble on longer
texts (manual pages) and where neither dominates; logistic regression alone rarely wins, but it keeps
the baseline's behaviour within reach where it is the better fit. The C of the SVM differs per data set
(0.1 on short tickets, 1.0 on messages). Everything is chosen on the training part only, never on the
held-out part.
- character n-grams carry the typos, dropped umlauts and compound words of German e-mails; dropping
  words seen only once (min_df=2) cost a point on short texts, so words keep min_df=1;
- folding umlauts and masking identifiers (text.py) helps a little and is needed for privacy anyway;
- calibration (temperature, Platt or isotonic) is chosen by cross-validated log-loss (calibration.py).
- logistic regression is solved with Newton-CG: the same objective as the baseline's L-BFGS, reached in a
  handful of steps (four to six times faster on long texts).

Deterministic: fixed seeds for every split, single-threaded solvers, sorted classes."""
import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from automations.engines.classifier.calibration import CALIBRATORS, Calibrator, choose_calibrator, cross_calibrated
from automations.engines.classifier.text import ColumnText

DEFAULT_PARAMETERS: dict[str, Any] = {
    "features": {
        "word": {"ngram_range": [1, 2], "min_df": 1, "max_features": 400_000},
        "char_wb": {"ngram_range": [2, 5], "min_df": 2, "max_features": 400_000},
        # Words of every text column but the last (the subject before the body) once more on their own:
        # offered per field as a second feature set where those columns are mostly filled.
        "columns": {"ngram_range": [1, 2], "min_df": 1, "max_features": 100_000},
        "sublinear_tf": True,
    },
    # Compared per field by cross-validated macro-F1 (each model on each feature set); on a tie the
    # earlier feature set, then the earlier model is taken.
    "feature_sets": ["text", "text+columns"],
    "candidates": ["ensemble", "linear_svm", "logistic_regression"],
    "class_weight": "balanced",
    "c_grid": [0.1, 0.3, 1.0],
    "lr_c": 10.0,
    # None: the final model chooses again on all examples below `large_from` examples and repeats the
    # held-out run's choices from there on (training.reselect); True or False: always or never.
    "reselect_on_all": None,
    "folds": 5,
    # From this many examples on, three folds: the estimates stay stable and training takes 40 % less.
    "large_from": 3000,
    "large_folds": 3,
    "seed": 7,
    "test_size": 0.2,
}


def build_features(parameters: dict, columns: list[str] | None = None, texts: list[str] | None = None) -> FeatureUnion:
    """Word and character n-grams of the whole text, then (with two or more columns) the words of each
    column but the last on their own, named `column:<name>` — those filled in at least half of `texts`
    (a news set imported with an empty subject has nothing there)."""
    spec = parameters["features"]
    word, char = spec["word"], spec["char_wb"]
    blocks = [
        ("word", TfidfVectorizer(ngram_range=tuple(word["ngram_range"]), min_df=word["min_df"],
                                 max_features=word["max_features"], sublinear_tf=spec["sublinear_tf"],
                                 lowercase=False, dtype=np.float32)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char["ngram_range"]), min_df=char["min_df"],
                                 max_features=char["max_features"], sublinear_tf=spec["sublinear_tf"],
                                 lowercase=False, dtype=np.float32)),
    ]
    column = spec.get("columns")
    if column and columns and len(columns) >= 2:
        for index, name in enumerate(columns[:-1]):
            if texts is not None and not column_filled(texts, index):
                continue
            blocks.append((f"column:{name}", TfidfVectorizer(
                preprocessor=ColumnText(index), ngram_range=tuple(column["ngram_range"]), min_df=column["min_df"],
                max_features=column["max_features"], sublinear_tf=spec["sublinear_tf"], lowercase=False,
                dtype=np.float32)))
    return FeatureUnion(blocks)


def column_filled(texts: list[str], index: int, share: float = 0.5) -> bool:
    """Is the index-th column of the prepared texts filled in at least `share` of them?"""
    pick = ColumnText(index)
    return bool(texts) and sum(1 for t in texts if pick(t)) >= share * len(texts)


def strip_training_traces(features: FeatureUnion) -> FeatureUnion:
    """The vectorisers keep nothing but the vocabulary and IDF weights: older scikit-learn versions kept
    every pruned term in `stop_words_`, which would put rare training words into the artifact."""
    for _name, vectorizer in features.transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            vectorizer.stop_words_ = None
    return features


def make_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds where every class allows it; plain shuffled folds for tiny classes."""
    n = len(y)
    smallest = np.bincount(y).min()
    k = min(n_folds, n)
    if k < 2:
        return []
    if smallest >= 2:
        splitter = StratifiedKFold(n_splits=min(k, smallest), shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(n), y))
    return list(KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n)))


@dataclass
class LinearModel:
    """Weights (classes x features, float32) and intercepts: all a prediction needs, nothing else."""

    weights: np.ndarray
    intercept: np.ndarray

    def scores(self, X) -> np.ndarray:
        return np.asarray(X @ self.weights.T, dtype=np.float64) + self.intercept


def fit_linear(X, y: np.ndarray, n_classes: int, *, c: float, class_weight, seed: int,
               sample_weight=None) -> LinearModel:
    present = np.unique(y)
    weights = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
    # A class absent from this training fold can never win.
    intercept = np.full(n_classes, -1e3, dtype=np.float64)
    if len(present) == 1:
        intercept[present[0]] = 1.0
        return LinearModel(weights, intercept)
    svm = LinearSVC(C=c, class_weight=class_weight, random_state=seed, max_iter=5000)
    svm.fit(X, y, sample_weight=sample_weight)
    coef, bias = svm.coef_, svm.intercept_
    if len(present) == 2:  # scikit-learn returns one row for two classes: the second against the first
        coef, bias = np.vstack([-coef, coef]), np.concatenate([-bias, bias])
    weights[present] = coef.astype(np.float32)
    intercept[present] = bias
    return LinearModel(weights, intercept)


def fit_logreg(X, y: np.ndarray, n_classes: int, *, c: float, class_weight, seed: int,
               sample_weight=None) -> LinearModel:
    """Multinomial logistic regression; its scores are logits (softmax gives its probabilities)."""
    present = np.unique(y)
    weights = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
    intercept = np.full(n_classes, -1e3, dtype=np.float64)
    if len(present) == 1:
        intercept[present[0]] = 1.0
        return LinearModel(weights, intercept)
    model = LogisticRegression(C=c, class_weight=class_weight, solver="newton-cg", max_iter=200, random_state=seed)
    with warnings.catch_warnings():
        # Stopping at max_iter still leaves a usable model; cross-validation measures it as it is.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=sample_weight)
    coef, bias = model.coef_, model.intercept_
    if len(present) == 2:  # one row of log-odds for the second class: as logits [-z/2, z/2]
        coef, bias = np.vstack([-coef / 2, coef / 2]), np.concatenate([-bias / 2, bias / 2])
    weights[present] = coef.astype(np.float32)
    intercept[present] = bias
    return LinearModel(weights, intercept)


LEARNERS = {"linear_svm": fit_linear, "logistic_regression": fit_logreg}


def softmax(scores: np.ndarray) -> np.ndarray:
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def ensemble_scores(probabilities: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """Log of the weighted mean of the members' probabilities: scores like any other, for calibration."""
    mean = sum(w * p for w, p in zip(weights, probabilities)) / sum(weights)
    return np.log(np.clip(mean, 1e-12, None))


def as_unseen(X_test, X_train, blocks: list[tuple[int, int]]):
    """The validation rows as new texts would look: the vocabulary is fitted once on all training texts
    (cheap), so a validation row would otherwise keep its own rare words in the row norm. Features the
    fold's training part never saw are dropped and each block (word, char, ...) is L2-normalised again;
    without this, cross-validated scores are smaller than real ones and the calibration comes out
    over-confident. (Works on the stored values directly: TF-IDF matrices hold no explicit zeros.)"""
    X_train = sparse.csr_matrix(X_train)
    seen = np.zeros(X_train.shape[1], dtype=bool)
    seen[X_train.indices] = True
    X = sparse.csr_matrix(X_test, copy=True)
    X.data = X.data * seen[X.indices]
    X.eliminate_zeros()
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    scale = np.zeros(len(X.data), dtype=np.float64)
    for start, end in blocks:
        inside = (X.indices >= start) & (X.indices < end)
        norms = np.sqrt(np.bincount(rows[inside], weights=np.square(X.data[inside], dtype=np.float64),
                                    minlength=X.shape[0]))
        scale[inside] = 1.0 / norms[rows[inside]]
    X.data = (X.data * scale).astype(np.float32)
    return X


def feature_blocks(features: FeatureUnion) -> list[tuple[int, int]]:
    blocks, start = [], 0
    for _name, vectorizer in features.transformer_list:
        end = start + len(vectorizer.vocabulary_)
        blocks.append((start, end))
        start = end
    return blocks


def out_of_fold_scores(X, y, n_classes, folds, *, c, class_weight, seed, blocks,
                       learner: str = "linear_svm", sample_weight=None) -> np.ndarray:
    scores = np.zeros((X.shape[0], n_classes))
    fit = LEARNERS[learner]
    for train, test in folds:
        model = fit(X[train], y[train], n_classes, c=c, class_weight=class_weight, seed=seed,
                    sample_weight=None if sample_weight is None else sample_weight[train])
        scores[test] = model.scores(as_unseen(X[test], X[train], blocks))
    return scores


@dataclass
class Member:
    """One model of an ensemble: its probabilities come from its own calibrator (the SVM) or from the
    softmax of its logits (logistic regression)."""

    kind: str
    linear: LinearModel
    calibrator: Calibrator | None = None
    weight: float = 1.0

    def proba(self, X) -> np.ndarray:
        scores = self.linear.scores(X)
        return self.calibrator.predict_proba(scores) if self.calibrator is not None else softmax(scores)


@dataclass
class FieldModel:
    """A trained model for one output field, as stored in the artifact. A single model is `linear`; an
    ensemble lists its `members` (and `linear` is its first member)."""

    field: str
    classes: list[str]
    features: FeatureUnion
    linear: LinearModel
    calibrator: Calibrator
    decision: str  # "scores": value = best score; "calibrated": value = most probable
    chosen: dict = dataclasses.field(default_factory=dict)
    members: list[Member] | None = None
    width: int | None = None  # the model reads the first `width` features (None: all of them)

    def transform(self, texts: list[str]):
        return self.features.transform(texts)

    def _view(self, X):
        width = getattr(self, "width", None)
        return X if width is None or width >= X.shape[1] else sparse.csr_matrix(X)[:, :width]

    def _members(self) -> list[Member]:
        # Artifacts of format 1 were written before ensembles: they have no `members` at all.
        return getattr(self, "members", None) or []

    def scores(self, X) -> np.ndarray:
        X = self._view(X)
        members = self._members()
        if not members:
            return self.linear.scores(X)
        return ensemble_scores([m.proba(X) for m in members], [m.weight for m in members])

    def predict(self, texts: list[str], X=None) -> tuple[list[str], np.ndarray, object]:
        """Values and calibrated confidences for prepared texts, in one pass; a text without a single
        known feature (empty, or nothing ever seen) gets confidence 0."""
        X = self.transform(texts) if X is None else X
        scores = self.scores(X)
        proba = self.calibrator.predict_proba(scores)
        index = scores.argmax(axis=1) if self.decision == "scores" else proba.argmax(axis=1)
        confidence = proba[np.arange(len(index)), index]
        empty = np.diff(sparse.csr_matrix(self._view(X)).indptr) == 0
        confidence = np.where(empty, 0.0, confidence)
        return [self.classes[i] for i in index], np.clip(confidence, 0.0, 1.0), X

    def explain(self, X_row, value: str, top: int = 5) -> list[tuple[str, float]]:
        """The terms of this text that pushed hardest towards `value` (weight x TF-IDF), words first:
        character n-grams are shown only when no word contributed. In an ensemble each member's
        contributions count as shares of its own positive evidence, weighted like the member."""
        row = sparse.csr_matrix(self._view(sparse.csr_matrix(X_row)))
        if row.nnz == 0 or value not in self.classes:
            return []
        k = self.classes.index(value)
        members = self._members()
        if not members:
            contributions = row.data * self.linear.weights[k, row.indices]
        else:
            contributions = np.zeros(row.nnz)
            total = sum(m.weight for m in members)
            for m in members:
                part = row.data * m.linear.weights[k, row.indices]
                positive = part[part > 0].sum()
                if positive > 0:
                    contributions += (m.weight / total) * part / positive
        order = np.argsort(-contributions, kind="stable")
        names = self._names()
        words: list[tuple[str, float]] = []
        chars: list[tuple[str, float]] = []
        for i in order:
            if contributions[i] <= 0:
                break
            name, is_word = names(int(row.indices[i]))
            (words if is_word else chars).append((name, round(float(contributions[i]), 4)))
            if len(words) >= top:
                break
        return words[:top] or chars[:top]

    def _names(self):
        """Feature index -> (term, is a word); a column's own words read `subject: term`."""
        if not hasattr(self, "_inverse"):
            inverse, words = [], []
            for name, vectorizer in self.features.transformer_list:
                block = [None] * len(vectorizer.vocabulary_)
                prefix = f"{name.removeprefix('column:')}: " if name.startswith("column:") else ""
                for term, i in vectorizer.vocabulary_.items():
                    block[i] = prefix + (term.strip() if name == "char" else term)
                inverse += block
                words += [name != "char"] * len(block)
            self._inverse, self._is_word = inverse, words

        def name(i: int) -> tuple[str, bool]:
            return self._inverse[i], self._is_word[i]

        return name

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_inverse", None)  # rebuilt on demand; not part of the artifact
        state.pop("_is_word", None)
        return state


def macro_f1(y_true, y_pred, sample_weight=None) -> float:
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0, sample_weight=sample_weight))


def vectorise(texts: list[str], parameters: dict, columns: list[str] | None = None):
    features = build_features(parameters, columns, texts)
    try:
        X = features.fit_transform(texts).tocsr()
    except ValueError:
        if len(features.transformer_list) <= 2:
            raise
        # A column filled only with what no word is made of (single characters, placeholders): without it.
        features = build_features(parameters)
        X = features.fit_transform(texts).tocsr()
    X.sort_indices()  # once here, rather than in every fold's copy
    return strip_training_traces(features), X


MODEL_LABELS = {"linear_svm": "linear SVM", "logistic_regression": "logistic regression",
                "ensemble": "linear SVM + logistic regression"}


def describe(chosen: dict) -> str:
    """The chosen model in a few words, for the command line."""
    model = chosen.get("model", "linear_svm")
    if model == "logistic_regression":
        text = f"logistic regression C={chosen.get('lr_c'):g}"
    elif model == "ensemble":
        text = (f"linear SVM C={chosen.get('c'):g} + logistic regression C={chosen.get('lr_c'):g}, "
                "probabilities averaged")
    else:
        text = f"linear SVM C={chosen.get('c'):g}"
    if chosen.get("features") == "text+columns":
        text += ", with the words of each column but the last on their own"
    return text


def fit_field(name: str, texts: list[str], labels: list[str], parameters: dict, *, fixed: dict | None = None,
              progress=None, vectorised=None, columns: list[str] | None = None, weights=None) -> FieldModel:
    """Train one field's model on prepared texts. Unless `fixed` names the choices (feature set, model, C,
    calibrators, decision rule), they are made here by cross-validation on these texts only: the
    candidate with the best out-of-fold macro-F1 wins. `vectorised` passes (features, X) already fitted
    on exactly these texts (fields sharing their examples share them). `weights`: how often each text
    occurred in the examples (a text repeated in an import counts as often as it occurs, as it does in a
    plain training on the file); folds keep each text in one place, so no text is validated against its
    own twin."""
    seed, class_weight = parameters["seed"], parameters["class_weight"]
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    w = None if weights is None or all(x == 1 for x in weights) else np.asarray(weights, dtype=float)
    features, X = vectorised or vectorise(texts, parameters, columns)
    n_folds = parameters["folds"] if len(y) < parameters.get("large_from", len(y) + 1) \
        else parameters.get("large_folds", parameters["folds"])
    folds = make_folds(y, n_folds, seed)
    n_classes = len(classes)
    report = progress or (lambda message: None)
    blocks = feature_blocks(features)
    text_width = blocks[1][1]  # word and character n-grams of the whole text
    if not folds:  # one example: nothing to cross-validate
        X_text = X[:, :text_width] if text_width < X.shape[1] else X
        linear = fit_linear(X_text, y, n_classes, c=1.0, class_weight=class_weight, seed=seed, sample_weight=w)
        calibrator = CALIBRATORS["temperature"]().fit(linear.scores(X_text), y, w)
        return FieldModel(name, classes, features, linear, calibrator, "scores",
                          {"features": "text", "model": "linear_svm", "c": 1.0, "calibration": "temperature",
                           "decision": "scores", "cv": "none"}, width=text_width)

    chosen = dict(fixed or {})
    candidates = [chosen["model"]] if "model" in chosen else list(parameters.get("candidates") or ["linear_svm"])
    widths = {"text": text_width}
    if "text+columns" in parameters.get("feature_sets", ["text"]) and X.shape[1] > text_width:
        widths["text+columns"] = X.shape[1]
    feature_sets = [chosen["features"]] if "features" in chosen else list(widths)
    calibration_folds = make_folds(y, n_folds, seed + 1)
    member_folds = make_folds(y, n_folds, seed + 2)
    lr_c = float(chosen.get("lr_c", parameters.get("lr_c", 10.0)))
    cv_f1: dict[str, float] = {}
    results: dict[tuple[str, str], dict] = {}

    for feature_set in feature_sets:
        width = widths.get(feature_set, X.shape[1])
        Xf = X if width >= X.shape[1] else X[:, :width]
        fblocks = [b for b in blocks if b[1] <= width]
        tag = "" if feature_set == "text" else f" [{feature_set}]"
        svm_oof = lr_oof = best_c = None
        if {"linear_svm", "ensemble"} & set(candidates):
            grid = [chosen["c"]] if "c" in chosen else list(parameters["c_grid"])
            oof, grid_f1 = {}, {}
            for c in grid:
                oof[c] = out_of_fold_scores(Xf, y, n_classes, folds, c=c, class_weight=class_weight, seed=seed,
                                            blocks=fblocks, sample_weight=w)
                grid_f1[c] = cv_f1[f"linear_svm C={c:g}{tag}"] = round(macro_f1(y, oof[c].argmax(axis=1), w), 5)
                report(f"{name}: linear SVM C={c:g}{tag} cross-validated macro-F1 {grid_f1[c]:.3f}")
            best_c = max(grid, key=lambda c: (grid_f1[c], -grid.index(c)))
            svm_oof = oof[best_c]
            results[(feature_set, "linear_svm")] = {"scores": svm_oof, "f1": grid_f1[best_c], "c": best_c}
        if {"logistic_regression", "ensemble"} & set(candidates):
            lr_oof = out_of_fold_scores(Xf, y, n_classes, folds, c=lr_c, class_weight=class_weight, seed=seed,
                                        blocks=fblocks, learner="logistic_regression", sample_weight=w)
            f1 = cv_f1[f"logistic_regression C={lr_c:g}{tag}"] = round(macro_f1(y, lr_oof.argmax(axis=1), w), 5)
            report(f"{name}: logistic regression C={lr_c:g}{tag} cross-validated macro-F1 {f1:.3f}")
            results[(feature_set, "logistic_regression")] = {"scores": lr_oof, "f1": f1}
        if "ensemble" in candidates and svm_oof is not None and lr_oof is not None:  # both ran for it above
            # The SVM's probabilities inside the ensemble are calibrated out of fold as well (on other
            # folds than the final calibration's), so the ensemble's cross-validated scores are honest.
            svm_method = chosen.get("svm_calibration") or choose_calibrator(svm_oof, y, member_folds, w)[0]
            svm_proba = cross_calibrated(svm_method, svm_oof, y, member_folds, w)
            scores = ensemble_scores([svm_proba, softmax(lr_oof)], [1.0, 1.0])
            f1 = cv_f1[f"ensemble{tag}"] = round(macro_f1(y, scores.argmax(axis=1), w), 5)
            report(f"{name}: ensemble{tag} cross-validated macro-F1 {f1:.3f}")
            results[(feature_set, "ensemble")] = {"scores": scores, "f1": f1, "c": best_c,
                                                  "svm_calibration": svm_method, "svm_oof": svm_oof}

    order = [(f, m) for f in feature_sets for m in candidates]
    feature_set, model = max(order, key=lambda key: (results[key]["f1"], -order.index(key)))
    result = results[(feature_set, model)]
    width = widths.get(feature_set, X.shape[1])
    Xf = X if width >= X.shape[1] else X[:, :width]
    scores = result["scores"]
    if "calibration" in chosen:
        method, losses = chosen["calibration"], dict[str, float]()
        proba = cross_calibrated(method, scores, y, calibration_folds, w)
    else:
        method, losses, proba = choose_calibrator(scores, y, calibration_folds, w)
    if "decision" in chosen:
        decision = chosen["decision"]
    else:
        by_scores, by_proba = macro_f1(y, scores.argmax(axis=1), w), macro_f1(y, proba.argmax(axis=1), w)
        decision = "calibrated" if by_proba > by_scores else "scores"
    report(f"{name}: fitting {MODEL_LABELS[model]} ({feature_set}) on {len(y)} examples")
    members = None
    if model == "linear_svm":
        linear = fit_linear(Xf, y, n_classes, c=result["c"], class_weight=class_weight, seed=seed, sample_weight=w)
    elif model == "logistic_regression":
        linear = fit_logreg(Xf, y, n_classes, c=lr_c, class_weight=class_weight, seed=seed, sample_weight=w)
    else:
        svm = fit_linear(Xf, y, n_classes, c=result["c"], class_weight=class_weight, seed=seed, sample_weight=w)
        members = [Member("linear_svm", svm,
                          CALIBRATORS[result["svm_calibration"]]().fit(result["svm_oof"], y, w)),
                   Member("logistic_regression", fit_logreg(Xf, y, n_classes, c=lr_c, class_weight=class_weight,
                                                            seed=seed, sample_weight=w))]
        linear = svm
    calibrator = CALIBRATORS[method]().fit(scores, y, w)
    choice = {"features": feature_set, "model": model, "c": result.get("c"),
              "lr_c": lr_c if model != "linear_svm" else None, "svm_calibration": result.get("svm_calibration"),
              "cv_macro_f1": cv_f1, "calibration": method, "calibration_log_loss": losses, "decision": decision,
              "cv": f"{len(folds)}-fold"}
    return FieldModel(name, classes, features, linear, calibrator, decision,
                      {k: v for k, v in choice.items() if v is not None}, members, width=width)
