
/*
 * An appointment's admission in Redis.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_dukcapil_admission.h"
#include "ngx_http_dukcapil_redis_script.h"
#include "ngx_http_dukcapil_metrics.h"


static void ngx_http_dukcapil_admission_released(void *data, ngx_int_t rc);


/* the four keys of the appointment's day, from its office and date */

ngx_int_t
ngx_http_dukcapil_admission_keys(ngx_http_dukcapil_appointment_t *a)
{
    ngx_uint_t  i;

    for (i = 0; i < DK_DAY_KEYS; i++) {
        if (dk_key_day((char *) a->keys[i], DK_KEY_MAX,
                       (char *) a->office.data, a->office.len, a->date,
                       (dk_day_key) i)
            < 0)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Gives the admission back.  With no done handler it is fire and forget
 * (reconcile backs it up); a cancellation waits for it, so that the slot
 * is free before the citizen hears so, and a settling booking until Redis
 * has answered.  A done handler is called with data, and the op is the
 * job's wait (job->redis) until then.
 */
void
ngx_http_dukcapil_admission_release(ngx_http_dukcapil_job_t *job,
    ngx_http_dukcapil_appointment_t *a, ngx_http_dukcapil_redis_done_pt done,
    void *data)
{
    const char                    *argv[DK_DAY_KEYS + 1];
    size_t                         argvlen[DK_DAY_KEYS + 1];
    ngx_uint_t                     i;
    ngx_http_dukcapil_redis_op_t  *op;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, job->log, 0,
                   "dukcapil: releasing the admission of %s", a->code);

    ngx_http_dukcapil_metrics_booking(NGX_HTTP_DUKCAPIL_RELEASED);

    op = ngx_http_dukcapil_redis_op(ngx_http_dukcapil_redis_log_error,
                                    done ? done
                                         : ngx_http_dukcapil_admission_released,
                                    done ? data : NULL);
    if (op == NULL) {
        if (done) {
            done(data, NGX_ERROR);
        }
        return;
    }

    /* KEYS and ARGV of lua/release.lua */
    for (i = 0; i < DK_DAY_KEYS; i++) {
        argv[i] = (char *) a->keys[i];
        argvlen[i] = ngx_strlen(a->keys[i]);
    }

    argv[DK_DAY_KEYS] = a->code;
    argvlen[DK_DAY_KEYS] = DK_CODE_LEN;

    (void) ngx_http_dukcapil_script(op, NGX_HTTP_DUKCAPIL_SCRIPT_RELEASE,
                                    DK_DAY_KEYS, DK_DAY_KEYS + 1, argv,
                                    argvlen);

    if (ngx_http_dukcapil_redis_wait(op) != NGX_OK) {
        if (done) {
            done(data, NGX_ERROR);
        }
        return;
    }

    if (done) {
        job->redis = op;
    }
}


/* a release no one waits for */

static void
ngx_http_dukcapil_admission_released(void *data, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "dukcapil: release failed, left to reconcile");
    }
}
