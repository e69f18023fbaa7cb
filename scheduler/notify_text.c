/*
 * Templates of the citizens' messages (INDONESIAN.md, "Messages"): one SMS
 * of 160 GSM characters where the params allow it, never a NIK or a KK.
 */
#include <stdio.h>
#include <string.h>

#include "notify_text.h"
#include "wib.h"

/* what a kind's params may carry (the triggers' and the module's rows) */
enum {
    P_CODE = 1 << 0,
    P_DATE = 1 << 1,
    P_OFFICE = 1 << 2,
    P_SERVICE = 1 << 3,
    P_QUEUE = 1 << 4,
    P_REASON = 1 << 5,
    P_METHOD = 1 << 6,
    P_RECEIPT = 1 << 7,
};

static const struct {
    const char *name;
    unsigned bit;
} dk_notify_params[] = {
    {"code", P_CODE},          {"date", P_DATE},
    {"office_name", P_OFFICE}, {"service_name", P_SERVICE},
    {"queue_number", P_QUEUE}, {"reason", P_REASON},
    {"method", P_METHOD},      {"receipt_number", P_RECEIPT},
};

#define DK_NPARAMS (sizeof(dk_notify_params) / sizeof(dk_notify_params[0]))

static const struct {
    const char *name;
    unsigned params;
    const char *text;
} dk_notify_kinds[DK_NOTIFY_KINDS] = {
    [DK_NOTIFY_OTP] = {"otp", P_CODE,
                       "Kode verifikasi Disdukcapil Pekanbaru: {code}. "
                       "Berlaku 5 menit. Jangan berikan kode ini kepada "
                       "siapa pun, termasuk petugas."},
    [DK_NOTIFY_APPOINTMENT_BOOKED] =
        {"appointment_booked", P_CODE | P_DATE | P_OFFICE | P_SERVICE | P_QUEUE,
         "Janji temu {service_name} Anda: {date} di {office_name}, nomor "
         "antrean {queue_number}. Kode: {code}."},
    [DK_NOTIFY_APPOINTMENT_CANCELLED] =
        {"appointment_cancelled", P_CODE | P_DATE | P_OFFICE,
         "Janji temu {code} pada {date} di {office_name} sudah dibatalkan."},
    [DK_NOTIFY_APPOINTMENT_CANCELLED_BY_OFFICE] =
        {"appointment_cancelled_by_office",
         P_CODE | P_DATE | P_OFFICE | P_REASON,
         "Janji temu {code} ({date}, {office_name}) dibatalkan: {reason}. "
         "Silakan buat janji temu baru."},
    [DK_NOTIFY_APPOINTMENT_REMINDER] =
        {"appointment_reminder",
         P_CODE | P_DATE | P_OFFICE | P_SERVICE | P_QUEUE,
         "Pengingat: besok {date} janji temu {service_name} di {office_name}, "
         "antrean {queue_number}. Kode: {code}."},
    [DK_NOTIFY_APPLICATION_SUBMITTED] =
        {"application_submitted", P_CODE | P_SERVICE | P_METHOD,
         "Permohonan {service_name} Anda sudah kami terima. Kode permohonan: "
         "{code}. Dokumen akan {method}."},
    [DK_NOTIFY_APPLICATION_REJECTED] =
        {"application_rejected", P_CODE | P_REASON,
         "Permohonan {code} tidak dapat diproses: {reason}. Silakan hubungi "
         "kantor layanan."},
    [DK_NOTIFY_APPLICATION_READY] =
        {"application_ready", P_CODE | P_OFFICE,
         "Dokumen Anda ({code}) sudah selesai dan dapat diambil di "
         "{office_name}. Bawa KTP-el Anda."},
    [DK_NOTIFY_APPLICATION_SHIPPED] =
        {"application_shipped", P_CODE | P_RECEIPT,
         "Dokumen Anda ({code}) sudah dikirim melalui PT Pos, nomor resi "
         "{receipt_number}."},
    [DK_NOTIFY_DELIVERY_DELIVERED] = {"delivery_delivered", P_CODE,
                                      "Dokumen Anda ({code}) sudah diterima. "
                                      "Terima kasih."},
    [DK_NOTIFY_DELIVERY_FAILED] =
        {"delivery_failed", P_CODE | P_OFFICE,
         "Dokumen Anda ({code}) tidak dapat diantar PT Pos. Silakan ambil di "
         "{office_name} dengan membawa KTP-el."},
};

