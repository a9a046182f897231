/* export_staging.c: the export's hidden staging folder and its move into place (see
 * export_staging.h). The files are renamed one by one within export_dir: the same file system,
 * so each move is atomic and nothing is copied. */
#include "export_staging.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "checkpoint.h"

hn_status hn_export_staging_open(const char *export_dir, char **staging, hn_error *err)
{
    char *path = g_build_filename(export_dir, ".hone-export-XXXXXX", NULL);
    if (g_mkdtemp(path) == NULL) {
        hn_status s = hn_fail(err, HN_ERR_IO, "export_dir %s: cannot create a staging folder "
                              "in it: %s", export_dir, g_strerror(errno));
        g_free(path);
        return s;
    }
    *staging = path;
    return HN_OK;
}

hn_status hn_export_staging_commit(const char *staging, const char *export_dir, hn_error *err)
{
    GError *error = NULL;
    GDir *dir = g_dir_open(staging, 0, &error);
    if (dir == NULL) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s: cannot list the folder: %s", staging,
                              error->message);
        g_error_free(error);
        return s;
    }
    hn_status s = HN_OK;
    const char *name;
    while (s == HN_OK && (name = g_dir_read_name(dir)) != NULL) {
        char *from = g_build_filename(staging, name, NULL);
        char *to = g_build_filename(export_dir, name, NULL);
        if (g_rename(from, to) != 0)
            s = hn_fail(err, HN_ERR_IO, "%s: cannot move it to %s: %s", from, to,
                        g_strerror(errno));
        g_free(from);
        g_free(to);
    }
    g_dir_close(dir);
    if (s == HN_OK)
        s = hn_remove_flat_folder(staging, err);
    return s;
}

char *hn_export_first_missing(const char *export_dir)
{
    if (g_file_test(export_dir, G_FILE_TEST_EXISTS))
        return NULL;
    char *missing = g_strdup(export_dir);
    for (;;) {
        char *parent = g_path_get_dirname(missing);
        if (strcmp(parent, missing) == 0 || g_file_test(parent, G_FILE_TEST_EXISTS)) {
            g_free(parent);
            return missing;
        }
        g_free(missing);
        missing = parent;
    }
}

void hn_export_staging_discard(const char *staging, const char *export_dir, const char *made)
{
    if (staging != NULL)
        (void)hn_remove_flat_folder(staging, NULL);
    if (made == NULL)
        return;
    /* g_rmdir removes only empty folders: nothing else is ever removed */
    char *folder = g_strdup(export_dir);
    while (g_rmdir(folder) == 0 && strcmp(folder, made) != 0) {
        char *parent = g_path_get_dirname(folder);
        g_free(folder);
        folder = parent;
    }
    g_free(folder);
}
