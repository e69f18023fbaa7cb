/*
 * The Redis key schema and the quota rule, one place for the nginx module
 * and the scheduler.  The Lua scripts are handed every key they touch, so
 * the names are made here alone:
 *
 *   dk:epoch                      present while Redis holds a whole state
 *   {dk:epoch}:rebuilding         a rebuild under way (dk:epoch's slot)
 *   dk:bar:<nik>                  a no-show bar: its last day, YYYY-MM-DD
 *   dk:bar:phone:<phone E.164>    a no-show bar of the phone that booked
 *   dk:{<office>:<date>}:day      q:<svc> quota override, n:<svc> booked,
 *                                 s:<svc> last queue number; closed: the
 *                                 reason of a closure, opened: "1" for a
 *                                 normally closed weekday opened
 *   dk:{<office>:<date>}:adm      code -> "svc|nik|phone|queue|admitted ms"
 *   dk:{<office>:<date>}:nik      nik -> code of its active appointment
 *   dk:{<date>}:phone             phone -> its active appointments that
 *                                 date, at every office (its cap is per
 *                                 date, SPEC.md)
 *   dk:idem:<endpoint>:<key>      an Idempotency-Key and its answer
 *   dk:otp:<id>                   a verification code sent: h its hash,
 *                                 p the phone, n wrong tries; expires
 *                                 with the code
 *   dk:otp:h:<phone>, :d:<phone>  codes sent to a phone in the hour, the
 *                                 day since the first (expire with them)
 *   dk:otp:budget:<date>          codes sent in the city that WIB day
 *
 * The braces name the part of a key Redis Cluster would hash; a booking's
 * keys (its bar, the epoch, the date's phones) span several, so the state
 * is one Redis with replicas (Sentinel), not a Cluster.
 */
#ifndef DK_KEYS_H
#define DK_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define DK_KEY_EPOCH "dk:epoch"
#define DK_KEY_REBUILDING "{dk:epoch}:rebuilding"
#define DK_KEY_BAR_PREFIX "dk:bar:"
#define DK_KEY_PHONE_BAR_PREFIX "dk:bar:phone:"
#define DK_KEY_IDEMPOTENCY_PREFIX "dk:idem:"
#define DK_KEY_OTP_PREFIX "dk:otp:"

/* SCAN patterns: every bar, every day key */
#define DK_KEY_BAR_PATTERN DK_KEY_BAR_PREFIX "*"
#define DK_KEY_PHONE_BAR_PATTERN DK_KEY_PHONE_BAR_PREFIX "*"
#define DK_KEY_DAY_PATTERN "dk:{*"

/* room for any key made here, NUL included (an office code has <= 32) */
#define DK_KEY_MAX 64

/* the keys of one office's day, in the order the scripts take them */
typedef enum {
    DK_DAY_COUNTS = 0, /* ":day" */
    DK_DAY_ADMISSIONS, /* ":adm" */
    DK_DAY_NIKS,       /* ":nik" */
    DK_DAY_PHONES,     /* ":phone" */
    DK_DAY_KEYS
} dk_day_key;

/* the fields of a day's ":day" hash, per service */
typedef enum {
    DK_FIELD_QUOTA = 'q',  /* an operator's override */
    DK_FIELD_BOOKED = 'n', /* admissions counted */
    DK_FIELD_QUEUE = 's'   /* the last queue number handed out */
} dk_day_field;

/* the day's calendar in its ":day" hash, whatever the service (closures
 * and openings are PostgreSQL's calendar_closure and calendar_opening) */
#define DK_FIELD_CLOSED "closed" /* a closure's reason: no one is admitted */
#define DK_FIELD_OPENED "opened" /* "1": a normally closed weekday opened */

/* what the calendar says of a day at an office; a closure wins */
typedef enum {
    DK_CALENDAR_USUAL = 0, /* as the configured weekdays say */
    DK_CALENDAR_OPENED,    /* a normally closed weekday opened */
    DK_CALENDAR_CLOSED     /* closed: a holiday, cuti bersama, a closure */
} dk_calendar;

/* Writes "dk:{office:date}:<part>" ("dk:{date}:phone": the phones are the
 * date's, whatever the office) and a NUL into out; returns its length, or
 * -1 if it does not fit in size bytes. date is YYYY-MM-DD. */
int dk_key_day(char *out, size_t size, const char *office, size_t office_len,
               const char *date, dk_day_key part);

/* Writes "dk:bar:<nik>" (16 digits) and a NUL; returns its length or -1. */
int dk_key_bar(char *out, size_t size, const char *nik);

/* the keys of a verification code, in the order lua/otp_send.lua takes
 * them */
typedef enum {
    DK_OTP_CODE = 0, /* "dk:otp:<id>" */
    DK_OTP_HOUR,     /* "dk:otp:h:<phone>" */
    DK_OTP_DAY,      /* "dk:otp:d:<phone>" */
    DK_OTP_BUDGET,   /* "dk:otp:budget:<date>" */
    DK_OTP_KEYS
} dk_otp_key;

/* Writes the part's key of s (an id, a phone E.164 or a date; at most 40
 * bytes) and a NUL into out; returns its length, or -1 if it does not fit
 * in size bytes. */
int dk_key_otp(char *out, size_t size, dk_otp_key part, const char *s,
               size_t len);

/* Writes "dk:bar:phone:<phone>" (E.164, len bytes, at most 16) and a NUL;
 * returns its length or -1. */
int dk_key_phone_bar(char *out, size_t size, const char *phone, size_t len);

/* The phone of a phone's bar key (up to the key's end), or NULL if key is
 * not one. */
const char *dk_key_bar_phone(const char *key, size_t len);

/* Writes "<field>:<service>" and a NUL; returns its length or -1. */
int dk_key_field(char *out, size_t size, dk_day_field field,
                 const char *service, size_t service_len);

/* The date of a day key ("dk:{office:YYYY-MM-DD}:..."): a pointer to its 10
 * bytes inside key, or NULL if key is not a day key. */
const char *dk_key_day_date(const char *key, size_t len);

/* The NIK of a bar key, or NULL if key is not one. */
const char *dk_key_bar_nik(const char *key, size_t len);

/* When a day's keys may go, in unix seconds: a week after the WIB day, so
 * that they outlive it even if the nightly reconcile never comes. */
int64_t dk_key_day_expiry(int32_t day);

/* The quota rule: 0 on a closed day; else an operator's override (>= 0)
 * wins; otherwise the configured quota, or 0 on a weekday the office is
 * closed unless the day was opened. Negative override: none.
 * lua/book.lua applies the same rule to its arguments. */
long dk_quota_effective(long override, long configured, int closed_weekday,
                        dk_calendar calendar);

/* Whether the calendar lets a day take bookings at all: not closed, and
 * opened if it falls on a weekday the office is closed. An override on a
 * closed weekday sets its quota, it does not open it. */
int dk_day_bookable(int closed_weekday, dk_calendar calendar);

#endif
