
/*
 * The module's Redis scripts, and the calls that decide a loop pass's
 * items together.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>

#include "ngx_http_dukcapil_redis_script.h"
#include "ngx_http_dukcapil_redis_master.h"
#include "ngx_http_dukcapil_resp.h"
#include "ngx_http_dukcapil_metrics.h"
#include "ngx_http_dukcapil_util.h"
#include "ngx_http_dukcapil_lua.h"


typedef struct {
    const char                     *text;
    /* decides many items per call; otherwise one op, one call */
    ngx_uint_t                      batched;
    char                            sha[41];
    /* items waiting for the end of the event loop pass */
    ngx_queue_t                     items;
} ngx_http_dukcapil_script_t;


/* one call of items: the data of the op that sends it */
typedef struct {
    ngx_uint_t                      n;
    ngx_http_dukcapil_redis_op_t   *items[NGX_HTTP_DUKCAPIL_SCRIPT_BATCH];
    unsigned                        answered:1;
} ngx_http_dukcapil_script_call_t;


static void ngx_http_dukcapil_script_loaded(void *data, ngx_uint_t index,
    redisReply *rr);
static void ngx_http_dukcapil_script_call(ngx_http_dukcapil_script_t *s);
static void ngx_http_dukcapil_script_call_reply(void *data, ngx_uint_t index,
    redisReply *rr);
static void ngx_http_dukcapil_script_call_done(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_dukcapil_script_evalsha(
    ngx_http_dukcapil_redis_op_t *op);
static ngx_int_t ngx_http_dukcapil_script_eval(
    ngx_http_dukcapil_redis_op_t *op);
static ngx_int_t ngx_http_dukcapil_script_send(
    ngx_http_dukcapil_redis_op_t *op, const char *verb, const char *script);


static ngx_http_dukcapil_script_t
    ngx_http_dukcapil_scripts[NGX_HTTP_DUKCAPIL_SCRIPTS] =
{
    { ngx_http_dukcapil_lua_book, 1, "", { NULL, NULL } },
    { ngx_http_dukcapil_lua_release, 0, "", { NULL, NULL } },
    { ngx_http_dukcapil_lua_calendar, 0, "", { NULL, NULL } },
    { ngx_http_dukcapil_lua_otp_send, 0, "", { NULL, NULL } },
    { ngx_http_dukcapil_lua_otp_confirm, 0, "", { NULL, NULL } },
};


ngx_int_t
ngx_http_dukcapil_script_init_process(ngx_cycle_t *cycle)
{
    u_char                       md[EVP_MAX_MD_SIZE];
    ngx_uint_t                   i;
    unsigned int                 len;
    ngx_http_dukcapil_script_t  *s;

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SCRIPTS; i++) {
        s = &ngx_http_dukcapil_scripts[i];

        if (EVP_Digest(s->text, ngx_strlen(s->text), md, &len, EVP_sha1(),
                       NULL)
            != 1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "dukcapil: SHA1 of a Redis script failed");
            return NGX_ERROR;
        }

        ngx_hex_dump((u_char *) s->sha, md, len);
        s->sha[40] = '\0';

        ngx_queue_init(&s->items);
    }

    return NGX_OK;
}


/* the connection came up: Redis learns every script at once */

void
ngx_http_dukcapil_script_load(void)
{
    ngx_uint_t                     i;
    const char                    *argv[3];
    ngx_http_dukcapil_redis_op_t  *op;

    argv[0] = "SCRIPT";
    argv[1] = "LOAD";

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SCRIPTS; i++) {
        op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_script_loaded,
                                        NULL, (void *) i);
        if (op == NULL) {
            return;
        }

        argv[2] = ngx_http_dukcapil_scripts[i].text;

        /*
         * No one waits for it, so it has no timer: it lives until Redis
         * answers or the connection is lost (a lost load costs one NOSCRIPT
         * later, and nothing else).
         */
        if (ngx_http_dukcapil_redis_command(op, 3, argv, NULL) != NGX_OK) {
            ngx_http_dukcapil_redis_cancel(op);
        }
    }
}


