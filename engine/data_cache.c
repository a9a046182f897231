/* The tokenized-data cache file (see data_cache.h). */
#include "data_cache.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "mapped_file.h"

#define MAGIC "HONETOK"                      /* with its NUL: 8 bytes */
#define HEADER_SIZE (8 + 4 + 4 + 32 + 8 + 32) /* up to the payload */
#define NO_STRING 0xffffffffu

char *hn_data_cache_default_dir(void)
{
    return g_build_filename(g_get_user_cache_dir(), "hone", "tokenized", NULL);
}

char *hn_data_cache_path(const char *dir, const uint8_t key[HN_DATA_CACHE_KEY_SIZE])
{
    char hex[2 * HN_DATA_CACHE_KEY_SIZE + 5];
    for (int i = 0; i < HN_DATA_CACHE_KEY_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    strcpy(hex + 2 * HN_DATA_CACHE_KEY_SIZE, ".bin");
    return g_build_filename(dir, hex, NULL);
}

static void sha256(const void *data, size_t size, uint8_t digest[32])
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, data, (gssize)size);
    gsize n = 32;
    g_checksum_get_digest(sum, digest, &n);
    g_checksum_free(sum);
}

/* ---- writing ---- */

static void put(GByteArray *b, const void *data, size_t size)
{
    g_byte_array_append(b, data, (guint)size);
}

static void put_u32(GByteArray *b, uint32_t v) { put(b, &v, sizeof v); }
static void put_u64(GByteArray *b, uint64_t v) { put(b, &v, sizeof v); }

static GByteArray *payload(const hn_sft_data *data)
{
    GByteArray *b = g_byte_array_new();
    put_u64(b, data->n_examples);
    put_u64(b, data->n_dropped);
    put_u64(b, (uint64_t)data->n_tokens);
    put_u64(b, (uint64_t)data->n_label_tokens);
    if (data->first_dropped == NULL) {
        put_u32(b, NO_STRING);
    } else {
        put_u32(b, (uint32_t)strlen(data->first_dropped));
        put(b, data->first_dropped, strlen(data->first_dropped));
    }
    put_u32(b, (uint32_t)data->group);
    put_u32(b, data->desirable != NULL ? 1u : 0u);
    if (data->desirable != NULL)
        put(b, data->desirable, hn_sft_data_items(data));
    for (size_t i = 0; i < data->n_examples; i++) {
        const hn_sft_example *e = &data->examples[i];
        size_t bytes = e->n * sizeof(int32_t);
        put_u64(b, e->n);
        put_u32(b, (e->position_ids != NULL ? 1u : 0u) | (e->doc_start != NULL ? 2u : 0u));
        put(b, e->input_ids, bytes);
        put(b, e->labels, bytes);
        if (e->position_ids != NULL)
            put(b, e->position_ids, bytes);
        if (e->doc_start != NULL)
            put(b, e->doc_start, bytes);
    }
    return b;
}

hn_status hn_data_cache_write(const char *path, const uint8_t key[HN_DATA_CACHE_KEY_SIZE],
                              const hn_sft_data *data, hn_error *err)
{
    char *dir = g_path_get_dirname(path);
    int rc = g_mkdir_with_parents(dir, 0755);
    int saved = errno;
    g_free(dir);
    if (rc != 0)
        return hn_fail(err, HN_ERR_IO, "%s: cannot create its folder: %s", path,
                       g_strerror(saved));
    GByteArray *body = payload(data);
    GByteArray *head = g_byte_array_new();
    put(head, MAGIC, 8);
    put_u32(head, HN_DATA_CACHE_VERSION);
    put_u32(head, 0);
    put(head, key, HN_DATA_CACHE_KEY_SIZE);
    put_u64(head, body->len);
    uint8_t digest[32];
    sha256(body->data, body->len, digest);
    put(head, digest, sizeof digest);
    hn_atomic_file file;
    hn_status s = hn_atomic_open(&file, path, err);
    if (s == HN_OK)
        s = hn_atomic_write(&file, head->data, head->len, err);
    if (s == HN_OK)
        s = hn_atomic_write(&file, body->data, body->len, err);
    if (s == HN_OK)
        s = hn_atomic_commit(&file, err);
    else
        hn_atomic_abort(&file);
    g_byte_array_free(head, TRUE);
    g_byte_array_free(body, TRUE);
    return s;
}

/* ---- reading ---- */

typedef struct {
    const unsigned char *at, *end;
} reader;

static bool take(reader *r, void *out, size_t size)
{
    if ((size_t)(r->end - r->at) < size)
        return false;
    memcpy(out, r->at, size);
    r->at += size;
    return true;
}

static bool take_ids(reader *r, size_t n, int32_t **out)
{
    if ((size_t)(r->end - r->at) / sizeof(int32_t) < n)
        return false;
    *out = g_memdup2(r->at, n * sizeof(int32_t));
    r->at += n * sizeof(int32_t);
    return true;
}

