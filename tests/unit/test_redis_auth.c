#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "redis_auth.h"
#include "unit.h"

struct parse_case {
    const char *in;
    size_t len;
    const char *user; /* NULL: none, or the text is refused */
    const char *password;
    const char *error; /* a word of the reason, or NULL: taken */
    const char *why;
};

static const struct parse_case parse_cases[] = {
    {S("s3cret\n"), NULL, "s3cret", NULL, "a password alone"},
    {S("s3cret"), NULL, "s3cret", NULL, "no newline at the end"},
    {S("s3cret\r\n"), NULL, "s3cret", NULL, "a CR LF at the end"},
    {S("dukcapil s3cret\n"), "dukcapil", "s3cret", NULL, "a user, a password"},
    {S("dukcapil pass word\n"), "dukcapil", "pass word", NULL,
     "a password with a space, after a user"},
    {S("dukcapil:x s3cret"), "dukcapil:x", "s3cret", NULL,
     "a user name is any bytes but a space"},
    {S(""), NULL, NULL, "empty", "an empty file"},
    {S("\n"), NULL, NULL, "empty", "an empty line"},
    {S("\r\n"), NULL, NULL, "empty", "a CR LF alone"},
    {S("s3cret\n\n"), NULL, NULL, "line", "a blank line after"},
    {S("dukcapil\ns3cret\n"), NULL, NULL, "line", "user and password on two"},
    {S("s3cret\r"), NULL, NULL, "control", "a CR without LF"},
    {S("dukcapil\ts3cret"), NULL, NULL, "control", "a tab"},
    {S("s3c\0ret"), NULL, NULL, "control", "a NUL byte"},
    {S("s3cret\x7f"), NULL, NULL, "control", "a DEL"},
    {S(" s3cret"), NULL, NULL, "space", "a leading space"},
    {S("s3cret \n"), NULL, NULL, "space", "a trailing space"},
    {S("dukcapil "), NULL, NULL, "space", "a user without a password"},
    {S("dukcapil  s3cret"), NULL, NULL, "space", "two spaces"},
};

static void
parse_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        char *in = exact_copy(c->in, c->len);
        dk_redis_auth_t auth;
        const char *err = dk_redis_auth_parse(in, c->len, &auth);

        if (c->error != NULL) {
            if (err == NULL || strstr(err, c->error) == NULL)
                fail_msg("%s: \"%s\", not a reason with \"%s\"", c->why,
                         err ? err : "(taken)", c->error);
            free(in);
            continue;
        }
        if (err != NULL)
            fail_msg("%s: refused: %s", c->why, err);
        if (c->user == NULL
                ? auth.user != NULL
                : auth.user == NULL || auth.user_len != strlen(c->user) ||
                      memcmp(auth.user, c->user, auth.user_len))
            fail_msg("%s: the user is wrong", c->why);
        if (auth.password_len != strlen(c->password) ||
            memcmp(auth.password, c->password, auth.password_len) != 0)
            fail_msg("%s: the password is wrong", c->why);
        free(in);
    }
}

static void
parse_takes_1024_bytes_not_1025(void **state)
{
    char buf[DK_REDIS_AUTH_MAX + 1];
    dk_redis_auth_t auth;

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_null(dk_redis_auth_parse(buf, DK_REDIS_AUTH_MAX, &auth));
    assert_int_equal(auth.password_len, DK_REDIS_AUTH_MAX);
    assert_non_null(dk_redis_auth_parse(buf, sizeof(buf), &auth));
}

struct mode_case {
    unsigned int mode;
    int taken;
    const char *why;
};

static const struct mode_case mode_cases[] = {
    {S_IFREG | 0600, 1, "the owner's alone"},
    {S_IFREG | 0400, 1, "read-only for the owner"},
    {S_IFREG | 0640, 1, "the owner's and its group's (root:www-data)"},
    {S_IFREG | 0660, 1, "its group may write it too"},
    {S_IFREG | 0644, 0, "anyone may read it"},
    {S_IFREG | 0604, 0, "others may read it, the group not"},
    {S_IFREG | 0602, 0, "others may write it"},
    {S_IFREG | 0601, 0, "others have the execute bit"},
    {S_IFDIR | 0700, 0, "a folder"},
    {S_IFIFO | 0600, 0, "a FIFO"},
};

static void
mode_table_of_cases(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(mode_cases); i++) {
        const char *err = dk_redis_auth_mode(mode_cases[i].mode);

        if ((err == NULL) != mode_cases[i].taken)
            fail_msg("%s: %s", mode_cases[i].why, err ? err : "taken");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_table_of_cases),
        cmocka_unit_test(parse_takes_1024_bytes_not_1025),
        cmocka_unit_test(mode_table_of_cases),
    };

    return cmocka_run_group_tests_name("redis_auth", tests, NULL, NULL);
}
