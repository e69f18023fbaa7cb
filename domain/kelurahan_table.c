/*
 * The kelurahan and kecamatan of Kota Pekanbaru.
 *
 * Generated once from shared/data/pekanbaru-kelurahan.csv (Kepmendagri
 * 300.2.2-2138/2025 codes, Permendagri 137/2017 era postal codes); the same
 * facts are seeded by sql/002_kelurahan.sql. Kept by hand from now on: change
 * both together.
 */

#include "kelurahan_table.h"

/* One row per line, as in the CSV, so that a change reads as one. */
/* clang-format off */
const dk_kecamatan_t dk_kecamatan_table[] = {
    {"14.71.01", "Sukajadi"},
    {"14.71.02", "Pekanbaru Kota"},
    {"14.71.03", "Sail"},
    {"14.71.04", "Limapuluh"},
    {"14.71.05", "Senapelan"},
    {"14.71.06", "Rumbai Barat"},
    {"14.71.07", "Bukit Raya"},
    {"14.71.08", "Binawidya"},
    {"14.71.09", "Marpoyan Damai"},
    {"14.71.10", "Tenayan Raya"},
    {"14.71.11", "Payung Sekaki"},
    {"14.71.12", "Rumbai"},
    {"14.71.13", "Tuahmadani"},
    {"14.71.14", "Kulim"},
    {"14.71.15", "Rumbai Timur"},
};

const size_t dk_kecamatan_count =
    sizeof(dk_kecamatan_table) / sizeof(dk_kecamatan_table[0]);

