#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "notify_text.h"
#include "unit.h"

/* the longest real values: an office, a service, a code, a reason */
#define LONG_OFFICE "UPT Disdukcapil Kecamatan Pekanbaru Kota"
#define LONG_SERVICE "Surat Keterangan Pindah (SKPWNI)"

struct render_case {
    const char *kind;
    const char *tpl; /* NULL: the default template */
    const char *params;
    const char *want; /* NULL: refused */
    const char *why;
};

static const struct render_case renders[] = {
    {"otp", NULL, "{\"code\": \"123456\"}",
     "Kode verifikasi Disdukcapil Pekanbaru: 123456. Berlaku 5 menit. "
     "Jangan berikan kode ini kepada siapa pun, termasuk petugas.",
     "the OTP of INDONESIAN.md"},
    {"appointment_booked", NULL,
     "{\"code\": \"A-7K3M-9QX2-BHT4\", \"date\": \"2026-12-07\", "
     "\"office_name\": \"MPP Pekanbaru\", \"service_name\": \"KTP-el\", "
     "\"queue_number\": 37}",
     "Janji temu KTP-el Anda: Senin 7/12/2026 di MPP Pekanbaru, nomor "
     "antrean 37. Kode: A-7K3M-9QX2-BHT4.",
     "a date as Senin 7/12/2026, a number as a number"},
    {"appointment_reminder", "{date}|{queue_number}",
     "{\"code\": \"A\", \"date\": \"2027-01-03\", \"office_name\": \"x\", "
     "\"service_name\": \"y\", \"queue_number\": \"5\"}",
     "Minggu 3/1/2027|5", "a Sunday; a number as a string"},
    {"application_submitted", "{method}",
     "{\"code\": \"P\", \"service_name\": \"KK\", \"method\": \"pickup\"}",
     "diambil di kantor layanan", "pickup in words"},
    {"application_submitted", "{method}",
     "{\"code\": \"P\", \"service_name\": \"KK\", \"method\": \"post\"}",
     "dikirim ke alamat Anda melalui PT Pos", "post in words"},
    {"application_submitted", "{method}",
     "{\"code\": \"P\", \"service_name\": \"KK\", \"method\": \"drone\"}", NULL,
     "an unknown method"},
    {"delivery_delivered", "{{kode}} {code}}}", "{\"code\": \"P-1\"}",
     "{kode} P-1}", "doubled braces are braces"},
    {"application_rejected", NULL, "{\"code\": \"P-1\"}", NULL,
     "the reason missing"},
    {"application_rejected", NULL, "{\"code\": \"P-1\", \"reason\": 7.5}", NULL,
     "a reason not a string"},
    {"application_rejected", "{reason}",
     "{\"code\": \"P-1\", \"reason\": \"NIK 1471014101900001 salah\"}", NULL,
     "a NIK never goes out"},
    {"application_rejected", "{reason}",
     "{\"code\": \"P-1\", \"reason\": \"baris 1\\nbaris 2\"}",
     "baris 1 baris 2", "a param is one line"},
    {"appointment_cancelled", NULL,
     "{\"code\": \"A-1\", \"date\": \"2026-02-30\", \"office_name\": \"x\"}",
     NULL, "an impossible date"},
    {"otp", "{code}", "[]", NULL, "params not an object"},
};

static void
render_table_of_cases(void **state)
{
    char out[DK_NOTIFY_TEXT_MAX], why[160];
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(renders); i++) {
        const struct render_case *c = &renders[i];
        int kind = dk_notify_kind_parse(c->kind);
        json_t *params = json_loads(c->params, JSON_DECODE_ANY, NULL);
        const char *tpl = c->tpl ? c->tpl : dk_notify_default_template(kind);
        int n;

        assert_true(kind >= 0);
        assert_non_null(params);
        n = dk_notify_render(kind, tpl, params, out, sizeof(out), why,
                             sizeof(why));
        if (c->want == NULL && n >= 0)
            fail_msg("%s: rendered \"%s\"", c->why, out);
        if (c->want != NULL && (n < 0 || strcmp(out, c->want) != 0))
            fail_msg("%s: \"%s\" (%s), not \"%s\"", c->why, out,
                     n < 0 ? why : "ok", c->want);
        json_decref(params);
    }
}

/* every default, with the longest real values, fits one SMS of GSM
 * characters */
