/* checkpoint-N folders (see checkpoint.h). A checkpoint is written into a staging folder
 * ".checkpoint-N.partial" whose files are each synced, then renamed into place; the rename of
 * a folder is atomic, so checkpoint-N is always complete. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *hn_checkpoint_path(const char *output_dir, int64_t step)
{
    char name[48];
    g_snprintf(name, sizeof name, "checkpoint-%" G_GINT64_FORMAT, step);
    return g_build_filename(output_dir, name, NULL);
}

/* "checkpoint-123" -> 123; -1 for any other name. */
static int64_t step_of(const char *name)
{
    if (!g_str_has_prefix(name, "checkpoint-"))
        return -1;
    const char *digits = name + strlen("checkpoint-");
    char *end = NULL;
    long long step = strtoll(digits, &end, 10);
    return *digits >= '0' && *digits <= '9' && *end == '\0' && step >= 0 ? step : -1;
}

hn_status hn_remove_flat_folder(const char *path, hn_error *err)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir != NULL) {
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            char *file = g_build_filename(path, name, NULL);
            int rc = g_unlink(file);
            g_free(file);
            if (rc != 0 && errno != ENOENT) {
                g_dir_close(dir);
                return hn_fail(err, HN_ERR_IO, "%s/%s: cannot remove: %s", path, name,
                               g_strerror(errno));
            }
        }
        g_dir_close(dir);
    }
    if (g_rmdir(path) != 0 && errno != ENOENT)
        return hn_fail(err, HN_ERR_IO, "%s: cannot remove the folder: %s", path,
                       g_strerror(errno));
    return HN_OK;
}

static bool is_staging_name(const char *name)
{
    return g_str_has_prefix(name, ".checkpoint-") &&
           (g_str_has_suffix(name, ".partial") || g_str_has_suffix(name, ".old"));
}

/* Steps of the checkpoint folders in output_dir, ascending; staging leftovers removed when
 * remove_leftovers. */
static GArray *scan_steps(const char *output_dir, bool remove_leftovers)
{
    GArray *steps = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GDir *dir = g_dir_open(output_dir, 0, NULL);
    if (dir == NULL)
        return steps;
    const char *name;
    GPtrArray *leftovers = g_ptr_array_new_with_free_func(g_free);
    while ((name = g_dir_read_name(dir)) != NULL) {
        int64_t step = step_of(name);
        char *path = g_build_filename(output_dir, name, NULL);
        if (step >= 0 && g_file_test(path, G_FILE_TEST_IS_DIR))
            g_array_append_val(steps, step);
        if (remove_leftovers && is_staging_name(name))
            g_ptr_array_add(leftovers, g_strdup(path));
        g_free(path);
    }
    g_dir_close(dir);
    for (guint i = 0; i < leftovers->len; i++)
        (void)hn_remove_flat_folder(g_ptr_array_index(leftovers, i), NULL);
    g_ptr_array_free(leftovers, TRUE);
    for (guint i = 1; i < steps->len; i++) /* insertion sort: a handful of folders */
        for (guint j = i; j > 0 && g_array_index(steps, int64_t, j - 1) >
                                       g_array_index(steps, int64_t, j); j--) {
            int64_t t = g_array_index(steps, int64_t, j);
            g_array_index(steps, int64_t, j) = g_array_index(steps, int64_t, j - 1);
            g_array_index(steps, int64_t, j - 1) = t;
        }
    return steps;
}

hn_status hn_checkpoint_find_last(const char *output_dir, char **path, hn_error *err)
{
    *path = NULL;
    GArray *steps = scan_steps(output_dir, true);
    hn_status s = HN_OK;
    if (steps->len > 0) {
        char *last = hn_checkpoint_path(output_dir, g_array_index(steps, int64_t, steps->len - 1));
        char *state = g_build_filename(last, HN_CHECKPOINT_STATE_FILE, NULL);
        if (g_file_test(state, G_FILE_TEST_IS_REGULAR)) {
            *path = last;
        } else {
            s = hn_fail(err, HN_ERR_FORMAT, "%s: not a checkpoint Hone wrote (no %s), so the run "
                        "cannot resume from it; set overwrite_output_dir: true to start again, "
                        "or choose another output_dir", last, HN_CHECKPOINT_STATE_FILE);
            g_free(last);
        }
        g_free(state);
    }
    g_array_free(steps, TRUE);
    return s;
}