static const char *dk_notify_days[] = {"Minggu", "Senin", "Selasa", "Rabu",
                                       "Kamis",  "Jumat", "Sabtu"};

const char *
dk_notify_kind_name(int kind)
{
    return kind >= 0 && kind < DK_NOTIFY_KINDS ? dk_notify_kinds[kind].name
                                               : "unknown";
}

int
dk_notify_kind_parse(const char *name)
{
    int i;

    for (i = 0; i < DK_NOTIFY_KINDS; i++) {
        if (strcmp(dk_notify_kinds[i].name, name) == 0)
            return i;
    }
    return -1;
}

const char *
dk_notify_default_template(int kind)
{
    return dk_notify_kinds[kind].text;
}

/* The param named s[0..len) if kind carries it, else NULL. */
static const char *
dk_notify_param(int kind, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < DK_NPARAMS; i++) {
        if (strlen(dk_notify_params[i].name) == len &&
            memcmp(dk_notify_params[i].name, s, len) == 0)
            return (dk_notify_kinds[kind].params & dk_notify_params[i].bit)
                       ? dk_notify_params[i].name
                       : NULL;
    }
    return NULL;
}

/* Walks tpl: calls emit for each run of literal text and each placeholder
 * (name set). Returns 0, or -1 with why. */
typedef int (*dk_notify_emit_t)(void *ctx, const char *s, size_t len,
                                const char *param);

static int
dk_notify_walk(int kind, const char *tpl, dk_notify_emit_t emit, void *ctx,
               char *why, size_t whylen)
{
    const char *p = tpl, *end, *param;

    while (*p != '\0') {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            if (emit(ctx, p, 1, NULL) != 0)
                return -1;
            p += 2;
            continue;
        }
        if (*p == '}') {
            snprintf(why, whylen, "a '}' without its '{' (write '}}')");
            return -1;
        }
        if (*p != '{') {
            end = p + strcspn(p, "{}");
            if (emit(ctx, p, (size_t)(end - p), NULL) != 0)
                return -1;
            p = end;
            continue;
        }
        end = strchr(p, '}');
        if (end == NULL) {
            snprintf(why, whylen, "a '{' left open (write '{{' for a brace)");
            return -1;
        }
        param = dk_notify_param(kind, p + 1, (size_t)(end - p - 1));
        if (param == NULL) {
            snprintf(why, whylen, "unknown placeholder {%.*s} for kind %s",
                     (int)(end - p - 1 > 40 ? 40 : end - p - 1), p + 1,
                     dk_notify_kind_name(kind));
            return -1;
        }
        if (emit(ctx, NULL, 0, param) != 0)
            return -1;
        p = end + 1;
    }
    return 0;
}

static int
dk_notify_emit_nothing(void *ctx, const char *s, size_t len, const char *param)
{
    (void)ctx;
    (void)s;
    (void)len;
    (void)param;
    return 0;
}

int
dk_notify_template_check(int kind, const char *tpl, char *why, size_t whylen)
{
    if (kind < 0 || kind >= DK_NOTIFY_KINDS) {
        snprintf(why, whylen, "unknown kind");
        return -1;
    }
    return dk_notify_walk(kind, tpl, dk_notify_emit_nothing, NULL, why, whylen);
}

typedef struct {
    const json_t *params;
    char *out;
    size_t len, cap;
    char *why;
    size_t whylen;
} dk_notify_render_t;

