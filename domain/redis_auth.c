#include <string.h>
#include <sys/stat.h>

#include "redis_auth.h"

const char *
dk_redis_auth_parse(const char *text, size_t len, dk_redis_auth_t *auth)
{
    const char *space;
    size_t i;

    memset(auth, 0, sizeof(*auth));
    if (len > DK_REDIS_AUTH_MAX)
        return "is too long (1024 bytes at most)";
    if (len > 0 && text[len - 1] == '\n') {
        len--;
        if (len > 0 && text[len - 1] == '\r')
            len--;
    }
    if (len == 0)
        return "is empty";

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\n')
            return "has more than one line";
        if (c < 0x20 || c == 0x7f)
            return "has a control character (a tab, a CR, a NUL ...)";
    }
    if (text[0] == ' ' || text[len - 1] == ' ')
        return "starts or ends with a space";

    space = memchr(text, ' ', len);
    if (space == NULL) {
        auth->password = text;
        auth->password_len = len;
        return NULL;
    }
    if (space[1] == ' ')
        return "has more than one space after the user name";

    auth->user = text;
    auth->user_len = (size_t)(space - text);
    auth->password = space + 1;
    auth->password_len = len - auth->user_len - 1;
    return NULL;
}

const char *
dk_redis_auth_mode(unsigned int mode)
{
    if (!S_ISREG(mode))
        return "is not a regular file";
    if (mode & S_IRWXO)
        return "is open to other users (mode & 007): chmod o-rwx";
    return NULL;
}
