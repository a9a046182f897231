/* The tokenized-data cache key of a run (see train_data.h for what it covers). Each input goes
 * into one SHA-256 as a labelled, length-prefixed field, so no two different sets of inputs
 * give the same byte stream. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_info.h"
#include "mapped_file.h"
#include "train_data.h"

static void field(GChecksum *sum, const char *label, const void *data, size_t size)
{
    uint64_t n = size;
    g_checksum_update(sum, (const guchar *)label, (gssize)strlen(label) + 1);
    g_checksum_update(sum, (const guchar *)&n, sizeof n);
    if (size > 0)
        g_checksum_update(sum, data, (gssize)size);
}

static void text_field(GChecksum *sum, const char *label, const char *text)
{
    if (text == NULL)
        field(sum, label, "\xff(null)", 7); /* not valid UTF-8: differs from any string */
    else
        field(sum, label, text, strlen(text));
}

static void int_field(GChecksum *sum, const char *label, int64_t v)
{
    field(sum, label, &v, sizeof v);
}

/* A file's bytes; an absent file is a field of its own. */
static hn_status file_field(GChecksum *sum, const char *label, const char *path, hn_error *err)
{
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        text_field(sum, label, NULL);
        return HN_OK;
    }
    const unsigned char *bytes = NULL;
    uint64_t size = 0;
    HN_TRY(hn_map_file(path, &bytes, &size, err));
    field(sum, label, bytes, (size_t)size);
    hn_unmap_file(bytes, size);
    return HN_OK;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A dataset's file, or every file of its folder with its name, in sorted order. */
static hn_status dataset_files(GChecksum *sum, const char *path, hn_error *err)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return file_field(sum, "file", path, err);
    GError *gerr = NULL;
    GDir *dir = g_dir_open(path, 0, &gerr);
    if (dir == NULL) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return s;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (const char *name; (name = g_dir_read_name(dir)) != NULL;)
        g_ptr_array_add(names, g_strdup(name));
    g_dir_close(dir);
    g_ptr_array_sort(names, compare_names);
    hn_status s = HN_OK;
    for (guint i = 0; i < names->len && s == HN_OK; i++) {
        char *file = g_build_filename(path, g_ptr_array_index(names, i), NULL);
        text_field(sum, "folder file", g_ptr_array_index(names, i));
        s = file_field(sum, "file", file, err);
        g_free(file);
    }
    g_ptr_array_free(names, TRUE);
    return s;
}

static hn_status datasets(GChecksum *sum, const hn_train_data_options *o, hn_error *err)
{
    hn_dataset_attr *attrs = NULL;
    size_t n = 0;
    HN_TRY(hn_dataset_info_resolve(o->dataset_dir, o->dataset, &attrs, &n, err));
    hn_status s = HN_OK;
    int_field(sum, "datasets", (int64_t)n);
    for (size_t i = 0; i < n && s == HN_OK; i++) {
        const hn_dataset_attr *a = &attrs[i];
        text_field(sum, "name", a->name);
        text_field(sum, "file_name", a->file_name);
        int_field(sum, "formatting", a->formatting);
        int_field(sum, "ranking", a->ranking);
        text_field(sum, "split", a->split);
        int_field(sum, "num_samples", a->num_samples);
        for (int c = 0; c < HN_COL_COUNT; c++)
            text_field(sum, hn_dataset_column_key((hn_dataset_column)c), a->columns[c]);
        for (int t = 0; t < HN_TAG_COUNT; t++)
            text_field(sum, hn_dataset_tag_key((hn_dataset_tag)t), a->tags[t]);
        s = dataset_files(sum, a->path, err);
    }
    hn_dataset_attrs_free(attrs, n);
    return s;
}

static hn_status tokenizer_files(GChecksum *sum, const char *path, hn_error *err)
{
    if (path == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "tokenized-data cache: the tokenizer's path is "
                       "needed for the cache key");
    struct stat st;
    if (stat(path, &st) != 0)
        return hn_fail(err, HN_ERR_IO, "%s: %s", path, g_strerror(errno));
    if (!S_ISDIR(st.st_mode) && g_str_has_suffix(path, ".gguf")) {
        text_field(sum, "gguf", path);
        int_field(sum, "gguf size", (int64_t)st.st_size);
        int_field(sum, "gguf mtime s", (int64_t)st.st_mtim.tv_sec);
        int_field(sum, "gguf mtime ns", (int64_t)st.st_mtim.tv_nsec);
        return HN_OK;
    }
    char *dir = S_ISDIR(st.st_mode) ? g_strdup(path) : g_path_get_dirname(path);
    static const char *const names[] = {"tokenizer_config.json", "special_tokens_map.json",
                                        "chat_template.jinja", "chat_template.json"};
    hn_status s = HN_OK;
    if (S_ISDIR(st.st_mode)) {
        char *file = g_build_filename(dir, "tokenizer.json", NULL);
        s = file_field(sum, "tokenizer.json", file, err);
        g_free(file);
    } else {
        s = file_field(sum, "tokenizer.json", path, err);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(names) && s == HN_OK; i++) {
        char *file = g_build_filename(dir, names[i], NULL);
        s = file_field(sum, names[i], file, err);
        g_free(file);
    }
    g_free(dir);
    return s;
}

hn_status hn_train_data_key(const hn_train_data_options *o, const hn_tokenizer *tok,
                            const hn_sft_template *tmpl, uint8_t key[HN_DATA_CACHE_KEY_SIZE],
                            hn_error *err)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    int_field(sum, "hone tokenized-data cache version", HN_DATA_CACHE_VERSION);
    int_field(sum, "stage", o->stage);
    bool packing = o->neat_packing || (o->packing >= 0 ? o->packing != 0
                                                       : o->stage == HN_TRAIN_STAGE_PT);
    int_field(sum, "packing", packing);
    int_field(sum, "packing set", o->packing); /* -1 and 1 differ in cutoff_len (train_data.h) */
    int_field(sum, "neat_packing", o->neat_packing);
    if (packing || o->stage == HN_TRAIN_STAGE_KTO) { /* batches matter to packing and to
                                                        kto's KL pairs */
        int_field(sum, "preprocessing_batch_size", o->preprocessing_batch_size);
        int_field(sum, "preprocessing_num_workers", o->preprocessing_num_workers);
    }
    int_field(sum, "cutoff_len", o->encode.cutoff_len);
    int_field(sum, "train_on_prompt", o->encode.train_on_prompt);
    int_field(sum, "mask_history", o->encode.mask_history);
    int_field(sum, "enable_thinking", o->encode.enable_thinking);
    int_field(sum, "max_samples", o->max_samples);
    int_field(sum, "seed", o->seed);
    text_field(sum, "identity name", o->identity_name);
    text_field(sum, "identity author", o->identity_author);
    text_field(sum, "dataset", o->dataset);
    if (tmpl->named != NULL)
        text_field(sum, "template", tmpl->named->name);
    else
        text_field(sum, "jinja", hn_tokenizer_get_config(tok)->chat_template);
    hn_status s = datasets(sum, o, err);
    if (s == HN_OK)
        s = tokenizer_files(sum, o->tokenizer_path, err);
    gsize n = HN_DATA_CACHE_KEY_SIZE;
    g_checksum_get_digest(sum, key, &n);
    g_checksum_free(sum);
    return s;
}
