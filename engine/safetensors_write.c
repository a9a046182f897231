/* The safetensors writer: one file or a sharded set with its index, each written atomically. */
#include <inttypes.h>
#include <string.h>

#include "atomic_file.h"
#include "safetensors.h"

/* Appends s as a JSON string literal. */
static void append_json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

static uint64_t tensor_bytes(const hn_st_tensor *t)
{
    uint64_t n = hn_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++)
        n *= (uint64_t)t->shape[d];
    return n;
}

/* Order of the data area: larger elements first (keeps every tensor aligned to its element
 * size once the header is padded to 8 bytes), then by name. */
static int compare_for_layout(const void *a, const void *b)
{
    const hn_st_tensor *x = *(const hn_st_tensor *const *)a;
    const hn_st_tensor *y = *(const hn_st_tensor *const *)b;
    size_t sx = hn_dtype_size(x->dtype), sy = hn_dtype_size(y->dtype);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

static hn_status check_tensor(const char *path, const hn_st_tensor *t, hn_error *err)
{
    if (t->name == NULL || t->name[0] == '\0' || strcmp(t->name, "__metadata__") == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: a tensor needs a name other than \"%s\"", path,
                       t->name != NULL ? t->name : "");
    if (t->dtype < 0 || t->dtype >= HN_DTYPE_COUNT || t->ndim < 0 || t->ndim > HN_MAX_DIMS)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: tensor \"%s\": invalid dtype or rank", path,
                       t->name);
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] < 0)
            return hn_fail(err, HN_ERR_ARGUMENT, "%s: tensor \"%s\": negative size", path,
                           t->name);
    return HN_OK;
}

/* Writes tensors[order[0..n)] (already in layout order) to one file. */
static hn_status write_file(const char *path, const hn_st_tensor *const *order, size_t n,
                            const hn_st_meta *meta, size_t n_meta, hn_error *err)
{
    GString *header = g_string_new("{");
    if (n_meta > 0) {
        g_string_append(header, "\"__metadata__\":{");
        for (size_t i = 0; i < n_meta; i++) {
            if (i > 0)
                g_string_append_c(header, ',');
            append_json_string(header, meta[i].key);
            g_string_append_c(header, ':');
            append_json_string(header, meta[i].value);
        }
        g_string_append_c(header, '}');
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        const hn_st_tensor *t = order[i];
        uint64_t size = tensor_bytes(t);
        if (header->len > 1)
            g_string_append_c(header, ',');
        append_json_string(header, t->name);
        g_string_append_printf(header, ":{\"dtype\":\"%s\",\"shape\":[", hn_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            g_string_append_printf(header, "%s%" PRId64, d > 0 ? "," : "", t->shape[d]);
        g_string_append_printf(header, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", offset,
                               offset + size);
        offset += size;
    }
    g_string_append_c(header, '}');
    while (header->len % 8 != 0) /* the data area starts 8-aligned */
        g_string_append_c(header, ' ');

    unsigned char length_bytes[8];
    for (int i = 0; i < 8; i++)
        length_bytes[i] = (unsigned char)(((uint64_t)header->len >> (8 * i)) & 0xff);

    hn_atomic_file file;
    hn_status status = hn_atomic_open(&file, path, err);
    if (status == HN_OK)
        status = hn_atomic_write(&file, length_bytes, sizeof length_bytes, err);
    if (status == HN_OK)
        status = hn_atomic_write(&file, header->str, header->len, err);
    for (size_t i = 0; i < n && status == HN_OK; i++)
        status = hn_atomic_write(&file, order[i]->data, tensor_bytes(order[i]), err);
    g_string_free(header, TRUE);
    if (status != HN_OK) {
        hn_atomic_abort(&file);
        return status;
    }
    return hn_atomic_commit(&file, err);
}

/* Validates the tensors and returns pointers to them in layout order. */
static hn_status layout(const char *path, const hn_st_tensor *tensors, size_t n,
                        const hn_st_tensor ***order_out, hn_error *err)
{
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);
    hn_status status = HN_OK;
    for (size_t i = 0; i < n && status == HN_OK; i++) {
        status = check_tensor(path, &tensors[i], err);
        if (status == HN_OK && !g_hash_table_add(names, (char *)tensors[i].name))
            status = hn_fail(err, HN_ERR_ARGUMENT, "%s: the tensor name \"%s\" is given twice",
                             path, tensors[i].name);
    }
    g_hash_table_destroy(names);
    if (status != HN_OK)
        return status;
    const hn_st_tensor **order = g_new(const hn_st_tensor *, n > 0 ? n : 1);
    for (size_t i = 0; i < n; i++)
        order[i] = &tensors[i];
    qsort(order, n, sizeof *order, compare_for_layout);
    *order_out = order;
    return HN_OK;
}

