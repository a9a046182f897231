/* The GGUF reader: maps a file and validates the header, every metadata value and every
 * tensor info before anything is returned (format in gguf.h). */
#include "gguf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mapped_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "GGUF files are read as little-endian; this file assumes a little-endian host"
#endif

/* The smallest encodings, used to refuse counts the rest of the file cannot hold. */
#define MIN_KV_BYTES (8 + 4 + 1)              /* empty key, type, a one-byte value */
#define MIN_TENSOR_INFO_BYTES (8 + 4 + 4 + 8) /* empty name, n_dims 0, type, offset */
#define MIN_STRING_BYTES 8
#define MIN_ARRAY_BYTES (4 + 8)

struct hn_gguf_file {
    char *path;
    const unsigned char *bytes; /* the whole file */
    uint64_t size;
    bool mapped;                /* bytes came from mmap and are unmapped on close */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    hn_gguf_kv *kvs;            /* [n_kv] */
    size_t n_kv;
    hn_gguf_tensor *tensors;    /* [n_tensors] */
    size_t n_tensors;
    GHashTable *kv_by_key;      /* key -> hn_gguf_kv* */
    GHashTable *tensor_by_name; /* name -> hn_gguf_tensor* */
};

/* Reading state: the position and what is being read, for messages. */
typedef struct {
    hn_gguf_file *file;
    uint64_t pos;
    char place[192];                      /* "metadata key 3 \"general.name\"", ... */
    uint64_t element[HN_GGUF_MAX_NESTING]; /* indices inside (nested) arrays */
    int depth;
    hn_error *err;
} parser;

static const size_t scalar_sizes[HN_GGUF_TYPE_COUNT] = {
    [HN_GGUF_UINT8] = 1, [HN_GGUF_INT8] = 1,    [HN_GGUF_UINT16] = 2,  [HN_GGUF_INT16] = 2,
    [HN_GGUF_UINT32] = 4, [HN_GGUF_INT32] = 4,  [HN_GGUF_FLOAT32] = 4, [HN_GGUF_BOOL] = 1,
    [HN_GGUF_UINT64] = 8, [HN_GGUF_INT64] = 8,  [HN_GGUF_FLOAT64] = 8,
};

/* Fails with "PATH: byte AT, PLACE[, element [i][j]]: MESSAGE". */
static hn_status G_GNUC_PRINTF(4, 5)
fail_at(const parser *p, uint64_t at, hn_status status, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char elements[160] = "";
    size_t used = 0;
    for (int d = 0; d < p->depth && used < sizeof elements; d++)
        used += (size_t)snprintf(elements + used, sizeof elements - used, "%s[%" PRIu64 "]",
                                 d == 0 ? ", element " : "", p->element[d]);
    return hn_fail(p->err, status, "%s: byte %" PRIu64 ", %s%s: %s", p->file->path, at, p->place,
                   elements, message);
}

/* Checks that n more bytes exist at the current position. */
static hn_status need(const parser *p, uint64_t n, const char *what)
{
    if (n <= p->file->size - p->pos)
        return HN_OK;
    return fail_at(p, p->pos, HN_ERR_FORMAT,
                   "expected %s (%" PRIu64 " bytes), found the end of the file at byte %" PRIu64
                   " (truncated?)",
                   what, n, p->file->size);
}

static hn_status read_u32(parser *p, const char *what, uint32_t *out)
{
    HN_TRY(need(p, 4, what));
    memcpy(out, p->file->bytes + p->pos, 4);
    p->pos += 4;
    return HN_OK;
}

static hn_status read_u64(parser *p, const char *what, uint64_t *out)
{
    HN_TRY(need(p, 8, what));
    memcpy(out, p->file->bytes + p->pos, 8);
    p->pos += 8;
    return HN_OK;
}

/* A length-prefixed string; the bytes stay in the file. */
static hn_status read_string(parser *p, const char *what, hn_gguf_string *out)
{
    uint64_t start = p->pos, length;
    char label[96];
    snprintf(label, sizeof label, "the length of %s", what);
    HN_TRY(read_u64(p, label, &length));
    if (length > p->file->size - p->pos)
        return fail_at(p, start, HN_ERR_FORMAT,
                       "expected %s of %" PRIu64 " bytes, but only %" PRIu64
                       " bytes are left in the file (truncated?)",
                       what, length, p->file->size - p->pos);
    out->data = (const char *)p->file->bytes + p->pos;
    out->length = length;
    p->pos += length;
    return HN_OK;
}