static int
dk_notify_put(dk_notify_render_t *r, const char *s, size_t len)
{
    size_t i;

    if (r->len + len >= r->cap) {
        snprintf(r->why, r->whylen, "text longer than %zu bytes", r->cap - 1);
        return -1;
    }
    /* a param is one line: a control character becomes a space */
    for (i = 0; i < len; i++)
        r->out[r->len++] =
            (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    r->out[r->len] = '\0';
    return 0;
}

/* "2026-12-07" -> "Senin 7/12/2026" */
static int
dk_notify_put_date(dk_notify_render_t *r, const char *v)
{
    char buf[48];
    int32_t day;
    int y, m, d;

    if (dk_date_parse(v, strlen(v), &day) != 0) {
        snprintf(r->why, r->whylen, "param date is not a date YYYY-MM-DD");
        return -1;
    }
    dk_date_split(day, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%s %d/%d/%d",
             dk_notify_days[dk_date_weekday(day)], d, m, y);
    return dk_notify_put(r, buf, strlen(buf));
}

static int
dk_notify_put_method(dk_notify_render_t *r, const char *v)
{
    static const char pickup[] = "diambil di kantor layanan";
    static const char post[] = "dikirim ke alamat Anda melalui PT Pos";

    if (strcmp(v, "pickup") == 0)
        return dk_notify_put(r, pickup, sizeof(pickup) - 1);
    if (strcmp(v, "post") == 0)
        return dk_notify_put(r, post, sizeof(post) - 1);
    snprintf(r->why, r->whylen, "param method is neither pickup nor post");
    return -1;
}

static int
dk_notify_emit_text(void *ctx, const char *s, size_t len, const char *param)
{
    dk_notify_render_t *r = ctx;
    const json_t *v;
    char num[32];

    if (param == NULL)
        return dk_notify_put(r, s, len);
    v = json_object_get(r->params, param);
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        return dk_notify_put(r, num, strlen(num));
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(r->why, r->whylen, "param %s missing (or not a string)",
                 param);
        return -1;
    }
    if (strcmp(param, "date") == 0)
        return dk_notify_put_date(r, json_string_value(v));
    if (strcmp(param, "method") == 0)
        return dk_notify_put_method(r, json_string_value(v));
    return dk_notify_put(r, json_string_value(v), json_string_length(v));
}

/* 1 if s holds a run of 16 digits or more: the shape of a NIK or a KK. */
static int
dk_notify_has_nik_shape(const char *s)
{
    int run = 0;

    for (; *s != '\0'; s++) {
        run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
        if (run >= 16)
            return 1;
    }
    return 0;
}

int
dk_notify_render(int kind, const char *tpl, const json_t *params, char *out,
                 size_t outlen, char *why, size_t whylen)
{
    dk_notify_render_t r;

    if (outlen == 0 || kind < 0 || kind >= DK_NOTIFY_KINDS ||
        !json_is_object(params)) {
        snprintf(why, whylen, "unknown kind or params not an object");
        return -1;
    }
    r.params = params;
    r.out = out;
    r.len = 0;
    r.cap = outlen;
    r.why = why;
    r.whylen = whylen;
    out[0] = '\0';
    if (dk_notify_walk(kind, tpl, dk_notify_emit_text, &r, why, whylen) != 0)
        return -1;
    if (dk_notify_has_nik_shape(out)) {
        snprintf(why, whylen, "text holds 16 digits in a row (a NIK or KK?)");
        out[0] = '\0';
        return -1;
    }
    return (int)r.len;
}

int
dk_notify_gsm_septets(const char *text)
{
    static const char basic[] = "@$_!\"#%&'()*+,-./:;<=>? \n\r";
    static const char extension[] = "^{}\\[~]|";
    const unsigned char *p;
    int n = 0;

    for (p = (const unsigned char *)text; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || strchr(basic, *p) != NULL)
            n++;
        else if (strchr(extension, *p) != NULL)
            n += 2;
        else
            return -1;
    }
    return n;
}
