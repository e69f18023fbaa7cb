
/*
 * Phone verification: a 6-digit code sent to the phone through the outbox
 * (PostgreSQL's notification table, sent by the scheduler's daemon), and
 * the phone_token a right code is exchanged for.  Whether a code may be
 * sent, and whether a code given is right, is each one Redis script
 * (lua/otp_send.lua, lua/otp_confirm.lua); Redis keeps only the code's
 * hash.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ngx_http_dukcapil_endpoints.h"
#include "ngx_http_dukcapil_body.h"
#include "ngx_http_dukcapil_job.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_redis_script.h"
#include "ngx_http_dukcapil_reply.h"
#include "ngx_http_dukcapil_sql.h"
#include "ngx_http_dukcapil_token.h"
#include "keys.h"
#include "phone.h"
#include "wib.h"


#define NGX_HTTP_DUKCAPIL_GONE          410

#define NGX_HTTP_DUKCAPIL_OTP_ID_LEN    32      /* 16 random bytes, hex */
#define NGX_HTTP_DUKCAPIL_OTP_HOUR      "3"     /* codes a phone gets */
#define NGX_HTTP_DUKCAPIL_OTP_DAY       "6"
#define NGX_HTTP_DUKCAPIL_OTP_TRIES     "5"     /* wrong codes that lock */
#define NGX_HTTP_DUKCAPIL_OTP_RESEND    60      /* the portal's hint, s */


typedef struct {
    char           id[NGX_HTTP_DUKCAPIL_OTP_ID_LEN + 1];
    char           code[7];
    char           hash[2 * 32 + 1];
    char           phone[DK_PHONE_MAX];
    char           keys[DK_OTP_KEYS][DK_KEY_MAX];
    char           ttl[NGX_TIME_T_LEN + 1];
    char           budget[NGX_INT_T_LEN + 1];
    char           expire[NGX_INT64_LEN + 1];

    /* the script's answer */
    ngx_str_t      answer;
} ngx_http_dukcapil_otp_t;


static void ngx_http_dukcapil_otp_body(ngx_http_request_t *r);
static void ngx_http_dukcapil_otp_decided(void *data, ngx_int_t rc);
static void ngx_http_dukcapil_otp_notified(void *data, PGresult *res,
    ngx_uint_t backend);
static void ngx_http_dukcapil_otp_confirm_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_dukcapil_otp_uri_id(ngx_http_request_t *r,
    char *id);
static void ngx_http_dukcapil_otp_checked(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_dukcapil_otp_call(ngx_http_dukcapil_job_t *job,
    ngx_uint_t script, ngx_uint_t nkeys, ngx_uint_t argc,
    ngx_http_dukcapil_redis_done_pt done);
static void ngx_http_dukcapil_otp_answer(void *data, ngx_uint_t index,
    redisReply *reply);
static ngx_int_t ngx_http_dukcapil_otp_hash(ngx_http_dukcapil_otp_t *otp,
    u_char *code, size_t len);
static ngx_int_t ngx_http_dukcapil_otp_word(ngx_str_t *answer,
    const char *word, ngx_str_t *rest);


/* POST /api/v1/phone-verifications */

ngx_int_t
ngx_http_dukcapil_otp_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_read_json(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_otp_body);
}


