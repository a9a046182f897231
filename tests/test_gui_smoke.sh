#!/bin/sh
# The desktop app in a real window under Xvfb: `hone gui` opens, every page is drawn and saved
# as a screenshot (the HONE_GUI_SCREENSHOTS hook, ui/screenshots.c) into $HONE_GUI_SCREENSHOT_DIR,
# and the app quits by itself. Checks that each picture is a PNG of the window's size and that
# closing the window saved its size in GSettings.
# The plain run (no argument) then switches the top bar's language to Simplified Chinese,
# Traditional Chinese and back to English (HONE_GUI_LANGUAGES) and shoots every page again in
# each (train-zh_CN.png, ...): the Start button's label must follow (开始(_S), 開始(_S), _Start)
# and the choice must be saved in GSettings.
# In that default mode it also sets the top bar's model path to a Qwen2.5-0.5B-Instruct GGUF name,
# then the model name Qwen2.5-0.5B, then the template qwen, and checks after each that the model
# name, the template and the template warning follow (the warning shows in train.png), that the
# checkpoint path lists the model's earlier LoRA runs in the saves folder (newest first) and
# that choosing two stacks them; and it
# opens the datasets' Preview window on identity, pages once and checks the rows it says
# (dataset-preview.png).
# With the argument `dpo` it does the same for stage dpo (pref_beta from the RLHF group) on
# dpo_en_demo's pairs and checks the log has DPO's accuracy.
# With the argument `train` it also fills the Train page for a short LoRA sft of the real
# SmolLM2-135M-Instruct on identity.json, presses Start and waits for the run (hone train as a
# child process of the app), then checks the output folder and that the chart got one point per
# loss line of the run's trainer_log.jsonl and that Start then offers to resume from the run's last
# checkpoint (screenshots in $HONE_GUI_SCREENSHOT_DIR-train).
# With the argument `chat` it loads the real SmolLM2-135M-Instruct GGUF on the Chat page, sends
# a message, waits for the streamed answer and checks it is not empty, then loads a float16
# safetensors copy of it (made by `hone export`) with the fast decoding switch on and checks the
# status says int8 decoding has no effect there (screenshots in $HONE_GUI_SCREENSHOT_DIR-chat).
# With the argument `eval` it first starts the Evaluate page on a model file that does not exist
# and checks the page shows the engine's error, then fills it for the real
# SmolLM2-135M-Instruct GGUF on identity.json (eval loss and 8-token greedy predictions of 4
# examples), presses Start, waits for the evaluation and checks the files it wrote and that the
# results table shows eval_results.json's and predict_results.json's numbers (screenshots in
# $HONE_GUI_SCREENSHOT_DIR-eval).
# With the argument `export` it first starts an export into a new folder and presses Cancel at
# once, checks the page says "Export cancelled" and that the folder is gone, then exports the
# real SmolLM2-135M-Instruct GGUF on the Export page into another new folder, waits for the end
# and checks the summary's files and sizes against the folder (screenshots in
# $HONE_GUI_SCREENSHOT_DIR-export).
# With the argument `e2e` it does the user's whole tour in one session: the `train` run, then on
# the Chat page loads SmolLM2 with that run's adapter (the top bar's checkpoint path), asks "Who
# are you?" and waits for the streamed answer, then exports base + adapter on the Export page,
# checks the folder and that it scores a text as base + adapter does (screenshots in
# $HONE_GUI_SCREENSHOT_DIR-e2e).
# Exit 77 (skipped) when xvfb-run or dbus-run-session is missing (tools/install-deps.sh --tests).
set -eu
for tool in xvfb-run dbus-run-session; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: skipped"; exit 77; }
done
mode=${1:-pages}
out=${HONE_GUI_SCREENSHOT_DIR:?}
pages="train evaluate chat export train-end"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
HONE_GUI_TRAIN=
HONE_GUI_CHAT=
HONE_GUI_EVAL=
HONE_GUI_EVAL_ERROR=
HONE_GUI_EXPORT=
HONE_GUI_EXPORT_CANCEL_DIR=
HONE_GUI_CHAT_FAST=
HONE_GUI_LANGUAGES=
HONE_GUI_TOP=
HONE_GUI_PREVIEW=
if [ "$mode" = pages ]; then
  HONE_GUI_LANGUAGES="zh_CN zh_TW en"
  for lang in $HONE_GUI_LANGUAGES; do
    pages="$pages train-$lang evaluate-$lang chat-$lang export-$lang train-end-$lang"
  done
  HONE_GUI_PREVIEW=identity  # the datasets' Preview window, then its second page
  # the top bar's model fields: a path picks the name, the name the template;
  # earlier runs of that model with LoRA in the saves folder (XDG_DATA_HOME=$work/data): two
  # finished, one without weights
  saves=$work/data/hone/saves/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf/lora
  for run in train_2026-01-01-00-00-00 train_2026-01-02-00-00-00; do
    mkdir -p "$saves/$run" && echo x >"$saves/$run/adapter_model.safetensors"
  done
  mkdir -p "$saves/no-weights" && echo x >"$saves/no-weights/training_args.yaml"
  HONE_GUI_TOP="model_name_or_path=$work/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf
model_name=Qwen2.5-0.5B
template=qwen"
fi
if [ "$mode" = export ]; then
  out=$out-export
  HONE_GUI_EXPORT=$HONE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
  [ -f "$HONE_GUI_EXPORT" ] || { echo "$HONE_GUI_EXPORT is missing (tools/fetch-models.sh): skipped"; exit 77; }
  HONE_GUI_EXPORT_CANCEL_DIR=$work/export-cancel
  pages="$pages export-cancel export-run"
fi
if [ "$mode" = chat ]; then
  out=$out-chat
  HONE_GUI_CHAT=$HONE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
  [ -f "$HONE_GUI_CHAT" ] || { echo "$HONE_GUI_CHAT is missing (tools/fetch-models.sh): skipped"; exit 77; }
  # a model without GGUF blocks, for the fast decoding switch's note
  HONE_GUI_CHAT_FAST=$work/smollm2-f16
  "$HONE_BIN" export --model_name_or_path "$HONE_GUI_CHAT" --export_dir "$HONE_GUI_CHAT_FAST" \
    --infer_dtype float16 2>"$work/export.err" || { cat "$work/export.err"; exit 1; }
  pages="$pages chat-run chat-fast"
fi
if [ "$mode" = eval ]; then
  out=$out-eval
  model=$HONE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
  [ -f "$model" ] || { echo "$model is missing (tools/fetch-models.sh): skipped"; exit 77; }
  HONE_GUI_EVAL="model_name_or_path=$model
template=chatml
dataset_dir=$HONE_SOURCE_DIR/data
eval_dataset=identity
cutoff_len=128
max_samples=4
max_new_tokens=8
temperature=0
output_dir=$work/eval"
  HONE_GUI_EVAL_ERROR="model_name_or_path=$work/no-such-model.gguf"
  pages="$pages eval-error eval-run"
fi
HONE_GUI_CHAT_ADAPTER=
HONE_GUI_CHAT_QUESTION=
if [ "$mode" = train ] || [ "$mode" = e2e ]; then
  out=$out-$mode
  model=$HONE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
  [ -f "$model" ] || { echo "$model is missing (tools/fetch-models.sh): skipped"; exit 77; }
  HONE_GUI_TRAIN="model_name_or_path=$model
template=chatml
dataset_dir=$HONE_SOURCE_DIR/data
dataset=identity
cutoff_len=32
max_samples=4
per_device_train_batch_size=1
gradient_accumulation_steps=1
logging_steps=1
lora_rank=4
output_dir=$work/run"
  pages="$pages train-run"
