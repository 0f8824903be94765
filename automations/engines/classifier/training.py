"""Training and batch prediction without the database: given examples, produce a bundle (one model per
field) and its held-out evaluation. The services wrap this with storage, permissions and audit; the
benchmark calls it directly."""
import copy
import time
from collections import Counter
from collections.abc import Callable

from automations.engines.classifier.evaluation import field_report, holdout_split
from automations.engines.classifier.model import DEFAULT_PARAMETERS, FieldModel, describe, fit_field, vectorise
from automations.engines.classifier.text import prepare, text_hash

DEFAULT_TARGET_PRECISION = 0.95
PREDICT_BATCH = 2000
# Below `large_from` examples the final model chooses again, by cross-validation on all examples: it
# costs little there, and choosing on a quarter more data is worth most where data is scarce; the held-out
# figures measure the whole procedure, choosing included. From `large_from` on, the final model repeats
# what the held-out run chose among thousands of examples (it re-fits, and re-calibrates out of fold, on
# all examples) at half the cost. `reselect_on_all` True or False overrides this.
FIXED_CHOICES = ("features", "model", "c", "lr_c", "svm_calibration", "calibration", "decision")


def reselect(parameters: dict, n: int) -> bool:
    forced = parameters.get("reselect_on_all")
    return bool(forced) if forced is not None else n < parameters.get("large_from", 3000)


class NotEnoughExamples(ValueError):
    pass


def train(examples: list[tuple], *, text_columns: list[str], fields: list[str],
          targets: dict[str, float] | None = None, parameters: dict | None = None,
          progress: Callable[[str, float], None] | None = None) -> tuple[dict, dict, dict]:
    """examples: (texts, labels) or (texts, labels, weight) — weight: how often the text occurred, a number
    or one per field (see weighted_examples); the models count it that often, splits and folds keep it in
    one place, and the held-out figures count each distinct text once. Returns (bundle, evaluation,
    parameters).

    Per field: a fixed stratified split; the model is chosen and fitted on the training part and measured
    on the held-out part; then the model for the artifact is fitted on all examples (see reselect)."""
    parameters = copy.deepcopy(parameters or DEFAULT_PARAMETERS)
    targets = targets or {}
    report = progress or (lambda message, fraction: None)
    prepared = [prepare(example[0], text_columns) for example in examples]
    weights = [example[2] if len(example) > 2 else 1 for example in examples]

    def weight(i: int, name: str) -> int:
        w = weights[i]
        return int(w.get(name, 1)) if isinstance(w, dict) else int(w)
    models: dict[str, FieldModel] = {}
    evaluation: dict = {"fields": {}, "skipped": {}}
    cache: dict[tuple, tuple] = {}

    def vectorised(indices: list[int]):
        """Fields labelled on the same examples share one vectorisation (the costly part on long texts)."""
        key = tuple(indices)
        if key not in cache:
            if len(cache) >= 2:
                cache.pop(next(iter(cache)))
            cache[key] = vectorise([prepared[i] for i in indices], parameters, list(text_columns))
        return cache[key]

    splits: dict[tuple, tuple] = {}

    for number, name in enumerate(fields):
        start = time.monotonic()
        rows = [i for i, example in enumerate(examples) if str(example[1].get(name) or "").strip()]
        labels = [str(examples[i][1][name]).strip() for i in rows]
        texts = [prepared[i] for i in rows]
        if len(set(labels)) < 2:
            evaluation["skipped"][name] = "needs examples of at least two different values"
            continue
        base = number / len(fields)
        step = 1 / len(fields)
        report(f"{name}: held-out evaluation", base)
        # Fields labelled on the same examples share one split, stratified on the first of them.
        if tuple(rows) not in splits:
            splits[tuple(rows)] = holdout_split(labels, test_size=parameters["test_size"], seed=parameters["seed"])
        train_idx, test_idx = splits[tuple(rows)]
        target = float(targets.get(name, DEFAULT_TARGET_PRECISION))
        fixed = None
        if test_idx:
            held = fit_field(name, [texts[i] for i in train_idx], [labels[i] for i in train_idx], parameters,
                             progress=lambda m, at=base + step * 0.3: report(m, at),
                             vectorised=vectorised([rows[i] for i in train_idx]),
                             weights=[weight(rows[i], name) for i in train_idx])
            values, confidence, _X = held.predict([texts[i] for i in test_idx])
            field_eval = field_report([labels[i] for i in test_idx], values, confidence, classes=held.classes,
                                      target=target)
            field_eval.update(train_size=len(train_idx), test_size=len(test_idx), chosen=held.chosen)
            if not reselect(parameters, len(labels)):
                fixed = {k: held.chosen[k] for k in FIXED_CHOICES if k in held.chosen}
        else:
            field_eval = {"n": 0, "note": "too few examples for a held-out evaluation",
                          "automation": {"target_precision": target, "threshold": None, "share": 0.0}}
        report(f"{name}: fitting on all {len(labels)} examples", base + step * 0.6)
        model = fit_field(name, texts, labels, parameters, fixed=fixed, vectorised=vectorised(rows),
                          progress=lambda m, at=base + step * 0.7: report(m, at),
                          weights=[weight(i, name) for i in rows])
        models[name] = model
        field_eval.update(classes=model.classes, examples=len(labels), final=model.chosen,
                          occurrences=sum(weight(i, name) for i in rows),
                          seconds=round(time.monotonic() - start, 2))
        evaluation["fields"][name] = field_eval
    if not models:
        raise NotEnoughExamples("no output field has examples of at least two different values")
    report("done", 1.0)
    bundle = {"text_columns": list(text_columns), "fields": models}
    return bundle, evaluation, parameters


