#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "notify_policy.h"
#include "unit.h"

static const struct {
    long status;
    dk_try_t want;
} outcomes[] = {
    {200, DK_TRY_SENT},   {201, DK_TRY_SENT},   {202, DK_TRY_SENT},
    {299, DK_TRY_SENT},   {0, DK_TRY_RETRY},    {429, DK_TRY_RETRY},
    {500, DK_TRY_RETRY},  {502, DK_TRY_RETRY},  {503, DK_TRY_RETRY},
    {599, DK_TRY_RETRY},  {400, DK_TRY_FAILED}, {401, DK_TRY_FAILED},
    {404, DK_TRY_FAILED}, {409, DK_TRY_FAILED}, {422, DK_TRY_FAILED},
    {301, DK_TRY_FAILED}, {100, DK_TRY_FAILED},
};

static void
outcome_of_each_answer(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(outcomes); i++) {
        if (dk_notify_try_outcome(outcomes[i].status) != outcomes[i].want)
            fail_msg("HTTP %ld", outcomes[i].status);
    }
}

static const struct {
    dk_try_t outcome;
    int whatsapp, attempts, max;
    dk_next_t want;
    const char *why;
} nexts[] = {
    {DK_TRY_SENT, 1, 1, 3, DK_NEXT_SENT, "sent"},
    {DK_TRY_SENT, 0, 3, 3, DK_NEXT_SENT, "sent by SMS at the last try"},
    {DK_TRY_RETRY, 1, 1, 3, DK_NEXT_RETRY, "WhatsApp busy: again"},
    {DK_TRY_RETRY, 1, 2, 3, DK_NEXT_RETRY, "again"},
    {DK_TRY_RETRY, 1, 3, 3, DK_NEXT_FALLBACK, "WhatsApp's tries spent: SMS"},
    {DK_TRY_RETRY, 0, 2, 3, DK_NEXT_RETRY, "SMS busy: again"},
    {DK_TRY_RETRY, 0, 3, 3, DK_NEXT_FAILED, "SMS's tries spent: failed"},
    {DK_TRY_FAILED, 1, 1, 3, DK_NEXT_FALLBACK, "WhatsApp refuses: SMS"},
    {DK_TRY_FAILED, 0, 1, 3, DK_NEXT_FAILED, "SMS refuses: failed"},
    {DK_TRY_RETRY, 0, 1, 1, DK_NEXT_FAILED, "a file channel of one try"},
};

static void
next_after_each_try(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(nexts); i++) {
        if (dk_notify_next(nexts[i].outcome, nexts[i].whatsapp,
                           nexts[i].attempts, nexts[i].max) != nexts[i].want)
            fail_msg("%s", nexts[i].why);
    }
}

static const struct {
    int attempts;
    long base, max;
    double u;
    long want;
} backoffs[] = {
    {1, 2000, 600000, 0.0, 1000},      /* half fixed */
    {1, 2000, 600000, 0.999999, 1999}, /* up to the whole */
    {2, 2000, 600000, 0.0, 2000},      /* doubles */
    {3, 2000, 600000, 0.5, 6000},      /* 8000: 4000 + 2000 */
    {10, 2000, 600000, 0.0, 300000},   /* capped at max */
    {60, 2000, 600000, 0.0, 300000},   /* no overflow */
    {2, 1000, 1500, 0.0, 750},         /* max between steps */
    {1, 1, 1, 0.0, 0},                 /* the smallest */
    {1, 2000, 600000, 7.0, 1000},      /* u out of range: no jitter */
};

static void
backoff_doubles_with_equal_jitter_up_to_max(void **state)
{
    size_t i;
    long got;

    (void)state;
    for (i = 0; i < N_CASES(backoffs); i++) {
        got = dk_notify_backoff_ms(backoffs[i].attempts, backoffs[i].base,
                                   backoffs[i].max, backoffs[i].u);
        if (got != backoffs[i].want)
            fail_msg("case %zu: %ld, not %ld", i, got, backoffs[i].want);
    }
}

static void
backoff_grows_and_stays_within_its_range(void **state)
{
    long prev_high = 0, lo, hi;
    int a;

    (void)state;
    for (a = 1; a <= 12; a++) {
        lo = dk_notify_backoff_ms(a, 500, 60000, 0.0);
        hi = dk_notify_backoff_ms(a, 500, 60000, 0.999999);
        assert_true(lo <= hi);
        assert_true(hi <= 60000);
        assert_true(hi >= prev_high);
        prev_high = hi;
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcome_of_each_answer),
        cmocka_unit_test(next_after_each_try),
        cmocka_unit_test(backoff_doubles_with_equal_jitter_up_to_max),
        cmocka_unit_test(backoff_grows_and_stays_within_its_range),
    };

    return cmocka_run_group_tests_name("notify_policy", tests, NULL, NULL);
}
