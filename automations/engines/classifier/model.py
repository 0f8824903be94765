"""One model per category output field: TF-IDF features (word 1-2-grams and character 2-5-grams within
word boundaries, sublinear term frequency) and a class-balanced linear SVM, with calibrated probabilities.

Why this and not something else — measured on the demo tickets, the demo documents and a set of
real German program messages (bench/classifier_vs_baseline.py, bench/classifier_corpus_messages.py):
- linear SVMs beat logistic regression (the baseline's C=10) by 0.5-3.5 macro-F1 points there and train
  several times faster; the best C differs per data set (0.1 on short tickets, 1.0 on the messages), so
  it is chosen per field by cross-validation on the training part, never on the held-out part;
- character n-grams carry the typos, dropped umlauts and compound words of German e-mails; dropping
  words seen only once (min_df=2) cost a point on short texts, so words keep min_df=1;
- folding umlauts and masking identifiers (text.py) helps a little and is needed for privacy anyway;
- calibration (temperature, Platt or isotonic) is chosen by cross-validated log-loss (calibration.py).

Deterministic: fixed seeds for every split, single-threaded solvers, sorted classes."""
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from automations.engines.classifier.calibration import CALIBRATORS, choose_calibrator

DEFAULT_PARAMETERS = {
    "features": {
        "word": {"ngram_range": [1, 2], "min_df": 1, "max_features": 400_000},
        "char_wb": {"ngram_range": [2, 5], "min_df": 2, "max_features": 400_000},
        "sublinear_tf": True,
    },
    "model": "linear_svm",
    "class_weight": "balanced",
    "c_grid": [0.1, 0.3, 1.0],
    "folds": 5,
    "seed": 7,
    "test_size": 0.2,
}


def build_features(parameters: dict) -> FeatureUnion:
    spec = parameters["features"]
    word, char = spec["word"], spec["char_wb"]
    return FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=tuple(word["ngram_range"]), min_df=word["min_df"],
                                 max_features=word["max_features"], sublinear_tf=spec["sublinear_tf"],
                                 lowercase=False, dtype=np.float32)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char["ngram_range"]), min_df=char["min_df"],
                                 max_features=char["max_features"], sublinear_tf=spec["sublinear_tf"],
                                 lowercase=False, dtype=np.float32)),
    ])


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


def fit_linear(X, y: np.ndarray, n_classes: int, *, c: float, class_weight, seed: int) -> LinearModel:
    present = np.unique(y)
    weights = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
    # A class absent from this training fold can never win.
    intercept = np.full(n_classes, -1e3, dtype=np.float64)
    if len(present) == 1:
        intercept[present[0]] = 1.0
        return LinearModel(weights, intercept)
    svm = LinearSVC(C=c, class_weight=class_weight, random_state=seed, max_iter=5000)
    svm.fit(X, y)
    coef, bias = svm.coef_, svm.intercept_
    if len(present) == 2:  # scikit-learn returns one row for two classes: the second against the first
        coef, bias = np.vstack([-coef, coef]), np.concatenate([-bias, bias])
    weights[present] = coef.astype(np.float32)
    intercept[present] = bias
    return LinearModel(weights, intercept)


def as_unseen(X_test, X_train, blocks: list[tuple[int, int]]):
    """The validation rows as new texts would look: the vocabulary is fitted once on all training texts
    (cheap), so a validation row would otherwise keep its own rare words in the row norm. Features the
    fold's training part never saw are dropped and each block (word, char) is L2-normalised again; without
    this, cross-validated scores are smaller than real ones and the calibration comes out over-confident."""
    seen = np.asarray((X_train != 0).sum(axis=0)).ravel() > 0
    X = sparse.csr_matrix(X_test @ sparse.diags(seen.astype(np.float32)))
    X.eliminate_zeros()
    parts = []
    for start, end in blocks:
        part = X[:, start:end]
        norms = np.sqrt(np.asarray(part.multiply(part).sum(axis=1)).ravel())
        parts.append(sparse.diags(np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0)) @ part)
    return sparse.hstack(parts, format="csr", dtype=np.float32)


def feature_blocks(features: FeatureUnion) -> list[tuple[int, int]]:
    blocks, start = [], 0
    for _name, vectorizer in features.transformer_list:
        end = start + len(vectorizer.vocabulary_)
        blocks.append((start, end))
        start = end
    return blocks


def out_of_fold_scores(X, y, n_classes, folds, *, c, class_weight, seed, blocks) -> np.ndarray:
    scores = np.zeros((X.shape[0], n_classes))
    for train, test in folds:
        model = fit_linear(X[train], y[train], n_classes, c=c, class_weight=class_weight, seed=seed)
        scores[test] = model.scores(as_unseen(X[test], X[train], blocks))
    return scores