/* A key or tensor name: valid UTF-8 without NUL bytes, copied. */
static hn_status read_name(parser *p, const char *what, char **out)
{
    uint64_t start = p->pos;
    hn_gguf_string s;
    HN_TRY(read_string(p, what, &s));
    if (!g_utf8_validate_len(s.data, (gsize)s.length, NULL))
        return fail_at(p, start, HN_ERR_FORMAT, "expected %s in UTF-8 without NUL bytes", what);
    *out = g_strndup(s.data, (gsize)s.length);
    return HN_OK;
}

static void value_clear(hn_gguf_value *v)
{
    if (v->type == HN_GGUF_STRING) {
        g_free((char *)v->string.text);
    } else if (v->type == HN_GGUF_ARRAY) {
        if (v->array.items != NULL)
            for (uint64_t i = 0; i < v->array.count; i++)
                value_clear((hn_gguf_value *)&v->array.items[i]);
        g_free((hn_gguf_value *)v->array.items);
        g_free((hn_gguf_string *)v->array.strings);
    }
}

void hn_gguf_close(hn_gguf_file *file)
{
    if (file == NULL)
        return;
    for (size_t i = 0; i < file->n_kv; i++) {
        g_free((char *)file->kvs[i].key);
        value_clear(&file->kvs[i].value);
    }
    g_free(file->kvs);
    for (size_t i = 0; i < file->n_tensors; i++)
        g_free((char *)file->tensors[i].name);
    g_free(file->tensors);
    g_hash_table_destroy(file->kv_by_key);
    g_hash_table_destroy(file->tensor_by_name);
    if (file->mapped)
        hn_unmap_file(file->bytes, file->size);
    g_free(file->path);
    g_free(file);
}

static const char *value_types_expected =
    "a value type 0-12 (UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, "
    "ARRAY, UINT64, INT64, FLOAT64)";

/* Reads one scalar of `type` (size already checked) at p into v. */
static void decode_scalar(const unsigned char *at, hn_gguf_type type, hn_gguf_value *v)
{
    v->type = type;
    switch (type) {
    case HN_GGUF_UINT8: case HN_GGUF_BOOL: v->u = at[0]; break;
    case HN_GGUF_INT8: v->i = (int8_t)at[0]; break;
    case HN_GGUF_UINT16: { uint16_t x; memcpy(&x, at, 2); v->u = x; } break;
    case HN_GGUF_INT16: { int16_t x; memcpy(&x, at, 2); v->i = x; } break;
    case HN_GGUF_UINT32: { uint32_t x; memcpy(&x, at, 4); v->u = x; } break;
    case HN_GGUF_INT32: { int32_t x; memcpy(&x, at, 4); v->i = x; } break;
    case HN_GGUF_UINT64: { uint64_t x; memcpy(&x, at, 8); v->u = x; } break;
    case HN_GGUF_INT64: { int64_t x; memcpy(&x, at, 8); v->i = x; } break;
    case HN_GGUF_FLOAT32: { float x; memcpy(&x, at, 4); v->f = x; } break;
    case HN_GGUF_FLOAT64: { double x; memcpy(&x, at, 8); v->f = x; } break;
    default: break;
    }
}

static hn_status read_value(parser *p, uint32_t type, uint64_t type_at, hn_gguf_value *v);

/* An array's element type, count and elements. Counts are checked against the bytes left
 * before anything is allocated. */
