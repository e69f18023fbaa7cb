#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify_file.h"
#include "status.h"

static char *
dk_file_line(const dk_message_t *m)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", m->id_s, "to",
                          m->phone, "channel", dk_via_name(m->via), "kind",
                          dk_notify_kind_name(m->kind), "text", m->text,
                          "created_at", m->created_at);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

    json_decref(o);
    return line;
}

int
dk_file_append(const char *path, const dk_message_t *list, char *why,
               size_t whylen)
{
    const dk_message_t *m;
    char *line;
    size_t len;
    int fd, rc = DK_OK;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd == -1) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return DK_ERR;
    }
    for (m = list; m != NULL && rc == DK_OK; m = m->next) {
        line = dk_file_line(m);
        if (line == NULL) {
            snprintf(why, whylen, "out of memory");
            rc = DK_ERR;
            break;
        }
        len = strlen(line);
        line[len++] = '\n'; /* over the NUL: one write(2) per line */
        if (write(fd, line, len) != (ssize_t)len) {
            snprintf(why, whylen, "%s: %s", path, strerror(errno));
            rc = DK_ERR;
        }
        free(line);
    }
    if (rc == DK_OK && fdatasync(fd) == -1) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        rc = DK_ERR;
    }
    close(fd);
    return rc;
}
