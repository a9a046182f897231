/* Datasets as LLaMA-Factory's loader reads them before tokenization (llamafactory/data/
 * loader.py, _load_single_dataset and _get_merged_dataset with mix_strategy concat): the rows
 * of each dataset (num_samples drawn as numpy does, then the first max_samples), converted to the aligned form,
 * datasets concatenated in the order given. */
#include <string.h>

#include "dataset_internal.h"
#include "numpy_random.h"

void hn_dataset_options_init(hn_dataset_options *options)
{
    options->max_samples = -1;
    options->seed = 42;
    options->stage = NULL;
}

void hn_dataset_init(hn_dataset *dataset)
{
    memset(dataset, 0, sizeof *dataset);
    dataset->text = g_string_chunk_new(1 << 16);
}

void hn_dataset_clear(hn_dataset *dataset)
{
    for (size_t i = 0; i < dataset->n_rows; i++)
        g_free(dataset->rows[i].prompt);
    g_free(dataset->rows);
    for (int i = 0; i < HN_DATASET_REASONS; i++)
        g_free(dataset->broken_reasons[i]);
    if (dataset->text != NULL)
        g_string_chunk_free(dataset->text);
    g_free(dataset->sampling);
    memset(dataset, 0, sizeof *dataset);
}

/* The rows upstream selects, in order (_load_single_dataset): with num_samples, a permutation
 * of all rows cut to num_samples, topped up with rows drawn with replacement when it asks for
 * more rows than there are; then the first max_samples. Returns the row indices (g_free). */
static size_t *select_rows(hn_dataset *dataset, const hn_dataset_attr *attr,
                           const hn_dataset_options *options, size_t n_rows, size_t *n_selected)
{
    size_t n = n_rows;
    size_t *order;
    if (attr->num_samples >= 0) {
        if (dataset->sampling == NULL) {
            dataset->sampling = g_new(hn_np_random, 1);
            hn_np_random_seed(dataset->sampling, options->seed);
        }
        n = (size_t)attr->num_samples;
        order = g_new(size_t, MAX(n, n_rows) + 1);
        hn_np_random_permutation(dataset->sampling, n_rows, order);
        if (n > n_rows)
            hn_np_random_choice(dataset->sampling, n_rows, n - n_rows, order + n_rows);
    } else {
        order = g_new(size_t, n_rows + 1);
        for (size_t i = 0; i < n_rows; i++)
            order[i] = i;
    }
    if (options->max_samples >= 0 && (uint64_t)options->max_samples < n)
        n = (size_t)options->max_samples;
    *n_selected = n;
    return order;
}

hn_status hn_dataset_append(hn_dataset *dataset, const hn_dataset_attr *attr,
                            const hn_dataset_options *options, hn_error *err)
{
    hn_dataset_rows rows = {0};
    hn_status status = hn_dataset_rows_read(attr->path, &rows, err);
    if (status != HN_OK) {
        char *marker = g_strdup_printf("dataset \"%s\"", attr->name);
        if (strstr(err->message, marker) == NULL)
            hn_error_prefix(err, "%s", marker);
        g_free(marker);
        hn_dataset_rows_clear(&rows);
        return status;
    }
    size_t n = 0;
    size_t *order = select_rows(dataset, attr, options, rows.rows->len, &n);
    dataset->rows = g_renew(hn_dataset_row, dataset->rows, dataset->n_rows + n);
    for (size_t i = 0; i < n && status == HN_OK; i++) {
        size_t at = order[i];
        hn_row_context ctx = {attr, &g_array_index(rows.places, hn_row_place, at), dataset, err};
        hn_dataset_row *row = &dataset->rows[dataset->n_rows];
        status = hn_dataset_convert_row(&ctx, g_ptr_array_index(rows.rows, at), row);
        if (status == HN_OK)
            dataset->n_rows++;
        else
            g_free(row->prompt);
    }
    g_free(order);
    hn_dataset_rows_clear(&rows);
    return status;
}

/* LLaMA-Factory's _get_merged_dataset refuses a ranking dataset for any stage but rm (which
 * dpo uses too) and a dataset without ranking for rm: "The dataset is not applicable in the
 * current training stage." */
static hn_status check_stage(const char *dataset_dir, const hn_dataset_attr *attr,
                             const char *stage, hn_error *err)
{
    if (stage == NULL)
        return HN_OK;
    bool pairs = strcmp(stage, "rm") == 0 || strcmp(stage, "dpo") == 0;
    if (pairs == attr->ranking)
        return HN_OK;
    char *info = g_build_filename(dataset_dir, "dataset_info.json", NULL);
    hn_status status;
    if (pairs)
        status = hn_fail(err, HN_ERR_ARGUMENT, "%s: dataset \"%s\": stage %s expects a ranking "
                         "dataset (\"ranking\": true, rows with a chosen and a rejected "
                         "answer), found one without \"ranking\" (LLaMA-Factory refuses it too: "
                         "\"The dataset is not applicable in the current training stage.\")",
                         info, attr->name, stage);
    else
        status = hn_fail(err, HN_ERR_ARGUMENT, "%s: dataset \"%s\" is a ranking dataset "
                         "(\"ranking\": true: chosen/rejected pairs for stages rm and dpo); "
                         "stage %s expects one without ranking%s (LLaMA-Factory refuses it too: "
                         "\"The dataset is not applicable in the current training stage.\")",
                         info, attr->name, stage,
                         strcmp(stage, "kto") == 0 ? ", whose rows have a kto_tag" : "");
    g_free(info);
    return status;
}

hn_status hn_dataset_load(const char *dataset_dir, const char *names,
                          const hn_dataset_options *options, hn_dataset *out, hn_error *err)
{
    hn_dataset_init(out);
    hn_dataset_attr *attrs = NULL;
    size_t n = 0;
    HN_TRY(hn_dataset_info_resolve(dataset_dir, names, &attrs, &n, err));
    hn_status status = HN_OK;
    for (size_t i = 0; i < n && status == HN_OK; i++)
        status = check_stage(dataset_dir, &attrs[i], options->stage, err);
    for (size_t i = 0; i < n && status == HN_OK; i++)
        status = hn_dataset_append(out, &attrs[i], options, err);
    hn_dataset_attrs_free(attrs, n);
    return status;
}