fi
if [ "$mode" = dpo ]; then  # a preference stage from the page: LoRA DPO on dpo_en_demo pairs
  out=$out-$mode
  model=$HONE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
  [ -f "$model" ] || { echo "$model is missing (tools/fetch-models.sh): skipped"; exit 77; }
  HONE_GUI_TRAIN="model_name_or_path=$model
template=chatml
stage=dpo
dataset_dir=$HONE_SOURCE_DIR/data
dataset=dpo_en_demo
cutoff_len=64
max_samples=4
per_device_train_batch_size=2
gradient_accumulation_steps=1
logging_steps=1
lora_rank=4
pref_beta=0.2
output_dir=$work/run"
  pages="$pages train-run"
fi
if [ "$mode" = e2e ]; then  # then chat with the new adapter and export base + adapter
  HONE_GUI_TRAIN="$HONE_GUI_TRAIN
learning_rate=0.001
identity_name=Hone Bot
identity_author=the Hone team"  # a few steps that move the adapter well clear of the base
  HONE_GUI_CHAT=$model
  HONE_GUI_CHAT_ADAPTER=$work/run
  HONE_GUI_CHAT_QUESTION="Who are you?"
  HONE_GUI_EXPORT=$model
fi
rm -rf "$out"
mkdir -p "$out"
cd "$HONE_SOURCE_DIR"  # the Train page lists data/dataset_info.json's datasets
# the window opens in English whatever this machine's locale (the system's is the default)
unset LANGUAGE LC_ALL LC_MESSAGES
export LANG=C.UTF-8
# GSK_RENDERER=cairo and GDK_DEBUG=gl-disable: Xvfb has no GPU (and Mesa's EGL probe leaks under
# LeakSanitizer); NO_AT_BRIDGE: no accessibility bus in the test session.
# Settings go to a key file in a scratch config folder (GSETTINGS_SCHEMA_DIR: set by meson).
HONE_GUI_SCREENSHOTS=$out HONE_GUI_LANGUAGES=$HONE_GUI_LANGUAGES HONE_GUI_TOP=$HONE_GUI_TOP HONE_GUI_PREVIEW=$HONE_GUI_PREVIEW HONE_GUI_TRAIN=$HONE_GUI_TRAIN HONE_GUI_CHAT=$HONE_GUI_CHAT \
  HONE_GUI_CHAT_ADAPTER=$HONE_GUI_CHAT_ADAPTER HONE_GUI_CHAT_QUESTION=$HONE_GUI_CHAT_QUESTION \
  HONE_GUI_EVAL=$HONE_GUI_EVAL HONE_GUI_EVAL_ERROR=$HONE_GUI_EVAL_ERROR HONE_GUI_EXPORT=$HONE_GUI_EXPORT \
  HONE_GUI_EXPORT_DIR=$work/export HONE_GUI_EXPORT_CANCEL_DIR=$HONE_GUI_EXPORT_CANCEL_DIR \
  HONE_GUI_CHAT_FAST=$HONE_GUI_CHAT_FAST GSK_RENDERER=cairo GDK_DEBUG=gl-disable NO_AT_BRIDGE=1 \
  GSETTINGS_BACKEND=keyfile XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data \
  timeout 800 xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- "$HONE_BIN" gui \
  >"$work/stdout" 2>"$work/stderr" || { cat "$work/stdout" "$work/stderr"; exit 1; }
cat "$work/stdout"
status=0
# closing the window saved its size
keyfile=$work/config/glib-2.0/settings/keyfile
if grep -q '^window-width=1100' "$keyfile" 2>/dev/null && grep -q '^window-height=820' "$keyfile"; then
  echo "ok: the window size was saved in $keyfile"
else
  echo "not ok: no window size in $keyfile"; cat "$keyfile" 2>/dev/null; status=1
