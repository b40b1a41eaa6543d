#!/usr/bin/env python3
"""Writes the seed corpora of the reader fuzzers (tests/fuzz/corpus/<target>/).  Each seed is a
small valid input (and a few near-misses), so the fuzzer starts from the formats' structure.
The first byte of csv/vigor/photos seeds picks the file the harness writes (see
fuzz-readers.c).  Run from the repository root: python3 tests/fuzz/make-seeds.py"""
import os
import sqlite3
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- CVUSA split and location CSVs
put("csv", "split", b"\x00bingmap/19/0000001.jpg,streetview/panos/0000001.jpg,a\n"
    b"bingmap/19/0000002.jpg,streetview/panos/0000002.jpg,b\r\n\n")
put("csv", "split-bom", b"\x00\xef\xbb\xbfbingmap/19/0000001.jpg,../x.jpg,a\n")
put("csv", "locations", b"\x0140.0,-90.0,40.0001,-90.0,1\n40.01,-90.01,40.0101,-90.01,2\n")
put("csv", "locations-bad", b"\x0140.0,nan,1e999,-90.0,1\n95,-190,0,0\n")

# ---- VIGOR lists
put("vigor", "satellites", b"\x01satellite_41.0_-87.0.png\nsatellite_41.1_-87.0.png\n")
put("vigor", "train", b"\x00pA,41.05,-87.05,.jpg satellite_41.0_-87.0.png 1.5 -2.5 "
    b"satellite_41.0_-87.0.png 3 4 satellite_41.0_-87.0.png 5 6 satellite_41.0_-87.0.png 7 8\n")
put("vigor", "train-nan", b"\x00pB,nan,inf,.jpg satellite_41.0_-87.0.png 1 2\n")


# ---- CVACT ACT_data.mat (MATLAB v5)
def elem(t, data):
    pad = (-len(data)) % 8
    return struct.pack("<II", t, len(data)) + data + b"\0" * pad


def matrix(cls, dims, name, body, flags=0):
    m = elem(6, struct.pack("<II", cls | flags, 0))
    m += elem(5, struct.pack("<%di" % len(dims), *dims))
    m += elem(1, name.encode())
    return elem(14, m + body)


def header():
    text = b"MATLAB 5.0 MAT-file, seed for fuzz-cvact".ljust(116, b" ")
    return text + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"


def struct_var(name, field, values):
    # field name length 16 as a small data element (count 4, type miINT32)
    body = struct.pack("<II", (4 << 16) | 5, 16)
    names = field.encode().ljust(16, b"\0")
    body += elem(1, names)
    body += matrix(6, [len(values), 1], "", elem(9, struct.pack("<%dd" % len(values), *values)))
    return matrix(2, [1, 1], name, body)


ids = ["ab01", "ab02", "ab03"]
chars = [ord(ids[i][k]) for k in range(4) for i in range(3)]  # column-major
pano = matrix(4, [3, 4], "panoIds", elem(4, struct.pack("<12H", *chars)))
utm = matrix(6, [3, 2], "utm", elem(9, struct.pack("<6d", 690000, 690010, 690020,
                                                   6090000, 6090010, 6090020)))
train = struct_var("trainSet", "trainInd", [1, 2])
val = struct_var("valSet", "valInd", [3])
sets = train + val
plain = header() + pano + utm + sets
put("cvact", "v5-plain.mat", plain)


def compressed(var):
    z = zlib.compress(var)
    return struct.pack("<II", 15, len(z)) + z


put("cvact", "v5-zlib.mat", header() + compressed(pano) + compressed(utm) + compressed(train) +
    compressed(val))
cell = matrix(1, [3, 1], "panoIds",
              matrix(4, [1, 4], "", elem(4, struct.pack("<4H", *map(ord, "ab01")))) +
              matrix(4, [1, 4], "", elem(16, b"ab02")) +
              matrix(4, [1, 4], "", elem(2, b"ab03")))
put("cvact", "v5-cell.mat", header() + cell + utm + sets)

# ---- photos: CSV, and a JPEG with EXIF GPS


def rational(v):
    return struct.pack("<II", int(round(v * 1000)), 1000)


def gps_ifd(lat, lon):
    # TIFF header, IFD0 with one entry (GPS IFD pointer), GPS IFD with 4 entries
    entries0 = 1
    ifd0 = 8
    gps = ifd0 + 2 + 12 * entries0 + 4
    data_off = gps + 2 + 12 * 4 + 4
    tiff = b"II*\0" + struct.pack("<I", ifd0)
    tiff += struct.pack("<H", entries0) + struct.pack("<HHII", 0x8825, 4, 1, gps) + b"\0\0\0\0"
    lat_d, lon_d = abs(lat), abs(lon)

    def dms(v):
        d = int(v)
        m = int((v - d) * 60)
        s = (v - d - m / 60) * 3600
        return rational(d) + rational(m) + rational(s)

    tiff += struct.pack("<H", 4)
    tiff += struct.pack("<HHI", 1, 2, 2) + (b"N" if lat >= 0 else b"S") + b"\0\0\0"
    tiff += struct.pack("<HHII", 2, 5, 3, data_off)
    tiff += struct.pack("<HHI", 3, 2, 2) + (b"E" if lon >= 0 else b"W") + b"\0\0\0"
    tiff += struct.pack("<HHII", 4, 5, 3, data_off + 24)
    tiff += b"\0\0\0\0"
    tiff += dms(lat_d) + dms(lon_d)
    return tiff


def jpeg_with_exif(lat, lon):
    exif = b"Exif\0\0" + gps_ifd(lat, lon)
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    # a minimal baseline JPEG body is not needed: libexif only reads the APP1 segment
    return b"\xff\xd8" + app1 + b"\xff\xd9"


put("photos", "csv", b"\x00path,lat,lon\na.jpg,48.1375,-11.575\nsub/b.png,,\n")
put("photos", "csv-bad", b"\x00a.jpg,95,inf\n../b.jpg,1,2\n")
put("photos", "exif-gps", b"\x01" + jpeg_with_exif(48.1375, -11.575))
put("photos", "exif-south-west", b"\x01" + jpeg_with_exif(-33.86, -151.2))

# ---- MBTiles
path = os.path.join(OUT, "mbtiles", "small.mbtiles")
os.makedirs(os.path.dirname(path), exist_ok=True)
if os.path.exists(path):
    os.unlink(path)
db = sqlite3.connect(path)
db.executescript("""
PRAGMA page_size = 512;
CREATE TABLE metadata (name TEXT, value TEXT);
CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
INSERT INTO metadata VALUES ('name', 'seed'), ('format', 'png'),
  ('bounds', '-180,-85,180,85'), ('minzoom', '0'), ('maxzoom', '1');
INSERT INTO tiles VALUES (0, 0, 0, x'89504e470d0a1a0a');
""")
db.commit()
db.execute("VACUUM")
db.close()
