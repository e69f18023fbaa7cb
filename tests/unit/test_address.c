#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "address.h"
#include "kelurahan_table.h"
#include "unit.h"

#define BINAWIDYA "14.71.08"
#define TUAHMADANI "14.71.13"
#define RUMBAI "14.71.12"
#define RUMBAI_BARAT "14.71.06"
#define RUMBAI_TIMUR "14.71.15"

#define STREET "Jl. Jend. Sudirman No. 12"

struct address_case {
    const char *why;
    const char *street, *rt, *rw, *kelurahan, *kecamatan, *postal_code;
    const char *field;          /* NULL: valid */
    const char *kecamatan_code; /* when valid; NULL: undecided */
    int needs_confirmation;
    const char *rt_want, *rw_want; /* NULL: not checked */
};

static const struct address_case cases[] = {
    /* today's names */
    {"current names", STREET, "001", "002", "Simpang Empat", "Pekanbaru Kota",
     "28116", NULL, "14.71.02", 0, "001", "002"},
    {"lower case with Kec. prefix", STREET, "1", "2", "Tuahkarya",
     "kec. tuah madani", "28291", NULL, TUAHMADANI, 0, NULL, NULL},
    {"Kecamatan and Kel. prefixes", STREET, "1", "2", "Kel. Sidomulyo Barat",
     "Kecamatan Tuah Madani", "28294", NULL, TUAHMADANI, 0, NULL, NULL},
    {"Tuahmadani written as one word", STREET, "1", "2", "Airputih",
     "Tuahmadani", "28296", NULL, TUAHMADANI, 0, NULL, NULL},
    {"Lima Puluh = Limapuluh", STREET, "1", "2", "Rintis", "Lima Puluh",
     "28141", NULL, "14.71.04", 0, NULL, NULL},
    {"Tanjung Rhu in any case", STREET, "1", "2", "tanjung rhu", "Limapuluh",
     "28143", NULL, "14.71.04", 0, NULL, NULL},
    {"upper case, Kel. without a space", STREET, "1", "2", "kel.simpang tiga",
     "KECAMATAN BUKIT RAYA", "28284", NULL, "14.71.07", 0, NULL, NULL},
    {"Kec and a dash inside the name", STREET, "1", "2", "Wonorejo",
     "Kec Marpoyan-Damai", "28125", NULL, "14.71.09", 0, NULL, NULL},
    {"surrounding spaces are trimmed", " " STREET " ", " 3 ", "4 ",
     "  Cinta Raja", " Sail ", " 28131 ", NULL, "14.71.03", 0, "003", "004"},
    {"postal code is not checked against the kelurahan", STREET, "1", "2",
     "Cinta Raja", "Sail", "28299", NULL, "14.71.03", 0, NULL, NULL},
    {"kelurahan of another kecamatan", STREET, "1", "2", "Rintis", "Sail",
     "28141", "kelurahan", NULL, 0, NULL, NULL},

    /* names from before the split: the kelurahan decides */
    {"Tampan + Simpang Baru is Binawidya", STREET, "1", "2", "Simpang Baru",
     "Tampan", "28293", NULL, BINAWIDYA, 0, NULL, NULL},
    {"Tampan + Simpangbaru is Binawidya", STREET, "1", "2", "Simpangbaru",
     "Kec. Tampan", "28293", NULL, BINAWIDYA, 0, NULL, NULL},
    {"Tampan + Sialangmunggu is Tuahmadani", STREET, "1", "2", "Sialangmunggu",
     "Tampan", "28299", NULL, TUAHMADANI, 0, NULL, NULL},
    {"kelurahan Tampan was never in kecamatan Tampan", STREET, "1", "2",
     "Tampan", "Tampan", "28292", "kelurahan", NULL, 0, NULL, NULL},
    {"Rumbai Pesisir + Meranti Pandak is Rumbai", STREET, "1", "2",
     "Meranti Pandak", "Rumbai Pesisir", "28266", NULL, RUMBAI, 0, NULL, NULL},
    {"Rumbai Pesisir + Sungaiukai is Rumbai Timur", STREET, "1", "2",
     "Sungai Ukai", "Rumbai Pesisir", "28287", NULL, RUMBAI_TIMUR, 0, NULL,
     NULL},
    {"Rumbai Pesisir + Limbungan, 28261: the kelurahan decides", STREET, "1",
     "2", "Limbungan", "Rumbai Pesisir", "28261", NULL, RUMBAI_TIMUR, 0, NULL,
     NULL},
    {"Rumbai + Palas is today's Rumbai", STREET, "1", "2", "Palas", "Rumbai",
     "28264", NULL, RUMBAI, 0, NULL, NULL},
    {"Rumbai + Limbungan Baru is today's Rumbai", STREET, "1", "2",
     "Limbungan Baru", "Rumbai", "28261", NULL, RUMBAI, 0, NULL, NULL},
    {"old Rumbai + Rumbai Bukit is Rumbai Barat", STREET, "1", "2",
     "Rumbai Bukit", "Rumbai", "28264", NULL, RUMBAI_BARAT, 0, NULL, NULL},
    {"Rumbai + Limbungan: never in either Rumbai", STREET, "1", "2",
     "Limbungan", "Rumbai", "28261", "kelurahan", NULL, 0, NULL, NULL},
    {"Rumbai Barat + Palas: Palas is not in Rumbai Barat", STREET, "1", "2",
     "Palas", "Rumbai Barat", "28264", "kelurahan", NULL, 0, NULL, NULL},
    {"Tenayan Raya + Kulim: Kulim came out of it", STREET, "1", "2", "Kulim",
     "Tenayan Raya", "28286", NULL, "14.71.14", 0, NULL, NULL},
    {"Payung Sekaki + Sungaisibam: moved to Binawidya", STREET, "1", "2",
     "Sungaisibam", "Payung Sekaki", "28292", NULL, BINAWIDYA, 0, NULL, NULL},
    {"Binawidya + Sungai Sibam", STREET, "1", "2", "Sungai Sibam", "Binawidya",
     "28292", NULL, BINAWIDYA, 0, NULL, NULL},
    {"Tampan + Sungaisibam: it was in Payung Sekaki", STREET, "1", "2",
     "Sungaisibam", "Tampan", "28292", "kelurahan", NULL, 0, NULL, NULL},

    /* unknown kelurahan: accepted, an operator confirms */
    {"unknown kelurahan, current kecamatan", STREET, "1", "2",
     "Kampung Baru Sekali", "Sukajadi", "28121", NULL, "14.71.01", 1, NULL,
     NULL},
    {"unknown kelurahan, Tampan, postal code decides", STREET, "1", "2",
     "Suka Damai", "Tampan", "28293", NULL, BINAWIDYA, 1, NULL, NULL},
    {"unknown kelurahan, Tampan, postal code of neither", STREET, "1", "2",
     "Suka Damai", "Tampan", "28111", NULL, NULL, 1, NULL, NULL},
    {"unknown kelurahan, Rumbai Pesisir, 28261 spans both", STREET, "1", "2",
     "Suka Damai", "Rumbai Pesisir", "28261", NULL, NULL, 1, NULL, NULL},
    {"unknown kelurahan, Rumbai Pesisir, 28287 decides", STREET, "1", "2",
     "Suka Damai", "Rumbai Pesisir", "28287", NULL, RUMBAI_TIMUR, 1, NULL,
     NULL},
    {"unknown kelurahan, Rumbai, 28267 is Rumbai Barat's", STREET, "1", "2",
     "Suka Damai", "Rumbai", "28267", NULL, RUMBAI_BARAT, 1, NULL, NULL},
    {"unknown kelurahan, Rumbai, 28264 is in both", STREET, "1", "2",
     "Suka Damai", "Rumbai", "28264", NULL, NULL, 1, NULL, NULL},
    {"unknown kelurahan, Rumbai, 28261 only today's Rumbai", STREET, "1", "2",
     "Suka Damai", "Rumbai", "28261", NULL, RUMBAI, 1, NULL, NULL},

    /* kecamatan */
    {"kecamatan of another city", STREET, "1", "2", "Rintis", "Bangkinang",
     "28141", "kecamatan", NULL, 0, NULL, NULL},
    {"a kelurahan name as kecamatan", STREET, "1", "2", "Simpang Baru",
     "Simpang Baru", "28293", "kecamatan", NULL, 0, NULL, NULL},
    {"only the prefix", STREET, "1", "2", "Rintis", "Kecamatan", "28141",
     "kecamatan", NULL, 0, NULL, NULL},
    {"empty kecamatan", STREET, "1", "2", "Rintis", "", "28141", "kecamatan",
     NULL, 0, NULL, NULL},
    {"empty kelurahan", STREET, "1", "2", "", "Sail", "28131", "kelurahan",
     NULL, 0, NULL, NULL},
    {"control character in kelurahan", STREET, "1", "2", "Cinta\nRaja", "Sail",
     "28131", "kelurahan", NULL, 0, NULL, NULL},

    /* RT and RW */
    {"rt 01", STREET, "01", "1", "Rintis", "Limapuluh", "28141", NULL,
     "14.71.04", 0, "001", "001"},
    {"RT 001 and RW 12", STREET, "RT 001", "RW 12", "Rintis", "Limapuluh",
     "28141", NULL, "14.71.04", 0, "001", "012"},
    {"rt.5 and rw.999", STREET, "rt.5", "rw.999", "Rintis", "Limapuluh",
     "28141", NULL, "14.71.04", 0, "005", "999"},
    {"rt 0", STREET, "0", "1", "Rintis", "Limapuluh", "28141", "rt", NULL, 0,
     NULL, NULL},
    {"rt 000", STREET, "000", "1", "Rintis", "Limapuluh", "28141", "rt", NULL,
     0, NULL, NULL},
    {"rt 1000", STREET, "1000", "1", "Rintis", "Limapuluh", "28141", "rt", NULL,
     0, NULL, NULL},
    {"rt written as RW", STREET, "RW 001", "1", "Rintis", "Limapuluh", "28141",
     "rt", NULL, 0, NULL, NULL},
    {"rt only the label", STREET, "RT", "1", "Rintis", "Limapuluh", "28141",
     "rt", NULL, 0, NULL, NULL},
    {"rt and rw together", STREET, "001/002", "2", "Rintis", "Limapuluh",
     "28141", "rt", NULL, 0, NULL, NULL},
    {"empty rw", STREET, "1", "", "Rintis", "Limapuluh", "28141", "rw", NULL, 0,
     NULL, NULL},
    {"rw written as RT", STREET, "1", "RT 2", "Rintis", "Limapuluh", "28141",
     "rw", NULL, 0, NULL, NULL},

    /* street */
    {"missing house number", "Jl. Jend. Sudirman", "1", "2", "Rintis",
     "Limapuluh", "28141", "street", NULL, 0, NULL, NULL},
    {"only a number", "12", "1", "2", "Rintis", "Limapuluh", "28141", "street",
     NULL, 0, NULL, NULL},
    {"shortest street", "A 1", "1", "2", "Rintis", "Limapuluh", "28141", NULL,
     "14.71.04", 0, NULL, NULL},
    {"empty street", "", "1", "2", "Rintis", "Limapuluh", "28141", "street",
     NULL, 0, NULL, NULL},
    {"newline in street", "Jl. Sudirman\nNo. 1", "1", "2", "Rintis",
     "Limapuluh", "28141", "street", NULL, 0, NULL, NULL},
    {"invalid UTF-8 in street", "Jl. Sudirman No. 1 \xff", "1", "2", "Rintis",
     "Limapuluh", "28141", "street", NULL, 0, NULL, NULL},

    /* postal code */
    {"postal 28300", STREET, "1", "2", "Rintis", "Limapuluh", "28300",
     "postal_code", NULL, 0, NULL, NULL},
    {"postal 28110", STREET, "1", "2", "Rintis", "Limapuluh", "28110",
     "postal_code", NULL, 0, NULL, NULL},
    {"postal 28111, the lowest", STREET, "1", "2", "Sumahilang",
     "Pekanbaru Kota", "28111", NULL, "14.71.02", 0, NULL, NULL},
    {"postal four digits", STREET, "1", "2", "Rintis", "Limapuluh", "2814",
     "postal_code", NULL, 0, NULL, NULL},
    {"postal with a space", STREET, "1", "2", "Rintis", "Limapuluh", "28 141",
     "postal_code", NULL, 0, NULL, NULL},
    {"postal missing", STREET, "1", "2", "Rintis", "Limapuluh", "",
     "postal_code", NULL, 0, NULL, NULL},
};

