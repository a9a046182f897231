/* Datasets as LLaMA-Factory's loader reads them before tokenization (llamafactory/data/
 * loader.py, _load_single_dataset and _get_merged_dataset with mix_strategy concat): the rows
 * of each dataset (num_samples, then the first max_samples), converted to the aligned form,
 * datasets concatenated in the order given. */
#include <string.h>

#include "dataset_internal.h"

void hn_dataset_options_init(hn_dataset_options *options)
{
    options->max_samples = -1;
    options->seed = 42;
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
    memset(dataset, 0, sizeof *dataset);
}

/* The rows upstream selects, in order: num_samples (refused for now), then the first
 * max_samples. */
static hn_status select_rows(const hn_dataset_attr *attr, const hn_dataset_options *options,
                             size_t n_rows, size_t *n_selected, hn_error *err)
{
    if (attr->num_samples >= 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "dataset \"%s\": num_samples is not supported "
                       "yet (LLaMA-Factory draws the rows with numpy's global random state); "
                       "remove it, or use max_samples for the first N rows", attr->name);
    *n_selected = n_rows;
    if (options->max_samples >= 0 && (uint64_t)options->max_samples < n_rows)
        *n_selected = (size_t)options->max_samples;
    return HN_OK;
}

hn_status hn_dataset_append(hn_dataset *dataset, const hn_dataset_attr *attr,
                            const hn_dataset_options *options, hn_error *err)
{
    hn_dataset_rows rows = {0};
    hn_status status = hn_dataset_rows_read(attr->path, &rows, err);
    size_t n = 0;
    if (status == HN_OK)
        status = select_rows(attr, options, rows.rows->len, &n, err);
    if (status != HN_OK) {
        char *marker = g_strdup_printf("dataset \"%s\"", attr->name);
        if (strstr(err->message, marker) == NULL)
            hn_error_prefix(err, "%s", marker);
        g_free(marker);
        hn_dataset_rows_clear(&rows);
        return status;
    }
    dataset->rows = g_renew(hn_dataset_row, dataset->rows, dataset->n_rows + n);
    for (size_t i = 0; i < n && status == HN_OK; i++) {
        hn_row_context ctx = {attr, &g_array_index(rows.places, hn_row_place, i), dataset, err};
        hn_dataset_row *row = &dataset->rows[dataset->n_rows];
        status = hn_dataset_convert_row(&ctx, g_ptr_array_index(rows.rows, i), row);
        if (status == HN_OK)
            dataset->n_rows++;
        else
            g_free(row->prompt);
    }
    hn_dataset_rows_clear(&rows);
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
        status = hn_dataset_append(out, &attrs[i], options, err);
    hn_dataset_attrs_free(attrs, n);
    return status;
}