static hn_status read_array(parser *p, hn_gguf_value *v)
{
    if (p->depth >= HN_GGUF_MAX_NESTING)
        return fail_at(p, p->pos, HN_ERR_UNSUPPORTED,
                       "expected arrays nested at most %d deep, found deeper nesting",
                       HN_GGUF_MAX_NESTING);
    uint64_t type_at = p->pos;
    uint32_t element;
    uint64_t count;
    HN_TRY(read_u32(p, "an array element type", &element));
    if (element >= HN_GGUF_TYPE_COUNT)
        return fail_at(p, type_at, HN_ERR_FORMAT, "expected %s as the array element type, found %" PRIu32,
                       value_types_expected, element);
    HN_TRY(read_u64(p, "an array length", &count));
    uint64_t min = element == HN_GGUF_STRING  ? MIN_STRING_BYTES
                   : element == HN_GGUF_ARRAY ? MIN_ARRAY_BYTES
                                              : scalar_sizes[element];
    uint64_t left = p->file->size - p->pos;
    if (count > left / min)
        return fail_at(p, type_at + 4, HN_ERR_FORMAT,
                       "expected an array length that fits in the file, found %" PRIu64
                       " elements of %s (at least %" PRIu64 " bytes each) with only %" PRIu64
                       " bytes left (truncated or corrupt)",
                       count, hn_gguf_type_name(element), min, left);
    v->array.type = (hn_gguf_type)element;
    v->array.count = count;
    v->array.raw = p->file->bytes + p->pos;
    if (element != HN_GGUF_STRING && element != HN_GGUF_ARRAY) {
        if (element == HN_GGUF_BOOL)
            for (uint64_t i = 0; i < count; i++)
                if (p->file->bytes[p->pos + i] > 1) {
                    p->element[p->depth++] = i;
                    return fail_at(p, p->pos + i, HN_ERR_FORMAT,
                                   "expected a BOOL (0 or 1), found %u", p->file->bytes[p->pos + i]);
                }
        p->pos += count * scalar_sizes[element];
        return HN_OK;
    }
    int depth = p->depth++;
    hn_status status = HN_OK;
    if (element == HN_GGUF_STRING) {
        hn_gguf_string *strings = g_new(hn_gguf_string, count);
        v->array.strings = strings;
        for (uint64_t i = 0; i < count && status == HN_OK; i++) {
            p->element[depth] = i;
            status = read_string(p, "a string", &strings[i]);
        }
    } else {
        hn_gguf_value *items = g_new0(hn_gguf_value, count);
        v->array.items = items;
        for (uint64_t i = 0; i < count && status == HN_OK; i++) {
            p->element[depth] = i;
            items[i].type = HN_GGUF_ARRAY;
            status = read_array(p, &items[i]);
        }
    }
    if (status == HN_OK)
        p->depth = depth;
    return status;
}

static hn_status read_value(parser *p, uint32_t type, uint64_t type_at, hn_gguf_value *v)
{
    if (type >= HN_GGUF_TYPE_COUNT)
        return fail_at(p, type_at, HN_ERR_FORMAT, "expected %s, found %" PRIu32,
                       value_types_expected, type);
    v->type = (hn_gguf_type)type;
    if (type == HN_GGUF_ARRAY)
        return read_array(p, v);
    if (type == HN_GGUF_STRING) {
        HN_TRY(read_string(p, "a string value", &v->string.bytes));
        v->string.text = g_strndup(v->string.bytes.data, (gsize)v->string.bytes.length);
        return HN_OK;
    }
    char what[32];
    snprintf(what, sizeof what, "a %s value", hn_gguf_type_name(type));
    HN_TRY(need(p, scalar_sizes[type], what));
    const unsigned char *at = p->file->bytes + p->pos;
    if (type == HN_GGUF_BOOL && at[0] > 1)
        return fail_at(p, p->pos, HN_ERR_FORMAT, "expected a BOOL (0 or 1), found %u", at[0]);
    decode_scalar(at, (hn_gguf_type)type, v);
    p->pos += scalar_sizes[type];
    return HN_OK;
}

