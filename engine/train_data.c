/* A run's training examples from the cache or built (see train_data.h). */
#include "train_data.h"

#include <string.h>

#include "map_batches.h"
#include "pref_data.h"
#include "pt_data.h"
#include "sft_packing.h"

void hn_train_data_options_init(hn_train_data_options *options)
{
    *options = (hn_train_data_options){.dataset_dir = "data", .max_samples = -1, .seed = 42,
                                       .stage = HN_TRAIN_STAGE_SFT, .packing = -1,
                                       .preprocessing_batch_size = 1000};
    hn_chat_encode_options_init(&options->encode);
    options->encode.cutoff_len = 2048; /* LLaMA-Factory's default */
}

void hn_train_data_options_from_args(hn_train_data_options *o, const hn_train_args *args,
                                     const char *datasets)
{
    hn_train_data_options_init(o);
    o->dataset_dir = args->dataset_dir;
    o->dataset = datasets;
    o->max_samples = args->max_samples > 0 ? args->max_samples : -1;
    o->seed = (uint32_t)args->seed;
    o->identity_name = args->identity_name;
    o->identity_author = args->identity_author;
    o->stage = strcmp(args->stage, "pt") == 0    ? HN_TRAIN_STAGE_PT
               : strcmp(args->stage, "kto") == 0 ? HN_TRAIN_STAGE_KTO
               : strcmp(args->stage, "rm") == 0 || strcmp(args->stage, "dpo") == 0
                   ? HN_TRAIN_STAGE_PAIRWISE
                   : HN_TRAIN_STAGE_SFT;
    o->encode.cutoff_len = args->cutoff_len;
    o->encode.train_on_prompt = args->train_on_prompt;
    o->encode.mask_history = args->mask_history;
    o->encode.enable_thinking = args->enable_thinking;
    o->packing = args->packing_set ? args->packing : -1;
    o->neat_packing = args->neat_packing;
    o->preprocessing_batch_size = args->preprocessing_batch_size;
    o->preprocessing_num_workers = args->preprocessing_num_workers;
    o->tokenizer_path = args->model_name_or_path;
    o->overwrite_cache = args->overwrite_cache;
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

/* Moves src's examples and counts (from the batch of rows starting at row `first`) to the
 * end of dst; src is left empty. */
static void append(hn_sft_data *dst, hn_sft_data *src, size_t first)
{
    dst->examples = g_renew(hn_sft_example, dst->examples, dst->n_examples + src->n_examples + 1);
    memcpy(dst->examples + dst->n_examples, src->examples,
           src->n_examples * sizeof *src->examples);
    dst->n_examples += src->n_examples;
    dst->n_dropped += src->n_dropped;
    dst->n_tokens += src->n_tokens;
    dst->n_label_tokens += src->n_label_tokens;
    if (dst->first_dropped == NULL && src->first_dropped != NULL)
        dst->first_dropped = first == 0 ? g_strdup(src->first_dropped)
                                        : g_strdup_printf("in the batch of rows from %zu: %s",
                                                          first, src->first_dropped);
    src->n_examples = 0;
    hn_sft_data_clear(src);
}

/* cutoff_len as upstream's processors see it: one less when packing or neat_packing is set
 * (DataArguments.__post_init__); pt's default packing comes later and leaves it. */
static int lowered_cutoff(const hn_train_data_options *o)
{
    return o->encode.cutoff_len - (o->packing == 1 || o->neat_packing ? 1 : 0);
}

/* One batch of rows (a view of the dataset) to examples. */
static hn_status build_batch(const hn_dataset *rows, const hn_train_data_options *o,
                             bool packing, int32_t pad, const hn_tokenizer *tok,
                             const hn_sft_template *tmpl, hn_sft_data *out, hn_error *err)
{
    hn_chat_encode_options encode = o->encode;
    encode.cutoff_len = lowered_cutoff(o);
    if (o->stage == HN_TRAIN_STAGE_PT) {
        hn_pt_options popts = {encode.cutoff_len, packing};
        return hn_pt_data_build(rows, tmpl, tok, &popts, out, err);
    }
    if (!packing)
        return hn_sft_data_build(rows, tmpl, tok, &encode, out, err);
    hn_sft_data single;
    HN_TRY(hn_sft_data_build(rows, tmpl, tok, &encode, &single, err));
    hn_status s = hn_sft_pack(&single, o->encode.cutoff_len, o->neat_packing, pad, out, err);
    hn_sft_data_clear(&single);
    return s;
}

/* The rows in upstream's map batches (map_batches.h); without packing rows are independent
 * and go as one batch per shard. */
static hn_status build_batches(const hn_dataset *dataset, const hn_train_data_options *o,
                               bool packing, const hn_tokenizer *tok,
                               const hn_sft_template *tmpl, hn_sft_data *out, hn_error *err)
{
    int32_t pad = -1;
    if (packing && o->stage == HN_TRAIN_STAGE_SFT)
        HN_TRY(pad_id(tok, tmpl, &pad, err));
    hn_map_batches batches;
    hn_map_batches_init(&batches, dataset->n_rows, packing ? o->preprocessing_batch_size : 0,
                        o->preprocessing_num_workers);
    *out = (hn_sft_data){.examples = g_new0(hn_sft_example, 1)};
    size_t first, n;
    while (hn_map_batches_next(&batches, &first, &n)) {
        hn_dataset view = *dataset;
        view.rows = dataset->rows + first;
        view.n_rows = n;
        hn_sft_data part;
        hn_status s = build_batch(&view, o, packing, pad, tok, tmpl, &part, err);
        if (s != HN_OK) {
            if (first > 0)
                hn_error_prefix(err, "rows from %zu", first);
            hn_sft_data_clear(out);
            return s;
        }
        append(out, &part, first);
    }
    return HN_OK;
}

/* The preference stages' examples, grouped (pref_data.h): the rows are encoded as a whole;
 * only kto's KL pairs depend on upstream's map batches. */
static hn_status build_preference(const hn_dataset *dataset, const hn_train_data_options *o,
                                  const hn_tokenizer *tok, const hn_sft_template *tmpl,
                                  hn_sft_data *out, hn_error *err)
{
    if (o->stage == HN_TRAIN_STAGE_PAIRWISE) {
        hn_pair_data pairs;
        HN_TRY(hn_pair_data_build(dataset, tmpl, tok, &o->encode, &pairs, err));
        hn_pair_data_move_to(&pairs, out);
        return HN_OK;
    }
    hn_kto_data kto;
    HN_TRY(hn_kto_data_build(dataset, tmpl, tok, &o->encode, o->preprocessing_batch_size,
                             o->preprocessing_num_workers, &kto, err));
    hn_kto_data_move_to(&kto, out);
    return HN_OK;
}

static bool is_preference(hn_train_stage stage)
{
    return stage == HN_TRAIN_STAGE_PAIRWISE || stage == HN_TRAIN_STAGE_KTO;
}

static hn_status build(const hn_train_data_options *o, bool packing, const hn_tokenizer *tok,
                       const hn_sft_template *tmpl, hn_sft_data *out, hn_error *err)
{
    if (lowered_cutoff(o) < 1)
        return hn_fail(err, HN_ERR_ARGUMENT, "cutoff_len: expected at least %d%s, found %d",
                       o->encode.cutoff_len - lowered_cutoff(o) + 1,
                       lowered_cutoff(o) < o->encode.cutoff_len ? " with packing" : "",
                       o->encode.cutoff_len);
    hn_dataset_options dopts;
    hn_dataset_options_init(&dopts);
    dopts.max_samples = o->max_samples;
    dopts.seed = o->seed;
    static const char *const STAGE_NAMES[] = {[HN_TRAIN_STAGE_PT] = "pt",
                                              [HN_TRAIN_STAGE_SFT] = "sft",
                                              [HN_TRAIN_STAGE_PAIRWISE] = "rm",
                                              [HN_TRAIN_STAGE_KTO] = "kto"};
    dopts.stage = STAGE_NAMES[o->stage];
    hn_dataset dataset;
    hn_status s = hn_dataset_load(o->dataset_dir, o->dataset, &dopts, &dataset, err);
    if (s == HN_OK && (o->identity_name != NULL || o->identity_author != NULL))
        hn_dataset_fill_identity(&dataset, o->identity_name, o->identity_author);
    if (s == HN_OK && is_preference(o->stage))
        s = build_preference(&dataset, o, tok, tmpl, out, err);
    else if (s == HN_OK)
        s = build_batches(&dataset, o, packing, tok, tmpl, out, err);
    if (s == HN_OK && out->n_examples == 0 && o->stage == HN_TRAIN_STAGE_PT) {
        s = hn_fail(err, HN_ERR_ARGUMENT, "stage pt: no examples: every batch of %d rows has "
                    "fewer tokens than one block of %d (upstream: \"Cannot find sufficient "
                    "samples\"); lower cutoff_len or add data",
                    o->preprocessing_batch_size, lowered_cutoff(o));
        hn_sft_data_clear(out);
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
    if (packing && is_preference(o->stage))
        return hn_fail(err, HN_ERR_ARGUMENT, "packing: stages rm, dpo and kto train on whole "
                       "pairs and examples, unpacked (LLaMA-Factory's pairwise and feedback "
                       "processors do not pack); leave packing out");
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