/* Checks one case on exactly sized heap copies of its fields. */
static int
run_case(size_t i, const struct address_case *c)
{
    dk_address_t a;
    dk_address_result_t r;
    char *buf[6];
    const char *src[6] = {c->street,    c->rt,        c->rw,
                          c->kelurahan, c->kecamatan, c->postal_code};
    size_t len[6], k;
    int rc, ok;

    for (k = 0; k < 6; k++) {
        len[k] = strlen(src[k]);
        buf[k] = exact_copy(src[k], len[k]);
    }
    a = (dk_address_t){buf[0], len[0], buf[1], len[1], buf[2], len[2],
                       buf[3], len[3], buf[4], len[4], buf[5], len[5]};
    memset(&r, 0x5a, sizeof(r));
    rc = dk_address_check(&a, &r);

    if (c->field != NULL) {
        ok = rc == -1 && r.field != NULL && strcmp(r.field, c->field) == 0;
    } else {
        ok = rc == 0 && r.field == NULL &&
             r.needs_confirmation == c->needs_confirmation &&
             (c->kecamatan_code == NULL
                  ? r.kecamatan_code == NULL && r.kecamatan_name == NULL
                  : r.kecamatan_code != NULL &&
                        strcmp(r.kecamatan_code, c->kecamatan_code) == 0 &&
                        r.kecamatan_name ==
                            dk_kecamatan_name(c->kecamatan_code)) &&
             (c->rt_want == NULL || strcmp(r.rt, c->rt_want) == 0) &&
             (c->rw_want == NULL || strcmp(r.rw, c->rw_want) == 0);
    }
    if (!ok) {
        print_error("case %zu (%s): rc %d field %s kecamatan %s confirm %d\n",
                    i, c->why, rc, r.field ? r.field : "-",
                    rc == 0 && r.kecamatan_code ? r.kecamatan_code : "-",
                    rc == 0 ? r.needs_confirmation : -1);
    }
    for (k = 0; k < 6; k++)
        free(buf[k]);
    return ok;
}

