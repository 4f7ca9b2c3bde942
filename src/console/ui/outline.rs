//! Where the map's lines and names go: Syria's border and Lebanon's (to place the coast and
//! the Beqaa), and the cities a reviewer orients by.
//!
//! The borders are hand-simplified from Natural Earth's public-domain admin-0 boundaries (as
//! remembered, with the Syrian coast filled in from its towns): good to about 10 km, which is
//! enough to orient by and far from enough to decide on which side of a border a thing lies.

/// Syria's border as (lon, lat) in degrees, closed (the last point is the first).
pub const SYRIA: &[(f64, f64)] = &[
    (38.79, 33.38), // Jordan–Iraq–Syria, near al-Tanf
    (36.83, 32.31), // along Jordan
    (35.72, 32.71), // Yarmouk, Golan
    (35.84, 32.87),
    (35.82, 33.28), // Mount Hermon
    (36.07, 33.82), // along Lebanon
    (36.61, 34.20),
    (36.45, 34.59),
    (36.00, 34.64), // the coast at the Nahr al-Kabir
    (35.87, 34.90), // Tartus
    (35.93, 35.18), // Baniyas
    (35.91, 35.36), // Jableh
    (35.76, 35.52), // Latakia
    (35.74, 35.60),
    (35.83, 35.85), // Ras al-Bassit
    (35.92, 35.93), // the coast at the Turkish border
    (36.15, 35.82), // round Hatay
    (36.42, 36.04),
    (36.69, 36.26),
    (36.74, 36.82),
    (37.07, 36.62), // Kilis / Azaz
    (38.17, 36.90), // the Euphrates at Jarabulus
    (38.70, 36.71),
    (39.52, 36.72), // Tal Abyad
    (40.67, 37.09), // Ras al-Ain
    (41.21, 37.07), // Qamishli
    (42.35, 37.23), // Turkey–Iraq–Syria, on the Tigris
    (41.84, 36.61), // along Iraq
    (41.29, 36.36),
    (41.38, 35.63),
    (41.01, 34.42), // Abu Kamal
    (38.79, 33.38),
];

/// Lebanon's border where it is not Syria's: the coast and the south, as (lon, lat).
pub const LEBANON: &[(f64, f64)] = &[
    (36.00, 34.64),
    (35.82, 34.44), // Tripoli
    (35.64, 34.27),
    (35.50, 33.90), // Beirut
    (35.37, 33.56), // Sidon
    (35.20, 33.27), // Tyre
    (35.10, 33.09), // Naqoura
    (35.46, 33.09),
    (35.55, 33.26),
    (35.82, 33.28),
];

/// Cities to orient by, most important first (a name that would overlap an earlier one is
/// left out): (name, lat, lon).
pub const CITIES: &[(&str, f64, f64)] = &[
    ("Damascus", 33.513, 36.292),
    ("Aleppo", 36.202, 37.134),
    ("Homs", 34.733, 36.714),
    ("Idlib", 35.931, 36.634),
    ("Raqqa", 35.950, 39.010),
    ("Deir ez-Zor", 35.336, 40.141),
    ("Daraa", 32.619, 36.102),
    ("Latakia", 35.532, 35.791),
    ("Douma", 33.571, 36.402),
];
