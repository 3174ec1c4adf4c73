//! The IDX format of the original MNIST files, which Fashion-MNIST keeps (Debian's
//! `dataset-fashion-mnist` ships them gzipped; `make data` unzips them for `pack-fashion`): a big-endian
//! header (two zero bytes, a type byte 0x08 for unsigned bytes, the number of dimensions, then each
//! dimension as a u32) followed by the values.

use thiserror::Error;

use super::IMAGE_SIDE;

/// The names of the ten Fashion-MNIST classes, by label.
pub const FASHION_CLASSES: [&str; 10] = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

#[derive(Debug, Error, PartialEq)]
pub enum IdxError {
    #[error("this is not an IDX file of unsigned bytes (its header is {0:02x?})")]
    NotIdx(Vec<u8>),
    #[error("the IDX file has {found} dimensions, not {expected}")]
    Dimensions { expected: u8, found: u8 },
    #[error("the IDX file holds images of {0} × {1} pixels, not 28 × 28")]
    ImageSize(u32, u32),
    #[error("the IDX file is truncated or too long: its header promises {expected} bytes of values, it holds {found}")]
    Length { expected: usize, found: usize },
}

/// The dimensions and the values of an IDX file of unsigned bytes with `dimensions` dimensions.
fn parse(bytes: &[u8], dimensions: u8) -> Result<(Vec<usize>, &[u8]), IdxError> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 {
        return Err(IdxError::NotIdx(bytes[..bytes.len().min(4)].to_vec()));
    }
    if bytes[3] != dimensions {
        return Err(IdxError::Dimensions { expected: dimensions, found: bytes[3] });
    }
    let header = 4 + 4 * dimensions as usize;
    if bytes.len() < header {
        return Err(IdxError::Length { expected: header, found: bytes.len() });
    }
    let sizes: Vec<usize> = bytes[4..header].chunks(4).map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")) as usize).collect();
    let expected = sizes.iter().try_fold(1usize, |n, &s| n.checked_mul(s)).unwrap_or(usize::MAX);
    let values = &bytes[header..];
    if values.len() != expected {
        return Err(IdxError::Length { expected, found: values.len() });
    }
    Ok((sizes, values))
}

/// The pixels of an IDX image file of 28 × 28 images, image after image, row by row.
pub fn images(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let (sizes, values) = parse(bytes, 3)?;
    if sizes[1] != IMAGE_SIDE || sizes[2] != IMAGE_SIDE {
        return Err(IdxError::ImageSize(sizes[1] as u32, sizes[2] as u32));
    }
    Ok(values.to_vec())
}

/// The labels of an IDX label file.
pub fn labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    Ok(parse(bytes, 1)?.1.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(sizes: &[u32], values: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, sizes.len() as u8];
        for s in sizes {
            out.extend_from_slice(&s.to_be_bytes());
        }
        out.extend_from_slice(values);
        out
    }

    #[test]
    fn images_and_labels_read_back() {
        let pixels: Vec<u8> = (0..2 * 784).map(|i| (i % 251) as u8).collect();
        assert_eq!(images(&idx(&[2, 28, 28], &pixels)).unwrap(), pixels);
        assert_eq!(labels(&idx(&[3], &[9, 0, 4])).unwrap(), vec![9, 0, 4]);
    }

    #[test]
    fn every_malformed_file_is_named() {
        assert!(matches!(images(b"PNG\x89"), Err(IdxError::NotIdx(_))));
        assert!(matches!(images(&[]), Err(IdxError::NotIdx(_))));
        assert_eq!(images(&idx(&[3], &[1, 2, 3])), Err(IdxError::Dimensions { expected: 3, found: 1 }));
        assert_eq!(images(&idx(&[1, 32, 32], &[0; 1024])), Err(IdxError::ImageSize(32, 32)));
        assert_eq!(labels(&idx(&[4], &[1, 2, 3])), Err(IdxError::Length { expected: 4, found: 3 }));
        assert_eq!(labels(&idx(&[2], &[1, 2, 3])), Err(IdxError::Length { expected: 2, found: 3 }));
        assert!(matches!(images(&[0, 0, 8, 3, 0, 0]), Err(IdxError::Length { .. })));
        assert!(matches!(images(&idx(&[u32::MAX, u32::MAX, 28], &[])), Err(IdxError::Length { .. })), "a size that overflows is refused");
    }
}