static void
ngx_http_dukcapil_script_loaded(void *data, ngx_uint_t index, redisReply *rr)
{
    ngx_uint_t  i = (ngx_uint_t) data;

    if (rr->type != REDIS_REPLY_STRING
        || ngx_strcmp(rr->str, ngx_http_dukcapil_scripts[i].sha) != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "dukcapil: redis SCRIPT LOAD answered \"%s\"",
                      rr->str ? rr->str : "");
    }
}


/*
 * One of the module's scripts, argv being its nkeys keys, then its other
 * arguments.  They are kept in the op, formatted, so argv need not
 * outlive this call.  A script that decides many items per call takes
 * the op as an item, sent at the end of the pass.
 */
ngx_int_t
ngx_http_dukcapil_script(ngx_http_dukcapil_redis_op_t *op, ngx_uint_t script,
    ngx_uint_t nkeys, ngx_uint_t argc, const char **argv,
    const size_t *argvlen)
{
    u_char                      *p;
    ngx_http_dukcapil_script_t  *s;

    if (ngx_http_dukcapil_redis_usable(op) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_alloc(ngx_http_dukcapil_resp_size(argc, argv, argvlen),
                  ngx_cycle->log);
    if (p == NULL) {
        op->failed = 1;
        return NGX_ERROR;
    }

    op->script = script;
    op->nkeys = nkeys;
    op->argc = argc;
    op->args.data = p;

    p = ngx_http_dukcapil_resp_args(p, nkeys, argv, argvlen);
    op->keys_len = p - op->args.data;

    p = ngx_http_dukcapil_resp_args(p, argc - nkeys, argv + nkeys,
                                    argvlen ? argvlen + nkeys : NULL);
    op->args.len = p - op->args.data;

    s = &ngx_http_dukcapil_scripts[script];

    if (!s->batched) {
        return ngx_http_dukcapil_script_evalsha(op);
    }

    /* an answer is owed to the item: its line of the call's answer */
    op->sent = 1;
    op->op.outstanding = 1;

    ngx_queue_insert_tail(&s->items, &op->queue);

    ngx_http_dukcapil_redis_post_flush();

    return NGX_OK;
}


/*
 * every waiting item, in calls; items queued meanwhile go too; bookings
 * wait while the connection's master is not known to be one
 */

void
ngx_http_dukcapil_script_calls(void)
{
    ngx_uint_t                   i;
    ngx_http_dukcapil_script_t  *s;

    for (i = 0; i < NGX_HTTP_DUKCAPIL_SCRIPTS; i++) {
        s = &ngx_http_dukcapil_scripts[i];

        /* book.lua needs the master's history: its answer comes first */
        if (i == NGX_HTTP_DUKCAPIL_SCRIPT_BOOK
            && ngx_http_dukcapil_master_unknown())
        {
            continue;
        }

        while (!ngx_queue_empty(&s->items)) {
            ngx_http_dukcapil_script_call(s);
        }
    }
}


/*
 * Up to a call's worth of a script's waiting items, in one call: their
 * keys, then their arguments, each in the order the items came.
 */
static void
ngx_http_dukcapil_script_call(ngx_http_dukcapil_script_t *s)
{
    u_char                           *p;
    size_t                            len;
    ngx_uint_t                        i, n, nkeys, argc;
    ngx_queue_t                      *q;
    ngx_http_dukcapil_redis_op_t     *op, *item;
    ngx_http_dukcapil_script_call_t  *call;
    ngx_http_dukcapil_redis_op_t     *items[NGX_HTTP_DUKCAPIL_SCRIPT_BATCH];

    n = 0;
    len = 0;
    nkeys = 0;
    argc = 0;

    while (n < NGX_HTTP_DUKCAPIL_SCRIPT_BATCH && !ngx_queue_empty(&s->items)) {
        q = ngx_queue_head(&s->items);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_dukcapil_redis_op_t, queue);

        if (item->op.finished) {
            /* its owner stopped waiting before it was sent: it takes
             * nothing, and goes as a late answer goes */
            ngx_http_dukcapil_redis_answer(item, NULL);
            continue;
        }

        items[n++] = item;
        len += item->args.len;
        nkeys += item->nkeys;
        argc += item->argc;
    }

    if (n == 0) {
        return;
    }

    op = NULL;
    p = NULL;

    call = ngx_alloc(sizeof(ngx_http_dukcapil_script_call_t), ngx_cycle->log);
    if (call == NULL) {
        goto failed;
    }

    call->n = n;
    call->answered = 0;
    ngx_memcpy(call->items, items, n * sizeof(ngx_http_dukcapil_redis_op_t *));

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_script_call_reply,
                                    ngx_http_dukcapil_script_call_done, call);
    if (op == NULL) {
        goto failed;
    }

    p = ngx_alloc(len, ngx_cycle->log);
    if (p == NULL) {
        goto failed;
    }

    op->script = s - ngx_http_dukcapil_scripts;
    op->nkeys = nkeys;
    op->argc = argc;
    op->args.data = p;
    op->args.len = len;

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, items[i]->args.data, items[i]->keys_len);
    }

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, items[i]->args.data + items[i]->keys_len,
                       items[i]->args.len - items[i]->keys_len);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "dukcapil redis: script %ui called with %ui items",
                   op->script, n);

    /*
     * The call has no timer of its own: each item has its own, and the
     * call lives until hiredis answers it or drops the connection.
     */
    if (ngx_http_dukcapil_script_evalsha(op) != NGX_OK) {
        ngx_http_dukcapil_redis_cancel(op);
        ngx_http_dukcapil_script_call_done(call, NGX_ERROR);
    }

    return;

