/* The safetensors reader: maps a file and validates every header field before use. */
#include "safetensors.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json_read.h"
#include "mapped_file.h"

struct hn_st_file {
    char *path;
    const unsigned char *bytes; /* the whole file */
    uint64_t size;
    bool mapped;                /* bytes came from mmap and are unmapped on close */
    uint64_t data_start;        /* 8 + header length */
    hn_st_tensor *tensors;      /* [n_tensors], sorted by data offset */
    size_t n_tensors;
    GHashTable *by_name;        /* name -> hn_st_tensor* */
    char **meta_keys;           /* [n_meta] */
    char **meta_values;         /* [n_meta] */
    size_t n_meta;
};

/* Used while validating: a tensor and its byte range within the data area. */
typedef struct {
    uint64_t begin, end;
    size_t index;
} range;

static hn_st_file *file_new(const char *label)
{
    hn_st_file *file = g_new0(hn_st_file, 1);
    file->path = g_strdup(label);
    file->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return file;
}

void hn_st_close(hn_st_file *file)
{
    if (file == NULL)
        return;
    for (size_t i = 0; i < file->n_tensors; i++)
        g_free((char *)file->tensors[i].name);
    g_free(file->tensors);
    for (size_t i = 0; i < file->n_meta; i++) {
        g_free(file->meta_keys[i]);
        g_free(file->meta_values[i]);
    }
    g_free(file->meta_keys);
    g_free(file->meta_values);
    g_hash_table_destroy(file->by_name);
    if (file->mapped)
        hn_unmap_file(file->bytes, file->size);
    g_free(file->path);
    g_free(file);
}

static hn_status parse_metadata(hn_st_file *file, const cJSON *object, hn_error *err)
{
    if (!cJSON_IsObject(object))
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: header field \"__metadata__\": expected an object of strings, found %s",
                       file->path, hn_json_kind(object));
    size_t n = (size_t)cJSON_GetArraySize(object);
    file->meta_keys = g_new0(char *, n);
    file->meta_values = g_new0(char *, n);
    const cJSON *item;
    cJSON_ArrayForEach(item, object)
    {
        if (!cJSON_IsString(item))
            return hn_fail(err, HN_ERR_FORMAT,
                           "%s: header field \"__metadata__\".\"%s\": expected a string, found %s",
                           file->path, item->string, hn_json_kind(item));
        file->meta_keys[file->n_meta] = g_strdup(item->string);
        file->meta_values[file->n_meta] = g_strdup(item->valuestring);
        file->n_meta++;
    }
    return HN_OK;
}

/* An integer JSON number in [0, 2^53] (exactly representable), or -1. */
static int64_t json_count(const cJSON *item)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (!isfinite(v) || v < 0 || floor(v) != v || v > 9007199254740992.0)
        return -1;
    return (int64_t)v;
}

