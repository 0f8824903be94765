"""The trained classifier engine: scikit-learn models from labelled examples, one per category output
field, with calibrated confidences and the terms that drove each decision as the explanation.

  text.py         what the model sees (identifiers masked, spelling folded, one line per column)
  model.py        features, the candidate models (linear SVM, logistic regression, their ensemble), the
                  per-field model and how it is chosen
  calibration.py  confidence calibrators, chosen by measurement
  evaluation.py   held-out figures: macro-F1, calibration bands, automation share at target precision
  training.py     train/predict without the database (used by the services and the benchmark)
  artifact.py     the stored file: format version and SHA-256 checked on load
  engine.py       the pipeline engine `classifier`
"""
from automations.engines.classifier.engine import ClassifierEngine

__all__ = ["ClassifierEngine"]