static void
address_table_of_cases(void **state)
{
    size_t i, failures = 0;

    (void)state;
    for (i = 0; i < N_CASES(cases); i++)
        failures += !run_case(i, &cases[i]);
    assert_int_equal(failures, 0);
}

/* Every kelurahan of the table, with today's kecamatan name and with the
 * name before the split, lands in its current kecamatan unconfirmed. */
static void
every_kelurahan_decides_its_kecamatan(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < dk_kelurahan_count; i++) {
        const dk_kelurahan_t *k = &dk_kelurahan_table[i];
        const dk_kecamatan_t *kc = &dk_kecamatan_table[k->kecamatan];
        const char *written[2] = {kc->name, k->kecamatan_before_split};

        for (j = 0; j < 2; j++) {
            dk_address_t a = {STREET,
                              strlen(STREET),
                              "1",
                              1,
                              "1",
                              1,
                              k->name,
                              strlen(k->name),
                              written[j],
                              strlen(written[j]),
                              k->postal_code,
                              5};
            dk_address_result_t r;

            assert_int_equal(dk_address_check(&a, &r), 0);
            assert_null(r.field);
            assert_string_equal(r.kecamatan_code, kc->code);
            assert_int_equal(r.needs_confirmation, 0);
        }
    }
}

static void
table_holds_the_city(void **state)
{
    size_t i, per[32] = {0};

    (void)state;
    assert_int_equal(dk_kecamatan_count, 15);
    assert_int_equal(dk_kelurahan_count, 83);
    for (i = 0; i < dk_kelurahan_count; i++) {
        const dk_kelurahan_t *k = &dk_kelurahan_table[i];

        assert_true(k->kecamatan < dk_kecamatan_count);
        assert_memory_equal(k->code, dk_kecamatan_table[k->kecamatan].code, 8);
        per[k->kecamatan]++;
    }
    for (i = 0; i < dk_kecamatan_count; i++)
        assert_true(per[i] > 0);
}

