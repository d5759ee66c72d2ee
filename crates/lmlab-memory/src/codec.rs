//! Compact byte encoding of the trie for the model file: LEB128 variable-length integers, with
//! zigzag for signed deltas, packed into u32 words so that the common payload writer can carry them.

/// Appends LEB128 varints to a byte buffer.
#[derive(Default)]
pub(crate) struct VarintWriter {
    bytes: Vec<u8>,
}

impl VarintWriter {
    /// Appends an unsigned value.
    pub fn u64(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    /// Appends a signed value (zigzag).
    pub fn i64(&mut self, value: i64) {
        self.u64(((value << 1) ^ (value >> 63)) as u64);
    }

    /// The byte count and the bytes packed little-endian into u32 words (zero-padded).
    pub fn finish(self) -> (u64, Vec<u32>) {
        let words = self
            .bytes
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                u32::from_le_bytes(w)
            })
            .collect();
        (self.bytes.len() as u64, words)
    }
}

/// Reads what a [`VarintWriter`] wrote; every read is bounds-checked.
pub(crate) struct VarintReader {
    bytes: Vec<u8>,
    at: usize,
}

impl VarintReader {
    /// Unpacks `len` bytes from `words`, or `None` when the lengths disagree.
    pub fn new(len: u64, words: &[u32]) -> Option<VarintReader> {
        let len = usize::try_from(len).ok()?;
        if words.len() != len.div_ceil(4) {
            return None;
        }
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        if bytes[len..].iter().any(|&b| b != 0) {
            return None;
        }
        bytes.truncate(len);
        Some(VarintReader { bytes, at: 0 })
    }

    /// Reads an unsigned value; `None` past the end or on an overlong encoding.
    pub fn u64(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// Reads an unsigned value that must fit in u32.
    pub fn u32(&mut self) -> Option<u32> {
        self.u64().and_then(|v| u32::try_from(v).ok())
    }

    /// Reads a signed (zigzag) value.
    pub fn i64(&mut self) -> Option<i64> {
        let v = self.u64()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// True when every byte was read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_bad_input_is_none() {
        let values = [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ];
        let signed = [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX];
        let mut w = VarintWriter::default();
        values.iter().for_each(|&v| w.u64(v));
        signed.iter().for_each(|&v| w.i64(v));
        let (len, words) = w.finish();
        let mut r = VarintReader::new(len, &words).unwrap();
        for &v in &values {
            assert_eq!(r.u64(), Some(v));
        }
        for &v in &signed {
            assert_eq!(r.i64(), Some(v));
        }
        assert!(r.is_done());
        assert_eq!(r.u64(), None);
        assert!(VarintReader::new(len + 4, &words).is_none());
        let mut w = VarintWriter::default();
        w.u64(1 << 40);
        let (len, words) = w.finish();
        assert_eq!(VarintReader::new(len, &words).unwrap().u32(), None);
        let mut bad = VarintReader::new(11, &[u32::MAX, u32::MAX, 0x00ff_ffff]).unwrap();
        assert_eq!(bad.u64(), None);
    }
}
