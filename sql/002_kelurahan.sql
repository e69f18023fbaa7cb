-- The kecamatan and kelurahan of Kota Pekanbaru (Kepmendagri 300.2.2-2138/2025
-- codes 14.71.01-15), with the kecamatan each kelurahan belonged to before the
-- 2020-22 split and its postal code. The same facts are compiled into
-- domain/kelurahan_table.c; change both together (in a new migration).

CREATE TABLE kecamatan (
    code text PRIMARY KEY CHECK (code ~ '^14\.71\.[0-9]{2}$'),
    name text NOT NULL UNIQUE CHECK (name <> '' AND name = btrim(name))
);

CREATE TABLE kelurahan (
    code                     text PRIMARY KEY
                             CHECK (code ~ '^14\.71\.[0-9]{2}\.[0-9]{4}$'),
    name                     text NOT NULL
                             CHECK (name <> '' AND name = btrim(name)),
    kecamatan_code           text NOT NULL REFERENCES kecamatan,
    -- the name written on addresses from before the split (Tampan, Rumbai
    -- Pesisir, ...); equal to today's name where nothing changed
    kecamatan_before_split   text NOT NULL
                             CHECK (kecamatan_before_split <> ''
                                    AND kecamatan_before_split
                                        = btrim(kecamatan_before_split)),
    -- one postal code may span two kecamatan (28261), so it never decides
    -- a kecamatan where the kelurahan can
    postal_code              text NOT NULL
                             CHECK (postal_code ~ '^28[12][0-9]{2}$'
                                    AND postal_code::int BETWEEN 28111 AND 28299),
    -- a kelurahan code is its kecamatan's code plus four digits
    CHECK (left(code, 8) = kecamatan_code),
    UNIQUE (kecamatan_code, name)
);

INSERT INTO kecamatan (code, name) VALUES
    ('14.71.01', 'Sukajadi'),
    ('14.71.02', 'Pekanbaru Kota'),
    ('14.71.03', 'Sail'),
    ('14.71.04', 'Limapuluh'),
    ('14.71.05', 'Senapelan'),
    ('14.71.06', 'Rumbai Barat'),
    ('14.71.07', 'Bukit Raya'),
    ('14.71.08', 'Binawidya'),
    ('14.71.09', 'Marpoyan Damai'),
    ('14.71.10', 'Tenayan Raya'),
    ('14.71.11', 'Payung Sekaki'),
    ('14.71.12', 'Rumbai'),
    ('14.71.13', 'Tuahmadani'),
    ('14.71.14', 'Kulim'),
    ('14.71.15', 'Rumbai Timur');