static void
missing_fields_are_named_not_dereferenced(void **state)
{
    dk_address_t a = {0};
    dk_address_result_t r;

    (void)state;
    assert_int_equal(dk_address_check(&a, &r), -1);
    assert_string_equal(r.field, "street");

    a.street = STREET;
    a.street_len = strlen(STREET);
    a.rt = "1";
    a.rt_len = 1;
    a.rw = "1";
    a.rw_len = 1;
    a.kelurahan = "Rintis";
    a.kelurahan_len = 6;
    a.kecamatan = "Limapuluh";
    a.kecamatan_len = 9;
    assert_int_equal(dk_address_check(&a, &r), -1);
    assert_string_equal(r.field, "postal_code");
}

static void
fields_are_read_only_up_to_their_length(void **state)
{
    dk_address_t a = {STREET "garbage",
                      strlen(STREET),
                      "12x",
                      2,
                      "3y",
                      1,
                      "Rintisz",
                      6,
                      "Lima Puluhx",
                      10,
                      "281419",
                      5};
    dk_address_result_t r;

    (void)state;
    assert_int_equal(dk_address_check(&a, &r), 0);
    assert_string_equal(r.kecamatan_code, "14.71.04");
    assert_string_equal(r.rt, "012");
    assert_string_equal(r.rw, "003");
}

