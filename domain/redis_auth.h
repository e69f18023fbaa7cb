/*
 * The file of the credentials that the nginx module and the scheduler give
 * Redis (AUTH): one line, "password" (Redis's default user) or
 * "user password" (an ACL user). Each program reads the file when it reads
 * its configuration; this is the rule both hold it to.
 */
#ifndef DK_REDIS_AUTH_H
#define DK_REDIS_AUTH_H

#include <stddef.h>

/* The longest file taken, in bytes (ACL GENPASS makes 64). */
#define DK_REDIS_AUTH_MAX 1024

typedef struct {
    const char *user; /* NULL: the password alone, for the default user */
    size_t user_len;
    const char *password;
    size_t password_len;
} dk_redis_auth_t;

/* Splits the file's len bytes into auth, whose pointers point into text. A
 * newline (or CR LF) ending the line is not part of it. The user name is
 * what comes before the first space, the password the rest. Returns NULL,
 * or why the text is refused: empty, over DK_REDIS_AUTH_MAX, more than one
 * line, a control character, a space at either end or doubled. */
const char *dk_redis_auth_parse(const char *text, size_t len,
                                dk_redis_auth_t *auth);

/* NULL if a file of this st_mode may hold the credentials; or why not: it
 * is not a regular file, or users other than its owner and its group have
 * some access to it (mode & 007). */
const char *dk_redis_auth_mode(unsigned int mode);

#endif