def weighted_examples(rows) -> list[tuple[str, tuple[dict, dict, dict]]]:
    """Labelled rows (texts, labels[, is a clerk's correction]), oldest first, as training sees them: one
    entry a distinct text (text_hash), sorted by it, as (hash, (texts, labels, weights per field)).

    Per field, a clerk's newest correction wins; without one, the most frequent value (the newest of
    equally frequent ones) — what a model trained on every row would predict for that very text. The
    field's weight counts the rows that agree with it, so a text repeated in an import counts as often as
    it occurs, as in any plain training on the file."""
    groups: dict[str, tuple[dict, list[tuple[dict, bool]]]] = {}
    for row in rows:
        texts, labels = row[0], row[1]
        correction = bool(row[2]) if len(row) > 2 else False
        digest = text_hash(texts)
        groups.setdefault(digest, (texts, []))[1].append((labels, correction))
    out = []
    for digest in sorted(groups):
        texts, entries = groups[digest]
        fields = list(dict.fromkeys(name for labels, _c in entries for name in labels))
        labels, weights = {}, {}
        for name in fields:
            values = [(str(lab[name]), corr) for lab, corr in entries if str(lab.get(name) or "").strip()]
            if not values:
                continue
            corrections = [value for value, corr in values if corr]
            if corrections:
                value = corrections[-1]
            else:
                counts = Counter(value for value, _c in values)
                top = max(counts.values())
                value = [v for v, _c in values if counts[v] == top][-1]
            labels[name] = value
            weights[name] = sum(1 for v, _c in values if v == value)
        out.append((digest, (texts, labels, weights)))
    return out


def predict(bundle: dict, rows: list[dict], *, text_columns: list[str] | None = None,
            explain: int = 0) -> list[dict]:
    """For each row (a dict of input columns) in order: {field: {"value", "confidence"[, "terms"]}}.
    Texts are vectorised in batches: 10,000 rows take seconds."""
    columns = list(text_columns or bundle["text_columns"])
    prepared = [prepare(row, columns) for row in rows]
    out: list[dict] = [{} for _ in rows]
    for start in range(0, len(prepared), PREDICT_BATCH):
        chunk = prepared[start:start + PREDICT_BATCH]
        # Fields trained on the same examples share one vectoriser (one object in the artifact):
        # the costly transformation runs once per batch for all of them.
        vectorised: dict[int, object] = {}
        for name, model in bundle["fields"].items():
            key = id(model.features)
            if key not in vectorised:
                vectorised[key] = model.transform(chunk)
            values, confidence, X = model.predict(chunk, X=vectorised[key])
            for j, (value, conf) in enumerate(zip(values, confidence)):
                entry = {"value": value, "confidence": round(float(conf), 4)}
                if explain:
                    entry["terms"] = model.explain(X[j], value, top=explain)
                out[start + j][name] = entry
    return out


def summary_lines(evaluation: dict) -> list[str]:
    """The evaluation as a person reads it on a terminal."""
    lines = []
    for name, e in evaluation.get("fields", {}).items():
        if not e.get("n"):
            lines.append(f"{name}: {e.get('examples', 0)} examples — {e.get('note', '')}")
            continue
        auto = e["automation"]
        threshold = "none reaches it" if auto["threshold"] is None else f"threshold {auto['threshold']:.4f}"
        lines.append(f"{name}: {e['examples']} examples, held out {e['n']}: accuracy {e['accuracy']:.3f}, "
                     f"macro-F1 {e['macro_f1']:.3f}, ECE {e['ece']:.3f}")
        lines.append(f"  automatic at precision ≥ {auto['target_precision']:.2f}: {auto['share'] * 100:.1f} % "
                     f"of items ({threshold})")
        chosen = e.get("final", {})
        lines.append(f"  model: {describe(chosen)}, calibration {chosen.get('calibration')}, "
                     f"classes {len(e.get('classes', []))}")
        # The comparison of the candidates: made again on all examples, or only in the held-out run.
        compared = max((chosen.get("cv_macro_f1") or {}, e.get("chosen", {}).get("cv_macro_f1") or {}), key=len)
        if compared:
            lines.append("  cross-validated macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in compared.items()))
        for band in e["calibration"]:
            if band["count"]:
                lines.append(f"    confidence {band['band']}: {band['count']:4d} items, mean "
                             f"{band['mean_confidence']:.3f}, right {band['accuracy']:.3f}")
    for name, why in evaluation.get("skipped", {}).items():
        lines.append(f"{name}: not trained — {why}")
    return lines


__all__ = ["DEFAULT_TARGET_PRECISION", "NotEnoughExamples", "predict", "summary_lines", "train",
           "weighted_examples"]