static hn_status read_header(parser *p, uint64_t *n_tensors, uint64_t *n_kv)
{
    hn_gguf_file *file = p->file;
    g_strlcpy(p->place, "header", sizeof p->place);
    if (file->size < 4 || memcmp(file->bytes, "GGUF", 4) != 0) {
        char found[24] = "";
        for (uint64_t i = 0; i < 4 && i < file->size; i++) {
            unsigned char c = file->bytes[i];
            size_t at = strlen(found);
            snprintf(found + at, sizeof found - at, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
        }
        return fail_at(p, 0, HN_ERR_FORMAT, "expected the magic \"GGUF\", found \"%s\"%s", found,
                       file->size < 4 ? " and the end of the file (truncated or not a GGUF file)"
                                      : " (not a GGUF file)");
    }
    p->pos = 4;
    HN_TRY(read_u32(p, "the GGUF version", &file->version));
    if (file->version != 2 && file->version != 3) {
        const char *why = file->version == 1 ? " (GGUF version 1 is obsolete; convert the model again)"
                          : (file->version & 0xffffu) == 0
                              ? " (a big-endian file? Hone reads little-endian GGUF only)"
                              : "";
        return fail_at(p, 4, HN_ERR_UNSUPPORTED, "expected GGUF version 2 or 3, found %" PRIu32 "%s",
                       file->version, why);
    }
    HN_TRY(read_u64(p, "the tensor count", n_tensors));
    HN_TRY(read_u64(p, "the metadata count", n_kv));
    uint64_t left = file->size - p->pos;
    if (*n_kv > left / MIN_KV_BYTES)
        return fail_at(p, 16, HN_ERR_FORMAT,
                       "expected a metadata count that fits in the file, found %" PRIu64
                       " (the %" PRIu64 " bytes left hold at most %" PRIu64 "; truncated or corrupt)",
                       *n_kv, left, left / MIN_KV_BYTES);
    if (*n_tensors > left / MIN_TENSOR_INFO_BYTES)
        return fail_at(p, 8, HN_ERR_FORMAT,
                       "expected a tensor count that fits in the file, found %" PRIu64
                       " (the %" PRIu64 " bytes left hold at most %" PRIu64
                       " tensor infos; truncated or corrupt)",
                       *n_tensors, left, left / MIN_TENSOR_INFO_BYTES);
    return HN_OK;
}

static hn_status read_metadata(parser *p, uint64_t n_kv)
{
    hn_gguf_file *file = p->file;
    file->kvs = g_new0(hn_gguf_kv, n_kv);
    for (uint64_t i = 0; i < n_kv; i++) {
        hn_gguf_kv *kv = &file->kvs[i];
        kv->offset = p->pos;
        snprintf(p->place, sizeof p->place, "metadata key %" PRIu64, i);
        char *key = NULL;
        HN_TRY(read_name(p, "a key", &key));
        kv->key = key;
        file->n_kv++;
        snprintf(p->place, sizeof p->place, "metadata key %" PRIu64 " \"%.100s\"", i, key);
        if (g_hash_table_contains(file->kv_by_key, key))
            return fail_at(p, kv->offset, HN_ERR_FORMAT, "expected each key once, found it again");
        g_hash_table_insert(file->kv_by_key, key, kv);
        uint64_t type_at = p->pos;
        uint32_t type;
        HN_TRY(read_u32(p, "a value type", &type));
        HN_TRY(read_value(p, type, type_at, &kv->value));
    }
    return HN_OK;
}

/* The tensor's name, shape, type and offset; sizes are checked against the type's blocks. */
static hn_status read_tensor_info(parser *p, uint64_t index, hn_gguf_tensor *t)
{
    t->info_offset = p->pos;
    snprintf(p->place, sizeof p->place, "tensor info %" PRIu64, index);
    char *name = NULL;
    HN_TRY(read_name(p, "a tensor name", &name));
    t->name = name;
    snprintf(p->place, sizeof p->place, "tensor \"%.100s\"", name);
    if (g_hash_table_contains(p->file->tensor_by_name, name))
        return fail_at(p, t->info_offset, HN_ERR_FORMAT, "expected each tensor name once, found it again");
    g_hash_table_insert(p->file->tensor_by_name, name, t);

    uint64_t at = p->pos;
    uint32_t n_dims;
    HN_TRY(read_u32(p, "the number of dimensions", &n_dims));
    if (n_dims > HN_GGUF_MAX_DIMS)
        return fail_at(p, at, HN_ERR_FORMAT, "expected at most %d dimensions, found %" PRIu32,
                       HN_GGUF_MAX_DIMS, n_dims);
    t->n_dims = (int)n_dims;
    uint64_t numel = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t size;
        at = p->pos;
        HN_TRY(read_u64(p, "a dimension", &size));
        if (size > INT64_MAX)
            return fail_at(p, at, HN_ERR_FORMAT, "expected dimension %" PRIu32 " below 2^63, found %" PRIu64,
                           d, size);
        t->dims[d] = (int64_t)size;
        if (size != 0 && numel > (uint64_t)INT64_MAX / size)
            overflow = true;
        numel *= size;
    }
    if (overflow)
        return fail_at(p, at, HN_ERR_FORMAT, "expected fewer than 2^63 elements, found more");
    t->numel = (int64_t)numel;

    at = p->pos;
    HN_TRY(read_u32(p, "a ggml type", &t->type));
    const char *type_name = hn_ggml_type_name(t->type);
    if (type_name == NULL)
        return fail_at(p, at, HN_ERR_UNSUPPORTED, "expected a ggml tensor type (%s), found %" PRIu32,
                       hn_ggml_known_names(), t->type);
    int64_t block = hn_ggml_block_size(t->type);
    int64_t row = n_dims > 0 ? t->dims[0] : 1;
    if (row % block != 0)
        return fail_at(p, at, HN_ERR_FORMAT,
                       "expected a row length (dimension 0) that is a multiple of the %s block "
                       "size %" PRId64 ", found %" PRId64,
                       type_name, block, row);
    uint64_t blocks = numel / (uint64_t)block, block_bytes = hn_ggml_type_size(t->type);
    if (blocks > UINT64_MAX / block_bytes)
        return fail_at(p, at, HN_ERR_FORMAT, "expected a tensor under 2^64 bytes, found a larger one");
    t->nbytes = blocks * block_bytes;
    return read_u64(p, "a data offset", &t->offset);
}

