/* Read-only file mappings with errors that name the file. */
#include "mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

hn_status hn_map_file(const char *path, const unsigned char **bytes, uint64_t *size,
                      hn_error *err)
{
    *bytes = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hn_fail(err, HN_ERR_IO, "%s: cannot open: %s", path, g_strerror(errno));
    struct stat st;
    hn_status status = HN_OK;
    if (fstat(fd, &st) != 0) {
        status = hn_fail(err, HN_ERR_IO, "%s: cannot stat: %s", path, g_strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        status = hn_fail(err, HN_ERR_IO, "%s: not a regular file", path);
    } else if (st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            status = hn_fail(err, HN_ERR_NOMEM, "%s: cannot map %" PRIu64 " bytes: %s", path,
                             (uint64_t)st.st_size, g_strerror(errno));
        } else {
            *bytes = map;
            *size = (uint64_t)st.st_size;
        }
    }
    close(fd);
    return status;
}

void hn_unmap_file(const unsigned char *bytes, uint64_t size)
{
    if (bytes != NULL && size > 0)
        munmap((void *)bytes, (size_t)size);
}
