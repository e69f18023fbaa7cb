// Check-in: the code typed, or typed by a USB QR scanner (its characters
// then Enter). The QR of a citizen's proof holds the bare code or the
// portal's URL with the code in it: both are read. The answer shows what
// the operator compares with the KTP-el: name, masked NIK, service, number.

import { clearErrors, showErrors } from "../api.js";
import { APPOINTMENT_STATUS, busyWhile, el, opsMessage, step } from "./ops.js";

const form = document.getElementById("form-hadir");
const input = form.elements.code;
const result = document.getElementById("hasil");
const recent = document.getElementById("riwayat");

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{12}$/;

// "A-7K3M-9QX2-BHT4", "a7k3m9qx2bht4", "https://…/cek-janji?code=A-7K3M-…",
// "https://…/A-7K3M-9QX2-BHT4" -> "A-7K3M-9QX2-BHT4"; null if none is there
export function readCode(text) {
    let s = String(text || "").trim();
    if (/^https?:\/\//i.test(s)) {
        try {
            const u = new URL(s);
            s = u.searchParams.get("code") || u.searchParams.get("kode") ||
                decodeURIComponent(u.hash.replace(/^#/, "") ||
                    u.pathname.split("/").filter(Boolean).pop() || "");
        } catch (e) {
            return null;
        }
    }
    const found = s.toUpperCase().match(/A-?[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}/);
    const bare = (found ? found[0] : s.toUpperCase()).replace(/[\s-]/g, "");
    if (bare.length !== 13 || bare[0] !== "A" || !CROCKFORD.test(bare.slice(1))) return null;
    return bare[0] + "-" + bare.slice(1, 5) + "-" + bare.slice(5, 9) + "-" + bare.slice(9);
}

function show(a) {
    const d = a.data;
    result.replaceChildren(el("div", { class: "panel-selesai" },
        el("h2", {}, "Warga sudah tercatat hadir"),
        el("p", {}, "Nomor antrean"),
        el("span", { class: "nomor-besar", id: "hadir-nomor" }, String(d.queue_number ?? "")),
        el("p", {}, d.service_name || d.service || "")),
    el("dl", { class: "rincian" },
        el("div", {}, el("dt", {}, "Nama"), el("dd", { id: "hadir-nama" }, d.name || "")),
        el("div", {}, el("dt", {}, "NIK (cocokkan dengan KTP-el)"),
            el("dd", { id: "hadir-nik" }, d.nik_masked || "")),
        el("div", {}, el("dt", {}, "Layanan"), el("dd", {}, d.service_name || d.service || "")),
        el("div", {}, el("dt", {}, "Kode janji temu"), el("dd", {}, d.code)),
        el("div", {}, el("dt", {}, "Status"),
            el("dd", {}, APPOINTMENT_STATUS[d.status] || d.status))));
    recent.prepend(el("li", {}, "Nomor " + (d.queue_number ?? "") + ", " +
        (d.service_name || d.service || "") + ", " + (d.name || d.code)));
    while (recent.children.length > 10) recent.lastElementChild.remove();
    document.getElementById("riwayat-kosong").hidden = true;
}

form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const typed = input.value;
    const code = readCode(typed);
    if (!code) {
        result.replaceChildren();
        showErrors(form, [{ field: "code", text: typed.trim()
            ? "Kode janji temu tidak dikenali. Kode terdiri dari huruf A dan 12 huruf atau angka, seperti A-7K3M-9QX2-BHT4."
            : "Masukkan atau pindai kode janji temu." }]);
        input.select();
        return;
    }
    const a = await busyWhile(step("/api/v1/ops/appointments/" + encodeURIComponent(code) + "/check-in", {}, undefined, code));
    if (a.status !== 200) {
        result.replaceChildren();
        showErrors(form, [{ field: "code", text: opsMessage(a) }]);
        input.focus();
        input.select();
        return;
    }
    clearErrors(form);
    show(a);
    // ready for the next citizen's scan (unless it has started already)
    if (input.value === typed) form.reset();
    input.focus();
});

input.focus();
