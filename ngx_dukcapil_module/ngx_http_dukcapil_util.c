
/*
 * Small helpers of the module's run time.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <sys/random.h>

#include "ngx_http_dukcapil_util.h"
#include "keys.h"
#include "wib.h"


ngx_str_t  ngx_http_dukcapil_service_codes[] = {
    ngx_string("ktp"),
    ngx_string("kk"),
    ngx_string("akta_lahir"),
    ngx_string("akta_mati"),
    ngx_string("kia"),
    ngx_string("pindah"),
    ngx_string("ambil"),
};


ngx_int_t
ngx_http_dukcapil_service_index(ngx_str_t *code)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SERVICES; i++) {
        if (ngx_http_dukcapil_service_codes[i].len == code->len
            && ngx_strncmp(ngx_http_dukcapil_service_codes[i].data,
                           code->data, code->len)
               == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}


ngx_http_dukcapil_office_t *
ngx_http_dukcapil_office(ngx_http_dukcapil_main_conf_t *dmcf, ngx_str_t *code)
{
    ngx_uint_t                   i;
    ngx_http_dukcapil_office_t  *office;

    office = dmcf->offices->elts;

    for (i = 0; i < dmcf->offices->nelts; i++) {
        if (office[i].code.len == code->len
            && ngx_strncmp(office[i].code.data, code->data, code->len) == 0)
        {
            return &office[i];
        }
    }

    return NULL;
}


/* the wall clock, in ms since the epoch, as of this event loop pass */

uint64_t
ngx_http_dukcapil_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


int32_t
ngx_http_dukcapil_today(void)
{
    return dk_wib_today(ngx_time());
}


/* the booking window: from tomorrow to dukcapil_booking_window days on */

ngx_int_t
ngx_http_dukcapil_day_in_window(ngx_http_dukcapil_main_conf_t *dmcf,
    int32_t day)
{
    int32_t  today;

    today = ngx_http_dukcapil_today();

    return day > today && day <= today + dmcf->booking_window;
}


/* a weekday of dukcapil_closed_weekdays, which only an opening opens */

ngx_int_t
ngx_http_dukcapil_weekday_closed(ngx_http_dukcapil_main_conf_t *dmcf,
    int32_t day)
{
    return (dmcf->closed_weekdays & (1 << dk_date_weekday(day))) != 0;
}


/*
 * A day takes bookings when it is in the window and its calendar (the
 * closed and opened fields of its day hash) lets it: not closed, and opened
 * if it falls on a closed weekday.
 */
ngx_int_t
ngx_http_dukcapil_day_open(ngx_http_dukcapil_main_conf_t *dmcf, int32_t day,
    dk_calendar calendar)
{
    return ngx_http_dukcapil_day_in_window(dmcf, day)
           && dk_day_bookable(ngx_http_dukcapil_weekday_closed(dmcf, day),
                              calendar);
}


/* a day's quota of a service; override: the day's own, or negative */

ngx_int_t
ngx_http_dukcapil_quota(ngx_http_dukcapil_main_conf_t *dmcf,
    ngx_uint_t service, int32_t day, ngx_int_t override, dk_calendar calendar)
{
    return dk_quota_effective(override, dmcf->services[service].quota,
                              ngx_http_dukcapil_weekday_closed(dmcf, day),
                              calendar);
}


/*
 * A code for a citizen, from the OS CSPRNG: read a block at a time, so
 * that the 07:00 rush does not make one getrandom() call per request.
 */
ngx_int_t
ngx_http_dukcapil_code(char prefix, char code[DK_CODE_LEN + 1])
{
    ssize_t  n;

    static u_char  random[4096];
    static size_t  left;

    if (left < DK_CODE_RANDOM) {
        n = getrandom(random, sizeof(random), 0);

        if (n < (ssize_t) DK_CODE_RANDOM) {
            return NGX_ERROR;
        }

        left = n;
    }

    left -= DK_CODE_RANDOM;

    if (dk_code_encode(prefix, random + left, code) != 0) {
        return NGX_ERROR;
    }

    /* a byte used is a byte forgotten */
    ngx_memzero(random + left, DK_CODE_RANDOM);

    return NGX_OK;
}


/*
 * n in decimal, without a format to parse: for what the busiest paths
 * write (Redis commands, availability answers)
 */
u_char *
ngx_http_dukcapil_decimal(u_char *p, ngx_int_t n)
{
    u_char      digits[NGX_INT_T_LEN], *d;
    ngx_uint_t  u;

    if (n < 0) {
        *p++ = '-';
        u = (ngx_uint_t) -(n + 1) + 1;

    } else {
        u = (ngx_uint_t) n;
    }

    d = digits + NGX_INT_T_LEN;

    do {
        *--d = (u_char) ('0' + u % 10);
        u /= 10;
    } while (u);

    return ngx_cpymem(p, d, digits + NGX_INT_T_LEN - d);
}