static void
ngx_http_dukcapil_otp_body(ngx_http_request_t *r)
{
    json_t                   *json;
    uint32_t                  n;
    ngx_int_t                 rc;
    ngx_str_t                 raw, v;
    ngx_uint_t                i;
    u_char                    random[NGX_HTTP_DUKCAPIL_OTP_ID_LEN / 2];
    ngx_http_dukcapil_job_t  *job;
    ngx_http_dukcapil_otp_t  *otp;
    char                      date[DK_DATE_LEN + 1];

    json = ngx_http_dukcapil_body_json(r, &raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1, sizeof(ngx_http_dukcapil_otp_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    otp = job->data;

    if (ngx_http_dukcapil_json_string(json, "phone", &v) != NGX_OK
        || dk_phone_normalize((char *) v.data, v.len, otp->phone) < 0)
    {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                    "invalid_phone", "phone");
        return;
    }

    /* the code: uniform over 000000..999999 */
    do {
        if (RAND_bytes((u_char *) &n, sizeof(n)) != 1) {
            goto unavailable;
        }
    } while (n >= 4294000000U);

    ngx_sprintf((u_char *) otp->code, "%06uD%Z", n % 1000000);

    if (RAND_bytes(random, sizeof(random)) != 1) {
        goto unavailable;
    }

    ngx_hex_dump((u_char *) otp->id, random, sizeof(random));
    otp->id[NGX_HTTP_DUKCAPIL_OTP_ID_LEN] = '\0';

    if (ngx_http_dukcapil_otp_hash(otp, (u_char *) otp->code, 6) != NGX_OK) {
        goto unavailable;
    }

    dk_date_format(dk_wib_today(ngx_time()), date);

    if (dk_key_otp(otp->keys[DK_OTP_CODE], DK_KEY_MAX, DK_OTP_CODE, otp->id,
                   NGX_HTTP_DUKCAPIL_OTP_ID_LEN) < 0
        || dk_key_otp(otp->keys[DK_OTP_HOUR], DK_KEY_MAX, DK_OTP_HOUR,
                      otp->phone, ngx_strlen(otp->phone)) < 0
        || dk_key_otp(otp->keys[DK_OTP_DAY], DK_KEY_MAX, DK_OTP_DAY,
                      otp->phone, ngx_strlen(otp->phone)) < 0
        || dk_key_otp(otp->keys[DK_OTP_BUDGET], DK_KEY_MAX, DK_OTP_BUDGET,
                      date, DK_DATE_LEN) < 0)
    {
        goto unavailable;
    }

    ngx_sprintf((u_char *) otp->ttl, "%T%Z", job->dmcf->otp_ttl);
    ngx_sprintf((u_char *) otp->budget, "%i%Z", job->dmcf->otp_daily_budget);
    ngx_sprintf((u_char *) otp->expire, "%L%Z",
                (int64_t) dk_key_day_expiry(dk_wib_today(ngx_time())));

    /* KEYS and ARGV of lua/otp_send.lua */
    for (i = 0; i < DK_OTP_KEYS; i++) {
        job->argv[i] = otp->keys[i];
    }

    job->argv[4] = otp->phone;
    job->argv[5] = otp->hash;
    job->argv[6] = otp->ttl;
    job->argv[7] = NGX_HTTP_DUKCAPIL_OTP_HOUR;
    job->argv[8] = NGX_HTTP_DUKCAPIL_OTP_DAY;
    job->argv[9] = otp->budget;
    job->argv[10] = otp->expire;

    if (ngx_http_dukcapil_otp_call(job, NGX_HTTP_DUKCAPIL_SCRIPT_OTP_SEND,
                                   DK_OTP_KEYS, 11,
                                   ngx_http_dukcapil_otp_decided)
        == NGX_OK)
    {
        return;
    }

unavailable:

    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


static void
ngx_http_dukcapil_otp_decided(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    time_t                    wait;
    ngx_str_t                 rest;
    ngx_http_dukcapil_otp_t  *otp;

    job->redis = NULL;
    otp = job->data;

    if (rc == NGX_OK
        && ngx_http_dukcapil_otp_word(&otp->answer, "ok", &rest) == NGX_OK)
    {
        ngx_http_dukcapil_metrics_otp(NGX_HTTP_DUKCAPIL_OTP_SENT);

        /* the daemon sends it; the code is never logged */
        job->values[0] = otp->phone;
        job->values[1] = otp->code;

        ngx_http_dukcapil_job_query(job, NGX_HTTP_DUKCAPIL_SQL_OTP_NOTIFY, 2,
                                    ngx_http_dukcapil_otp_notified);
        return;
    }

    if (rc == NGX_OK
        && ngx_http_dukcapil_otp_word(&otp->answer, "limit", &rest) == NGX_OK
        && (wait = ngx_atotm(rest.data, rest.len)) > 0)
    {
        ngx_http_dukcapil_metrics_otp(NGX_HTTP_DUKCAPIL_OTP_TOO_MANY);
        job->retry_after = wait;
        ngx_http_dukcapil_job_error(job, NGX_HTTP_TOO_MANY_REQUESTS,
                                    "too_many_codes", NULL);
        return;
    }

    if (rc == NGX_OK
        && ngx_http_dukcapil_otp_word(&otp->answer, "budget", &rest) == NGX_OK)
    {
        ngx_http_dukcapil_metrics_otp(NGX_HTTP_DUKCAPIL_OTP_BUDGET_EXHAUSTED);
        ngx_log_error(NGX_LOG_WARN, job->log, 0,
                      "dukcapil: the daily budget of verification codes "
                      "is spent");

        /* until the WIB day's end */
        job->retry_after = 86400 - (ngx_time() + DK_WIB_OFFSET) % 86400;
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "otp_budget_exhausted", NULL);
        return;
    }

    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


static void
ngx_http_dukcapil_otp_notified(void *data, PGresult *res, ngx_uint_t backend)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_otp_t  *otp;

    job->pg = NULL;
    otp = job->data;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        if (res) {
            ngx_log_error(NGX_LOG_ERR, job->log, 0,
                          "dukcapil: verification code refused by "
                          "postgres: %s", ngx_http_dukcapil_pg_error(res));
        }

        /* the code is never sent; it counted against the phone's limits */
        ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "unavailable", NULL);
        return;
    }

    ngx_http_dukcapil_job_reply(job, NGX_HTTP_CREATED,
        json_pack("{s:s, s:s, s:I, s:i}",
                  "id", otp->id, "phone", otp->phone,
                  "expires_in", (json_int_t) job->dmcf->otp_ttl,
                  "resend_after", NGX_HTTP_DUKCAPIL_OTP_RESEND));
}


