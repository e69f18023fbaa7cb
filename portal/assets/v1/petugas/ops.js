// What the operators' pages share: the operator API's calls (a JSON body on
// every step, the same origin, the credentials the browser was given for
// /petugas/), the Indonesian sentence of each answer an operator may meet,
// the names of the statuses, and the office/service lists.

import { call, el, loadServices, message, number, longDate, wibToday } from "../api.js";

export { call, el, loadServices, number, longDate, wibToday };

export const APPOINTMENT_STATUS = {
    booked: "Terjadwal", checked_in: "Sudah hadir", called: "Sedang dipanggil",
    served: "Selesai dilayani", no_show: "Tidak hadir", cancelled: "Dibatalkan",
    cancelled_by_office: "Dibatalkan oleh kantor",
};

export const APPLICATION_STATUS = {
    submitted: "Diajukan", verified: "Diverifikasi", processing: "Diproses",
    completed: "Selesai dicetak", rejected: "Ditolak", batched: "Masuk kiriman",
    in_transit: "Dalam pengiriman", delivered: "Diterima", returned: "Dikembalikan",
    awaiting_pickup: "Siap diambil", picked_up: "Sudah diambil",
};

// An operator's step: POST with a JSON body (the module refuses a form);
// code: the appointment's or application's code the step is on
export async function step(path, body = {}, key, code) {
    const a = await call("POST", path, { body, key });
    if (code) a.code = code;
    return a;
}

const OPS_MESSAGES = {
    cross_site_request: "Permintaan ditolak karena tidak berasal dari halaman petugas. Muat ulang halaman ini.",
};

// The sentence of an answer for an operator; falls back to the portal's.
// A 404 of a step on a code is the code's; of a list, the address's.
export function opsMessage(a) {
    const d = a.data || {};
    if (d.error === "not_found")
        return a.code ? "Kode " + a.code + " tidak ditemukan. Periksa kembali kodenya."
            : "Data ini tidak tersedia di server. Muat ulang halaman, atau hubungi pengelola sistem.";
    if (a.status === 401)
        return "Sesi petugas Anda sudah berakhir. Muat ulang halaman, lalu masuk kembali.";
    if (a.status === 403 && d.error !== "cross_site_request")
        return "Akses ditolak. Halaman petugas hanya dapat dipakai dari jaringan kantor.";
    switch (d.error) {
    case "not_today":
        return "Janji temu ini untuk " + (d.date ? longDate(d.date) : "tanggal lain") +
            ", bukan hari ini. Kehadiran hanya dapat dicatat pada tanggal janji temu.";
    case "appointment_closed":
        return "Kehadiran tidak dapat dicatat: status janji temu ini " +
            (APPOINTMENT_STATUS[d.status] || d.status || "sudah berubah").toLowerCase() + ".";
    case "invalid_transition":
        return "Langkah ini tidak dapat dilakukan dari status sekarang" +
            (d.status ? " (" + (APPOINTMENT_STATUS[d.status] || APPLICATION_STATUS[d.status] ||
                d.status).toLowerCase() + ")" : "") + ".";
    }
    if (OPS_MESSAGES[d.error]) return OPS_MESSAGES[d.error];
    return message(a);
}

// A message box (role=status) of a page: kind "berhasil", "gagal" or "".
export function say(box, kind, ...content) {
    box.className = "pesan" + (kind ? " " + kind : "");
    box.replaceChildren(...content.map((c) => typeof c === "string" ? el("p", {}, c) : c));
    box.hidden = false;
}

// "Senin, 7 Desember 2026" -> "09.15" of an RFC 3339 time, in WIB
export function clock(at) {
    if (!at) return "";
    const d = new Date(new Date(at).getTime() + 7 * 3600e3);
    return String(d.getUTCHours()).padStart(2, "0") + "." +
        String(d.getUTCMinutes()).padStart(2, "0");
}

export function fillOptions(select, items, first) {
    const keep = select.value;
    select.replaceChildren();
    if (first) select.add(new Option(first, ""));
    for (const it of items) select.add(new Option(it.name, it.code));
    if (keep && items.some((i) => i.code === keep)) select.value = keep;
}

export function serviceName(data, code) {
    return (data.services.find((s) => s.code === code) || {}).name || code;
}

export function officeName(data, code) {
    return (data.offices.find((o) => o.code === code) || {}).name || code;
}

// A table of rows: cols [{label, value(row) -> string|Node, num, kode}]
// (num: a number, aligned right; kode: a code or a NIK, never wrapped)
export function table(caption, cols, rows) {
    const head = el("tr", {}, ...cols.map((c) =>
        el("th", { scope: "col", class: c.num ? "angka" : "" }, c.label)));
    const body = rows.map((r) => el("tr", {}, ...cols.map((c) => {
        const v = c.value(r);
        return el("td", { class: c.num ? "angka" : c.kode ? "kode" : "" },
            v === null || v === undefined ? "" : v);
    })));
    // a region of its own: it scrolls sideways on a phone, by keyboard too
    return el("div", { class: "tabel-bungkus", tabindex: "0", role: "region", "aria-label": caption },
        el("table", {}, el("caption", {}, caption), el("thead", {}, head),
            el("tbody", {}, ...body)));
}

// the busy flag the tests (and screen readers) read while a request runs
export async function busyWhile(promise) {
    document.body.setAttribute("aria-busy", "true");
    try { return await promise; } finally { document.body.removeAttribute("aria-busy"); }
}