static hn_status parse_tensor(hn_st_file *file, const cJSON *entry, hn_st_tensor *tensor,
                              range *bytes, hn_error *err)
{
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: tensor \"%s\": expected an object with dtype, shape and "
                       "data_offsets, found %s",
                       file->path, name, hn_json_kind(entry));

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    if (!cJSON_IsString(dtype))
        return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\": field \"dtype\": expected a string, found %s",
                       file->path, name, hn_json_kind(dtype));
    tensor->dtype = hn_dtype_from_name(dtype->valuestring);
    if (tensor->dtype == HN_DTYPE_INVALID)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: tensor \"%s\": unknown dtype \"%.40s\" (expected one of %s)",
                       file->path, name, dtype->valuestring, hn_dtype_known_names());

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    if (!cJSON_IsArray(shape))
        return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\": field \"shape\": expected an array of sizes, found %s",
                       file->path, name, hn_json_kind(shape));
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > HN_MAX_DIMS)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: tensor \"%s\": %d dimensions (Hone reads at most %d)",
                       file->path, name, ndim, HN_MAX_DIMS);
    tensor->ndim = ndim;
    uint64_t numel = 1;
    bool overflow = false;
    for (int d = 0; d < ndim; d++) {
        int64_t size = json_count(cJSON_GetArrayItem(shape, d));
        if (size < 0)
            return hn_fail(err, HN_ERR_FORMAT,
                           "%s: tensor \"%s\": shape[%d]: expected a non-negative integer",
                           file->path, name, d);
        tensor->shape[d] = size;
        if (size != 0 && numel > UINT64_MAX / (uint64_t)size)
            overflow = true;
        numel *= (uint64_t)size;
    }

    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    int64_t begin = -1, end = -1;
    if (cJSON_IsArray(offsets) && cJSON_GetArraySize(offsets) == 2) {
        begin = json_count(cJSON_GetArrayItem(offsets, 0));
        end = json_count(cJSON_GetArrayItem(offsets, 1));
    }
    if (begin < 0 || end < 0 || begin > end)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: tensor \"%s\": field \"data_offsets\": expected [begin, end] with "
                       "0 <= begin <= end",
                       file->path, name);

    uint64_t element = hn_dtype_size(tensor->dtype);
    if (overflow || numel > UINT64_MAX / element)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: tensor \"%s\": shape and dtype %s need more than 2^64 bytes",
                       file->path, name, hn_dtype_name(tensor->dtype));
    if (numel * element != (uint64_t)(end - begin))
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: tensor \"%s\": shape and dtype %s need %" PRIu64 " bytes but "
                       "data_offsets [%" PRId64 ", %" PRId64 "] hold %" PRId64,
                       file->path, name, hn_dtype_name(tensor->dtype), numel * element, begin,
                       end, end - begin);
    uint64_t data_size = file->size - file->data_start;
    if ((uint64_t)end > data_size)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: tensor \"%s\": data_offsets [%" PRId64 ", %" PRId64 "] run past the "
                       "end of the data area (%" PRIu64 " bytes; the file may be truncated)",
                       file->path, name, begin, end, data_size);

    tensor->name = g_strdup(name);
    tensor->numel = (int64_t)numel;
    tensor->nbytes = (uint64_t)(end - begin);
    tensor->data = file->bytes + file->data_start + (uint64_t)begin;
    bytes->begin = (uint64_t)begin;
    bytes->end = (uint64_t)end;
    return HN_OK;
}

