"""Calibrators: from a linear model's decision scores (n x classes) to probabilities that mean what they
say. Fitted on out-of-fold scores, so that they see the model's behaviour on texts it was not trained on.
Which one a field uses is measured (cross-validated log-loss), not assumed."""
from typing import Protocol

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.isotonic import IsotonicRegression


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, None)
    total = p.sum(axis=1, keepdims=True)
    k = p.shape[1]
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / k)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Calibrator(Protocol):
    """What every calibrator does once fitted: decision scores (n x classes) to probabilities."""

    def predict_proba(self, scores: np.ndarray) -> np.ndarray: ...


class TemperatureCalibrator:
    """softmax(scores / T) with one temperature for all classes: one parameter, safe on small data."""

    method = "temperature"

    def fit(self, scores: np.ndarray, y: np.ndarray, sample_weight=None):
        onehot = np.eye(scores.shape[1])[y]
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)

        def loss(log_t):
            p = _softmax(scores / np.exp(log_t))
            return -np.average(np.log(np.clip((p * onehot).sum(axis=1), 1e-12, None)), weights=w)

        self.temperature_ = float(np.exp(minimize_scalar(loss, bounds=(-6, 4), method="bounded").x))
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(scores / self.temperature_)


def platt(x: np.ndarray, target: np.ndarray, *, l2: float = 1e-4, iterations: int = 100,
          sample_weight=None) -> tuple[float, float]:
    """sigmoid(a*x + b) fitted by Newton's method with a backtracking line search: the (weighted) logistic
    loss plus l2/2 * a^2 — the objective of scikit-learn's LogisticRegression(C=1/l2) on one feature,
    solved in a few steps instead of a general-purpose optimiser's hundreds (it runs thousands of times a
    training)."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(target, dtype=float)
    sw = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=float)

    def loss(a: float, b: float) -> float:
        z = a * x + b
        return float(np.dot(sw, np.logaddexp(0.0, z) - t * z) + 0.5 * l2 * a * a)

    a, b = 0.0, 0.0
    current = loss(a, b)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        w = sw * p * (1.0 - p)
        grad = np.array([np.dot(sw * (p - t), x) + l2 * a, np.dot(sw, p - t)])
        hess = np.array([[np.dot(w, x * x) + l2, np.dot(w, x)], [np.dot(w, x), np.sum(w) + 1e-12]])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = grad / max(float(np.abs(np.diag(hess)).max()), 1e-12)
        size = 1.0
        while size > 1e-10:
            candidate = loss(a - size * step[0], b - size * step[1])
            if candidate <= current:
                break
            size /= 2
        else:
            break
        a, b = a - size * step[0], b - size * step[1]
        improvement, current = current - candidate, candidate
        if improvement < 1e-10 * max(1.0, abs(current)) and np.max(np.abs(size * step)) < 1e-8:
            break
    return float(a), float(b)


class SigmoidCalibrator:
    """Platt scaling one class against the rest, renormalised (what scikit-learn's 'sigmoid' does)."""

    method = "sigmoid"

    def fit(self, scores: np.ndarray, y: np.ndarray, sample_weight=None):
        # Per class: a constant where the class is all or nothing, else Platt's (a, b).
        self.models_: list[float | tuple[float, float]] = []
        for k in range(scores.shape[1]):
            target = (y == k).astype(int)
            if target.min() == target.max():
                self.models_.append(float(target[0]))
                continue
            self.models_.append(platt(scores[:, k], target, sample_weight=sample_weight))
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        columns = []
        for k, model in enumerate(self.models_):
            if isinstance(model, float):
                columns.append(np.full(scores.shape[0], model))
            else:
                a, b = model
                columns.append(1.0 / (1.0 + np.exp(-(a * scores[:, k] + b))))
        return _normalise(np.column_stack(columns))


class IsotonicCalibrator:
    """Isotonic regression one class against the rest, renormalised: flexible, needs more data."""

    method = "isotonic"

    def fit(self, scores: np.ndarray, y: np.ndarray, sample_weight=None):
        self.models_: list[IsotonicRegression] = []
        for k in range(scores.shape[1]):
            model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            model.fit(scores[:, k], (y == k).astype(float), sample_weight=sample_weight)
            self.models_.append(model)
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        return _normalise(np.column_stack([m.predict(scores[:, k]) for k, m in enumerate(self.models_)]))


CALIBRATORS = {c.method: c for c in (TemperatureCalibrator, SigmoidCalibrator, IsotonicCalibrator)}
ISOTONIC_MIN_SAMPLES = 500


def log_loss(proba: np.ndarray, y: np.ndarray, sample_weight=None) -> float:
    return float(-np.average(np.log(np.clip(proba[np.arange(len(y)), y], 1e-12, None)), weights=sample_weight))


def cross_calibrated(method: str, scores: np.ndarray, y: np.ndarray, folds, sample_weight=None) -> np.ndarray:
    """Out-of-fold calibrated probabilities: how the calibrator does on scores it was not fitted on."""
    proba = np.zeros_like(scores, dtype=float)
    for train, test in folds:
        weight = None if sample_weight is None else sample_weight[train]
        proba[test] = CALIBRATORS[method]().fit(scores[train], y[train], weight).predict_proba(scores[test])
    return proba


def choose_calibrator(scores: np.ndarray, y: np.ndarray, folds,
                      sample_weight=None) -> tuple[str, dict[str, float], np.ndarray]:
    """The method with the lowest cross-validated log-loss; returns (method, losses, its OOF probabilities).
    `sample_weight`: how often each text occurred (repeated texts count as often as they occur)."""
    methods = ["temperature", "sigmoid"] + (["isotonic"] if len(y) >= ISOTONIC_MIN_SAMPLES else [])
    losses, probas = {}, {}
    for method in methods:
        probas[method] = cross_calibrated(method, scores, y, folds, sample_weight)
        losses[method] = round(log_loss(probas[method], y, sample_weight), 5)
    best = min(methods, key=lambda m: (losses[m], methods.index(m)))
    return best, losses, probas[best]
