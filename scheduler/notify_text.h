/*
 * The texts of the citizens' messages: the kinds of the outbox, the
 * placeholders each kind's params carry, the default Indonesian templates,
 * and their rendering. Pure C and jansson: no libpq, no I/O.
 */
#ifndef DK_NOTIFY_TEXT_H
#define DK_NOTIFY_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* the kinds of table notification (sql/008_notification.sql), in order */
typedef enum {
    DK_NOTIFY_OTP,
    DK_NOTIFY_APPOINTMENT_BOOKED,
    DK_NOTIFY_APPOINTMENT_CANCELLED,
    DK_NOTIFY_APPOINTMENT_CANCELLED_BY_OFFICE,
    DK_NOTIFY_APPOINTMENT_REMINDER,
    DK_NOTIFY_APPLICATION_SUBMITTED,
    DK_NOTIFY_APPLICATION_REJECTED,
    DK_NOTIFY_APPLICATION_READY,
    DK_NOTIFY_APPLICATION_SHIPPED,
    DK_NOTIFY_DELIVERY_DELIVERED,
    DK_NOTIFY_DELIVERY_FAILED,
    DK_NOTIFY_KINDS
} dk_notify_kind_t;

/* a rendered text is at most this long (bytes, NUL included) */
#define DK_NOTIFY_TEXT_MAX 1024
/* one SMS: 160 characters of the GSM 03.38 alphabet */
#define DK_NOTIFY_SMS_SEPTETS 160

const char *dk_notify_kind_name(int kind);
/* The kind of a name, or -1. */
int dk_notify_kind_parse(const char *name);
const char *dk_notify_default_template(int kind);

/* 0 when every {placeholder} of tpl is one kind's params carry and every
 * brace is closed ("{{" and "}}" are a brace); else -1 and why says which. */
int dk_notify_template_check(int kind, const char *tpl, char *why,
                             size_t whylen);

/* Writes tpl with each {placeholder} replaced by its param into out: a date
 * as "Senin 7/12/2026", a method in words, the rest as given. Returns the
 * text's length, or -1 with why: a param missing or of a wrong type, a
 * text too long, or a run of 16 digits (a NIK or KK never goes out). */
int dk_notify_render(int kind, const char *tpl, const json_t *params, char *out,
                     size_t outlen, char *why, size_t whylen);

/* Characters of text in the GSM 03.38 alphabet (an extension character
 * counts two), or -1 when one is outside it (the SMS then goes as UCS-2). */
int dk_notify_gsm_septets(const char *text);

#endif
