//! The DC-only reader beside the general JPEG decoder at 1/8 scale, on the same photos in
//! memory, in one run (CPU time of this thread, so a busy machine skews both alike).
//!   CARGO_TARGET_DIR=/work/rel-target cargo build --release --example jpeg_dc_bench
//!   /work/rel-target/release/examples/jpeg_dc_bench /tmp/media/photos
#![allow(clippy::disallowed_macros)]

fn cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: jpeg_dc_bench DIR_OF_JPEGS");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("a folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    files.sort();
    let data: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    let mb = data.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    println!("{} JPEGs, {mb:.1} MB", data.len());
    // What the reader makes, folded into one number: a change to its speed must not move it.
    let mut digest = 0u64;
    for d in &data {
        if let Ok(Some(dc)) = triage::ingest::jpeg_dc::decode(d, 320, 50_000_000) {
            for &b in dc.image.as_bytes() {
                digest = digest.wrapping_mul(0x100_0000_01b3) ^ u64::from(b);
            }
        }
    }
    println!("pixels digest {digest:016x}");
    for round in 1..=3 {
        let t = cpu();
        let mut dc_read = 0;
        for d in &data {
            if let Ok(Some(_)) = triage::ingest::jpeg_dc::decode(d, 320, 50_000_000) {
                dc_read += 1;
            }
        }
        let dc = cpu() - t;
        let t = cpu();
        for d in &data {
            let _ = triage::ingest::jpeg_scaled::decode(d.as_slice(), 320, 256 << 20, 50_000_000);
        }
        let general = cpu() - t;
        println!(
            "round {round}: DC reader {:.3} s ({:.2} ms/MB, {dc_read} read)   jpeg-decoder at 1/8 {:.3} s ({:.2} ms/MB)   {:.2}x",
            dc,
            dc * 1e3 / mb,
            general,
            general * 1e3 / mb,
            general / dc
        );
    }
}
