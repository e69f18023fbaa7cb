
/*
 * JSON answers and the error contract of API.md: every error body is
 * {"error": code, "message": an Indonesian sentence, "field": name}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_dukcapil_conf.h"
#include "ngx_http_dukcapil_reply.h"


typedef struct {
    const char  *error;
    const char  *message;
} ngx_http_dukcapil_message_t;


static ngx_http_dukcapil_message_t  ngx_http_dukcapil_messages[] = {
    { "invalid_json", "Data yang dikirim bukan JSON yang benar." },
    { "unsupported_media_type",
      "Kirim data dengan Content-Type application/json." },
    { "body_too_large", "Data yang dikirim terlalu besar (maksimal 16 KiB)." },
    { "method_not_allowed", "Metode permintaan ini tidak didukung." },
    { "not_found", "Data tidak ditemukan. Periksa kode dan NIK Anda." },
    { "invalid_nik", "NIK tidak valid. Periksa kembali 16 digit NIK Anda." },
    { "invalid_kk",
      "Nomor KK tidak valid. Periksa kembali 16 digit nomor KK Anda." },
    { "invalid_phone", "Nomor ponsel tidak valid. Gunakan nomor seluler "
                       "Indonesia, misalnya 0812 3456 7890." },
    { "invalid_name", "Nama tidak valid (1 sampai 100 karakter)." },
    { "invalid_date", "Tanggal tidak valid, di luar masa pendaftaran, atau "
                      "kantor tutup pada tanggal tersebut." },
    { "invalid_from", "Tanggal awal tidak valid atau sesudah tanggal "
                      "akhir." },
    { "invalid_to", "Tanggal akhir tidak valid atau rentang terlalu "
                    "panjang (ketersediaan: 31 hari, statistik: 92 "
                    "hari)." },
    { "invalid_cursor", "Penanda halaman (cursor) tidak valid. Gunakan "
                        "next_cursor dari halaman sebelumnya." },
    { "invalid_limit", "Jumlah per halaman (limit) harus bilangan bulat 1 "
                       "sampai 100." },
    { "invalid_format", "Format harus \"json\" atau \"csv\"." },
    { "unknown_service", "Layanan tidak dikenal." },
    { "unknown_office", "Kantor layanan tidak dikenal." },
    { "quota_full", "Kuota layanan pada tanggal tersebut sudah penuh." },
    { "already_booked", "NIK ini sudah memiliki janji temu aktif pada "
                        "tanggal tersebut." },
    { "phone_limit", "Nomor HP ini sudah mencapai batas janji temu." },
    { "no_show_bar", "Pendaftaran online untuk NIK atau nomor ponsel ini "
                     "ditangguhkan sementara karena tidak hadir pada janji "
                     "temu sebelumnya." },
    { "unavailable", "Layanan sedang tidak tersedia. Silakan coba beberapa "
                     "saat lagi." },
    { "state_rebuilding", "Sistem antrean sedang dipulihkan. Silakan coba "
                          "beberapa saat lagi." },
    { "idempotency_mismatch", "Idempotency-Key ini sudah dipakai untuk "
                              "permintaan yang berbeda." },
    { "idempotency_in_progress", "Permintaan dengan Idempotency-Key ini "
                                 "masih diproses. Silakan ulangi sebentar "
                                 "lagi." },
    { "invalid_idempotency_key", "Idempotency-Key tidak valid (16 sampai "
                                 "64 huruf, angka, \"-\" atau \"_\")." },
    { "cross_site_request", "Permintaan ini hanya dapat dikirim dari "
                            "halaman petugas layanan ini sendiri." },
    { "checked_in", "Janji temu yang sudah check-in tidak dapat "
                    "dibatalkan." },
    { "appointment_closed", "Janji temu ini tidak dapat diubah lagi." },
    { "not_today", "Check-in hanya dapat dilakukan pada tanggal janji "
                   "temu." },
    { "invalid_transition", "Perubahan status ini tidak diizinkan dari "
                            "status saat ini." },
    { "invalid_status", "Status tidak dikenal." },
    { "invalid_counter", "Nama loket tidak valid (1 sampai 16 huruf, angka "
                         "atau \"-\")." },
    { "invalid_services", "Pilih paling sedikit satu layanan yang dikenal, "
                          "masing-masing sekali." },
    { "queue_empty", "Tidak ada warga yang menunggu untuk layanan ini." },
    { "delivery_status_reserved", "Status ini hanya diubah oleh sistem "
                                  "pengiriman: batched oleh penjadwal, "
                                  "in_transit, delivered dan returned oleh "
                                  "data kurir PT Pos. Petugas tidak dapat "
                                  "mengubahnya." },
    { "delivery_closed", "Cara penerimaan dokumen permohonan ini tidak "
                         "dapat diubah lagi: permohonan tidak dikirim "
                         "melalui PT Pos, sudah masuk daftar kiriman, atau "
                         "sudah selesai." },
    { "invalid_method", "Kirim kecamatan yang sudah dipastikan, atau "
                        "method \"pickup\" dengan kantor layanan (office), "
                        "tidak keduanya." },
    { "invalid_note", "Catatan harus teks satu baris, paling banyak 1000 "
                     "karakter. Penolakan wajib disertai alasannya: "
                     "itulah yang dibaca pemohon." },
    { "invalid_quota", "Kuota harus bilangan bulat 0 sampai 100000." },
    { "invalid_reason", "Alasan penutupan wajib diisi: teks satu baris, "
                        "paling banyak 200 karakter." },
    { "not_closed_weekday", "Kantor biasanya buka pada hari tersebut, jadi "
                            "tidak perlu dibuka khusus." },
    { "appointments_on_date", "Masih ada janji temu aktif pada tanggal "
                              "ini. Tutup tanggal ini dengan alasannya agar "
                              "warga diberi tahu." },
    { "invalid_delivery", "Cara penerimaan dokumen harus \"pickup\" atau "
                          "\"post\"." },
    { "delivery_budget_exhausted", "Anggaran pengiriman dokumen melalui PT "
                                   "Pos untuk periode ini sudah habis. "
                                   "Silakan pilih diambil di kantor "
                                   "layanan." },
    { "invalid_address", "Alamat pengiriman wajib diisi lengkap." },
    { "invalid_street", "Nama jalan dan nomor rumah wajib diisi." },
    { "invalid_rt", "RT tidak valid." },
    { "invalid_rw", "RW tidak valid." },
    { "invalid_kelurahan", "Kelurahan tidak valid atau tidak berada di "
                           "kecamatan tersebut." },
    { "invalid_kecamatan", "Kecamatan tidak dikenal di Kota Pekanbaru." },
    { "invalid_postal_code", "Kode pos harus 5 digit antara 28111 dan "
                             "28299." },
    { "too_many_requests", "Terlalu banyak permintaan. Silakan coba lagi "
                           "sebentar lagi." },
    { "too_many_codes", "Terlalu banyak permintaan kode untuk nomor ini. "
                        "Silakan coba lagi nanti." },
    { "otp_budget_exhausted", "Pengiriman kode verifikasi hari ini sudah "
                              "mencapai batas. Silakan coba lagi besok atau "
                              "datang langsung ke kantor layanan." },
    { "invalid_otp", "Kode verifikasi salah." },
    { "otp_locked", "Terlalu banyak kode salah. Minta kode verifikasi "
                    "baru." },
    { "otp_expired", "Kode verifikasi sudah tidak berlaku. Minta kode "
                     "baru." },
    { "invalid_phone_token", "Nomor ponsel belum diverifikasi atau "
                             "verifikasinya sudah kedaluwarsa. Verifikasi "
                             "nomor ponsel Anda dengan kode yang kami "
                             "kirim." },
    { NULL, NULL }
};


ngx_int_t
ngx_http_dukcapil_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   type = ngx_string("application/json");

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = json_dumpb(json, NULL, 0, JSON_COMPACT);

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        json_decref(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) json_dumpb(json, (char *) p, len, JSON_COMPACT);
    json_decref(json);

    p[len++] = '\n';

    return ngx_http_dukcapil_send_text(r, status, &type, p, len);
}


ngx_int_t
ngx_http_dukcapil_send_text(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    if (r->connection->destroyed || r->header_sent) {
        return NGX_ERROR;
    }

    r->headers_out.status = status;

    if (status == NGX_HTTP_UNPROCESSABLE_ENTITY) {
        /* nginx knows no reason phrase for 422 */
        ngx_str_set(&r->headers_out.status_line, "422 Unprocessable Entity");
    }
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = len;

    if (ngx_http_set_content_type(r) != NGX_OK && type->len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.charset.len = sizeof("utf-8") - 1;
    r->headers_out.charset.data = (u_char *) "utf-8";

    /* answers about a citizen are never cached by anyone in between */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only || len == 0) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the Indonesian sentence of an error code: plain text, nothing to escape */