int64_t hn_checkpoint_last_step(const char *output_dir)
{
    GArray *steps = scan_steps(output_dir, false);
    int64_t step = steps->len > 0 ? g_array_index(steps, int64_t, steps->len - 1) : -1;
    g_array_free(steps, TRUE);
    if (step < 0)
        return -1;
    char *last = hn_checkpoint_path(output_dir, step);
    char *state = g_build_filename(last, HN_CHECKPOINT_STATE_FILE, NULL);
    bool hone = g_file_test(state, G_FILE_TEST_IS_REGULAR);
    g_free(state);
    g_free(last);
    return hone ? step : -1;
}

static char *staging_path(const char *output_dir, int64_t step, const char *suffix)
{
    char name[64];
    g_snprintf(name, sizeof name, ".checkpoint-%" G_GINT64_FORMAT ".%s", step, suffix);
    return g_build_filename(output_dir, name, NULL);
}

hn_status hn_checkpoint_begin(const char *output_dir, int64_t step, char **staging,
                              hn_error *err)
{
    *staging = staging_path(output_dir, step, "partial");
    hn_status s = hn_remove_flat_folder(*staging, err);
    if (s == HN_OK && g_mkdir(*staging, 0755) != 0)
        s = hn_fail(err, HN_ERR_IO, "%s: cannot create the checkpoint folder: %s", *staging,
                    g_strerror(errno));
    if (s != HN_OK) {
        g_free(*staging);
        *staging = NULL;
    }
    return s;
}

static hn_status sync_folder(const char *path, hn_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return hn_fail(err, HN_ERR_IO, "%s: %s", path, g_strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL) /* some file systems cannot sync folders */
        return hn_fail(err, HN_ERR_IO, "%s: cannot sync: %s", path, g_strerror(saved));
    return HN_OK;
}

hn_status hn_checkpoint_commit(const char *output_dir, int64_t step, const char *staging,
                               hn_error *err)
{
    HN_TRY(sync_folder(staging, err));
    char *final = hn_checkpoint_path(output_dir, step);
    char *old = staging_path(output_dir, step, "old");
    hn_status s = HN_OK;
    bool replaced = g_file_test(final, G_FILE_TEST_IS_DIR);
    if (replaced && g_rename(final, old) != 0)
        s = hn_fail(err, HN_ERR_IO, "%s: cannot move the older checkpoint aside: %s", final,
                    g_strerror(errno));
    if (s == HN_OK && g_rename(staging, final) != 0)
        s = hn_fail(err, HN_ERR_IO, "%s: cannot put the checkpoint in place: %s", final,
                    g_strerror(errno));
    if (s == HN_OK)
        s = sync_folder(output_dir, err);
    if (s == HN_OK && replaced)
        s = hn_remove_flat_folder(old, err);
    g_free(old);
    g_free(final);
    return s;
}

void hn_checkpoint_abort(const char *staging)
{
    if (staging != NULL)
        (void)hn_remove_flat_folder(staging, NULL);
}

hn_status hn_checkpoint_rotate(const char *output_dir, int64_t limit, hn_error *err)
{
    if (limit <= 0)
        return HN_OK;
    GArray *steps = scan_steps(output_dir, true);
    hn_status s = HN_OK;
    for (guint i = 0; i + (guint)limit < steps->len && s == HN_OK; i++) {
        char *path = hn_checkpoint_path(output_dir, g_array_index(steps, int64_t, i));
        s = hn_remove_flat_folder(path, err);
        g_free(path);
    }
    g_array_free(steps, TRUE);
    return s;
}