/* POST /api/v1/phone-verifications/{id}/confirm */

ngx_int_t
ngx_http_dukcapil_otp_confirm_handler(ngx_http_request_t *r)
{
    return ngx_http_dukcapil_read_json(r, NGX_HTTP_POST,
                                       ngx_http_dukcapil_otp_confirm_body);
}


static void
ngx_http_dukcapil_otp_confirm_body(ngx_http_request_t *r)
{
    json_t                   *json;
    ngx_int_t                 rc;
    ngx_str_t                 raw, code;
    ngx_http_dukcapil_job_t  *job;
    ngx_http_dukcapil_otp_t  *otp;

    json = ngx_http_dukcapil_body_json(r, &raw, &rc);
    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    job = ngx_http_dukcapil_job_create(r, 1, sizeof(ngx_http_dukcapil_otp_t));
    if (job == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    otp = job->data;

    /* an id that cannot be one is unknown, as an expired one */
    if (ngx_http_dukcapil_otp_uri_id(r, otp->id) != NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_DUKCAPIL_GONE,
                                    "otp_expired", NULL);
        return;
    }

    /* anything but the code is a wrong code, and counts as one */
    if (ngx_http_dukcapil_json_string(json, "code", &code) != NGX_OK
        || code.len > 64)
    {
        ngx_str_set(&code, "");
    }

    if (ngx_http_dukcapil_otp_hash(otp, code.data, code.len) != NGX_OK
        || dk_key_otp(otp->keys[DK_OTP_CODE], DK_KEY_MAX, DK_OTP_CODE, otp->id,
                      NGX_HTTP_DUKCAPIL_OTP_ID_LEN) < 0)
    {
        goto unavailable;
    }

    /* KEYS and ARGV of lua/otp_confirm.lua */
    job->argv[0] = otp->keys[DK_OTP_CODE];
    job->argv[1] = otp->hash;
    job->argv[2] = NGX_HTTP_DUKCAPIL_OTP_TRIES;

    if (ngx_http_dukcapil_otp_call(job, NGX_HTTP_DUKCAPIL_SCRIPT_OTP_CONFIRM,
                                   1, 3, ngx_http_dukcapil_otp_checked)
        == NGX_OK)
    {
        return;
    }

unavailable:

    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/* the id of .../phone-verifications/{id}/confirm: 32 lowercase hex */

static ngx_int_t
ngx_http_dukcapil_otp_uri_id(ngx_http_request_t *r, char *id)
{
    u_char      *end, *start;
    ngx_uint_t   i;

    end = r->uri.data + r->uri.len;

    if (r->uri.len < sizeof("/confirm") - 1
        || ngx_strncmp(end - (sizeof("/confirm") - 1), "/confirm",
                       sizeof("/confirm") - 1) != 0)
    {
        return NGX_ERROR;
    }

    end -= sizeof("/confirm") - 1;
    start = end;

    while (start > r->uri.data && start[-1] != '/') {
        start--;
    }

    if (end - start != NGX_HTTP_DUKCAPIL_OTP_ID_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_DUKCAPIL_OTP_ID_LEN; i++) {
        if (!((start[i] >= '0' && start[i] <= '9')
              || (start[i] >= 'a' && start[i] <= 'f')))
        {
            return NGX_ERROR;
        }

        id[i] = start[i];
    }

    id[i] = '\0';

    return NGX_OK;
}


static void
ngx_http_dukcapil_otp_checked(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_job_t *job = data;

    json_t                   *json;
    time_t                    expiry;
    ngx_int_t                 left;
    ngx_str_t                 rest;
    ngx_http_dukcapil_otp_t  *otp;
    char                      token[DK_TOKEN_LEN + 1];
    char                      at[DK_RFC3339_MAX];

    job->redis = NULL;
    otp = job->data;

    if (rc != NGX_OK) {
        goto unavailable;
    }

    if (ngx_http_dukcapil_otp_word(&otp->answer, "ok", &rest) == NGX_OK) {
        if (rest.len == 0 || rest.len >= DK_PHONE_MAX) {
            goto unavailable;
        }

        ngx_memcpy(otp->phone, rest.data, rest.len);
        otp->phone[rest.len] = '\0';

        if (ngx_http_dukcapil_token_make(job->dmcf, otp->phone, token,
                                         &expiry)
            != NGX_OK)
        {
            goto unavailable;
        }

        (void) dk_rfc3339_wib((int64_t) expiry * 1000000, at);

        ngx_http_dukcapil_job_reply(job, NGX_HTTP_OK,
            json_pack("{s:s, s:s, s:s}", "phone_token", token,
                      "phone", otp->phone, "expires_at", at));
        return;
    }

    if (ngx_http_dukcapil_otp_word(&otp->answer, "wrong", &rest) == NGX_OK
        && (left = ngx_atoi(rest.data, rest.len)) != NGX_ERROR)
    {
        json = ngx_http_dukcapil_error_json("invalid_otp", "code");

        if (json) {
            json_object_set_new(json, "attempts_left", json_integer(left));
        }

        ngx_http_dukcapil_job_reply(job, NGX_HTTP_UNPROCESSABLE_ENTITY, json);
        return;
    }

    if (ngx_http_dukcapil_otp_word(&otp->answer, "locked", &rest) == NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_TOO_MANY_REQUESTS,
                                    "otp_locked", NULL);
        return;
    }

    if (ngx_http_dukcapil_otp_word(&otp->answer, "expired", &rest) == NGX_OK) {
        ngx_http_dukcapil_job_error(job, NGX_HTTP_DUKCAPIL_GONE,
                                    "otp_expired", NULL);
        return;
    }

unavailable:

    ngx_http_dukcapil_job_error(job, NGX_HTTP_SERVICE_UNAVAILABLE,
                                "unavailable", NULL);
}