typedef struct {
    uint64_t begin, end;
    size_t index;
} range;

static int compare_ranges(const void *a, const void *b)
{
    const range *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Alignment from general.alignment, then every tensor's bytes: aligned, inside the file and
 * not shared with another tensor. */
static hn_status place_tensor_data(parser *p)
{
    hn_gguf_file *file = p->file;
    file->alignment = HN_GGUF_DEFAULT_ALIGNMENT;
    const hn_gguf_kv *kv = g_hash_table_lookup(file->kv_by_key, "general.alignment");
    if (kv != NULL) {
        snprintf(p->place, sizeof p->place, "metadata key \"general.alignment\"");
        if (kv->value.type != HN_GGUF_UINT32)
            return fail_at(p, kv->offset, HN_ERR_FORMAT, "expected type UINT32, found %s",
                           hn_gguf_type_name(kv->value.type));
        if (kv->value.u == 0 || (kv->value.u & (kv->value.u - 1)) != 0)
            return fail_at(p, kv->offset, HN_ERR_FORMAT,
                           "expected a power of two, found %" PRIu64, kv->value.u);
        file->alignment = (uint32_t)kv->value.u;
    }
    uint64_t align = file->alignment;
    file->data_offset = (p->pos + align - 1) / align * align;

    range *ranges = g_new(range, file->n_tensors + 1);
    hn_status status = HN_OK;
    for (size_t i = 0; i < file->n_tensors && status == HN_OK; i++) {
        hn_gguf_tensor *t = &file->tensors[i];
        snprintf(p->place, sizeof p->place, "tensor \"%.100s\"", t->name);
        uint64_t offset_at = t->info_offset + 8 + (uint64_t)strlen(t->name) + 4 +
                             8 * (uint64_t)t->n_dims + 4;
        if (t->offset % align != 0)
            status = fail_at(p, offset_at, HN_ERR_FORMAT,
                             "expected a data offset that is a multiple of the alignment %" PRIu64
                             ", found %" PRIu64,
                             align, t->offset);
        else if (file->data_offset > file->size || t->offset > file->size - file->data_offset ||
                 t->nbytes > file->size - file->data_offset - t->offset)
            status = fail_at(p, offset_at, HN_ERR_FORMAT,
                             "expected its %" PRIu64 " bytes of data at offset %" PRIu64
                             " (from the data start at byte %" PRIu64 ") inside the file, but the "
                             "file ends at byte %" PRIu64 " (truncated?)",
                             t->nbytes, t->offset, file->data_offset, file->size);
        t->data = status == HN_OK ? file->bytes + file->data_offset + t->offset : NULL;
        ranges[i] = (range){t->offset, t->offset + t->nbytes, i};
    }
    if (status == HN_OK && file->n_tensors > 1)
        qsort(ranges, file->n_tensors, sizeof *ranges, compare_ranges);
    const range *previous = NULL;
    for (size_t i = 0; i < file->n_tensors && status == HN_OK; i++) {
        const range *r = &ranges[i];
        if (r->begin == r->end)
            continue;
        if (previous != NULL && r->begin < previous->end) {
            const hn_gguf_tensor *a = &file->tensors[previous->index], *b = &file->tensors[r->index];
            snprintf(p->place, sizeof p->place, "tensor \"%.100s\"", b->name);
            status = fail_at(p, file->data_offset + r->begin, HN_ERR_FORMAT,
                             "expected data apart from every other tensor's, found bytes [%" PRIu64
                             ", %" PRIu64 ") of the data overlapping \"%.100s\" [%" PRIu64 ", %" PRIu64 ")",
                             r->begin, r->end, a->name, previous->begin, previous->end);
        }
        if (previous == NULL || r->end > previous->end)
            previous = r;
    }
    g_free(ranges);
    return status;
}

static hn_status parse(hn_gguf_file *file, hn_error *err)
{
    parser p = {.file = file, .err = err};
    uint64_t n_tensors = 0, n_kv = 0;
    HN_TRY(read_header(&p, &n_tensors, &n_kv));
    HN_TRY(read_metadata(&p, n_kv));
    file->tensors = g_new0(hn_gguf_tensor, n_tensors);
    for (uint64_t i = 0; i < n_tensors; i++) {
        hn_status status = read_tensor_info(&p, i, &file->tensors[i]);
        if (file->tensors[i].name != NULL)
            file->n_tensors++;
        if (status != HN_OK)
            return status;
    }
    return place_tensor_data(&p);
}

static hn_gguf_file *file_new(const char *label)
{
    hn_gguf_file *file = g_new0(hn_gguf_file, 1);
    file->path = g_strdup(label);
    file->kv_by_key = g_hash_table_new(g_str_hash, g_str_equal);
    file->tensor_by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return file;
}

static hn_status finish_open(hn_gguf_file *file, hn_gguf_file **out, hn_error *err)
{
    hn_status status = parse(file, err);
    if (status != HN_OK) {
        hn_gguf_close(file);
        return status;
    }
    *out = file;
    return HN_OK;
}

hn_status hn_gguf_open_buffer(const char *label, const void *data, size_t size,
                              hn_gguf_file **out, hn_error *err)
{
    hn_gguf_file *file = file_new(label);
    file->bytes = data;
    file->size = size;
    return finish_open(file, out, err);
}

hn_status hn_gguf_open(const char *path, hn_gguf_file **out, hn_error *err)
{
    const unsigned char *bytes = NULL;
    uint64_t size = 0;
    HN_TRY(hn_map_file(path, &bytes, &size, err));
    hn_status status = hn_gguf_open_buffer(path, bytes, size, out, err);
    if (status != HN_OK) {
        hn_unmap_file(bytes, size);
        return status;
    }
    (*out)->mapped = true; /* unmapped on close */
    return HN_OK;
}

const char *hn_gguf_path(const hn_gguf_file *file) { return file->path; }
uint64_t hn_gguf_file_size(const hn_gguf_file *file) { return file->size; }
uint32_t hn_gguf_version(const hn_gguf_file *file) { return file->version; }
uint32_t hn_gguf_alignment(const hn_gguf_file *file) { return file->alignment; }
uint64_t hn_gguf_data_offset(const hn_gguf_file *file) { return file->data_offset; }
size_t hn_gguf_kv_count(const hn_gguf_file *file) { return file->n_kv; }
size_t hn_gguf_tensor_count(const hn_gguf_file *file) { return file->n_tensors; }

const hn_gguf_kv *hn_gguf_kv_get(const hn_gguf_file *file, size_t index)
{
    return index < file->n_kv ? &file->kvs[index] : NULL;
}

const hn_gguf_kv *hn_gguf_kv_find(const hn_gguf_file *file, const char *key)
{
    return g_hash_table_lookup(file->kv_by_key, key);
}

const hn_gguf_tensor *hn_gguf_tensor_get(const hn_gguf_file *file, size_t index)
{
    return index < file->n_tensors ? &file->tensors[index] : NULL;
}

const hn_gguf_tensor *hn_gguf_tensor_find(const hn_gguf_file *file, const char *name)
{
    return g_hash_table_lookup(file->tensor_by_name, name);
}

void hn_gguf_array_get(const hn_gguf_value *array, uint64_t index, hn_gguf_value *out)
{
    memset(out, 0, sizeof *out);
    if (array->type != HN_GGUF_ARRAY || index >= array->array.count)
        return;
    hn_gguf_type type = array->array.type;
    if (type == HN_GGUF_STRING) {
        out->type = HN_GGUF_STRING;
        out->string.bytes = array->array.strings[index];
    } else if (type == HN_GGUF_ARRAY) {
        *out = array->array.items[index];
    } else {
        decode_scalar(array->array.raw + index * scalar_sizes[type], type, out);
    }
}

hn_status hn_gguf_tensor_to_f32(const hn_gguf_file *file, const hn_gguf_tensor *tensor,
                                float *dst, hn_error *err)
{
    if (!hn_ggml_can_dequantize(tensor->type))
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: tensor \"%s\": expected a type Hone converts to fp32 (%s), found %s",
                       file->path, tensor->name, hn_ggml_dequantizable_names(),
                       hn_ggml_type_name(tensor->type));
    hn_ggml_dequantize(tensor->type, tensor->data, dst, tensor->numel);
    return HN_OK;
}
