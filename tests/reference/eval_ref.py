"""Reference side of tests/test_eval.c: LLaMA-Factory's own evaluation and prediction (the
pieces of llamafactory/train/sft/workflow.py run_sft without training) on SmolLM2-135M-Instruct
from its GGUF (transformers' gguf_file loader, dequantized to fp32).

  eval_ref.py write GGUF DATA_DIR OUT_DIR

Both phases use template chatml, eval_dataset alpaca_en_demo from DATA_DIR, max_samples 3,
get_dataset's preprocessing, its TrainingArguments, SFTDataCollatorWith4DAttentionMask and
CustomSeq2SeqTrainer with
the gen_kwargs run_sft builds (GeneratingArguments do_sample False, max_new_tokens 16):
  OUT_DIR/eval: trainer.evaluate with per_device_eval_batch_size 2 (batches of 2 and 1),
      save_metrics("eval") -> eval_results.json;
  OUT_DIR/predict: predict_with_generate, per_device_eval_batch_size 1 (no left padding, so
      greedy generation sees what Hone's unbatched generation sees), trainer.predict,
      save_metrics("predict") -> predict_results.json, save_predictions ->
      generated_predictions.jsonl; and segments.json: [{"text", "words": list(jieba.cut(text))}]
      for every predict and label, the texts whose ROUGE words Hone must split as jieba does."""
import json
import os
import sys

import llamafactory_env  # noqa: F401  (before any LLaMA-Factory import)
import jieba  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

from llamafactory.data import (SFTDataCollatorWith4DAttentionMask, get_dataset,  # noqa: E402
                               get_template_and_fix_tokenizer)
from llamafactory.extras.constants import IGNORE_INDEX  # noqa: E402
from llamafactory.hparams import (DataArguments, FinetuningArguments,  # noqa: E402
                                  GeneratingArguments, ModelArguments, TrainingArguments)
from llamafactory.train.sft.metric import ComputeSimilarity  # noqa: E402
from llamafactory.train.sft.trainer import CustomSeq2SeqTrainer  # noqa: E402

jieba.setLogLevel(60)


def run(gguf, data_dir, out, phase, model, tokenizer):
    folder = os.path.dirname(os.path.abspath(gguf))
    predict = phase == "predict"
    out_dir = os.path.join(out, phase)
    data_args = DataArguments(template="chatml", eval_dataset="alpaca_en_demo",
                              dataset_dir=data_dir, max_samples=3, overwrite_cache=True)
    training_args = TrainingArguments(output_dir=out_dir, report_to=[], do_eval=not predict,
                                      do_predict=predict, predict_with_generate=predict,
                                      per_device_eval_batch_size=1 if predict else 2,
                                      use_cpu=True)
    model_args = ModelArguments(model_name_or_path=folder)
    generating_args = GeneratingArguments(do_sample=False, max_new_tokens=16)
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    module = get_dataset(template, model_args, data_args, training_args, "sft", tokenizer)
    collator = SFTDataCollatorWith4DAttentionMask(
        template=template, model=None if predict else model, pad_to_multiple_of=None,
        label_pad_token_id=IGNORE_INDEX, block_diag_attn=False, neat_packing=False,
        attn_implementation=getattr(model.config, "_attn_implementation", None),
        compute_dtype=torch.float32, tokenizer=tokenizer, processor=None)
    gen_kwargs = generating_args.to_dict(obey_generation_config=True)
    extra_ids = getattr(tokenizer, "additional_special_tokens_ids", None)  # as run_sft (v5)
    if not isinstance(extra_ids, list):
        extra = [str(t) for t in getattr(tokenizer, "_extra_special_tokens", [])]
        extra_ids = tokenizer.convert_tokens_to_ids(extra)
    gen_kwargs["eos_token_id"] = list(dict.fromkeys([tokenizer.eos_token_id] +
                                                    [i for i in extra_ids if i != -1]))
    gen_kwargs["pad_token_id"] = tokenizer.pad_token_id
    metrics = {"compute_metrics": ComputeSimilarity(tokenizer=tokenizer)} if predict else {}
    trainer = CustomSeq2SeqTrainer(model=model, args=training_args,
                                   finetuning_args=FinetuningArguments(), data_collator=collator,
                                   gen_kwargs=gen_kwargs, eval_dataset=module["eval_dataset"],
                                   tokenizer=tokenizer, processor=None, **metrics)
    if not predict:
        result = trainer.evaluate(metric_key_prefix="eval", **gen_kwargs)
        trainer.save_metrics("eval", result)
        print(f"eval: {result}")
        return
    tokenizer.padding_side = "left"
    results = trainer.predict(module["eval_dataset"], metric_key_prefix="predict", **gen_kwargs)
    trainer.save_metrics("predict", results.metrics)
    trainer.save_predictions(module["eval_dataset"], results, generating_args.skip_special_tokens)
    segments = []
    with open(os.path.join(out_dir, "generated_predictions.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            for text in (row["predict"], row["label"]):
                segments.append({"text": text, "words": list(jieba.cut(text))})
    with open(os.path.join(out_dir, "segments.json"), "w") as f:
        json.dump(segments, f, ensure_ascii=False)
    print(f"predict: {results.metrics}")


def write(gguf, data_dir, out):
    folder, name = os.path.split(os.path.abspath(gguf))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    if getattr(model, "is_quantized", False):  # run_sft's own hack for prediction without training
        setattr(model, "_hf_peft_config_loaded", True)
    for phase in ("eval", "predict"):
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        run(gguf, data_dir, out, phase, model, tokenizer)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2], sys.argv[3], sys.argv[4])
