/* Atomic file replacement: temporary name, fsync, rename, fsync of the folder. */
#include "atomic_file.h"

#include <errno.h>
#include <glib.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

hn_status hn_atomic_open(hn_atomic_file *file, const char *path, hn_error *err)
{
    file->fd = -1;
    file->path = g_strdup(path);
    file->temp_path = g_strdup_printf("%s.tmp-XXXXXX", path);
    file->fd = g_mkstemp_full(file->temp_path, O_WRONLY | O_CLOEXEC, 0644);
    if (file->fd < 0) {
        int saved = errno;
        hn_fail(err, HN_ERR_IO, "%s: cannot create a temporary file next to it: %s", path,
                g_strerror(saved));
        g_clear_pointer(&file->path, g_free);
        g_clear_pointer(&file->temp_path, g_free);
        return HN_ERR_IO;
    }
    return HN_OK;
}

/* What a failed write means to the user: a full disk or quota and a file-size limit
 * (RLIMIT_FSIZE: EFBIG) say so, and that the file already at the path is untouched. */
static const char *write_hint(int error)
{
    return error == ENOSPC || error == EDQUOT || error == EFBIG
               ? " (the disk is full or a file-size limit is reached; whatever was at that path "
                 "before is unchanged)"
               : "";
}

hn_status hn_atomic_write(hn_atomic_file *file, const void *data, size_t size, hn_error *err)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(file->fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : 0;
            return hn_fail(err, HN_ERR_IO, "%s: write failed: %s%s", file->path,
                           n < 0 ? g_strerror(saved) : "no progress", write_hint(saved));
        }
        p += n;
        size -= (size_t)n;
    }
    return HN_OK;
}

static void fsync_parent_folder(const char *path)
{
    char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse fsync on folders */
        close(fd);
    }
    g_free(dir);
}

hn_status hn_atomic_commit(hn_atomic_file *file, hn_error *err)
{
    hn_status status = HN_OK;
    if (fsync(file->fd) != 0) {
        int saved = errno;
        status = hn_fail(err, HN_ERR_IO, "%s: fsync failed: %s%s", file->path,
                         g_strerror(saved), write_hint(saved));
    }
    if (close(file->fd) != 0 && status == HN_OK) {
        int saved = errno;
        status = hn_fail(err, HN_ERR_IO, "%s: close failed: %s%s", file->path,
                         g_strerror(saved), write_hint(saved));
    }
    file->fd = -1;
    if (status == HN_OK && rename(file->temp_path, file->path) != 0)
        status = hn_fail(err, HN_ERR_IO, "%s: cannot rename %s into place: %s", file->path,
                         file->temp_path, g_strerror(errno));
    if (status == HN_OK)
        fsync_parent_folder(file->path);
    else
        unlink(file->temp_path);
    g_clear_pointer(&file->path, g_free);
    g_clear_pointer(&file->temp_path, g_free);
    return status;
}

void hn_atomic_abort(hn_atomic_file *file)
{
    if (file->fd >= 0)
        close(file->fd);
    file->fd = -1;
    if (file->temp_path != NULL)
        unlink(file->temp_path);
    g_clear_pointer(&file->path, g_free);
    g_clear_pointer(&file->temp_path, g_free);
}

hn_status hn_atomic_write_all(const char *path, const void *data, size_t size, hn_error *err)
{
    hn_atomic_file file;
    HN_TRY(hn_atomic_open(&file, path, err));
    hn_status status = hn_atomic_write(&file, data, size, err);
    if (status != HN_OK) {
        hn_atomic_abort(&file);
        return status;
    }
    return hn_atomic_commit(&file, err);
}

hn_status hn_atomic_copy_file(const char *from, const char *to, hn_error *err)
{
    char *data = NULL;
    gsize length = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(from, &data, &length, &gerr)) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
        g_error_free(gerr);
        return s;
    }
    hn_status s = hn_atomic_write_all(to, data, length, err);
    g_free(data);
    return s;
}