INSERT INTO kelurahan (code, name, kecamatan_code, kecamatan_before_split,
                       postal_code) VALUES
    ('14.71.01.1002', 'Jadirejo', '14.71.01', 'Sukajadi', '28126'),
    ('14.71.01.1003', 'Kampung Tengah', '14.71.01', 'Sukajadi', '28128'),
    ('14.71.01.1004', 'Kampung Melayu', '14.71.01', 'Sukajadi', '28124'),
    ('14.71.01.1005', 'Kedung Sari', '14.71.01', 'Sukajadi', '28123'),
    ('14.71.01.1006', 'Harjosari', '14.71.01', 'Sukajadi', '28122'),
    ('14.71.01.1007', 'Sukajadi', '14.71.01', 'Sukajadi', '28121'),
    ('14.71.01.1008', 'Pulau Karomah', '14.71.01', 'Sukajadi', '28127'),
    ('14.71.02.1001', 'Simpang Empat', '14.71.02', 'Pekanbaru Kota', '28116'),
    ('14.71.02.1002', 'Sumahilang', '14.71.02', 'Pekanbaru Kota', '28111'),
    ('14.71.02.1003', 'Tanah Datar', '14.71.02', 'Pekanbaru Kota', '28115'),
    ('14.71.02.1004', 'Kota Baru', '14.71.02', 'Pekanbaru Kota', '28114'),
    ('14.71.02.1005', 'Sukaramai', '14.71.02', 'Pekanbaru Kota', '28113'),
    ('14.71.02.1006', 'Kota Tinggi', '14.71.02', 'Pekanbaru Kota', '28112'),
    ('14.71.03.1001', 'Cinta Raja', '14.71.03', 'Sail', '28131'),
    ('14.71.03.1002', 'Sukamulya', '14.71.03', 'Sail', '28133'),
    ('14.71.03.1003', 'Sukamaju', '14.71.03', 'Sail', '28132'),
    ('14.71.04.1001', 'Rintis', '14.71.04', 'Lima Puluh', '28141'),
    ('14.71.04.1002', 'Tanjung RHU', '14.71.04', 'Lima Puluh', '28143'),
    ('14.71.04.1003', 'Pesisir', '14.71.04', 'Lima Puluh', '28144'),
    ('14.71.04.1004', 'Sekip', '14.71.04', 'Lima Puluh', '28142'),
    ('14.71.05.1001', 'Padang Bulan', '14.71.05', 'Senapelan', '28156'),
    ('14.71.05.1002', 'Sago', '14.71.05', 'Senapelan', '28151'),
    ('14.71.05.1003', 'Kampung Baru', '14.71.05', 'Senapelan', '28154'),
    ('14.71.05.1004', 'Kampung Dalam', '14.71.05', 'Senapelan', '28152'),
    ('14.71.05.1005', 'Kampung Bandar', '14.71.05', 'Senapelan', '28153'),
    ('14.71.05.1006', 'Padang Terubuk', '14.71.05', 'Senapelan', '28155'),
    ('14.71.06.1003', 'Rumbai Bukit', '14.71.06', 'Rumbai', '28264'),
    ('14.71.06.1005', 'Muarafajar Timur', '14.71.06', 'Rumbai', '28267'),
    ('14.71.06.1010', 'Muarafajar Barat', '14.71.06', 'Rumbai', '28267'),
    ('14.71.06.1011', 'Rantaupanjang', '14.71.06', 'Rumbai', '28264'),
    ('14.71.06.1012', 'Maharani', '14.71.06', 'Rumbai', '28264'),
    ('14.71.06.1013', 'Agrowisata', '14.71.06', 'Rumbai', '28264'),
    ('14.71.07.1005', 'Simpang Tiga', '14.71.07', 'Bukit Raya', '28284'),
    ('14.71.07.1006', 'Tangkerang Selatan', '14.71.07', 'Bukit Raya', '28288'),
    ('14.71.07.1008', 'Tangkerang Utara', '14.71.07', 'Bukit Raya', '28289'),
    ('14.71.07.1011', 'Tangkerang Labuai', '14.71.07', 'Bukit Raya', '28281'),
    ('14.71.07.1012', 'Airdingin', '14.71.07', 'Bukit Raya', '28284'),
    ('14.71.08.1001', 'Simpangbaru', '14.71.08', 'Tampan', '28293'),
    ('14.71.08.1008', 'Delima', '14.71.08', 'Tampan', '28290'),
    ('14.71.08.1009', 'Tobekgodang', '14.71.08', 'Tampan', '28297'),
    ('14.71.08.1010', 'Binawidya', '14.71.08', 'Tampan', '28295'),
    ('14.71.08.1014', 'Sungaisibam', '14.71.08', 'Payung Sekaki', '28292'),
    ('14.71.09.1001', 'Tangkerang Barat', '14.71.09', 'Marpoyan Damai', '28282'),
    ('14.71.09.1002', 'Tangkerang Tengah', '14.71.09', 'Marpoyan Damai', '28282'),
    ('14.71.09.1003', 'Sidomulyo Timur', '14.71.09', 'Marpoyan Damai', '28125'),
    ('14.71.09.1004', 'Wonorejo', '14.71.09', 'Marpoyan Damai', '28125'),
    ('14.71.09.1005', 'Maharatu', '14.71.09', 'Marpoyan Damai', '28125'),
    ('14.71.09.1006', 'Perhentianmarpoyan', '14.71.09', 'Marpoyan Damai', '28125'),
    ('14.71.10.1002', 'Bencahlesung', '14.71.10', 'Tenayan Raya', '28285'),
    ('14.71.10.1003', 'Tangkerang Timur', '14.71.10', 'Tenayan Raya', '28289'),
    ('14.71.10.1004', 'Rejosari', '14.71.10', 'Tenayan Raya', '28281'),
    ('14.71.10.1005', 'Bambukuning', '14.71.10', 'Tenayan Raya', '28281'),
    ('14.71.10.1010', 'Melebung', '14.71.10', 'Tenayan Raya', '28285'),
    ('14.71.10.1011', 'Industritenayan', '14.71.10', 'Tenayan Raya', '28285'),
    ('14.71.10.1012', 'Sialangsakti', '14.71.10', 'Tenayan Raya', '28285'),
    ('14.71.10.1013', 'Tuahnegeri', '14.71.10', 'Tenayan Raya', '28285'),
    ('14.71.11.1001', 'Tampan', '14.71.11', 'Payung Sekaki', '28292'),
    ('14.71.11.1002', 'Labuh Baru Timur', '14.71.11', 'Payung Sekaki', '28292'),
    ('14.71.11.1003', 'Labuh Baru Barat', '14.71.11', 'Payung Sekaki', '28292'),
    ('14.71.11.1004', 'Air Hitam', '14.71.11', 'Payung Sekaki', '28292'),
    ('14.71.11.1005', 'Bandarraya', '14.71.11', 'Payung Sekaki', '28292'),
    ('14.71.11.1007', 'Tirtasiak', '14.71.11', 'Payung Sekaki', '28292'),
    ('14.71.12.1001', 'Meranti Pandak', '14.71.12', 'Rumbai Pesisir', '28266'),
    ('14.71.12.1004', 'Lembah Damai', '14.71.12', 'Rumbai Pesisir', '28263'),
    ('14.71.12.1006', 'Limbungan Baru', '14.71.12', 'Rumbai Pesisir', '28261'),
    ('14.71.12.1009', 'Sri Meranti', '14.71.12', 'Rumbai', '28261'),
    ('14.71.12.1010', 'Palas', '14.71.12', 'Rumbai', '28264'),
    ('14.71.12.1011', 'Umban Sari', '14.71.12', 'Rumbai', '28265'),
    ('14.71.13.1001', 'Sidomulyo Barat', '14.71.13', 'Tampan', '28294'),
    ('14.71.13.1002', 'Sialangmunggu', '14.71.13', 'Tampan', '28299'),
    ('14.71.13.1003', 'Tuahkarya', '14.71.13', 'Tampan', '28291'),
    ('14.71.13.1004', 'Tuahmadani', '14.71.13', 'Tampan', '28298'),
    ('14.71.13.1005', 'Airputih', '14.71.13', 'Tampan', '28296'),
    ('14.71.14.1001', 'Kulim', '14.71.14', 'Tenayan Raya', '28286'),
    ('14.71.14.1002', 'Mentangor', '14.71.14', 'Tenayan Raya', '28286'),
    ('14.71.14.1003', 'Sialangrampai', '14.71.14', 'Tenayan Raya', '28286'),
    ('14.71.14.1004', 'Pebatuan', '14.71.14', 'Tenayan Raya', '28286'),
    ('14.71.14.1005', 'Pematangkapau', '14.71.14', 'Tenayan Raya', '28289'),
    ('14.71.15.1001', 'Tebing Tinggi Okura', '14.71.15', 'Rumbai Pesisir', '28287'),
    ('14.71.15.1002', 'Sungaiukai', '14.71.15', 'Rumbai Pesisir', '28287'),
    ('14.71.15.1003', 'Sungaiambang', '14.71.15', 'Rumbai Pesisir', '28262'),
    ('14.71.15.1004', 'Lembah Sari', '14.71.15', 'Rumbai Pesisir', '28262'),
    ('14.71.15.1005', 'Limbungan', '14.71.15', 'Rumbai Pesisir', '28261');
