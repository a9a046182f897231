/* A run's training examples from the cache or built (see train_data.h). */
#include "train_data.h"

#include "pt_data.h"
#include "sft_packing.h"

void hn_train_data_options_init(hn_train_data_options *options)
{
    *options = (hn_train_data_options){.dataset_dir = "data", .max_samples = -1, .seed = 42,
                                       .stage = HN_TRAIN_STAGE_SFT, .packing = -1};
    hn_chat_encode_options_init(&options->encode);
    options->encode.cutoff_len = 2048; /* LLaMA-Factory's default */
}

void hn_train_data_info_clear(hn_train_data_info *info)
{
    g_free(info->cache_path);
    g_free(info->warning);
    *info = (hn_train_data_info){0};
}

/* The pad id of packed rows: the tokenizer's pad token, else its eos as the template leaves it
 * (upstream's fix_special_tokens sets pad_token = eos_token). */
static hn_status pad_id(const hn_tokenizer *tok, const hn_sft_template *tmpl, int32_t *id,
                        hn_error *err)
{
    const hn_tokenizer_config *c = hn_tokenizer_get_config(tok);
    *id = c->pad_id;
    if (*id >= 0)
        return HN_OK;
    *id = c->eos_id;
    if (tmpl->named != NULL)
        HN_TRY(hn_chat_template_eos(tmpl->named, tok, id, err));
    return HN_OK;
}

static hn_status build_sft(const hn_dataset *dataset, const hn_train_data_options *o,
                           bool packing, const hn_tokenizer *tok, const hn_sft_template *tmpl,
                           hn_sft_data *out, hn_error *err)
{
    hn_chat_encode_options encode = o->encode;
    if (!packing)
        return hn_sft_data_build(dataset, tmpl, tok, &encode, out, err);
    if (encode.cutoff_len < 2)
        return hn_fail(err, HN_ERR_ARGUMENT, "cutoff_len: expected at least 2 with packing, "
                       "found %d", encode.cutoff_len);
    encode.cutoff_len -= 1; /* upstream's DataArguments.__post_init__ with packing */
    int32_t pad = -1;
    HN_TRY(pad_id(tok, tmpl, &pad, err));
    hn_sft_data single;
    HN_TRY(hn_sft_data_build(dataset, tmpl, tok, &encode, &single, err));
    hn_status s = hn_sft_pack(&single, o->encode.cutoff_len, o->neat_packing, pad, out, err);
    hn_sft_data_clear(&single);
    return s;
}

static hn_status build(const hn_train_data_options *o, bool packing, const hn_tokenizer *tok,
                       const hn_sft_template *tmpl, hn_sft_data *out, hn_error *err)
{
    hn_dataset_options dopts;
    hn_dataset_options_init(&dopts);
    dopts.max_samples = o->max_samples;
    dopts.seed = o->seed;
    hn_dataset dataset;
    hn_status s = hn_dataset_load(o->dataset_dir, o->dataset, &dopts, &dataset, err);
    if (s == HN_OK && (o->identity_name != NULL || o->identity_author != NULL))
        hn_dataset_fill_identity(&dataset, o->identity_name, o->identity_author);
    if (s == HN_OK && o->stage == HN_TRAIN_STAGE_PT) {
        hn_pt_options popts = {o->encode.cutoff_len, packing};
        s = hn_pt_data_build(&dataset, tmpl, tok, &popts, out, err);
    } else if (s == HN_OK) {
        s = build_sft(&dataset, o, packing, tok, tmpl, out, err);
    }
    hn_dataset_clear(&dataset);
    return s;
}

hn_status hn_train_data_load(const hn_train_data_options *o, const hn_tokenizer *tok,
                             const hn_sft_template *tmpl, hn_sft_data *out,
                             hn_train_data_info *info, hn_error *err)
{
    *out = (hn_sft_data){0};
    *info = (hn_train_data_info){0};
    if (o->neat_packing && o->stage != HN_TRAIN_STAGE_SFT)
        return hn_fail(err, HN_ERR_ARGUMENT, "neat_packing: only stage sft packs without "
                       "attention across documents (as LLaMA-Factory)");
    bool packing = o->neat_packing || (o->packing >= 0 ? o->packing != 0
                                                       : o->stage == HN_TRAIN_STAGE_PT);
    if (o->cache_dir != NULL && o->cache_dir[0] == '\0')
        return build(o, packing, tok, tmpl, out, err);
    HN_TRY(hn_train_data_key(o, tok, tmpl, info->key, err));
    char *dir = o->cache_dir != NULL ? g_strdup(o->cache_dir) : hn_data_cache_default_dir();
    info->cache_path = hn_data_cache_path(dir, info->key);
    g_free(dir);
    if (!o->overwrite_cache) {
        hn_error cache_err = {0};
        bool found = false;
        if (hn_data_cache_read(info->cache_path, info->key, out, &found, &cache_err) == HN_OK) {
            if (found) {
                info->cache_hit = true;
                return HN_OK;
            }
        } else {
            info->warning = g_strdup_printf("tokenized-data cache: %s; rebuilding it",
                                            cache_err.message);
        }
    }
    HN_TRY(build(o, packing, tok, tmpl, out, err));
    hn_error write_err = {0};
    if (hn_data_cache_write(info->cache_path, info->key, out, &write_err) != HN_OK &&
        info->warning == NULL)
        info->warning = g_strdup_printf("tokenized-data cache: not stored: %s",
                                        write_err.message);
    return HN_OK;
}
