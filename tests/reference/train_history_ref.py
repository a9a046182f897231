"""Reference side of the training-history checks: transformers' TrainerState and save_metrics
and LLaMA-Factory's smooth() and plot_loss() on what Hone wrote.

  train_history_ref.py write INPUTS.json HONE_DIR OUT_DIR

INPUTS.json (written by tests/test_train_history.c) holds random inputs: "smooth" (lists of
losses), "run" (the schedule), "events" (in order: {"log": {...}}, {"eval": {...}},
{"flos": x}, {"control": {...}}, {"train_end": {...}}) and "resume" (logs added after a
reload). Writes into OUT_DIR:
- smooth.json: smooth(losses) for each list;
- trainer_state.json, train_results.json, eval_results.json, all_results.json: the same
  events run through transformers' own code (TrainerState, speed_metrics, save_metrics) the
  way Trainer.log, evaluate and _finalize_training use it;
- reloaded_state.json: HONE_DIR/trainer_state.json through TrainerState.load_from_json and
  save_to_json;
- resumed_state.json: that state with the "resume" logs appended, as a resumed run would;
- plot/: LLaMA-Factory's plot_loss(keys=["loss", "eval_loss"]) run on Hone's
  trainer_state.json (training_loss.png, training_eval_loss.png)."""
import json
import math
import os
import shutil
import sys
import types

from llamafactory.extras.ploting import plot_loss, smooth
from transformers import trainer_utils
from transformers.trainer_callback import TrainerControl, TrainerState
from transformers.trainer_pt_utils import save_metrics


def speed(split, runtime, num_samples, num_steps):
    """transformers' speed_metrics with a clock that reads `runtime` seconds after start."""
    saved = trainer_utils.time.time
    trainer_utils.time.time = lambda: 0.0
    try:
        return trainer_utils.speed_metrics(split, -runtime, num_samples=num_samples,
                                           num_steps=num_steps)
    finally:
        trainer_utils.time.time = saved


def log_entry(state, logs):
    """Trainer.log: epoch, then the history entry with step."""
    logs["epoch"] = state.epoch
    state.log_history.append({**logs, "step": state.global_step})


def run_events(inputs, out):
    run = inputs["run"]
    state = TrainerState()
    state.max_steps = run["max_steps"]
    state.num_train_epochs = run["num_train_epochs"]
    state.logging_steps = run["logging_steps"]
    state.eval_steps = run["eval_steps"]
    state.save_steps = run["save_steps"]
    state.train_batch_size = run["train_batch_size"]
    state.total_flos = 0.0
    trainer = types.SimpleNamespace(args=types.SimpleNamespace(output_dir=out),
                                    is_world_process_zero=lambda: True)
    train_metrics = eval_metrics = None
    for event in inputs["events"]:
        if "log" in event:
            e = event["log"]
            state.global_step = e["step"]
            state.epoch = e["epoch"]
            log_entry(state, {"loss": e["loss"], "grad_norm": e["grad_norm"],
                              "learning_rate": e["learning_rate"]})
        elif "eval" in event:
            e = event["eval"]
            metrics = {"eval_loss": e["loss"]}
            metrics.update(speed("eval", e["runtime"], e["samples"],
                                 math.ceil(e["samples"] / e["batch_size"])))
            # an evaluation runs at the state's step and epoch
            assert (e["step"], e["epoch"]) == (state.global_step, state.epoch), e
            log_entry(state, metrics)  # adds epoch to metrics, as evaluate() returns them
            eval_metrics = metrics
        elif "flos" in event:
            state.total_flos += event["flos"]
        elif "control" in event:
            state.stateful_callbacks["TrainerControl"] = TrainerControl(**event["control"]).state()
        elif "train_end" in event:
            e = event["train_end"]
            metrics = speed("train", e["runtime"],
                            e["num_train_samples"] * e["steps_trained"] / max(state.max_steps, 1),
                            e["steps_trained"])
            metrics["total_flos"] = state.total_flos
            metrics["train_loss"] = e["train_loss"]
            log_entry(state, metrics)
            train_metrics = metrics
    state.save_to_json(os.path.join(out, "trainer_state.json"))
    save_metrics(trainer, "train", train_metrics)
    eval_metrics["eval_perplexity"] = math.exp(eval_metrics["eval_loss"])  # the pt workflow
    save_metrics(trainer, "eval", eval_metrics)


def write(inputs_path, hone_dir, out):
    with open(inputs_path) as f:
        inputs = json.load(f)
    with open(os.path.join(out, "smooth.json"), "w") as f:
        json.dump([smooth(losses) for losses in inputs["smooth"]], f)
    run_events(inputs, out)

    hone_state = os.path.join(hone_dir, "trainer_state.json")
    state = TrainerState.load_from_json(hone_state)
    state.save_to_json(os.path.join(out, "reloaded_state.json"))
    for e in inputs["resume"]:
        state.global_step = e["step"]
        state.epoch = e["epoch"]
        log_entry(state, {"loss": e["loss"], "grad_norm": e["grad_norm"],
                          "learning_rate": e["learning_rate"]})
    state.save_to_json(os.path.join(out, "resumed_state.json"))

    plot_dir = os.path.join(out, "plot")
    os.makedirs(plot_dir)
    shutil.copy(hone_state, plot_dir)
    plot_loss(plot_dir, keys=["loss", "eval_loss"])


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3], sys.argv[4])