fi
for page in $pages; do
  png=$out/$page.png
  if [ ! -s "$png" ]; then
    echo "not ok: $png was not written"; status=1; continue
  fi
  # PNG signature, then IHDR's width and height (big-endian) at bytes 16-23
  sig=$(od -An -tx1 -N8 "$png" | tr -d ' \n')
  width=$(od -An -tu1 -j16 -N4 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  height=$(od -An -tu1 -j20 -N4 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  if [ "$sig" != "89504e470d0a1a0a" ] || [ "$width" -lt 1000 ] || [ "$height" -lt 700 ]; then
    echo "not ok: $png is not a ${width}x${height} window picture (signature $sig)"; status=1
  else
    echo "ok: $png ${width}x${height}"
  fi
done
if [ "$mode" = pages ]; then  # the language switch relabelled the window and was remembered
  for want in "zh_CN: start button 开始(_S)" "zh_TW: start button 開始(_S)" "en: start button _Start"; do
    grep -qx "language $want" "$work/stdout" && echo "ok: language $want" \
      || { echo "not ok: no 'language $want' line"; status=1; }
  done
  grep -q "^language='en'$" "$keyfile" && echo "ok: the language choice was saved in $keyfile" \
    || { echo "not ok: no language='en' in $keyfile"; status=1; }
  grep -qx "start language: en" "$work/stdout" && echo "ok: the window opened in English (LANG=C.UTF-8)" \
    || { echo "not ok: the window did not open in English under LANG=C.UTF-8"; status=1; }
  # the system's language when none was chosen; the saved choice over the system's (their
  # screenshots: start-LANG=.../)
  for run in "$work/fresh zh_TW.UTF-8 zh_TW" "$work/config zh_CN.UTF-8 en"; do
    set -- $run
    got=$(HONE_GUI_SCREENSHOTS=$out/start-LANG=$2 GSK_RENDERER=cairo GDK_DEBUG=gl-disable NO_AT_BRIDGE=1 \
      GSETTINGS_BACKEND=keyfile XDG_CONFIG_HOME=$1 LANG=$2 \
      timeout 300 xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- "$HONE_BIN" gui \
      2>"$work/start.err" | sed -n 's/^start language: //p')
    if [ "$got" = "$3" ]; then
      echo "ok: LANG=$2 with the settings of $1: the window opened in $got"
    else
      echo "not ok: LANG=$2 with the settings of $1: the window opened in '$got', not $3"
      cat "$work/start.err"; status=1
    fi
  done
  # the preview window: a PNG of its own size
  png=$out/dataset-preview.png
  sig=$(od -An -tx1 -N8 "$png" 2>/dev/null | tr -d ' \n')
  [ "$sig" = "89504e470d0a1a0a" ] && echo "ok: $png" || { echo "not ok: no $png"; status=1; }
fi
for icon in io.github.hone.Hone io.github.hone.Hone-symbolic; do
  grep -q "^app icon $icon: found$" "$work/stdout" && echo "ok: the app icon $icon is found" \
    || { echo "not ok: the app icon $icon is not found"; status=1; }
done
if [ "$mode" = pages ]; then
  rows=$(grep -c '"conversations"\|"instruction"' "$HONE_SOURCE_DIR/data/identity.json")
  for want in "dataset preview: Rows 1-2 of $rows" "dataset preview next: Rows 3-4 of $rows | Row 3" \
              "checkpoint runs: train_2026-01-02-00-00-00,train_2026-01-01-00-00-00" \
              "checkpoint path: $saves/train_2026-01-02-00-00-00" \
              "checkpoint path: $saves/train_2026-01-02-00-00-00,$saves/train_2026-01-01-00-00-00" \
              "top bar: model_name=Qwen2.5-0.5B-Instruct template=qwen warning=" \
              "top bar: model_name=Qwen2.5-0.5B template=default warning=" \
              "top bar: model_name=Qwen2.5-0.5B template=qwen warning=Qwen2.5-0.5B is a base model: it has not learnt the qwen chat format, so fine-tune it before chatting with it"; do
    if grep -qxF "$want" "$work/stdout"; then echo "ok: $want"; else echo "not ok: no \"$want\""; status=1; fi
  done
fi
if [ "$mode" = train ] || [ "$mode" = e2e ] || [ "$mode" = dpo ]; then
  run=$work/run
  for f in training_args.yaml adapter_model.safetensors adapter_config.json trainer_log.jsonl; do
    [ -s "$run/$f" ] && echo "ok: the run wrote $f" || { echo "not ok: no $run/$f"; status=1; }
  done
  dataset=identity; [ "$mode" = dpo ] && dataset=dpo_en_demo
  grep -q "^dataset: \"$dataset\"\$" "$run/training_args.yaml" && grep -q '^lora_rank: 4$' "$run/training_args.yaml" \
    || { echo "not ok: training_args.yaml lacks the page's fields"; cat "$run/training_args.yaml"; status=1; }
  if [ "$mode" = dpo ]; then  # the stage and its RLHF field reached the run, which logged DPO's metrics
    grep -q '^stage: "dpo"$' "$run/training_args.yaml" && grep -q '^pref_beta: 0.2$' "$run/training_args.yaml" \
      && echo "ok: training_args.yaml has stage dpo and pref_beta 0.2" \
      || { echo "not ok: training_args.yaml lacks stage dpo / pref_beta"; cat "$run/training_args.yaml"; status=1; }
    grep -q '"accuracy"' "$run/trainer_log.jsonl" && echo "ok: the log has rewards/accuracies" \
      || { echo "not ok: no accuracy in trainer_log.jsonl"; status=1; }
  fi
  # the finished run's folder holds its last checkpoint: Start now offers to resume from it
  last=$(ls -d "$run"/checkpoint-* 2>/dev/null | sed 's/.*checkpoint-//' | sort -n | tail -n 1)
  if [ -n "$last" ] && grep -q "^start button: _Resume from checkpoint-$last\$" "$work/stdout"; then
    echo "ok: Start offers to resume from checkpoint-$last"
  else
    echo "not ok: Start does not offer the run's last checkpoint ($last)"; grep '^start button' "$work/stdout"; status=1
  fi
  want=$(grep -c '"loss"' "$run/trainer_log.jsonl")
  if [ "$want" -ge 1 ] && grep -q "^chart points: $want loss, 0 eval$" "$work/stdout"; then
    echo "ok: the chart has the run's $want loss points"
  else
    echo "not ok: the chart's points differ from trainer_log.jsonl's $want loss lines"; status=1
  fi
fi
if [ "$mode" = chat ] || [ "$mode" = e2e ]; then
  if grep -q '^chat status: Ready\.$' "$work/stdout" && grep -q '^chat reply: ..*' "$work/stdout"; then
    echo "ok: the Chat page answered"
  else
    echo "not ok: no answer on the Chat page"; status=1
  fi
fi
if [ "$mode" = chat ]; then  # int8 decoding asked for a model without GGUF blocks: said so
  if grep -q '^chat status: Model loaded\. backend: .* Fast decoding has no effect on this model' "$work/stdout"; then
    echo "ok: the Chat page says fast decoding has no effect on a float16 model"
  else
    echo "not ok: no fast decoding note on the Chat page"; grep '^chat status' "$work/stdout"; status=1
  fi
fi
if [ "$mode" = export ]; then  # the cancelled export said so and left nothing
  if grep -qxF "export status: Export cancelled: nothing was written to $HONE_GUI_EXPORT_CANCEL_DIR." "$work/stdout"; then
    echo "ok: the Export page says the export was cancelled"
  else
    echo "not ok: the Export page did not say the export was cancelled"; grep '^export status' "$work/stdout"; status=1
  fi
  [ ! -e "$HONE_GUI_EXPORT_CANCEL_DIR" ] && echo "ok: the cancelled export left no folder" \
    || { echo "not ok: the cancelled export left $(ls -A "$HONE_GUI_EXPORT_CANCEL_DIR")"; status=1; }
fi
if [ "$mode" = eval ]; then
  run=$work/eval
  for f in eval_results.json predict_results.json generated_predictions.jsonl all_results.json; do
    [ -s "$run/$f" ] && echo "ok: the evaluation wrote $f" || { echo "not ok: no $run/$f"; status=1; }
  done
  [ "$(wc -l <"$run/generated_predictions.jsonl")" -eq 4 ] \
    || { echo "not ok: generated_predictions.jsonl does not have 4 lines"; status=1; }
  if grep -q "^eval status: Evaluation failed: .*no-such-model.gguf" "$work/stdout"; then
    echo "ok: the Evaluate page showed the engine's error for a missing model"
  else
    echo "not ok: no error on the Evaluate page for a missing model"; status=1
  fi
  grep -q '^eval status: Finished\.$' "$work/stdout" \
    || { echo "not ok: the Evaluate page did not finish"; status=1; }
  # each number in the table is the file's, as %.4f
  for pair in eval_results.json:eval_loss eval_results.json:eval_perplexity \
              predict_results.json:predict_bleu-4 predict_results.json:predict_rouge-1 \
              predict_results.json:predict_rouge-2 predict_results.json:predict_rouge-l; do
    file=${pair%%:*} key=${pair#*:}
    want=$(sed -n "s/.*\"$key\": *\([-0-9.eE+]*\).*/\1/p" "$run/$file" | head -n 1)
    want=$(awk -v v="$want" 'BEGIN { printf "%.4f", v }')
    if grep -qx "eval result $key: $want" "$work/stdout"; then
      echo "ok: the results table shows $key $want"
    else
      echo "not ok: the results table's $key is not $file's $want"; status=1
    fi
  done
fi
if [ "$mode" = export ] || [ "$mode" = e2e ]; then
  if grep -q "^export status: Exported to $work/export: " "$work/stdout"; then
    echo "ok: the Export page finished"
  else
    echo "not ok: the Export page did not finish"; status=1
  fi
  # the summary lists every file of the folder with its size, and the export's main files
  listed=$(grep -c '^export file: ' "$work/stdout" || true)
  present=$(find "$work/export" -type f | wc -l)
  [ "$listed" -eq "$present" ] && echo "ok: the summary lists the folder's $present files" \
    || { echo "not ok: the summary lists $listed files, the folder holds $present"; status=1; }
  for f in config.json generation_config.json model.safetensors tokenizer.json; do
    size=$(stat -c %s "$work/export/$f" 2>/dev/null || echo missing)
    if grep -q "^export file: $f	$size\$" "$work/stdout"; then
      echo "ok: the summary lists $f, $size bytes"
    else
      echo "not ok: the summary lacks $f with its $size bytes"; status=1
    fi
  done
fi
if [ "$mode" = e2e ]; then
  # the export merged the page's adapter: the folder scores a text as base + adapter does
  text="I am an assistant. Who are you?"
  merged=$(printf '%s' "$text" | "$HONE_BIN" score --model "$work/export" | sed -n 's/.*"loss":\([-0-9.eE+]*\).*/\1/p')
  adapted=$(printf '%s' "$text" | "$HONE_BIN" score --model "$model" --adapter "$work/run" | sed -n 's/.*"loss":\([-0-9.eE+]*\).*/\1/p')
  base=$(printf '%s' "$text" | "$HONE_BIN" score --model "$model" | sed -n 's/.*"loss":\([-0-9.eE+]*\).*/\1/p')
  if awk -v m="$merged" -v a="$adapted" -v b="$base" 'BEGIN { d = m - a; if (d < 0) d = -d; e = a - b; if (e < 0) e = -e; exit !(m != "" && d < 1e-3 && e > 1e-4) }'; then
    echo "ok: the exported folder scores as base + adapter ($merged vs $adapted; base $base)"
  else
    echo "not ok: the exported folder's loss $merged is not base + adapter's $adapted (base $base)"; status=1
  fi
fi
# a failed check: what the app said on its standard error (hidden while all goes well)
if [ $status -ne 0 ] && [ -s "$work/stderr" ]; then
  echo "the app's standard error:"; cat "$work/stderr"
fi
exit $status
