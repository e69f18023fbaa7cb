// The portal's talk with the API (/api/v1, docs/openapi.yaml) and what every
// page shares: the Indonesian sentence of each error code, dates in WIB,
// the Idempotency-Key of a submission. A NIK travels in a body or in the
// X-NIK header only: never in a URL, a cookie or localStorage.

const TIMEOUT_MS = 15000;

export const SERVICE_NAMES = {
    ktp: "KTP-el", kk: "Kartu Keluarga (KK)", akta_lahir: "Akta Kelahiran",
    akta_mati: "Akta Kematian", kia: "Kartu Identitas Anak (KIA)",
    pindah: "Surat Keterangan Pindah (SKPWNI)", ambil: "Pengambilan Dokumen",
};

// One request. Answers {status, data, retryAfter}; status 0 when the
// network failed or the answer took too long.
export async function call(method, path, { body, nik, key } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (nik) headers["X-NIK"] = nik;
    if (key) headers["Idempotency-Key"] = key;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
        const res = await fetch(path, {
            method, headers, cache: "no-store", credentials: "same-origin",
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: abort.signal,
        });
        let data = {};
        try { data = await res.json(); } catch (e) { data = {}; }
        return { status: res.status, data,
                 retryAfter: Number(res.headers.get("Retry-After")) || 0 };
    } catch (e) {
        return { status: 0, data: { error: "network" }, retryAfter: 0 };
    } finally {
        clearTimeout(timer);
    }
}

// A key per submission attempt: made when the citizen submits, kept while
// the same answers are retried, so a double tap or a retry books once.
export function newKey() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// --- dates: every day is a day of WIB (UTC+7) ---------------------------

const DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
                "Agustus", "September", "Oktober", "November", "Desember"];

export function wibToday(offset = 0) {
    const d = new Date(Date.now() + 7 * 3600e3 + offset * 86400e3);
    return d.toISOString().slice(0, 10);
}

