// Permohonan: the worklist of one status (oldest first, a page of 50 at a
// time), each application with the office's next steps as buttons. A
// rejection asks for its reason first: the citizen is told it.

import { clearErrors, newKey, showErrors, values } from "../api.js";
import {
    APPLICATION_STATUS, busyWhile, call, el, fillOptions, loadServices, longDate, officeName,
    opsMessage, say, step, table,
} from "./ops.js";

const $ = (id) => document.getElementById(id);
const form = $("form-saring");
const box = $("pesan");
const rejectForm = $("form-tolak");
let data = { offices: [], services: [] };
let cursor = null;
let rows = [];
let rejecting = null;

// the office's own steps (application_transition, kind 'office'); the
// delivery's steps are the scheduler's and the courier's
const NEXT = {
    submitted: [["verified", "Verifikasi"], ["rejected", "Tolak"]],
    verified: [["processing", "Proses"], ["rejected", "Tolak"]],
    processing: [["completed", "Selesai dicetak"], ["rejected", "Tolak"]],
    completed: [["awaiting_pickup", "Siap diambil", "pickup"]],
    returned: [],
    awaiting_pickup: [["picked_up", "Sudah diambil"]],
};

const METHOD = { pickup: "Diambil di kantor", post: "Dikirim melalui PT Pos" };

function actions(x) {
    return el("div", {}, ...(NEXT[x.status] || [])
        .filter(([, , method]) => !method || method === x.delivery_method)
        .map(([to, label]) => el("button", {
            type: "button", class: to === "rejected" ? "bahaya" : "sekunder",
            "data-code": x.code, "data-to": to, "aria-label": label + " " + x.code,
        }, label)));
}

function render() {
    $("daftar").replaceChildren(rows.length ? table(
        "Permohonan berstatus " + (APPLICATION_STATUS[form.elements.status.value] || "").toLowerCase(), [
            { label: "Kode", kode: true, value: (x) => x.code },
            { label: "Layanan", value: (x) => x.service_name || x.service },
            { label: "Nama", value: (x) => x.name },
            { label: "NIK", kode: true, value: (x) => x.nik_masked },
            { label: "Penerimaan", value: (x) => METHOD[x.delivery_method] || x.delivery_method || "" },
            { label: "Kantor", value: (x) => x.office ? officeName(data, x.office) : "" },
            { label: "Diajukan", value: (x) => x.submitted_at ? longDate(x.submitted_at.slice(0, 10)) : "" },
            { label: "Langkah", value: actions },
        ], rows) : el("p", {}, "Tidak ada permohonan dengan status ini."));
    $("berikutnya").hidden = !cursor;
}

async function load(more) {
    const v = values(form);
    const q = new URLSearchParams({ status: v.status });
    if (v.office) q.set("office", v.office);
    if (more && cursor) q.set("cursor", cursor);
    const a = await busyWhile(call("GET", "/api/v1/ops/applications?" + q));
    if (a.status !== 200) return say(box, "gagal", opsMessage(a));
    rows = more ? rows.concat(a.data.applications) : a.data.applications;
    cursor = a.data.next_cursor || null;
    render();
}

async function move(code, to, note) {
    const body = note ? { status: to, note } : { status: to };
    return busyWhile(step("/api/v1/ops/applications/" + encodeURIComponent(code) + "/status", body,
        newKey(), code));
}

function showList() {
    $("tolak").hidden = true;
    $("daftar-permohonan").hidden = false;
}

$("daftar").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-to]");
    if (!b) return;
    const { code, to } = b.dataset;
    if (to === "rejected") {
        rejecting = code;
        const x = rows.find((r) => r.code === code) || {};
        $("tolak-keterangan").textContent = "Permohonan " + code + " (" + (x.service_name || x.service || "") +
            ", " + (x.name || "") + ").";
        rejectForm.reset();
        clearErrors(rejectForm);
        $("daftar-permohonan").hidden = true;
        $("tolak").hidden = false;
        rejectForm.elements.note.focus();
        return;
    }
    const a = await move(code, to);
    if (a.status !== 200) return say(box, "gagal", code + ": " + opsMessage(a));
    say(box, "berhasil", "Permohonan " + code + " sekarang berstatus " +
        (APPLICATION_STATUS[to] || to).toLowerCase() + ".");
    rows = rows.filter((r) => r.code !== code);
    render();
});

rejectForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const note = values(rejectForm).note || "";
    if (!note) return showErrors(rejectForm, [{ field: "note",
        text: "Tuliskan alasan penolakan. Warga akan membacanya." }]);
    const a = await move(rejecting, "rejected", note);
    if (a.status !== 200) {
        return showErrors(rejectForm, [{ field: a.data.field === "note" ? "note" : null,
            text: a.data.field === "note" && a.data.error === "invalid"
                ? "Tuliskan alasan penolakan. Warga akan membacanya." : opsMessage(a) }]);
    }
    showList();
    say(box, "berhasil", "Permohonan " + rejecting + " ditolak. Alasannya dikirim ke warga.");
    rows = rows.filter((r) => r.code !== rejecting);
    render();
    box.focus();
});

$("batal-tolak").addEventListener("click", showList);
$("berikutnya").addEventListener("click", () => load(true));
form.addEventListener("submit", (ev) => { ev.preventDefault(); box.hidden = true; load(false); });

data = await busyWhile(loadServices());
fillOptions(form.elements.office, data.offices, "Semua kantor");
await load(false);
