//! The one loop that reads a file to hash it. Ingest, bag import, bag writing and validation,
//! and `verify` all read through here, so each gets the same handling of interrupted reads
//! and the same byte count.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// What is fed every byte read: a SHA-256, or a bag's set of digests.
pub trait Digester {
    fn update(&mut self, bytes: &[u8]);
}

impl Digester for Sha256 {
    fn update(&mut self, bytes: &[u8]) {
        Digest::update(self, bytes);
    }
}

/// Why reading through stopped: the source failed, or what was done with the bytes did.
#[derive(Debug)]
pub enum Stop {
    Read(io::Error),
    Use(io::Error),
}

impl From<Stop> for io::Error {
    fn from(s: Stop) -> io::Error {
        match s {
            Stop::Read(e) | Stop::Use(e) => e,
        }
    }
}

/// Read `src` to its end through `buf` (one fixed buffer, reused by the caller from file to
/// file), feeding every byte to `digester` and then to `each` (a copy, kept bytes): one read
/// serves both. Interrupted reads are retried. Returns the number of bytes read.
pub fn read_through(
    src: &mut impl Read,
    buf: &mut [u8],
    digester: &mut impl Digester,
    mut each: impl FnMut(&[u8]) -> io::Result<()>,
) -> Result<u64, Stop> {
    let mut total = 0u64;
    loop {
        let n = match src.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Files are opened O_NONBLOCK (a FIFO swapped in must not hang the open); one that
            // then has nothing to read is refused, never waited on.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(Stop::Read(io::Error::other("file would block")))
            }
            Err(e) => return Err(Stop::Read(e)),
        };
        let data = &buf[..n];
        digester.update(data);
        each(data).map_err(Stop::Use)?;
        total += n as u64;
    }
}

/// The SHA-256 (hex) of everything `src` yields, and its length.
pub fn sha256(src: &mut impl Read, buf: &mut [u8]) -> io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let n = read_through(src, buf, &mut h, |_| Ok(()))?;
    Ok((hex::encode(h.finalize()), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields its bytes a few at a time, interrupted before each piece.
    struct Interrupting {
        bytes: Vec<u8>,
        at: usize,
        interrupt: bool,
    }

    impl Read for Interrupting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(3).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn interrupted_reads_are_retried_and_every_byte_counted() {
        let bytes = b"hello, evidence".to_vec();
        let mut src = Interrupting {
            bytes: bytes.clone(),
            at: 0,
            interrupt: false,
        };
        let mut copy = Vec::new();
        let mut h = Sha256::new();
        let mut buf = [0u8; 8];
        let n = read_through(&mut src, &mut buf, &mut h, |d| {
            copy.extend_from_slice(d);
            Ok(())
        })
        .unwrap();
        assert_eq!(n, bytes.len() as u64);
        assert_eq!(copy, bytes);
        assert_eq!(
            hex::encode(h.finalize()),
            hex::encode(Sha256::digest(&bytes))
        );
    }

    #[test]
    fn sha256_of_nothing() {
        let (sha, n) = sha256(&mut io::empty(), &mut [0u8; 4]).unwrap();
        assert_eq!(n, 0);
        assert_eq!(
            sha,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_failed_use_stops_the_read() {
        let mut h = Sha256::new();
        let r = read_through(&mut &b"abc"[..], &mut [0u8; 2], &mut h, |_| {
            Err(io::Error::other("disk full"))
        });
        assert!(matches!(r, Err(Stop::Use(_))));
    }
}
