/*
 * The courier's manifests: one CSV file a batch, derived from its rows and
 * written atomically (a temporary file, fsync, rename, the folder's fsync),
 * then recorded as written. A manifest a crash kept from being written, or
 * that was lost, is written again, byte for byte the same.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "log.h"
#include "manifest.h"

#define DK_MANIFEST_HEADER                                                     \
    "batch_id,line,tracking_code,recipient_name,phone,street,rt_rw,"           \
    "kelurahan,kecamatan,city,postal_code,document\r\n"

/* manifests written between two folder fsyncs */
#define DK_MANIFEST_RECORD_EVERY 100

typedef struct {
    dk_job_t *job;
    FILE *f;
    char code[64];
    char tmp[4096];
    char path[4096];
    long long lines;
    int files;
} dk_manifest_t;

/* RFC 4180; a cell a spreadsheet would run as a formula is written as text,
 * behind an apostrophe (OWASP), the citizen's text otherwise unchanged. */
static void
dk_csv_field(FILE *f, const char *s, int last)
{
    const char *p;
    int formula = dk_csv_formula(s, strlen(s));

    if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
    } else {
        fputs(formula ? "\"'" : "\"", f);
        for (p = s; *p != '\0'; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    }
    fputs(last ? "\r\n" : ",", f);
}

static int
dk_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int
dk_manifest_open(dk_manifest_t *m, const char *code)
{
    const char *dir = m->job->cfg->outbox_dir;
    int fd;

    snprintf(m->code, sizeof(m->code), "%s", code);
    snprintf(m->tmp, sizeof(m->tmp), "%s/.manifest-%s.csv.tmp", dir, code);
    snprintf(m->path, sizeof(m->path), "%s/manifest-%s.csv", dir, code);
    /* 0640: the courier's account reads manifests through the group */
    fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    m->f = fd < 0 ? NULL : fdopen(fd, "w");
    if (m->f == NULL) {
        if (fd >= 0)
            close(fd);
        return dk_err_set(&m->job->err, "%s: %s", m->tmp, strerror(errno));
    }
    fputs(DK_MANIFEST_HEADER, m->f);
    m->lines = 0;
    return DK_OK;
}

/* temporary file, fsync, rename: the manifest is either absent or whole.
 * The folder is fsynced by dk_manifest_record before the database says the
 * manifest is written, so that a power cut cannot lose a rename that the
 * database counts on. */
static int
dk_manifest_close(dk_manifest_t *m)
{
    FILE *f = m->f;
    int bad;

    m->f = NULL;
    bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad)
        return dk_err_set(&m->job->err, "%s: %s", m->tmp, strerror(errno));
    if (rename(m->tmp, m->path) != 0)
        return dk_err_set(&m->job->err, "%s: %s", m->path, strerror(errno));
    dk_crash_point("after_rename");
    dk_log_info("manifest_written", "batch=%s lines=%lld", m->code, m->lines);
    m->files++;
    return DK_OK;
}

static void
dk_manifest_abandon(dk_manifest_t *m)
{
    if (m->f == NULL)
        return;
    fclose(m->f);
    m->f = NULL;
    unlink(m->tmp);
}

static int
dk_manifest_row(dk_manifest_t *m, PGresult *row)
{
    int i, n = PQnfields(row);

    if (m->f == NULL && dk_manifest_open(m, PQgetvalue(row, 0, 0)) != DK_OK)
        return DK_ERR;
    for (i = 0; i < n; i++)
        dk_csv_field(m->f, PQgetvalue(row, 0, i), i == n - 1);
    m->lines++;
    if (m->files == 0 && m->lines == 2) {
        fflush(m->f);
        dk_crash_point("mid_manifest");
    }
    return DK_OK;
}

/* The batches whose manifest is not in the outbox: never written (a crash
 * between the commit and the file), or lost since, within the retention:
 * a manifest handed over long ago and deleted stays deleted. */
int
dk_manifests_missing(dk_job_t *job, long long **ids, size_t *count)
{
    char path[4096], days[16];
    const char *params[] = {days};
    struct stat st;
    size_t cap = 0;
    PGresult *row;
    int rc;

    *ids = NULL;
    *count = 0;
    snprintf(days, sizeof(days), "%d", job->cfg->manifest_retention_days);
    if (dk_db_stream(job->db,
                     "SELECT id, code, manifest_written_at IS NULL"
                     " FROM delivery_batch"
                     " WHERE manifest_written_at IS NULL"
                     "    OR manifest_written_at > now() - $1::int * interval"
                     " '1 day' ORDER BY code",
                     1, params) != DK_OK)
        return dk_job_db_fail(job);
    while ((rc = dk_db_stream_next(job->db, &row)) == DK_OK) {
        snprintf(path, sizeof(path), "%s/manifest-%s.csv", job->cfg->outbox_dir,
                 PQgetvalue(row, 0, 1));
        if (PQgetvalue(row, 0, 2)[0] == 't' || stat(path, &st) != 0) {
            if (*count == cap) {
                long long *p;

                cap = cap ? cap * 2 : 64;
                p = realloc(*ids, cap * sizeof(*p));
                if (p == NULL) {
                    PQclear(row);
                    dk_db_stream_cancel(job->db);
                    return dk_err_set(&job->err, "out of memory");
                }
                *ids = p;
            }
            (*ids)[(*count)++] = strtoll(PQgetvalue(row, 0, 0), NULL, 10);
        }
        PQclear(row);
    }
    return rc == DK_ERR ? dk_job_db_fail(job) : DK_OK;
}