static bool read_example(reader *r, hn_sft_example *e)
{
    uint64_t n = 0;
    uint32_t flags = 0;
    if (!take(r, &n, sizeof n) || !take(r, &flags, sizeof flags) || (flags & ~3u) != 0)
        return false;
    e->n = (size_t)n;
    return take_ids(r, e->n, &e->input_ids) && take_ids(r, e->n, &e->labels) &&
           (!(flags & 1u) || take_ids(r, e->n, &e->position_ids)) &&
           (!(flags & 2u) || take_ids(r, e->n, &e->doc_start));
}

static bool read_payload(reader *r, hn_sft_data *out)
{
    uint64_t n_examples = 0, n_dropped = 0, n_tokens = 0, n_labels = 0;
    uint32_t len = 0;
    if (!take(r, &n_examples, 8) || !take(r, &n_dropped, 8) || !take(r, &n_tokens, 8) ||
        !take(r, &n_labels, 8) || !take(r, &len, 4))
        return false;
    if (len != NO_STRING) {
        if ((size_t)(r->end - r->at) < len)
            return false;
        out->first_dropped = g_strndup((const char *)r->at, len);
        r->at += len;
    }
    uint32_t group = 0, has_desirable = 0;
    if (!take(r, &group, 4) || !take(r, &has_desirable, 4) || group > 2 || has_desirable > 1 ||
        (group > 1 && n_examples % group != 0))
        return false;
    out->group = (int)group;
    if (has_desirable) {
        size_t items = (size_t)(n_examples / (group > 1 ? group : 1));
        out->desirable = g_new(uint8_t, items > 0 ? items : 1);
        if (!take(r, out->desirable, items))
            return false;
    }
    /* every example takes at least 12 bytes: a count that cannot fit is corrupt */
    if (n_examples > (uint64_t)(r->end - r->at) / 12)
        return false;
    out->n_dropped = (size_t)n_dropped;
    out->n_tokens = (int64_t)n_tokens;
    out->n_label_tokens = (int64_t)n_labels;
    out->examples = g_new0(hn_sft_example, n_examples > 0 ? n_examples : 1);
    for (uint64_t i = 0; i < n_examples; i++) {
        out->n_examples++;
        if (!read_example(r, &out->examples[i]))
            return false;
    }
    return r->at == r->end;
}

static hn_status check_and_read(const char *path, const unsigned char *bytes, uint64_t size,
                                const uint8_t key[HN_DATA_CACHE_KEY_SIZE], hn_sft_data *out,
                                hn_error *err)
{
    reader r = {bytes, bytes + size};
    char magic[8];
    uint32_t version = 0, zero = 0;
    uint8_t file_key[HN_DATA_CACHE_KEY_SIZE], digest[32], want[32];
    uint64_t body = 0;
    if (size < HEADER_SIZE)
        return hn_fail(err, HN_ERR_FORMAT, "%s: truncated (%" G_GUINT64_FORMAT " bytes, shorter "
                       "than the %d-byte header)", path, size, HEADER_SIZE);
    take(&r, magic, 8);
    take(&r, &version, 4);
    take(&r, &zero, 4);
    take(&r, file_key, sizeof file_key);
    take(&r, &body, 8);
    take(&r, want, sizeof want);
    if (memcmp(magic, MAGIC, 8) != 0)
        return hn_fail(err, HN_ERR_FORMAT, "%s: not a Hone tokenized-data cache file (bad "
                       "magic)", path);
    if (version != HN_DATA_CACHE_VERSION)
        return hn_fail(err, HN_ERR_FORMAT, "%s: format version %u, expected %u", path, version,
                       HN_DATA_CACHE_VERSION);
    if (memcmp(file_key, key, HN_DATA_CACHE_KEY_SIZE) != 0)
        return hn_fail(err, HN_ERR_FORMAT, "%s: written for another key", path);
    if (body != size - HEADER_SIZE)
        return hn_fail(err, HN_ERR_FORMAT, "%s: payload of %" G_GUINT64_FORMAT " bytes, the "
                       "header says %" G_GUINT64_FORMAT " (truncated?)", path,
                       size - HEADER_SIZE, body);
    sha256(r.at, (size_t)body, digest);
    if (memcmp(digest, want, sizeof want) != 0)
        return hn_fail(err, HN_ERR_FORMAT, "%s: checksum mismatch (the file is corrupt)", path);
    if (!read_payload(&r, out)) {
        hn_sft_data_clear(out);
        return hn_fail(err, HN_ERR_FORMAT, "%s: the payload does not parse", path);
    }
    return HN_OK;
}

hn_status hn_data_cache_read(const char *path, const uint8_t key[HN_DATA_CACHE_KEY_SIZE],
                             hn_sft_data *out, bool *found, hn_error *err)
{
    *out = (hn_sft_data){0};
    *found = g_file_test(path, G_FILE_TEST_EXISTS);
    if (!*found)
        return HN_OK;
    const unsigned char *bytes = NULL;
    uint64_t size = 0;
    HN_TRY(hn_map_file(path, &bytes, &size, err));
    hn_status s = check_and_read(path, bytes, size, key, out, err);
    hn_unmap_file(bytes, size);
    return s;
}