const dk_kelurahan_t dk_kelurahan_table[] = {
    {"14.71.01.1002", "Jadirejo", 0, "Sukajadi", "28126"},
    {"14.71.01.1003", "Kampung Tengah", 0, "Sukajadi", "28128"},
    {"14.71.01.1004", "Kampung Melayu", 0, "Sukajadi", "28124"},
    {"14.71.01.1005", "Kedung Sari", 0, "Sukajadi", "28123"},
    {"14.71.01.1006", "Harjosari", 0, "Sukajadi", "28122"},
    {"14.71.01.1007", "Sukajadi", 0, "Sukajadi", "28121"},
    {"14.71.01.1008", "Pulau Karomah", 0, "Sukajadi", "28127"},
    {"14.71.02.1001", "Simpang Empat", 1, "Pekanbaru Kota", "28116"},
    {"14.71.02.1002", "Sumahilang", 1, "Pekanbaru Kota", "28111"},
    {"14.71.02.1003", "Tanah Datar", 1, "Pekanbaru Kota", "28115"},
    {"14.71.02.1004", "Kota Baru", 1, "Pekanbaru Kota", "28114"},
    {"14.71.02.1005", "Sukaramai", 1, "Pekanbaru Kota", "28113"},
    {"14.71.02.1006", "Kota Tinggi", 1, "Pekanbaru Kota", "28112"},
    {"14.71.03.1001", "Cinta Raja", 2, "Sail", "28131"},
    {"14.71.03.1002", "Sukamulya", 2, "Sail", "28133"},
    {"14.71.03.1003", "Sukamaju", 2, "Sail", "28132"},
    {"14.71.04.1001", "Rintis", 3, "Lima Puluh", "28141"},
    {"14.71.04.1002", "Tanjung RHU", 3, "Lima Puluh", "28143"},
    {"14.71.04.1003", "Pesisir", 3, "Lima Puluh", "28144"},
    {"14.71.04.1004", "Sekip", 3, "Lima Puluh", "28142"},
    {"14.71.05.1001", "Padang Bulan", 4, "Senapelan", "28156"},
    {"14.71.05.1002", "Sago", 4, "Senapelan", "28151"},
    {"14.71.05.1003", "Kampung Baru", 4, "Senapelan", "28154"},
    {"14.71.05.1004", "Kampung Dalam", 4, "Senapelan", "28152"},
    {"14.71.05.1005", "Kampung Bandar", 4, "Senapelan", "28153"},
    {"14.71.05.1006", "Padang Terubuk", 4, "Senapelan", "28155"},
    {"14.71.06.1003", "Rumbai Bukit", 5, "Rumbai", "28264"},
    {"14.71.06.1005", "Muarafajar Timur", 5, "Rumbai", "28267"},
    {"14.71.06.1010", "Muarafajar Barat", 5, "Rumbai", "28267"},
    {"14.71.06.1011", "Rantaupanjang", 5, "Rumbai", "28264"},
    {"14.71.06.1012", "Maharani", 5, "Rumbai", "28264"},
    {"14.71.06.1013", "Agrowisata", 5, "Rumbai", "28264"},
    {"14.71.07.1005", "Simpang Tiga", 6, "Bukit Raya", "28284"},
    {"14.71.07.1006", "Tangkerang Selatan", 6, "Bukit Raya", "28288"},
    {"14.71.07.1008", "Tangkerang Utara", 6, "Bukit Raya", "28289"},
    {"14.71.07.1011", "Tangkerang Labuai", 6, "Bukit Raya", "28281"},
    {"14.71.07.1012", "Airdingin", 6, "Bukit Raya", "28284"},
    {"14.71.08.1001", "Simpangbaru", 7, "Tampan", "28293"},
    {"14.71.08.1008", "Delima", 7, "Tampan", "28290"},
    {"14.71.08.1009", "Tobekgodang", 7, "Tampan", "28297"},
    {"14.71.08.1010", "Binawidya", 7, "Tampan", "28295"},
    {"14.71.08.1014", "Sungaisibam", 7, "Payung Sekaki", "28292"},
    {"14.71.09.1001", "Tangkerang Barat", 8, "Marpoyan Damai", "28282"},
    {"14.71.09.1002", "Tangkerang Tengah", 8, "Marpoyan Damai", "28282"},
    {"14.71.09.1003", "Sidomulyo Timur", 8, "Marpoyan Damai", "28125"},
    {"14.71.09.1004", "Wonorejo", 8, "Marpoyan Damai", "28125"},
    {"14.71.09.1005", "Maharatu", 8, "Marpoyan Damai", "28125"},
    {"14.71.09.1006", "Perhentianmarpoyan", 8, "Marpoyan Damai", "28125"},
    {"14.71.10.1002", "Bencahlesung", 9, "Tenayan Raya", "28285"},
    {"14.71.10.1003", "Tangkerang Timur", 9, "Tenayan Raya", "28289"},
    {"14.71.10.1004", "Rejosari", 9, "Tenayan Raya", "28281"},
    {"14.71.10.1005", "Bambukuning", 9, "Tenayan Raya", "28281"},
    {"14.71.10.1010", "Melebung", 9, "Tenayan Raya", "28285"},
    {"14.71.10.1011", "Industritenayan", 9, "Tenayan Raya", "28285"},
    {"14.71.10.1012", "Sialangsakti", 9, "Tenayan Raya", "28285"},
    {"14.71.10.1013", "Tuahnegeri", 9, "Tenayan Raya", "28285"},
    {"14.71.11.1001", "Tampan", 10, "Payung Sekaki", "28292"},
    {"14.71.11.1002", "Labuh Baru Timur", 10, "Payung Sekaki", "28292"},
    {"14.71.11.1003", "Labuh Baru Barat", 10, "Payung Sekaki", "28292"},
    {"14.71.11.1004", "Air Hitam", 10, "Payung Sekaki", "28292"},
    {"14.71.11.1005", "Bandarraya", 10, "Payung Sekaki", "28292"},
    {"14.71.11.1007", "Tirtasiak", 10, "Payung Sekaki", "28292"},
    {"14.71.12.1001", "Meranti Pandak", 11, "Rumbai Pesisir", "28266"},
    {"14.71.12.1004", "Lembah Damai", 11, "Rumbai Pesisir", "28263"},
    {"14.71.12.1006", "Limbungan Baru", 11, "Rumbai Pesisir", "28261"},
    {"14.71.12.1009", "Sri Meranti", 11, "Rumbai", "28261"},
    {"14.71.12.1010", "Palas", 11, "Rumbai", "28264"},
    {"14.71.12.1011", "Umban Sari", 11, "Rumbai", "28265"},
    {"14.71.13.1001", "Sidomulyo Barat", 12, "Tampan", "28294"},
    {"14.71.13.1002", "Sialangmunggu", 12, "Tampan", "28299"},
    {"14.71.13.1003", "Tuahkarya", 12, "Tampan", "28291"},
    {"14.71.13.1004", "Tuahmadani", 12, "Tampan", "28298"},
    {"14.71.13.1005", "Airputih", 12, "Tampan", "28296"},
    {"14.71.14.1001", "Kulim", 13, "Tenayan Raya", "28286"},
    {"14.71.14.1002", "Mentangor", 13, "Tenayan Raya", "28286"},
    {"14.71.14.1003", "Sialangrampai", 13, "Tenayan Raya", "28286"},
    {"14.71.14.1004", "Pebatuan", 13, "Tenayan Raya", "28286"},
    {"14.71.14.1005", "Pematangkapau", 13, "Tenayan Raya", "28289"},
    {"14.71.15.1001", "Tebing Tinggi Okura", 14, "Rumbai Pesisir", "28287"},
    {"14.71.15.1002", "Sungaiukai", 14, "Rumbai Pesisir", "28287"},
    {"14.71.15.1003", "Sungaiambang", 14, "Rumbai Pesisir", "28262"},
    {"14.71.15.1004", "Lembah Sari", 14, "Rumbai Pesisir", "28262"},
    {"14.71.15.1005", "Limbungan", 14, "Rumbai Pesisir", "28261"},
};

const size_t dk_kelurahan_count =
    sizeof(dk_kelurahan_table) / sizeof(dk_kelurahan_table[0]);
/* clang-format on */
