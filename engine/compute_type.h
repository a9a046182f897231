/* The compute type keys (bf16, fp16, pure_bf16) checked for any backend, apart from choosing
 * one (backend_choice.h), so that reading training arguments needs no backend. */
#pragma once

#include <stdbool.h>

#include "hn_error.h"

/* fp16 and pure_bf16 are refused with what is not built; bf16 with fp16 is refused as
 * transformers does. */
hn_status hn_compute_type_check(bool bf16, bool fp16, bool pure_bf16, hn_error *err);