static void
street_is_at_most_200_bytes(void **state)
{
    char street[201];
    dk_address_t a = {street,   200, "1",         1, "1",     1,
                      "Rintis", 6,   "Limapuluh", 9, "28141", 5};
    dk_address_result_t r;

    (void)state;
    memset(street, 'a', sizeof(street));
    memcpy(street, "No. 1 ", 6);
    assert_int_equal(dk_address_check(&a, &r), 0);
    a.street_len = 201;
    assert_int_equal(dk_address_check(&a, &r), -1);
    assert_string_equal(r.field, "street");
}

static void
kecamatan_name_by_code(void **state)
{
    (void)state;
    assert_string_equal(dk_kecamatan_name("14.71.08"), "Binawidya");
    assert_string_equal(dk_kecamatan_name("14.71.15"), "Rumbai Timur");
    assert_null(dk_kecamatan_name("14.71.16"));
    assert_null(dk_kecamatan_name("14.71.0"));
    assert_null(dk_kecamatan_name(""));
    assert_null(dk_kecamatan_name(NULL));
}

struct find_case {
    const char *in;
    size_t len;
    const char *want; /* NULL: not one of today's kecamatan */
};

static const struct find_case finds[] = {
    {S("Binawidya"), "14.71.08"},
    {S("  binawidya "), "14.71.08"},
    {S("Kecamatan Tuah Madani"), "14.71.13"},
    {S("Kec. Rumbai Timur"), "14.71.15"},
    {S("Lima Puluh"), "14.71.04"},
    {S("14.71.12"), "14.71.12"},
    {S("Rumbai"), "14.71.12"},
    {S("Tampan"), NULL},
    {S("Rumbai Pesisir"), NULL},
    {S("14.71.16"), NULL},
    {S("14.71.1"), NULL},
    {S("Kecamatan"), NULL},
    {S(""), NULL},
    {S("Binawidya\0"), NULL},
    {S("Binawidya Raya"), NULL},
};

static void
kecamatan_find_today_s_names_and_codes_only(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N_CASES(finds); i++) {
        char *s = exact_copy(finds[i].in, finds[i].len);
        const char *got = dk_kecamatan_find(s, finds[i].len);

        free(s);
        if (!(got == NULL
                  ? finds[i].want == NULL
                  : finds[i].want != NULL && strcmp(got, finds[i].want) == 0))
            fail_msg("case %zu (%s): %s, want %s", i, finds[i].in,
                     got ? got : "NULL",
                     finds[i].want ? finds[i].want : "NULL");
    }
    assert_null(dk_kecamatan_find(NULL, 3));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_table_of_cases),
        cmocka_unit_test(every_kelurahan_decides_its_kecamatan),
        cmocka_unit_test(table_holds_the_city),
        cmocka_unit_test(missing_fields_are_named_not_dereferenced),
        cmocka_unit_test(fields_are_read_only_up_to_their_length),
        cmocka_unit_test(street_is_at_most_200_bytes),
        cmocka_unit_test(kecamatan_name_by_code),
        cmocka_unit_test(kecamatan_find_today_s_names_and_codes_only),
    };

    return cmocka_run_group_tests_name("address", tests, NULL, NULL);
}