@dataclass
class FieldModel:
    """A trained model for one output field, as stored in the artifact."""

    field: str
    classes: list[str]
    features: FeatureUnion
    linear: LinearModel
    calibrator: object
    decision: str  # "scores": value = best score; "calibrated": value = most probable
    chosen: dict = field(default_factory=dict)

    def transform(self, texts: list[str]):
        return self.features.transform(texts)

    def predict(self, texts: list[str], X=None) -> tuple[list[str], np.ndarray, object]:
        """Values and calibrated confidences for prepared texts, in one pass; a text without a single
        known feature (empty, or nothing ever seen) gets confidence 0."""
        X = self.transform(texts) if X is None else X
        scores = self.linear.scores(X)
        proba = self.calibrator.predict_proba(scores)
        index = scores.argmax(axis=1) if self.decision == "scores" else proba.argmax(axis=1)
        confidence = proba[np.arange(len(index)), index]
        empty = np.diff(sparse.csr_matrix(X).indptr) == 0
        confidence = np.where(empty, 0.0, confidence)
        return [self.classes[i] for i in index], np.clip(confidence, 0.0, 1.0), X

    def explain(self, X_row, value: str, top: int = 5) -> list[tuple[str, float]]:
        """The terms of this text that pushed hardest towards `value` (weight x TF-IDF), words first:
        character n-grams are shown only when no word contributed."""
        row = sparse.csr_matrix(X_row)
        if row.nnz == 0 or value not in self.classes:
            return []
        k = self.classes.index(value)
        contributions = row.data * self.linear.weights[k, row.indices]
        order = np.argsort(-contributions, kind="stable")
        names = self._names()
        words, chars = [], []
        for i in order:
            if contributions[i] <= 0:
                break
            name, is_word = names(int(row.indices[i]))
            (words if is_word else chars).append((name, round(float(contributions[i]), 4)))
            if len(words) >= top:
                break
        return words[:top] or chars[:top]

    def _names(self):
        word, char = self.features.transformer_list[0][1], self.features.transformer_list[1][1]
        n_word = len(word.vocabulary_)
        if not hasattr(self, "_inverse"):
            inverse = [None] * (n_word + len(char.vocabulary_))
            for term, i in word.vocabulary_.items():
                inverse[i] = term
            for term, i in char.vocabulary_.items():
                inverse[n_word + i] = term.strip()
            self._inverse = inverse

        def name(i: int) -> tuple[str, bool]:
            return self._inverse[i], i < n_word

        return name

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_inverse", None)  # rebuilt on demand; not part of the artifact
        return state


def macro_f1(y_true, y_pred) -> float:
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def vectorise(texts: list[str], parameters: dict):
    features = build_features(parameters)
    X = features.fit_transform(texts).tocsr()
    return strip_training_traces(features), X


def fit_field(name: str, texts: list[str], labels: list[str], parameters: dict, *, fixed: dict | None = None,
              progress=None, vectorised=None) -> FieldModel:
    """Train one field's model on prepared texts. Unless `fixed` names the choices (C, calibrator,
    decision rule), they are made here by cross-validation on these texts only. `vectorised` passes
    (features, X) already fitted on exactly these texts (fields sharing their examples share them)."""
    seed, class_weight = parameters["seed"], parameters["class_weight"]
    classes = sorted(set(labels))
    y = np.array([classes.index(v) for v in labels])
    features, X = vectorised or vectorise(texts, parameters)
    folds = make_folds(y, parameters["folds"], seed)
    n_classes = len(classes)
    if not folds:  # one example: nothing to cross-validate
        linear = fit_linear(X, y, n_classes, c=1.0, class_weight=class_weight, seed=seed)
        calibrator = CALIBRATORS["temperature"]().fit(linear.scores(X), y)
        return FieldModel(name, classes, features, linear, calibrator, "scores",
                          {"c": 1.0, "calibration": "temperature", "decision": "scores", "cv": "none"})

    chosen = dict(fixed or {})
    grid = [chosen["c"]] if "c" in chosen else list(parameters["c_grid"])
    cv_f1, oof = {}, {}
    for c in grid:
        oof[c] = out_of_fold_scores(X, y, n_classes, folds, c=c, class_weight=class_weight, seed=seed,
                                    blocks=feature_blocks(features))
        cv_f1[c] = round(macro_f1(y, oof[c].argmax(axis=1)), 5)
        if progress:
            progress(f"{name}: C={c} cross-validated macro-F1 {cv_f1[c]:.3f}")
    best_c = max(grid, key=lambda c: (cv_f1[c], -grid.index(c)))
    scores = oof[best_c]
    calibration_folds = make_folds(y, parameters["folds"], seed + 1)
    if "calibration" in chosen:
        method, losses = chosen["calibration"], {}
        from automations.engines.classifier.calibration import cross_calibrated

        proba = cross_calibrated(method, scores, y, calibration_folds)
    else:
        method, losses, proba = choose_calibrator(scores, y, calibration_folds)
    if "decision" in chosen:
        decision = chosen["decision"]
    else:
        by_scores, by_proba = macro_f1(y, scores.argmax(axis=1)), macro_f1(y, proba.argmax(axis=1))
        decision = "calibrated" if by_proba > by_scores else "scores"
    linear = fit_linear(X, y, n_classes, c=best_c, class_weight=class_weight, seed=seed)
    calibrator = CALIBRATORS[method]().fit(scores, y)
    return FieldModel(name, classes, features, linear, calibrator, decision,
                      {"c": best_c, "cv_macro_f1": {str(c): f for c, f in cv_f1.items()}, "calibration": method,
                       "calibration_log_loss": losses, "decision": decision, "cv": f"{len(folds)}-fold"})