failed:

    if (op) {
        ngx_http_dukcapil_redis_cancel(op);
    }

    if (call) {
        ngx_free(call);
    }

    for (i = 0; i < n; i++) {
        ngx_http_dukcapil_redis_answer(items[i], NULL);
    }
}


/*
 * Each item of a call gets its line of the script's answer, as a reply of
 * its own: a string, or an error for "error <why>".  An answer of any
 * other shape fails every item of the call: a line too many or too few
 * could hand one booking another's outcome.
 */
static void
ngx_http_dukcapil_script_call_reply(void *data, ngx_uint_t index,
    redisReply *rr)
{
    ngx_http_dukcapil_script_call_t *call = data;

    size_t       len;
    ngx_uint_t   i, lines;
    dk_span_t    why;
    redisReply   line;
    dk_span_t    span[NGX_HTTP_DUKCAPIL_SCRIPT_BATCH];
    char         text[128];

    call->answered = 1;

    ngx_memzero(&line, sizeof(redisReply));

    lines = (rr->type == REDIS_REPLY_STRING)
            ? dk_script_lines(rr->str, rr->len, span, call->n) : 0;

    if (lines != call->n) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: redis answered a call of %ui items with "
                      "%s of %ui lines", call->n,
                      rr->type == REDIS_REPLY_ERROR ? rr->str
                      : rr->type == REDIS_REPLY_STRING ? "a string"
                      : "a reply of another type", lines);

        /* no string: each item fails without a word of its own */
        line.type = REDIS_REPLY_NIL;

        for (i = 0; i < call->n; i++) {
            ngx_http_dukcapil_redis_answer(call->items[i], &line);
        }

        return;
    }

    for (i = 0; i < call->n; i++) {
        if (dk_script_line_error(span[i].data, span[i].len, &why)) {
            len = ngx_min(why.len, sizeof(text) - 1);

            if (len) {
                ngx_memcpy(text, why.data, len);
            }

            text[len] = '\0';

            line.type = REDIS_REPLY_ERROR;
            line.str = text;
            line.len = len;

            ngx_http_dukcapil_master_refused(text, len);

        } else {
            line.type = REDIS_REPLY_STRING;
            line.str = (char *) span[i].data;
            line.len = span[i].len;

            if (line.len == 10 && ngx_strncmp(line.str, "rebuilding", 10) == 0)
            {
                ngx_http_dukcapil_master_refresh();
            }
        }

        ngx_http_dukcapil_redis_answer(call->items[i], &line);
    }
}