/* one of the scripts, its keys and arguments in job->argv */

static ngx_int_t
ngx_http_dukcapil_otp_call(ngx_http_dukcapil_job_t *job, ngx_uint_t script,
    ngx_uint_t nkeys, ngx_uint_t argc, ngx_http_dukcapil_redis_done_pt done)
{
    ngx_uint_t                     i;
    ngx_http_dukcapil_redis_op_t  *op;

    for (i = 0; i < argc; i++) {
        job->argvlen[i] = ngx_strlen(job->argv[i]);
    }

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_otp_answer, done, job);
    if (op == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_dukcapil_script(op, script, nkeys, argc, job->argv,
                                    job->argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        return NGX_ERROR;
    }

    job->redis = op;

    return NGX_OK;
}


static void
ngx_http_dukcapil_otp_answer(void *data, ngx_uint_t index, redisReply *reply)
{
    ngx_http_dukcapil_job_t *job = data;

    ngx_http_dukcapil_otp_t  *otp;

    otp = job->data;

    if (reply->type != REDIS_REPLY_STRING || reply->len > 64) {
        ngx_log_error(NGX_LOG_ERR, job->log, 0,
                      "dukcapil: verification script answered %s",
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "another type");
        return;
    }

    otp->answer.data = ngx_http_dukcapil_job_strdup(job, (u_char *) reply->str,
                                                    reply->len);
    otp->answer.len = otp->answer.data ? reply->len : 0;
}


/* SHA-256 of "<id>:<code>" in hex: Redis never holds a code */

static ngx_int_t
ngx_http_dukcapil_otp_hash(ngx_http_dukcapil_otp_t *otp, u_char *code,
    size_t len)
{
    u_char        buf[NGX_HTTP_DUKCAPIL_OTP_ID_LEN + 1 + 64];
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  n;

    if (len > 64) {
        return NGX_ERROR;
    }

    ngx_memcpy(buf, otp->id, NGX_HTTP_DUKCAPIL_OTP_ID_LEN);
    buf[NGX_HTTP_DUKCAPIL_OTP_ID_LEN] = ':';

    if (len) {
        ngx_memcpy(buf + NGX_HTTP_DUKCAPIL_OTP_ID_LEN + 1, code, len);
    }

    if (EVP_Digest(buf, NGX_HTTP_DUKCAPIL_OTP_ID_LEN + 1 + len, md, &n,
                   EVP_sha256(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump((u_char *) otp->hash, md, n);
    otp->hash[2 * n] = '\0';

    return NGX_OK;
}


/* the answer is word, or word and a space and the rest */

static ngx_int_t
ngx_http_dukcapil_otp_word(ngx_str_t *answer, const char *word,
    ngx_str_t *rest)
{
    size_t  len;

    len = ngx_strlen(word);

    if (answer->len < len || ngx_strncmp(answer->data, word, len) != 0) {
        return NGX_DECLINED;
    }

    if (answer->len == len) {
        ngx_str_null(rest);
        return NGX_OK;
    }

    if (answer->data[len] != ' ') {
        return NGX_DECLINED;
    }

    rest->data = answer->data + len + 1;
    rest->len = answer->len - len - 1;

    return NGX_OK;
}