/* One manifest from its rows, streamed in line order. */
static int
dk_manifest_write_one(dk_manifest_t *m, long long id)
{
    dk_job_t *job = m->job;
    char id_s[24];
    const char *params[] = {id_s, job->cfg->city};
    PGresult *row;
    int rc;

    snprintf(id_s, sizeof(id_s), "%lld", id);
    if (dk_db_stream(job->db,
                     "SELECT b.code, d.line, a.code, a.name, a.phone,"
                     " a.street, a.rt || '/' || a.rw, a.kelurahan,"
                     " COALESCE(k.name, a.kecamatan_written), $2,"
                     " a.postal_code, s.name"
                     " FROM delivery_batch b"
                     " JOIN delivery d ON d.batch_id = b.id"
                     " JOIN application a ON a.id = d.application_id"
                     " JOIN service s ON s.code = a.service"
                     " LEFT JOIN kecamatan k ON k.code = b.kecamatan_code"
                     " WHERE b.id = $1 ORDER BY d.line",
                     2, params) != DK_OK)
        return dk_job_db_fail(job);
    while ((rc = dk_db_stream_next(job->db, &row)) == DK_OK) {
        rc = dk_manifest_row(m, row);
        PQclear(row);
        if (rc != DK_OK) {
            dk_db_stream_cancel(job->db);
            dk_manifest_abandon(m);
            return DK_ERR;
        }
    }
    if (rc == DK_ERR) {
        dk_manifest_abandon(m);
        return dk_job_db_fail(job);
    }
    if (m->f != NULL && dk_manifest_close(m) != DK_OK)
        return DK_ERR;
    return DK_OK;
}

/* Makes the renames of ids[0..n) durable, then records them written: one
 * folder fsync and one statement for many manifests. */
static int
dk_manifest_record(dk_job_t *job, const long long *ids, size_t n)
{
    char *list;
    const char *params[1];
    size_t i, len = 0;
    int rc;

    if (n == 0)
        return DK_OK;
    if (dk_fsync_dir(job->cfg->outbox_dir) != 0)
        return dk_err_set(&job->err, "%s: %s", job->cfg->outbox_dir,
                          strerror(errno));
    list = malloc(n * 21 + 3);
    if (list == NULL)
        return dk_err_set(&job->err, "out of memory");
    list[len++] = '{';
    for (i = 0; i < n; i++)
        len += sprintf(list + len, "%s%lld", i ? "," : "", ids[i]);
    list[len++] = '}';
    list[len] = '\0';
    params[0] = list;
    rc = dk_db_exec(job->db,
                    "UPDATE delivery_batch SET manifest_written_at = now()"
                    " WHERE id = ANY($1::bigint[])"
                    " AND manifest_written_at IS NULL",
                    1, params);
    free(list);
    return rc == DK_OK ? DK_OK : dk_job_db_fail(job);
}

int
dk_manifests_write(dk_job_t *job, const long long *ids, size_t count,
                   long long *written)
{
    dk_manifest_t m;
    size_t i, done = 0;
    int rc = DK_OK;

    memset(&m, 0, sizeof(m));
    m.job = job;
    for (i = 0; i < count && rc == DK_OK; i++) {
        if (dk_stop_requested) {
            /* the rest are written by the next run */
            m.job->interrupted = 1;
            break;
        }
        rc = dk_manifest_write_one(&m, ids[i]);
        if (rc == DK_OK && (i + 1) % DK_MANIFEST_RECORD_EVERY == 0) {
            rc = dk_manifest_record(job, ids + done, i + 1 - done);
            done = i + 1;
        }
    }
    if (rc == DK_OK)
        rc = dk_manifest_record(job, ids + done, i - done);
    *written = m.files;
    return rc;
}

/* Temporary files are left only by a run that died while writing one; the
 * job's lock says no other run is writing now. */
void
dk_manifests_clean(const dk_config_t *cfg)
{
    char path[4096];
    struct dirent *e;
    DIR *d = opendir(cfg->outbox_dir);
    size_t n;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        n = strlen(e->d_name);
        if (strncmp(e->d_name, ".manifest-", 10) == 0 && n > 4 &&
            strcmp(e->d_name + n - 4, ".tmp") == 0) {
            snprintf(path, sizeof(path), "%s/%s", cfg->outbox_dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}