hn_status hn_st_write(const char *path, const hn_st_tensor *tensors, size_t n_tensors,
                      const hn_st_meta *meta, size_t n_meta, hn_error *err)
{
    const hn_st_tensor **order = NULL;
    HN_TRY(layout(path, tensors, n_tensors, &order, err));
    hn_status status = write_file(path, order, n_tensors, meta, n_meta, err);
    g_free(order);
    return status;
}

/* A tensor and the shard it went to, for the index. */
typedef struct {
    const char *name;
    int shard;
} placement;

static int compare_placements(const void *a, const void *b)
{
    return strcmp(((const placement *)a)->name, ((const placement *)b)->name);
}

/* model.safetensors.index.json as transformers writes it: total_size and a sorted weight_map. */
static hn_status write_index(const char *path, const hn_st_tensor **order, size_t n,
                             const int *shard_of, int n_shards, const char *prefix,
                             uint64_t total, hn_error *err)
{
    placement *placements = g_new(placement, n > 0 ? n : 1);
    for (size_t i = 0; i < n; i++)
        placements[i] = (placement){order[i]->name, shard_of[i]};
    qsort(placements, n, sizeof *placements, compare_placements);
    GString *json = g_string_new("{\n  \"metadata\": {\n");
    g_string_append_printf(json, "    \"total_size\": %" PRIu64 "\n  },\n  \"weight_map\": {\n",
                           total);
    for (size_t i = 0; i < n; i++) {
        g_string_append(json, "    ");
        append_json_string(json, placements[i].name);
        g_string_append_printf(json, ": \"%s-%05d-of-%05d.safetensors\"%s\n", prefix,
                               placements[i].shard + 1, n_shards, i + 1 < n ? "," : "");
    }
    g_string_append(json, "  }\n}\n");
    hn_status status = hn_atomic_write_all(path, json->str, json->len, err);
    g_string_free(json, TRUE);
    g_free(placements);
    return status;
}

hn_status hn_st_write_sharded(const char *folder, const char *prefix,
                              const hn_st_tensor *tensors, size_t n_tensors,
                              const hn_st_meta *meta, size_t n_meta, uint64_t max_shard_bytes,
                              int *n_shards_out, hn_error *err)
{
    if (max_shard_bytes == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: the shard size limit must be positive", folder);
    const hn_st_tensor **order = NULL;
    HN_TRY(layout(folder, tensors, n_tensors, &order, err));

    /* Fill shards greedily in layout order; a new shard starts when the next tensor would
     * push the current one past the limit. */
    int *shard_of = g_new0(int, n_tensors > 0 ? n_tensors : 1);
    int n_shards = 1;
    uint64_t shard_size = 0, total = 0;
    for (size_t i = 0; i < n_tensors; i++) {
        uint64_t size = tensor_bytes(order[i]);
        if (shard_size > 0 && shard_size + size > max_shard_bytes) {
            n_shards++;
            shard_size = 0;
        }
        shard_of[i] = n_shards - 1;
        shard_size += size;
        total += size;
    }

    hn_status status = HN_OK;
    if (n_shards == 1) {
        char *path = g_strdup_printf("%s/%s.safetensors", folder, prefix);
        status = write_file(path, order, n_tensors, meta, n_meta, err);
        g_free(path);
    } else {
        size_t first = 0;
        for (int s = 0; s < n_shards && status == HN_OK; s++) {
            size_t count = 0;
            while (first + count < n_tensors && shard_of[first + count] == s)
                count++;
            char *path = g_strdup_printf("%s/%s-%05d-of-%05d.safetensors", folder, prefix, s + 1,
                                         n_shards);
            status = write_file(path, order + first, count, meta, n_meta, err);
            g_free(path);
            first += count;
        }
        if (status == HN_OK) {
            char *index = g_strdup_printf("%s/%s.safetensors.index.json", folder, prefix);
            status = write_index(index, order, n_tensors, shard_of, n_shards, prefix, total, err);
            g_free(index);
        }
    }
    if (n_shards_out != NULL)
        *n_shards_out = n_shards;
    g_free(shard_of);
    g_free(order);
    return status;
}
