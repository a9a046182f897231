/* A model's tensors across safetensors shards, looked up by name. */
#include "tensor_store.h"

#include <string.h>

#include "json_read.h"

struct hn_tensor_store {
    char *index_path;      /* NULL for a single file */
    GPtrArray *shards;     /* hn_st_file* */
    GHashTable *by_name;   /* name -> const hn_st_tensor* */
    GHashTable *shard_of;  /* name -> shard index + 1 (as a pointer) */
    size_t count;
};

void hn_tensor_store_close(hn_tensor_store *store)
{
    if (store == NULL)
        return;
    g_hash_table_destroy(store->by_name);
    g_hash_table_destroy(store->shard_of);
    g_ptr_array_free(store->shards, TRUE);
    g_free(store->index_path);
    g_free(store);
}

static hn_tensor_store *store_new(void)
{
    hn_tensor_store *store = g_new0(hn_tensor_store, 1);
    store->shards = g_ptr_array_new_with_free_func((GDestroyNotify)hn_st_close);
    store->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    store->shard_of = g_hash_table_new(g_str_hash, g_str_equal);
    return store;
}

/* Adds every tensor of an opened shard; a name already seen in another shard is an error. */
static hn_status add_shard(hn_tensor_store *store, hn_st_file *shard, hn_error *err)
{
    g_ptr_array_add(store->shards, shard);
    int number = (int)store->shards->len;
    for (size_t i = 0; i < hn_st_count(shard); i++) {
        const hn_st_tensor *t = hn_st_get(shard, i);
        const hn_st_tensor *earlier = g_hash_table_lookup(store->by_name, t->name);
        if (earlier != NULL) {
            int other = GPOINTER_TO_INT(g_hash_table_lookup(store->shard_of, t->name));
            return hn_fail(err, HN_ERR_FORMAT, "%s: tensor \"%s\" is also in %s", hn_st_path(shard),
                           t->name, hn_st_path(g_ptr_array_index(store->shards, other - 1)));
        }
        g_hash_table_insert(store->by_name, (char *)t->name, (gpointer)t);
        g_hash_table_insert(store->shard_of, (char *)t->name, GINT_TO_POINTER(number));
        store->count++;
    }
    return HN_OK;
}

/* A shard name from an index must stay inside the model folder. */
static bool plain_file_name(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, "..") != 0 &&
           strcmp(name, ".") != 0;
}

static hn_status open_indexed(hn_tensor_store *store, const char *folder, hn_error *err)
{
    cJSON *index = NULL;
    HN_TRY(hn_json_load_object(store->index_path, &index, err));
    hn_status status = HN_OK;
    const cJSON *weight_map = hn_json_field(index, "weight_map");
    hn_json_at at = {store->index_path, "", err};
    if (!cJSON_IsObject(weight_map))
        status = hn_json_type_error(&at, "weight_map", "an object from tensor name to shard file",
                                    weight_map);

    GHashTable *opened = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const cJSON *entry;
    if (status == HN_OK) {
        cJSON_ArrayForEach(entry, weight_map)
        {
            if (!cJSON_IsString(entry) || !plain_file_name(entry->valuestring)) {
                status = hn_fail(err, HN_ERR_FORMAT,
                                 "%s: weight_map \"%s\": expected the file name of a shard in "
                                 "the same folder, found %s",
                                 store->index_path, entry->string, hn_json_kind(entry));
                break;
            }
            if (g_hash_table_contains(opened, entry->valuestring))
                continue;
            char *shard_path = g_build_filename(folder, entry->valuestring, NULL);
            if (!g_file_test(shard_path, G_FILE_TEST_EXISTS)) {
                status = hn_fail(err, HN_ERR_IO,
                                 "%s: weight_map names shard \"%s\" (for tensor \"%s\"), but %s "
                                 "does not exist (incomplete download?)",
                                 store->index_path, entry->valuestring, entry->string, shard_path);
                g_free(shard_path);
                break;
            }
            hn_st_file *shard = NULL;
            status = hn_st_open(shard_path, &shard, err);
            g_free(shard_path);
            if (status == HN_OK)
                status = add_shard(store, shard, err);
            if (status != HN_OK)
                break;
            g_hash_table_insert(opened, g_strdup(entry->valuestring), NULL);
        }
    }
    /* Every tensor the index promises must be where it says. */
    if (status == HN_OK) {
        cJSON_ArrayForEach(entry, weight_map)
        {
            int shard = GPOINTER_TO_INT(g_hash_table_lookup(store->shard_of, entry->string));
            const char *found_in =
                shard > 0 ? g_path_get_basename(hn_st_path(g_ptr_array_index(store->shards, shard - 1)))
                          : NULL;
            bool ok = found_in != NULL && strcmp(found_in, entry->valuestring) == 0;
            if (!ok)
                status = hn_fail(err, HN_ERR_FORMAT,
                                 "%s: weight_map puts tensor \"%s\" in %s, but %s",
                                 store->index_path, entry->string, entry->valuestring,
                                 found_in != NULL ? "it is in another shard" : "no shard holds it");
            g_free((char *)found_in);
            if (!ok)
                break;
        }
    }
    g_hash_table_destroy(opened);
    cJSON_Delete(index);
    return status;
}

hn_status hn_tensor_store_open(const char *path, hn_tensor_store **out, hn_error *err)
{
    hn_tensor_store *store = store_new();
    hn_status status;
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        char *index = g_build_filename(path, "model.safetensors.index.json", NULL);
        char *single = g_build_filename(path, "model.safetensors", NULL);
        if (g_file_test(index, G_FILE_TEST_EXISTS)) {
            store->index_path = index;
            index = NULL;
            status = open_indexed(store, path, err);
        } else if (g_file_test(single, G_FILE_TEST_EXISTS)) {
            hn_st_file *file = NULL;
            status = hn_st_open(single, &file, err);
            if (status == HN_OK)
                status = add_shard(store, file, err);
        } else {
            status = hn_fail(err, HN_ERR_IO,
                             "%s: no model.safetensors or model.safetensors.index.json in this "
                             "folder (expected a Hugging Face model folder with safetensors "
                             "weights)",
                             path);
        }
        g_free(index);
        g_free(single);
    } else {
        hn_st_file *file = NULL;
        status = hn_st_open(path, &file, err);
        if (status == HN_OK)
            status = add_shard(store, file, err);
    }
    if (status != HN_OK) {
        hn_tensor_store_close(store);
        return status;
    }
    *out = store;
    return HN_OK;
}

size_t hn_tensor_store_count(const hn_tensor_store *store) { return store->count; }

const hn_st_tensor *hn_tensor_store_get(const hn_tensor_store *store, size_t index, int *shard)
{
    for (guint s = 0; s < store->shards->len; s++) {
        const hn_st_file *file = g_ptr_array_index(store->shards, s);
        if (index < hn_st_count(file)) {
            if (shard != NULL)
                *shard = (int)s;
            return hn_st_get(file, index);
        }
        index -= hn_st_count(file);
    }
    return NULL;
}

const hn_st_tensor *hn_tensor_store_find(const hn_tensor_store *store, const char *name)
{
    return g_hash_table_lookup(store->by_name, name);
}

int hn_tensor_store_shard_count(const hn_tensor_store *store) { return (int)store->shards->len; }

const hn_st_file *hn_tensor_store_shard(const hn_tensor_store *store, int shard)
{
    return g_ptr_array_index(store->shards, shard);
}

const char *hn_tensor_store_index_path(const hn_tensor_store *store) { return store->index_path; }
