"""Memory: a run trained in a worker thread, as the app trains, leaves nothing behind."""

import gc
import threading
import weakref

import pytest
import tensorflow as tf

from explorer import train as training
from explorer.config import ACTIVATIONS, RunConfig


def quick(index: int) -> RunConfig:
    """A small run, distinct for each index (seed, width and activation)."""
    return RunConfig(
        train_samples=1_000,
        validation_samples=500,
        epochs=1,
        seed=index,
        hidden_units=(32 + 16 * index,),
        activation=ACTIVATIONS[index % len(ACTIVATIONS)],
    )


def in_thread(config, dataset, should_stop=None):
    """train() in a fresh thread, as the app's job manager runs it: (result, error)."""
    outcome = {}

    def work():
        try:
            outcome["result"] = training.train(config, dataset, should_stop=should_stop)
        except Exception as error:  # kept, as the job manager keeps a failed job's error
            outcome["error"] = error

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return outcome.get("result"), outcome.get("error")


def live_func_graphs():
    return [graph for graph in gc.get_objects() if isinstance(graph, tf.__internal__.FuncGraph)]


@pytest.mark.slow
def test_a_finished_or_stopped_run_frees_its_model_and_graphs(fashion, monkeypatch):
    models = []
    build_model = training.build_model

    def recording_build_model(*args, **kwargs):
        model = build_model(*args, **kwargs)
        models.append(weakref.ref(model))
        return model

    monkeypatch.setattr(training, "build_model", recording_build_model)
    in_thread(quick(0), fashion)  # warm-up: Keras and TensorFlow's own first-use graphs
    gc.collect()
    before = weakref.WeakSet(live_func_graphs())
    models.clear()

    # No automatic collection meanwhile: what is freed, train() freed itself.
    gc.disable()
    try:
        results = [in_thread(quick(index), fashion)[0] for index in (1, 2)]
        _, stopped = in_thread(quick(3), fashion, should_stop=lambda: True)
        assert all(result is not None and result.finished for result in results)
        assert isinstance(stopped, training.TrainingStopped)
        # Freed when train() returns or raises, even with the stopped run's error still held.
        assert len(models) == 3
        assert [ref() for ref in models] == [None] * 3
    finally:
        gc.enable()

    # Nothing process-wide keeps a run's traced graphs (Keras's all-reduce used to register a
    # custom gradient per optimizer step that held them for good: ~5.5 MB a run).
    gc.collect()
    left = [graph.name for graph in live_func_graphs() if graph not in before]
    assert left == []
