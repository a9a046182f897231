/* The files of a dataset: a .json file (a JSON array of objects, or JSON Lines), a .jsonl
 * file (one object per line), or a folder of such files read in sorted order. Every row keeps
 * its file, row and line for messages. */
#include <string.h>

#include "dataset_internal.h"
#include "json_read.h"

char *hn_row_place_text(const hn_row_place *place)
{
    if (place->line > 0)
        return g_strdup_printf("%s: line %zu (row %zu)", place->file, place->line, place->row);
    return g_strdup_printf("%s: row %zu", place->file, place->row);
}

static void add_row(hn_dataset_rows *rows, const cJSON *row, const char *file, size_t line)
{
    hn_row_place place = {file, ++rows->file_rows, line};
    g_ptr_array_add(rows->rows, (gpointer)row);
    g_array_append_val(rows->places, place);
}

/* The 1-based line of byte offset in text. */
static size_t line_of(const char *text, size_t offset)
{
    size_t line = 1;
    for (size_t i = 0; i < offset; i++)
        line += text[i] == '\n';
    return line;
}

static hn_status check_utf8(const char *file, const char *text, size_t length, hn_error *err)
{
    const char *bad = NULL;
    if (g_utf8_validate_len(text, length, &bad))
        return HN_OK;
    size_t offset = (size_t)(bad - text);
    if (*bad == '\0')
        return hn_fail(err, HN_ERR_FORMAT, "%s: line %zu: a NUL byte (JSON text has none)", file,
                       line_of(text, offset));
    return hn_fail(err, HN_ERR_FORMAT, "%s: line %zu (byte %zu): not valid UTF-8 (dataset files "
                   "must be UTF-8 text; convert it, e.g. with iconv)", file,
                   line_of(text, offset), offset);
}

static hn_status read_array(hn_dataset_rows *rows, const char *file, const char *text,
                            size_t length, hn_error *err)
{
    cJSON *root = NULL;
    if (hn_json_parse(text, length, file, &root, err) != HN_OK) {
        size_t end = length;
        while (end > 0 && g_ascii_isspace(text[end - 1]))
            end--;
        if (end == 0 || text[end - 1] != ']')
            g_strlcat(err->message, " (the file ends before the list is closed: truncated?)",
                      sizeof err->message);
        return err->status;
    }
    g_ptr_array_add(rows->roots, root);
    if (!cJSON_IsArray(root))
        return hn_fail(err, HN_ERR_FORMAT, "%s: expected a list of rows, found %s", file,
                       hn_json_kind(root));
    const cJSON *row;
    cJSON_ArrayForEach(row, root)
        add_row(rows, row, file, 0);
    return HN_OK;
}

static hn_status read_line(hn_dataset_rows *rows, const char *file, size_t line,
                           const char *start, size_t length, hn_error *err)
{
    char *copy = g_strndup(start, length);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
    if (root == NULL) {
        long column = end != NULL && end >= copy ? (long)(end - copy) + 1 : 1;
        g_free(copy);
        return hn_fail(err, HN_ERR_FORMAT, "%s: line %zu, column %ld: not valid JSON (JSON Lines: "
                       "one complete object per line)", file, line, column);
    }
    g_free(copy);
    g_ptr_array_add(rows->roots, root);
    add_row(rows, root, file, line);
    return HN_OK;
}

static hn_status read_lines(hn_dataset_rows *rows, const char *file, const char *text,
                            size_t length, hn_error *err)
{
    size_t line = 1;
    for (const char *p = text, *end = text + length; p < end; line++) {
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        const char *stop = newline != NULL ? newline : end;
        const char *q = p;
        while (q < stop && g_ascii_isspace(*q))
            q++;
        if (q < stop) /* blank lines are skipped */
            HN_TRY(read_line(rows, file, line, p, (size_t)(stop - p), err));
        p = stop + 1;
    }
    return HN_OK;
}

static hn_status read_file(hn_dataset_rows *rows, const char *path, hn_error *err)
{
    if (!g_str_has_suffix(path, ".json") && !g_str_has_suffix(path, ".jsonl"))
        return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: Hone reads .json and .jsonl dataset files "
                       "(not csv, parquet, arrow or text files)", path);
    const char *file = g_ptr_array_index(rows->files, rows->files->len - 1);
    rows->file_rows = 0;
    gchar *text = NULL;
    gsize length = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &length, &gerr)) {
        hn_status status = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return status;
    }
    const char *body = text;
    if (length >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte order mark */
        body += 3;
        length -= 3;
    }
    hn_status status = check_utf8(file, body, length, err);
    const char *first = body;
    while (first < body + length && g_ascii_isspace(*first))
        first++;
    if (status == HN_OK && first < body + length && *first == '[')
        status = read_array(rows, file, body, length, err);
    else if (status == HN_OK)
        status = read_lines(rows, file, body, length, err);
    g_free(text);
    return status;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static hn_status read_folder(hn_dataset_rows *rows, const char *path, hn_error *err)
{
    GError *gerr = NULL;
    GDir *dir = g_dir_open(path, 0, &gerr);
    if (dir == NULL) {
        hn_status status = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return status;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (const char *name; (name = g_dir_read_name(dir)) != NULL;)
        g_ptr_array_add(names, g_strdup(name));
    g_dir_close(dir);
    g_ptr_array_sort(names, compare_names);
    hn_status status = HN_OK;
    if (names->len == 0)
        status = hn_fail(err, HN_ERR_FORMAT, "%s: an empty folder (expected .json or .jsonl "
                         "files)", path);
    for (guint i = 0; i < names->len && status == HN_OK; i++) {
        char *file = g_build_filename(path, g_ptr_array_index(names, i), NULL);
        g_ptr_array_add(rows->files, file);
        status = read_file(rows, file, err);
    }
    g_ptr_array_free(names, TRUE);
    return status;
}

hn_status hn_dataset_rows_read(const char *path, hn_dataset_rows *out, hn_error *err)
{
    out->roots = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
    out->rows = g_ptr_array_new();
    out->places = g_array_new(FALSE, FALSE, sizeof(hn_row_place));
    out->files = g_ptr_array_new_with_free_func(g_free);
    hn_status status;
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        status = read_folder(out, path, err);
    } else if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_ptr_array_add(out->files, g_strdup(path));
        status = read_file(out, path, err);
    } else {
        status = hn_fail(err, HN_ERR_IO, "%s: no such file or folder", path);
    }
    if (status == HN_OK && out->rows->len == 0)
        status = hn_fail(err, HN_ERR_FORMAT, "%s: no rows (an empty dataset)", path);
    return status;
}

void hn_dataset_rows_clear(hn_dataset_rows *rows)
{
    if (rows->roots != NULL)
        g_ptr_array_free(rows->roots, TRUE);
    if (rows->rows != NULL)
        g_ptr_array_free(rows->rows, TRUE);
    if (rows->places != NULL)
        g_array_free(rows->places, TRUE);
    if (rows->files != NULL)
        g_ptr_array_free(rows->files, TRUE);
    memset(rows, 0, sizeof *rows);
}
