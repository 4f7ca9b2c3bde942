//! Box headers of an ISO base media file, read through `Read + Seek`. Every size is checked
//! against its parent and the file, payloads are read up to a cap, and the number of headers
//! one file may make us read is bounded: a hostile size can neither allocate, nor seek outside
//! the file, nor keep the walk going for long.

use std::io::{Read, Seek, SeekFrom};

pub type FourCc = [u8; 4];

/// Headers read from one file at most (a moov holds tens; a hostile one millions of tiny
/// boxes).
const MAX_HEADERS: u32 = 20_000;

/// One box: its type and where its body lies, within its parent and the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boxed {
    pub kind: FourCc,
    pub body: u64,
    pub end: u64,
}

impl Boxed {
    pub fn len(&self) -> u64 {
        self.end - self.body
    }
}

pub struct Source<R> {
    reader: R,
    len: u64,
    headers_left: u32,
}

impl<R: Read + Seek> Source<R> {
    pub fn new(reader: R, len: u64) -> Self {
        Source {
            reader,
            len,
            headers_left: MAX_HEADERS,
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// The children of the range `[start, end)`, read one header at a time.
    pub fn children(&self, start: u64, end: u64) -> Children {
        Children {
            pos: start,
            end: end.min(self.len),
        }
    }

    /// The first `cap` bytes of a box's body (all of it when shorter).
    pub fn body(&mut self, b: &Boxed, cap: usize) -> Result<Vec<u8>, String> {
        let n = b.len().min(cap as u64) as usize;
        let mut buf = vec![0; n];
        self.read_at(b.body, &mut buf)?;
        Ok(buf)
    }

    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> Result<(), String> {
        if pos
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return Err("box past the end of the file".into());
        }
        self.reader
            .seek(SeekFrom::Start(pos))
            .and_then(|_| self.reader.read_exact(buf))
            .map_err(|e| format!("read failed at byte {pos}: {e}"))
    }
}

/// The boxes in a range, in order. A header that does not fit its parent ends the walk of
/// that parent (a truncated file keeps what came before); a body longer than the room left is
/// cut to it, so that a box written before a cut is still read as far as it goes.
pub struct Children {
    pos: u64,
    end: u64,
}

impl Children {
    pub fn next<R: Read + Seek>(&mut self, src: &mut Source<R>) -> Result<Option<Boxed>, String> {
        if self.end.saturating_sub(self.pos) < 8 {
            return Ok(None);
        }
        if src.headers_left == 0 {
            return Err(format!("more than {MAX_HEADERS} boxes"));
        }
        src.headers_left -= 1;
        let start = self.pos;
        let mut h = [0u8; 8];
        src.read_at(start, &mut h)?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = [h[4], h[5], h[6], h[7]];
        let mut header = 8u64;
        let size = match size32 {
            // To the end of the parent.
            0 => self.end - start,
            1 => {
                if self.end - start < 16 {
                    self.pos = self.end;
                    return Ok(None);
                }
                let mut l = [0u8; 8];
                src.read_at(start + 8, &mut l)?;
                header = 16;
                u64::from_be_bytes(l)
            }
            n => u64::from(n),
        };
        if &kind == b"uuid" {
            header += 16;
        }
        if size < header || self.end - start < header {
            self.pos = self.end;
            return Ok(None);
        }
        let end = start.saturating_add(size).min(self.end);
        self.pos = end;
        Ok(Some(Boxed {
            kind,
            body: start + header,
            end,
        }))
    }

    /// The first child of the given type.
    pub fn find<R: Read + Seek>(
        mut self,
        src: &mut Source<R>,
        kind: &FourCc,
    ) -> Result<Option<Boxed>, String> {
        while let Some(b) = self.next(src)? {
            if &b.kind == kind {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }
}

/// Big-endian fields of a body read in memory; `None` past its end.
pub fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(i..i.checked_add(2)?)?.try_into().ok()?,
    ))
}

pub fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(i..i.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn u64_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(i..i.checked_add(8)?)?.try_into().ok()?,
    ))
}

pub fn four_at(b: &[u8], i: usize) -> Option<FourCc> {
    b.get(i..i.checked_add(4)?)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn walk(bytes: &[u8]) -> Vec<Boxed> {
        let mut src = Source::new(Cursor::new(bytes), bytes.len() as u64);
        let mut c = src.children(0, src.len());
        let mut out = Vec::new();
        while let Some(b) = c.next(&mut src).unwrap() {
            out.push(b);
        }
        out
    }

    #[test]
    fn sizes_are_held_to_the_parent() {
        // free(8) + a box claiming 4 GB in a 20-byte file: cut to what is there.
        let mut f = vec![0, 0, 0, 8, b'f', b'r', b'e', b'e'];
        f.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, b'm', b'd', b'a', b't', 1, 2, 3, 4]);
        let b = walk(&f);
        assert_eq!(b.len(), 2);
        assert_eq!((b[1].body, b[1].end), (16, 20));
        // A 64-bit size of 2^64-1 and a size smaller than its header end the walk.
        let mut f = vec![0, 0, 0, 1, b'm', b'd', b'a', b't'];
        f.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(walk(&f)[0].end, 16);
        assert!(walk(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']).is_empty());
        // Size 0 runs to the end; a header cut short is no box.
        assert_eq!(walk(&[0, 0, 0, 0, b'm', b'o', b'o', b'v', 9])[0].end, 9);
        assert!(walk(&[0, 0, 0, 9, b'm', b'o']).is_empty());
    }

    #[test]
    fn bodies_are_capped() {
        let mut f = vec![0, 0, 0, 40, b'f', b'r', b'e', b'e'];
        f.resize(40, 7);
        let mut src = Source::new(Cursor::new(&f[..]), f.len() as u64);
        let b = src.children(0, 40).next(&mut src).unwrap().unwrap();
        assert_eq!(src.body(&b, 4).unwrap(), vec![7; 4]);
        assert_eq!(src.body(&b, 100).unwrap().len(), 32);
    }

    #[test]
    fn field_reads_never_panic() {
        assert_eq!(u32_at(&[1, 2, 3], 0), None);
        assert_eq!(u16_at(&[1, 2], usize::MAX), None);
        assert_eq!(u64_at(&[0; 8], 0), Some(0));
        assert_eq!(four_at(b"abcd", 0), Some(*b"abcd"));
    }
}
