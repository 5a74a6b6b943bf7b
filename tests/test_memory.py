"""Memory: a run trained in a worker thread, as the app trains, leaves nothing behind."""

import gc
import threading
import weakref

import numpy as np
import pandas as pd
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
def test_runs_of_one_structure_share_a_compiled_trainer_and_leave_nothing_behind(fashion):
    base = quick(0)
    in_thread(base, fashion)  # warm-up: compiles base's structure once
    gc.collect()
    graphs_before = weakref.WeakSet(live_func_graphs())
    pooled = [trainer for idle in training.TRAINERS._idle.values() for trainer in idle]
    assert pooled, "the finished run's trainer waits in the pool"
    model, idle_count = weakref.ref(pooled[-1].model), len(pooled)
    del pooled

    # Other seeds and learning rates, one run stopped: the same trainer serves them all.
    results = [
        in_thread(base.replace(seed=s, learning_rate=lr), fashion)[0]
        for s, lr in ((1, 0.05), (2, 0.2))
    ]
    _, stopped = in_thread(base.replace(seed=3), fashion, should_stop=lambda: True)
    assert all(result is not None and result.finished for result in results)
    assert isinstance(stopped, training.TrainingStopped)
    gc.collect()
    new_graphs = [graph.name for graph in live_func_graphs() if graph not in graphs_before]
    assert new_graphs == []  # nothing traced (or compiled) again
    assert sum(map(len, training.TRAINERS._idle.values())) == idle_count

    # A trainer the pool lets go is freed with its model.
    training.TRAINERS.clear()
    gc.collect()
    assert model() is None


@pytest.mark.slow
def test_a_reused_trainer_trains_exactly_as_a_fresh_one(fashion):
    """Weights, optimizer state, learning rates and data all come from the run, not the last."""
    adam = quick(0).replace(optimizer="adam", learning_rate=0.001, train_samples=640)
    training.TRAINERS.clear()
    fresh = training.train(adam, fashion)
    training.train(adam.replace(seed=5, learning_rate=0.01, train_samples=960), fashion)
    reused = training.train(adam, fashion)
    assert training.TRAINERS._idle  # the second and third runs reused the first's trainer
    np.testing.assert_array_equal(reused.step_loss, fresh.step_loss)
    pd.testing.assert_frame_equal(
        reused.history.drop(columns="elapsed_s"), fresh.history.drop(columns="elapsed_s")
    )


@pytest.mark.slow
def test_past_the_compiled_limit_a_new_structure_trains_without_xla(fashion, monkeypatch):
    config = quick(1).replace(train_samples=960)
    compiled = training.train(config, fashion)
    monkeypatch.setattr(training, "TRAINERS", training._TrainerPool(training.POOL_SIZE))
    monkeypatch.setattr(training, "MAX_COMPILATIONS", 0)
    graph_mode = training.train(config, fashion)
    (trainer,) = [t for idle in training.TRAINERS._idle.values() for t in idle]
    assert trainer.run_steps._jit_compile is False
    # The same arithmetic up to the order of float additions.
    np.testing.assert_allclose(graph_mode.step_loss, compiled.step_loss, rtol=1e-3)
    assert abs(graph_mode.final.val_accuracy - compiled.final.val_accuracy) <= 0.01
