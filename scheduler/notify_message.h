/*
 * One message of the outbox as the sender holds it between its claim and
 * its settlement: what goes out, the try it is, and how the try ended.
 */
#ifndef DK_NOTIFY_MESSAGE_H
#define DK_NOTIFY_MESSAGE_H

#include "notify_policy.h"
#include "notify_text.h"
#include "phone.h"
#include "wib.h"

typedef enum {
    DK_VIA_WHATSAPP,
    DK_VIA_SMS,
    DK_VIA_FILE,
    DK_VIA_COUNT
} dk_via_t;

typedef struct dk_message_s dk_message_t;

struct dk_message_s {
    long long id;
    int kind;     /* dk_notify_kind_t */
    int via;      /* dk_via_t: the channel of this try */
    int attempts; /* this try is the attempts-th on its channel */
    char id_s[24];
    char phone[DK_PHONE_MAX];
    char created_at[DK_RFC3339_MAX];
    char text[DK_NOTIFY_TEXT_MAX];
    /* how the try ended: HTTP status (0: no answer), and why in words */
    long status;
    char error[160];
    void *transfer; /* the channel's own (a curl easy handle) */
    dk_message_t *next;
};

/* "whatsapp", "sms", "file": the words of notification.channel */
const char *dk_via_name(int via);

#endif
