"""Our classifier beside the baseline of /work/shared/tools/classifier_check.py, on the same split of the
same CSV, in one run:

  python bench/classifier_vs_baseline.py SRC.csv [gnad] [--tool PATH] [--work DIR]

1. classifier_check.py split SRC DIR   (stratified 80/20, seed 7; `gnad` for 'label;text' files)
2. classifier_check.py baseline DIR    (TF-IDF word+char + logistic regression)
3. our training on DIR/train.csv (automations.engines.classifier.training.train on the examples as
   `manage.py import_examples` stores them: the code behind `manage.py train_classifier`), our prediction
   on DIR/test.csv written as `manage.py predict` writes it
4. classifier_check.py score DIR PRED.jsonl
Prints both results, training and prediction time. Needs no database."""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_TOOL = Path(os.environ.get("CLASSIFIER_CHECK", "/work/shared/tools/classifier_check.py"))


def run_tool(tool: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, str(tool), *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("kind", nargs="?", default="tickets")
    parser.add_argument("--tool", type=Path, default=DEFAULT_TOOL)
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    from automations.engines.classifier.training import predict, summary_lines, train, weighted_examples

    work = Path(args.work or tempfile.mkdtemp(prefix="clf-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    split_args = [args.src, str(work)] + (["gnad"] if args.kind == "gnad" else [])
    print("split:", json.dumps(run_tool(args.tool, "split", *split_args)))
    start = time.monotonic()
    baseline = run_tool(args.tool, "baseline", str(work))
    baseline_seconds = time.monotonic() - start
    train_rows, test_rows = read(work / "train.csv"), read(work / "test.csv")
    fields = [f for f in ("queue", "priority") if any(r[f] for r in train_rows)]
    columns = ["subject", "body"]
    start, cpu = time.monotonic(), time.process_time()
    # As `import_examples` + `train_classifier` see the file: one example a distinct text, weighted by how
    # often it occurs, the newest label winning where a text has several.
    examples = [entry for _digest, entry in weighted_examples(
        ({c: r[c].strip() for c in columns}, {f: r[f].strip() for f in fields if r[f].strip()}) for r in train_rows)]
    bundle, evaluation, _parameters = train(examples, text_columns=columns, fields=fields)
    train_seconds, train_cpu = time.monotonic() - start, time.process_time() - cpu
    start = time.monotonic()
    predictions = predict(bundle, [{c: r[c] for c in columns} for r in test_rows])
    predict_seconds = time.monotonic() - start
    pred_path = work / "pred.jsonl"
    with open(pred_path, "w", encoding="utf-8") as fh:
        for p in predictions:
            fh.write(json.dumps({"fields": {k: {"value": v["value"], "confidence": v["confidence"]}
                                            for k, v in p.items()}}, ensure_ascii=False) + "\n")
    ours = run_tool(args.tool, "score", str(work), str(pred_path))
    print("\n".join(summary_lines(evaluation)))
    print("baseline:", json.dumps(baseline), f"({baseline_seconds:.1f} s incl. start-up)")
    print("ours:    ", json.dumps(ours),
          f"(training {train_seconds:.1f} s, {train_cpu:.1f} s CPU, on {len(train_rows)} rows incl. held-out "
          f"evaluation, "
          f"prediction {predict_seconds:.2f} s for {len(test_rows)} rows)")
    # Macro-F1 for priority too (the tool reports accuracy only); the baseline's from the tool's own
    # pipeline, loaded from the tool file and fitted here on the same split.
    from sklearn.metrics import f1_score

    if "priority" in fields:
        truth = [r["priority"] for r in test_rows]
        print("priority macro-F1 ours:", round(f1_score(truth, [p["priority"]["value"] for p in predictions],
                                                       average="macro"), 4),
              "baseline:", round(f1_score(truth, baseline_predictions(args.tool, work, "priority"),
                                          average="macro"), 4))


def baseline_predictions(tool: Path, work: Path, label: str) -> list[str]:
    """The tool's baseline model for one label, built by its own code (make_pipeline of its baseline)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("classifier_check", tool)
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    train_rows, test_rows = check.read(f"{work}/train.csv"), check.read(f"{work}/test.csv")
    text = lambda rows: [f"{r['subject']}\n{r['body']}" for r in rows]  # noqa: E731
    model = check.make_pipeline(
        check.make_union(check.TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                         check.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        check.LogisticRegression(C=10, max_iter=2000, class_weight="balanced"))
    model.fit(text(train_rows), [r[label] for r in train_rows])
    return list(model.predict(text(test_rows)))


if __name__ == "__main__":
    main()