static int compare_ranges(const void *a, const void *b)
{
    const range *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Sorts tensors by offset and refuses byte ranges shared by two non-empty tensors. */
static hn_status order_and_check_overlap(hn_st_file *file, hn_st_tensor *parsed, range *ranges,
                                        size_t n, hn_error *err)
{
    if (n > 1)
        qsort(ranges, n, sizeof *ranges, compare_ranges);
    const range *previous = NULL;
    for (size_t i = 0; i < n; i++) {
        const range *r = &ranges[i];
        if (r->begin == r->end)
            continue;
        if (previous != NULL && r->begin < previous->end)
            return hn_fail(err, HN_ERR_FORMAT,
                           "%s: tensors \"%s\" [%" PRIu64 ", %" PRIu64 ") and \"%s\" [%" PRIu64
                           ", %" PRIu64 ") overlap (expected disjoint data_offsets)",
                           file->path, parsed[previous->index].name, previous->begin,
                           previous->end, parsed[r->index].name, r->begin, r->end);
        if (previous == NULL || r->end > previous->end)
            previous = r;
    }
    file->tensors = g_new0(hn_st_tensor, n);
    for (size_t i = 0; i < n; i++)
        file->tensors[i] = parsed[ranges[i].index];
    file->n_tensors = n;
    for (size_t i = 0; i < n; i++)
        g_hash_table_insert(file->by_name, (char *)file->tensors[i].name, &file->tensors[i]);
    return HN_OK;
}

static hn_status parse_header(hn_st_file *file, hn_error *err)
{
    if (file->size < 8)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: the file is %" PRIu64 " bytes, too short for the 8-byte header "
                       "length (truncated or not a safetensors file)",
                       file->path, file->size);
    uint64_t header_length = 0;
    for (int i = 7; i >= 0; i--)
        header_length = (header_length << 8) | file->bytes[i];
    if (header_length > file->size - 8)
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: bytes 0-7: header length %" PRIu64 " runs past the end of the file "
                       "(the file is %" PRIu64 " bytes, so at most %" PRIu64 " is possible; "
                       "truncated or not a safetensors file)",
                       file->path, header_length, file->size, file->size - 8);
    if (header_length > HN_ST_MAX_HEADER)
        return hn_fail(err, HN_ERR_FORMAT, "%s: bytes 0-7: header length %" PRIu64 " is over the %u-byte limit",
                       file->path, header_length, HN_ST_MAX_HEADER);
    const char *header = (const char *)file->bytes + 8;
    if (header_length < 2 || header[0] != '{')
        return hn_fail(err, HN_ERR_FORMAT,
                       "%s: byte 8: expected the JSON header to start with '{' "
                       "(not a safetensors file?)",
                       file->path);
    const char *bad_utf8 = NULL;
    if (!g_utf8_validate(header, (gssize)header_length, &bad_utf8))
        return hn_fail(err, HN_ERR_FORMAT, "%s: byte %td: the header is not valid UTF-8",
                       file->path, bad_utf8 - (const char *)file->bytes);
    file->data_start = 8 + header_length;

    char *label = g_strdup_printf("%s: header", file->path);
    cJSON *root = NULL;
    hn_status status = hn_json_parse(header, header_length, label, &root, err);
    g_free(label);
    if (status != HN_OK)
        return status;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return hn_fail(err, HN_ERR_FORMAT, "%s: header: expected a JSON object", file->path);
    }

    size_t capacity = (size_t)cJSON_GetArraySize(root);
    hn_st_tensor *parsed = g_new0(hn_st_tensor, capacity);
    range *ranges = g_new0(range, capacity);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    size_t n = 0;
    bool have_metadata = false;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, root)
    {
        if (g_hash_table_contains(seen, entry->string) ||
            (have_metadata && strcmp(entry->string, "__metadata__") == 0)) {
            status = hn_fail(err, HN_ERR_FORMAT, "%s: header: the name \"%s\" appears twice",
                             file->path, entry->string);
            break;
        }
        if (strcmp(entry->string, "__metadata__") == 0) {
            have_metadata = true;
            status = parse_metadata(file, entry, err);
        } else {
            g_hash_table_add(seen, entry->string);
            status = parse_tensor(file, entry, &parsed[n], &ranges[n], err);
            ranges[n].index = n;
            if (parsed[n].name != NULL)
                n++;
        }
        if (status != HN_OK)
            break;
    }
    if (status == HN_OK)
        status = order_and_check_overlap(file, parsed, ranges, n, err);
    if (status != HN_OK)
        for (size_t i = 0; i < n; i++)
            g_free((char *)parsed[i].name);
    g_hash_table_destroy(seen);
    g_free(parsed);
    g_free(ranges);
    cJSON_Delete(root);
    return status;
}

hn_status hn_st_open_buffer(const char *label, const void *data, size_t size, hn_st_file **out,
                            hn_error *err)
{
    hn_st_file *file = file_new(label);
    file->bytes = data;
    file->size = size;
    hn_status status = parse_header(file, err);
    if (status != HN_OK) {
        hn_st_close(file);
        return status;
    }
    *out = file;
    return HN_OK;
}

hn_status hn_st_open(const char *path, hn_st_file **out, hn_error *err)
{
    const unsigned char *bytes = NULL;
    uint64_t size = 0;
    HN_TRY(hn_map_file(path, &bytes, &size, err));
    hn_status status = hn_st_open_buffer(path, bytes, size, out, err);
    if (status != HN_OK) {
        hn_unmap_file(bytes, size);
        return status;
    }
    (*out)->mapped = true; /* unmapped on close */
    return HN_OK;
}

const char *hn_st_path(const hn_st_file *file) { return file->path; }
uint64_t hn_st_file_size(const hn_st_file *file) { return file->size; }
size_t hn_st_count(const hn_st_file *file) { return file->n_tensors; }

const hn_st_tensor *hn_st_get(const hn_st_file *file, size_t index)
{
    return index < file->n_tensors ? &file->tensors[index] : NULL;
}

const hn_st_tensor *hn_st_find(const hn_st_file *file, const char *name)
{
    return g_hash_table_lookup(file->by_name, name);
}

size_t hn_st_metadata_count(const hn_st_file *file) { return file->n_meta; }

void hn_st_metadata_get(const hn_st_file *file, size_t index, const char **key,
                        const char **value)
{
    *key = file->meta_keys[index];
    *value = file->meta_values[index];
}

const char *hn_st_metadata(const hn_st_file *file, const char *key)
{
    for (size_t i = 0; i < file->n_meta; i++)
        if (strcmp(file->meta_keys[i], key) == 0)
            return file->meta_values[i];
    return NULL;
}