export function addDays(date, n) {
    const d = new Date(date + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
}

// "Senin, 7 Desember 2026"
export function longDate(date) {
    const d = new Date(date + "T00:00:00Z");
    return DAYS[d.getUTCDay()] + ", " + d.getUTCDate() + " " +
        MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
}

// an RFC 3339 time of the API (+07:00): "Senin, 7 Desember 2026, 09.15 WIB"
export function longTime(at) {
    const d = new Date(new Date(at).getTime() + 7 * 3600e3);
    const hm = String(d.getUTCHours()).padStart(2, "0") + "." +
        String(d.getUTCMinutes()).padStart(2, "0");
    return longDate(d.toISOString().slice(0, 10)) + ", " + hm + " WIB";
}

export function number(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

// --- what the citizen types, checked before anything is sent -------------

export const digits = (s) => String(s || "").replace(/[\s.-]/g, "");

export function nikProblem(nik) {
    const v = digits(nik);
    if (!v) return "Masukkan NIK Anda.";
    if (!/^\d{16}$/.test(v)) return "NIK harus 16 angka, seperti tertulis di KTP-el atau KK.";
    return null;
}

export function phoneProblem(phone) {
    const v = digits(phone).replace(/^\+/, "");
    if (!v) return "Masukkan nomor HP Anda.";
    if (!/^(0|62)8[1-35-9]\d{7,10}$/.test(v))
        return "Masukkan nomor HP Indonesia yang benar, seperti 0812-3456-7890.";
    return null;
}

export function codeProblem(code, letter, what) {
    const v = String(code || "").trim();
    if (!v) return "Masukkan " + what + ".";
    const bare = v.replace(/-/g, "").toUpperCase();
    if (!new RegExp("^" + letter + "[0-9A-Z]{12}$").test(bare))
        return what[0].toUpperCase() + what.slice(1) + " terdiri dari huruf " +
            letter + " dan 12 huruf atau angka, seperti " + letter +
            "-7K3M-9QX2-BHT4.";
    return null;
}

// --- the Indonesian sentence of every error code of the API --------------

const FIELD_MESSAGES = {
    invalid_nik: "NIK tidak valid. Periksa kembali 16 angka NIK Anda.",
    invalid_kk: "Nomor KK tidak valid. Periksa kembali 16 angka nomor Kartu Keluarga Anda.",
    invalid_name: "Masukkan nama lengkap Anda seperti tertulis di KTP-el atau KK.",
    invalid_phone: "Nomor HP tidak valid. Masukkan nomor HP Indonesia, seperti 0812-3456-7890.",
    unknown_service: "Pilih jenis layanan.",
    unknown_office: "Pilih kantor layanan.",
    invalid_date: "Tanggal ini tidak dapat dipilih. Pilih tanggal lain yang masih tersedia.",
    invalid_delivery: "Pilih cara menerima dokumen.",
    invalid_address: "Lengkapi alamat pengiriman.",
    invalid_street: "Masukkan nama jalan dan nomor rumah.",
    invalid_rt: "Masukkan nomor RT (1 sampai 3 angka).",
    invalid_rw: "Masukkan nomor RW (1 sampai 3 angka).",
    invalid_kelurahan: "Pilih kelurahan yang ada di kecamatan tersebut.",
    invalid_kecamatan: "Pilih kecamatan di Kota Pekanbaru.",
    invalid_postal_code: "Kode pos tidak sesuai. Kode pos Kota Pekanbaru antara 28111 dan 28299.",
    invalid_phone_token: "Verifikasi nomor HP Anda sudah tidak berlaku. Minta kode verifikasi baru.",
    invalid_otp: "Kode verifikasi salah.",
};

const MESSAGES = {
    network: "Koneksi internet Anda terputus atau terlalu lambat. Periksa koneksi Anda, lalu coba lagi.",
    unavailable: "Layanan sedang sibuk. Silakan coba lagi dalam beberapa saat. Jika janji temu Anda ternyata sudah tercatat, kodenya akan kami kirim ke WhatsApp/SMS Anda.",
    state_rebuilding: "Sistem antrean sedang dipulihkan. Silakan coba lagi dalam beberapa menit. Belum ada janji temu yang tercatat.",
    internal: "Terjadi kesalahan pada sistem kami. Silakan coba lagi dalam beberapa saat.",
    too_many_requests: "Terlalu banyak permintaan dari jaringan Anda. Tunggu sebentar, lalu coba lagi.",
    idempotency_in_progress: "Permintaan Anda sebelumnya masih diproses. Tunggu beberapa detik, lalu coba lagi.",
    idempotency_mismatch: "Data berubah setelah dikirim. Muat ulang halaman dan isi kembali formulirnya.",
    invalid_idempotency_key: "Terjadi kesalahan pada halaman. Muat ulang halaman, lalu coba lagi.",
    invalid_json: "Terjadi kesalahan pada halaman. Muat ulang halaman, lalu coba lagi.",
    unsupported_media_type: "Terjadi kesalahan pada halaman. Muat ulang halaman, lalu coba lagi.",
    body_too_large: "Data yang Anda isi terlalu panjang. Periksa kembali isian Anda.",
    not_found: "Kode dan NIK ini tidak cocok dengan data kami. Periksa kembali kode dan NIK Anda.",
    already_booked: "NIK ini sudah memiliki janji temu pada tanggal tersebut.",
    phone_limit: "Nomor HP ini sudah mencapai batas janji temu. Gunakan nomor HP lain, atau batalkan janji temu yang tidak jadi Anda datangi.",
    checked_in: "Janji temu ini tidak dapat dibatalkan karena Anda sudah hadir dan terdaftar di kantor layanan.",
    appointment_closed: "Janji temu ini sudah tidak dapat dibatalkan: tanggalnya sudah lewat, atau janji temu sudah dibatalkan oleh kantor layanan.",
    otp_expired: "Kode verifikasi sudah tidak berlaku. Minta kode baru.",
    otp_locked: "Kode verifikasi salah 5 kali. Minta kode baru.",
    otp_budget_exhausted: "Pengiriman kode verifikasi hari ini sedang dibatasi. Silakan coba lagi besok, atau datang langsung ke kantor layanan.",
    delivery_budget_exhausted: "Kuota pengiriman dokumen melalui PT Pos untuk periode ini sudah habis. Pilih diambil di kantor.",
    cross_site_request: "Permintaan ini ditolak. Buka halaman ini langsung dari alamat resmi layanan.",
    // answers of the operators' steps and of reading availability: a page
    // of this portal should never hear them, but says them plainly if so
    invalid_from: "Tanggal awal tidak valid. Muat ulang halaman, lalu coba lagi.",
    invalid_to: "Tanggal akhir tidak valid. Muat ulang halaman, lalu coba lagi.",
    invalid_method: "Cara menerima dokumen tidak valid. Pilih diambil di kantor atau dikirim melalui PT Pos.",
    invalid_status: "Status permohonan tidak valid.",
    invalid_note: "Catatan terlalu panjang atau berisi karakter yang tidak diizinkan.",
    invalid_quota: "Kuota harus berupa angka 0 atau lebih.",
    invalid_reason: "Tuliskan alasan penutupan.",
    not_closed_weekday: "Hari ini bukan hari libur rutin kantor, jadi tidak perlu dibuka.",
    not_today: "Kehadiran hanya dapat dicatat pada tanggal janji temu.",
    invalid_transition: "Status permohonan tidak dapat diubah ke langkah tersebut.",
    appointments_on_date: "Sudah ada janji temu pada tanggal ini. Tutup tanggalnya dengan alasan yang akan dibaca warga.",
    delivery_status_reserved: "Langkah pengiriman dicatat oleh sistem dan PT Pos, bukan oleh petugas.",
    delivery_closed: "Pengiriman dokumen ini sudah selesai dan tidak dapat diubah.",
    // the counter's (the operators' pages, /petugas/)
    invalid_counter: "Nomor loket tidak valid: angka, huruf, atau tanda hubung, paling banyak 16.",
    invalid_services: "Pilih paling sedikit satu layanan untuk loket ini.",
    queue_empty: "Tidak ada warga yang menunggu untuk layanan loket ini.",
    // the back office's (/petugas/): a page of this portal sends them right
    invalid_cursor: "Daftar sudah berubah. Muat ulang daftar dari awal.",
    invalid_limit: "Jumlah baris per halaman tidak valid (1 sampai 100).",
    invalid_format: "Format unduhan tidak dikenal. Pilih CSV.",
};

// The sentence for an answer; ctx may name the service and the date.
export function message(answer, ctx = {}) {
    const d = answer.data || {};
    const code = answer.status === 0 ? "network" : d.error;
    switch (code) {
    case "quota_full":
        return "Kuota " + (ctx.serviceName || "layanan ini") + " pada " +
            (ctx.date ? longDate(ctx.date) : "tanggal tersebut") +
            " sudah penuh. " + (d.next_available
                ? "Tanggal terdekat yang masih tersedia: " + longDate(d.next_available) + "."
                : "Belum ada tanggal lain yang tersedia dalam 14 hari ke depan.");
    case "no_show_bar":
        return "Anda belum dapat membuat janji temu secara daring sampai " +
            (d.until ? longDate(d.until) : "beberapa hari lagi") +
            " karena tidak hadir pada janji temu sebelumnya. Silakan datang langsung ke kantor layanan.";
    case "too_many_codes": {
        const min = Math.max(1, Math.ceil((answer.retryAfter || 60) / 60));
        return "Terlalu banyak permintaan kode. Coba lagi dalam " + min + " menit.";
    }
    case "invalid_otp":
        return "Kode verifikasi salah." + (d.attempts_left !== undefined
            ? " Sisa percobaan: " + d.attempts_left + "." : "");
    }
    if (FIELD_MESSAGES[code]) return FIELD_MESSAGES[code];
    if (MESSAGES[code]) return MESSAGES[code];
    if (answer.status >= 500) return MESSAGES.internal;
    return d.message || MESSAGES.internal;
}

// Answers after which the same request may simply be sent again.
export function retryable(answer) {
    return answer.status === 0 || answer.status === 503 ||
        answer.status === 502 || answer.status === 504 ||
        answer.status === 500 ||
        (answer.data && answer.data.error === "idempotency_in_progress");
}

// --- the error summary and the messages next to the fields ----------------
// (GOV.UK's pattern: the summary at the top of the form, each entry a link
// to its field; the field's own message above its input)

export function clearErrors(form) {
    form.querySelectorAll(".pesan-salah").forEach((e) => e.remove());
    form.querySelectorAll(".salah").forEach((e) => e.classList.remove("salah"));
    form.querySelectorAll("[aria-invalid]").forEach((e) => {
        e.removeAttribute("aria-invalid");
        const was = e.dataset.describedby;
        if (was !== undefined) e.setAttribute("aria-describedby", was);
    });
    const summary = form.querySelector(".ringkasan-salah");
    if (summary) { summary.hidden = true; summary.textContent = ""; }
}

function fieldInput(form, name) {
    const el = form.elements[name];
    if (!el) return null;
    return el instanceof RadioNodeList ? el[0] : el;
}

// errors: [{field: name of an input or null, text}]
export function showErrors(form, errors) {
    clearErrors(form);
    const summary = form.querySelector(".ringkasan-salah");
    const list = document.createElement("ul");
    for (const { field, text } of errors) {
        const input = field && fieldInput(form, field);
        const li = document.createElement("li");
        if (input) {
            const group = input.closest(".grup, fieldset");
            group.classList.add("salah");
            const msg = document.createElement("p");
            msg.className = "pesan-salah";
            msg.id = field + "-salah";
            msg.textContent = text;
            const anchor = group.querySelector(".petunjuk:last-of-type") ||
                group.querySelector("label, legend");
            anchor.after(msg);
            const inputs = field && form.elements[field] instanceof RadioNodeList
                ? Array.from(form.elements[field]) : [input];
            for (const i of inputs) {
                i.setAttribute("aria-invalid", "true");
                if (i.dataset.describedby === undefined)
                    i.dataset.describedby = i.getAttribute("aria-describedby") || "";
                i.setAttribute("aria-describedby",
                    (i.dataset.describedby + " " + msg.id).trim());
            }
            const a = document.createElement("a");
            a.href = "#" + input.id;
            a.textContent = text;
            a.addEventListener("click", (ev) => {
                ev.preventDefault();
                input.focus();
                group.scrollIntoView();
            });
            li.append(a);
        } else {
            li.textContent = text;
        }
        list.append(li);
    }
    const h = document.createElement("h2");
    h.textContent = "Ada yang perlu diperbaiki";
    summary.append(h, list);
    summary.hidden = false;
    summary.focus();
}

// a form's values, trimmed
export function values(form) {
    const out = {};
    for (const [k, v] of new FormData(form)) out[k] = String(v).trim();
    return out;
}

// shows one section of a page (a step), hides the others, moves focus to
// its heading so a screen reader hears where the citizen now is
export function showStep(sections, id) {
    for (const s of sections) s.hidden = s.id !== id;
    const section = document.getElementById(id);
    const h = section.querySelector("h1");
    if (h) {
        h.setAttribute("tabindex", "-1");
        h.focus();
        document.title = h.textContent + " - Layanan Online Disdukcapil Pekanbaru";
    }
    window.scrollTo(0, 0);
}

export function busy(form, on) {
    form.querySelectorAll("button[type=submit]").forEach((b) => {
        b.disabled = on;
    });
    form.setAttribute("aria-busy", on ? "true" : "false");
}

// reference data of the pages (offices' addresses, what to bring), and the
// services and offices of the configuration
let services = null;
export async function loadServices() {
    if (!services) {
        const [api, ref] = await Promise.all([
            call("GET", "/api/v1/services"),
            fetch("/assets/v1/kantor.json").then((r) => r.json()).catch(() => ({})),
        ]);
        services = { offices: [], services: [], ref };
        if (api.status === 200) {
            services.offices = api.data.offices;
            services.services = api.data.services;
        }
    }
    return services;
}

export function fillSelect(select, items, placeholder) {
    const keep = select.value;
    select.textContent = "";
    const first = new Option(placeholder, "");
    select.add(first);
    for (const it of items) select.add(new Option(it.name, it.code));
    if (keep) select.value = keep;
}

export function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
        if (k === "class") e.className = v;
        else if (k in e && k !== "list") e[k] = v;
        else e.setAttribute(k, v);
    }
    e.append(...children.filter((c) => c !== null && c !== undefined));
    return e;
}
