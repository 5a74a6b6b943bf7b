"""Cloud smoke: the app and a short training on an interpreter set up as Streamlit Cloud does.

Streamlit Community Cloud installs requirements.txt (not the project) and runs `app.py` from the
repository root, so `explorer` is imported from the working tree. Run this with such an
environment's Python, from anywhere:

    python -m venv /tmp/v313 && /tmp/v313/bin/pip install -r requirements.txt
    /tmp/v313/bin/python tools/cloud_smoke.py

Checks:
  app    AppTest.from_file(app.py).run() with default settings raises nothing.
  train  explorer.train.train() on 1,000 Fashion-MNIST images for one epoch finishes, with
         finite losses and a validation accuracy above chance.

Prints the Python and package versions, each check's time, and a last line
"cloud smoke: N of M checks passed"; the exit status is 1 when a check failed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANCE = 0.1  # ten classes
MIN_ACCURACY = 2 * CHANCE  # one epoch on 1,000 images reaches far more (about 0.6)


def prepare_imports() -> None:
    """Import `explorer` from the working tree, as Cloud does: repo root first on sys.path."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.chdir(ROOT)
    if str(ROOT) not in sys.path[:1]:
        sys.path.insert(0, str(ROOT))


def versions() -> str:
    found = []
    for name in ("streamlit", "tensorflow-cpu", "tensorflow", "keras", "numpy", "pandas", "altair"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def check_app(app_path: Path, timeout: float) -> None:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(app_path), default_timeout=timeout).run()
    if app.exception:
        for element in app.exception:
            print(f"  exception: {element.message}")
            for line in element.stack_trace:
                print(f"    {line}")
        raise AssertionError(f"{len(app.exception)} exception element(s) in the app")
    title = app.title[0].value if app.title else "(no title)"
    print(f"  app ran without exceptions: title {title!r}, {len(app.button)} buttons")


def check_train() -> None:
    import explorer
    from explorer.config import RunConfig
    from explorer.data import load_dataset
    from explorer.train import train

    module = Path(explorer.__file__).resolve()
    if ROOT not in module.parents:
        raise AssertionError(f"explorer imported from {module}, not from the working tree {ROOT}")
    dataset = load_dataset("fashion_mnist")
    print(f"  data: {dataset.source}")
    config = RunConfig(train_samples=1000, validation_samples=500, epochs=1, batch_size=32)
    result = train(config, dataset)
    final = result.final
    print(
        f"  {result.planned_steps} steps, setup {result.setup_seconds:.1f} s, "
        f"training {result.train_seconds:.1f} s: train loss {final.train_loss:.4f}, "
        f"val loss {final.val_loss:.4f}, val accuracy {final.val_accuracy:.4f}"
    )
    problems = []
    if not result.finished:
        problems.append("the run did not finish")
    if result.diverged:
        problems.append(f"the run diverged at step {result.diverged_step}")
    for name in ("train_loss", "val_loss"):
        if not math.isfinite(final[name]):
            problems.append(f"{name} is {final[name]}")
    if not final.val_accuracy > MIN_ACCURACY:
        problems.append(f"val accuracy {final.val_accuracy:.4f} is not above {MIN_ACCURACY}")
    if problems:
        raise AssertionError("; ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--app", type=Path, default=ROOT / "app.py", help="the app file (default: app.py)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="AppTest's default_timeout in seconds"
    )
    args = parser.parse_args(argv)
    app_path = args.app.resolve()  # before prepare_imports() changes the directory
    prepare_imports()

    print(f"Python {sys.version.split()[0]} ({sys.executable})")
    print(versions())
    checks = {"app": lambda: check_app(app_path, args.timeout), "train": check_train}
    passed = failed = 0
    for name, check in checks.items():
        print(f"[{name}]")
        started = time.perf_counter()
        try:
            check()
        except AssertionError as error:
            failed += 1
            outcome = "FAILED"
            print(f"  {error}")
        except Exception:
            failed += 1
            outcome = "FAILED"
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            outcome = "passed"
        print(f"[{name}] {outcome} in {time.perf_counter() - started:.1f} s", flush=True)
    print(f"cloud smoke: {passed} of {passed + failed} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