/* a call that got no answer: its items fail as a sent command fails */

static void
ngx_http_dukcapil_script_call_done(void *data, ngx_int_t rc)
{
    ngx_http_dukcapil_script_call_t *call = data;

    ngx_uint_t  i;

    if (!call->answered) {
        for (i = 0; i < call->n; i++) {
            ngx_http_dukcapil_redis_answer(call->items[i], NULL);
        }
    }

    ngx_free(call);
}


static ngx_int_t
ngx_http_dukcapil_script_evalsha(ngx_http_dukcapil_redis_op_t *op)
{
    ngx_http_dukcapil_script_t  *s;

    s = &ngx_http_dukcapil_scripts[op->script];

    /* an item's call is sent again, not the item */
    op->noscript = ngx_http_dukcapil_script_eval;

    if (ngx_http_dukcapil_script_send(op, "EVALSHA", s->sha) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_dukcapil_metrics_script_call(op->script);

    return NGX_OK;
}


static ngx_int_t
ngx_http_dukcapil_script_eval(ngx_http_dukcapil_redis_op_t *op)
{
    return ngx_http_dukcapil_script_send(op, "EVAL",
                                    ngx_http_dukcapil_scripts[op->script].text);
}


/*
 * EVALSHA <sha1> or EVAL <text>, numkeys, then the op's script arguments;
 * book.lua's last one is the history of the master it is sent to, which
 * dk:epoch must name for anyone to be admitted.
 */
static ngx_int_t
ngx_http_dukcapil_script_send(ngx_http_dukcapil_redis_op_t *op,
    const char *verb, const char *script)
{
    u_char      *buf, *p;
    size_t       argvlen[4];
    ngx_str_t   *history;
    ngx_uint_t   argc;
    const char  *argv[4];
    u_char       numkeys[NGX_INT_T_LEN];

    if (ngx_http_dukcapil_redis_usable(op) != NGX_OK) {
        return NGX_ERROR;
    }

    argv[0] = verb;
    argv[1] = script;
    argv[2] = (char *) numkeys;

    argvlen[0] = ngx_strlen(verb);
    argvlen[1] = ngx_strlen(script);
    argvlen[2] = ngx_http_dukcapil_decimal(numkeys, op->nkeys) - numkeys;

    argc = 0;

    if (op->script == NGX_HTTP_DUKCAPIL_SCRIPT_BOOK) {
        history = ngx_http_dukcapil_master_history();
        argv[3] = (char *) history->data;
        argvlen[3] = history->len;
        argc = 1;
    }

    buf = ngx_http_dukcapil_resp_buffer(NGX_HTTP_DUKCAPIL_RESP_HEAD
                                    + ngx_http_dukcapil_resp_size(3 + argc,
                                                                  argv,
                                                                  argvlen)
                                    + op->args.len);
    if (buf == NULL) {
        op->failed = 1;
        return NGX_ERROR;
    }

    p = ngx_http_dukcapil_resp_head(buf, 3 + op->argc + argc);
    p = ngx_http_dukcapil_resp_args(p, 3, argv, argvlen);
    p = ngx_cpymem(p, op->args.data, op->args.len);
    p = ngx_http_dukcapil_resp_args(p, argc, argv + 3, argvlen + 3);

    return ngx_http_dukcapil_redis_send(op, buf, p);
}