const char *
ngx_http_dukcapil_error_message(const char *error)
{
    ngx_http_dukcapil_message_t  *m;

    for (m = ngx_http_dukcapil_messages; m->error; m++) {
        if (ngx_strcmp(m->error, error) == 0) {
            return m->message;
        }
    }

    return "Permintaan tidak dapat diproses.";
}


json_t *
ngx_http_dukcapil_error_json(const char *error, const char *field)
{
    const char  *message;

    message = ngx_http_dukcapil_error_message(error);

    if (field) {
        return json_pack("{s:s, s:s, s:s}", "error", error,
                         "message", message, "field", field);
    }

    return json_pack("{s:s, s:s}", "error", error, "message", message);
}


ngx_int_t
ngx_http_dukcapil_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *field)
{
    return ngx_http_dukcapil_send_json(r, status,
                                       ngx_http_dukcapil_error_json(error,
                                                                    field));
}


/* 422 invalid_<field>, or unknown_<field> for the two codes of API.md */

ngx_int_t
ngx_http_dukcapil_send_invalid(ngx_http_request_t *r, const char *field)
{
    u_char  error[64];

    if (ngx_strcmp(field, "service") == 0 || ngx_strcmp(field, "office") == 0)
    {
        ngx_snprintf(error, sizeof(error), "unknown_%s%Z", field);

    } else {
        ngx_snprintf(error, sizeof(error), "invalid_%s%Z", field);
    }

    return ngx_http_dukcapil_send_error(r, NGX_HTTP_UNPROCESSABLE_ENTITY,
                                        (char *) error, field);
}


/* finishes a request from outside its own event handlers */

void
ngx_http_dukcapil_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}