static const char *longest[DK_NOTIFY_KINDS] = {
    [DK_NOTIFY_OTP] = "{\"code\": \"999999\"}",
    [DK_NOTIFY_APPOINTMENT_BOOKED] =
        "{\"code\": \"A-7K3M-9QX2-BHT4\", \"date\": \"2026-12-30\", "
        "\"office_name\": \"" LONG_OFFICE "\", \"service_name\": "
        "\"Pengambilan Dokumen\", \"queue_number\": 1500}",
    [DK_NOTIFY_APPOINTMENT_CANCELLED] =
        "{\"code\": \"A-7K3M-9QX2-BHT4\", \"date\": \"2026-12-30\", "
        "\"office_name\": \"" LONG_OFFICE "\"}",
    [DK_NOTIFY_APPOINTMENT_CANCELLED_BY_OFFICE] =
        "{\"code\": \"A-7K3M-9QX2-BHT4\", \"date\": \"2026-12-30\", "
        "\"office_name\": \"" LONG_OFFICE "\", \"reason\": "
        "\"Libur Nasional: Hari Natal\"}",
    [DK_NOTIFY_APPOINTMENT_REMINDER] =
        "{\"code\": \"A-7K3M-9QX2-BHT4\", \"date\": \"2026-12-30\", "
        "\"office_name\": \"" LONG_OFFICE "\", \"service_name\": "
        "\"Pengambilan Dokumen\", \"queue_number\": 1500}",
    [DK_NOTIFY_APPLICATION_SUBMITTED] =
        "{\"code\": \"P-7K3M-9QX2-BHT4\", \"service_name\": \"" LONG_SERVICE
        "\", \"method\": \"post\"}",
    [DK_NOTIFY_APPLICATION_REJECTED] =
        "{\"code\": \"P-7K3M-9QX2-BHT4\", \"reason\": "
        "\"Foto Kartu Keluarga tidak terbaca\"}",
    [DK_NOTIFY_APPLICATION_READY] =
        "{\"code\": \"P-7K3M-9QX2-BHT4\", \"office_name\": \"" LONG_OFFICE
        "\"}",
    [DK_NOTIFY_APPLICATION_SHIPPED] =
        "{\"code\": \"P-7K3M-9QX2-BHT4\", \"receipt_number\": "
        "\"P2212120012345\"}",
    [DK_NOTIFY_DELIVERY_DELIVERED] = "{\"code\": \"P-7K3M-9QX2-BHT4\"}",
    [DK_NOTIFY_DELIVERY_FAILED] =
        "{\"code\": \"P-7K3M-9QX2-BHT4\", \"office_name\": \"" LONG_OFFICE
        "\"}",
};

static void
default_templates_fit_one_sms(void **state)
{
    char out[DK_NOTIFY_TEXT_MAX], why[160];
    int kind, n, septets;

    (void)state;
    for (kind = 0; kind < DK_NOTIFY_KINDS; kind++) {
        json_t *params = json_loads(longest[kind], 0, NULL);
        const char *tpl = dk_notify_default_template(kind);

        assert_non_null(params);
        if (dk_notify_template_check(kind, tpl, why, sizeof(why)) != 0)
            fail_msg("%s: %s", dk_notify_kind_name(kind), why);
        n = dk_notify_render(kind, tpl, params, out, sizeof(out), why,
                             sizeof(why));
        if (n < 0)
            fail_msg("%s: %s", dk_notify_kind_name(kind), why);
        septets = dk_notify_gsm_septets(out);
        if (septets < 0 || septets > DK_NOTIFY_SMS_SEPTETS)
            fail_msg("%s: %d GSM characters: %s", dk_notify_kind_name(kind),
                     septets, out);
        json_decref(params);
    }
}

struct check_case {
    const char *kind;
    const char *tpl;
    const char *want; /* NULL: accepted; else in the reason */
};

static const struct check_case checks[] = {
    {"otp", "Kode {code}.", NULL},
    {"otp", "Kode {code} untuk {nik}.", "unknown placeholder {nik}"},
    {"otp", "Kode {office_name}", "unknown placeholder {office_name}"},
    {"otp", "Kode {code", "left open"},
    {"otp", "Kode code}", "without its '{'"},
    {"otp", "{{code}} {code}", NULL},
    {"application_shipped", "{receipt_number} {code}", NULL},
    {"delivery_delivered", "{kk}", "unknown placeholder {kk}"},
    {"appointment_booked", "{}", "unknown placeholder {}"},
};

static void
template_check_table_of_cases(void **state)
{
    char why[160];
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(checks); i++) {
        int kind = dk_notify_kind_parse(checks[i].kind);
        int rc =
            dk_notify_template_check(kind, checks[i].tpl, why, sizeof(why));

        if (checks[i].want == NULL && rc != 0)
            fail_msg("\"%s\" refused: %s", checks[i].tpl, why);
        if (checks[i].want != NULL &&
            (rc == 0 || strstr(why, checks[i].want) == NULL))
            fail_msg("\"%s\": %s, not %s", checks[i].tpl, rc ? why : "ok",
                     checks[i].want);
    }
    assert_int_equal(dk_notify_kind_parse("birthday"), -1);
    assert_int_equal(dk_notify_template_check(-1, "x", why, sizeof(why)), -1);
}

static void
gsm_septets_count_extensions_and_refuse_others(void **state)
{
    (void)state;
    assert_int_equal(dk_notify_gsm_septets("Kode: 12 (A-B)."), 15);
    assert_int_equal(dk_notify_gsm_septets("{x}"), 5);
    assert_int_equal(dk_notify_gsm_septets("caf\xc3\xa9"), -1);
    assert_int_equal(dk_notify_gsm_septets("`"), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_table_of_cases),
        cmocka_unit_test(default_templates_fit_one_sms),
        cmocka_unit_test(template_check_table_of_cases),
        cmocka_unit_test(gsm_septets_count_extensions_and_refuse_others),
    };

    return cmocka_run_group_tests_name("notify_text", tests, NULL, NULL);
}
