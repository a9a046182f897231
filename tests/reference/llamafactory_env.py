"""Imported first by the reference scripts that use LLaMA-Factory's own functions: quiet logs,
no dependency version check, no progress bars, and an empty stand-in module for trl, which
LLaMA-Factory's model package imports at import time but these checks never use (the real trl,
in the venv for pref_train_ref.py, needs a fix-up to import under transformers 5; a script that
imported it first keeps it)."""
import os
import sys
import types

os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "ERROR")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
_trl = types.ModuleType("trl")
_trl.AutoModelForCausalLMWithValueHead = object
sys.modules.setdefault("trl", _trl)
