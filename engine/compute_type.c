/* The compute type keys' check (compute_type.h). */
#include "compute_type.h"

hn_status hn_compute_type_check(bool bf16, bool fp16, bool pure_bf16, hn_error *err)
{
    if (fp16)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "fp16 is not built: fp16 mixed precision needs "
                       "dynamic loss scaling (gradients scaled up before the backward and the "
                       "step skipped on overflow), which no Hone backend has yet; use bf16: true "
                       "(same speed on GPUs since Ampere, no loss scaling) or leave both off "
                       "for fp32");
    if (pure_bf16)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "pure_bf16 is not built: it keeps the weights "
                       "and optimizer state in bf16 with no fp32 master copy, and Hone's "
                       "backends keep trained weights and AdamW state in fp32; use bf16: true "
                       "(fp32 master weights, bf16 GEMMs)");
    /* transformers' TrainingArguments refuses both at once ("At most one of fp16 and bf16 can
     * be True"); fp16 is refused above, so this cannot happen with bf16 alone. */
    (void)bf16;
    return HN_OK;
}
