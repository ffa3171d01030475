//! A CRC-32 after the bytes of each state file under `.git/deploy-ledger/`
//! (the analytics cache and the report memo): a file damaged on disk or
//! edited by hand is then ignored and rewritten, never read as figures.

use std::io::Write;

/// A writer that sums what goes through it; [`Summed::finish`] appends the
/// sum.
pub struct Summed<W: Write> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<W: Write> Summed<W> {
    pub fn new(inner: W) -> Self {
        Summed {
            inner,
            hasher: crc32fast::Hasher::new(),
        }
    }

    /// Writes the sum of everything written so far, after it.
    pub fn finish(self) -> std::io::Result<W> {
        let Summed { mut inner, hasher } = self;
        inner.write_all(&hasher.finalize().to_le_bytes())?;
        Ok(inner)
    }
}

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The bytes before the sum, when the sum is theirs; None for a damaged or
/// cut file.
pub fn verified(bytes: &[u8]) -> Option<&[u8]> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    (crc32fast::hash(body).to_le_bytes() == sum).then_some(body)
}

/// The length of the bytes before the sum in `file`, when the sum is
/// theirs, the file then at its start; None for a damaged or cut file.
/// Read in pieces, not held whole (the analytics cache is 110 MB at
/// 100,000 records).
pub fn verified_file(file: &mut std::fs::File) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let body = file.metadata().ok()?.len().checked_sub(4)?;
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut hasher = crc32fast::Hasher::new();
    let mut piece = vec![0u8; 1 << 20];
    let mut left = body;
    while left > 0 {
        let n = usize::try_from(left.min(piece.len() as u64)).ok()?;
        file.read_exact(&mut piece[..n]).ok()?;
        hasher.update(&piece[..n]);
        left -= n as u64;
    }
    let mut sum = [0u8; 4];
    file.read_exact(&mut sum).ok()?;
    file.seek(SeekFrom::Start(0)).ok()?;
    (hasher.finalize().to_le_bytes() == sum).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_or_cut_file_is_not_verified() {
        let mut out = Summed::new(Vec::new());
        out.write_all(b"deploy-ledger ").expect("write");
        out.write_all(b"state").expect("write");
        let bytes = out.finish().expect("finish");
        assert_eq!(verified(&bytes), Some(&b"deploy-ledger state"[..]));
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x20;
            assert_eq!(verified(&changed), None, "byte {at} changed");
        }
        assert_eq!(verified(&bytes[..bytes.len() - 1]), None);
        assert_eq!(verified(&bytes[1..]), None);
        assert_eq!(verified(b"abc"), None);
        assert_eq!(verified(b""), None);
        // The same from a file, read in pieces.
        let from_file = |bytes: &[u8]| {
            let mut file = tempfile::tempfile().expect("temp file");
            file.write_all(bytes).expect("write");
            verified_file(&mut file)
        };
        assert_eq!(from_file(&bytes), Some(19));
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x20;
            assert_eq!(from_file(&changed), None, "byte {at} changed");
        }
        assert_eq!(from_file(&bytes[..bytes.len() - 1]), None);
        assert_eq!(from_file(b"abc"), None);
        assert_eq!(from_file(b""), None);
    }
}
