//! Data: the MNIST digit set (and Fashion-MNIST, in the same format) in the playground's compact binary
//! format, the IDX files Fashion-MNIST comes in, and seeded splits.

pub mod anomalies;
pub mod idx;
pub mod mnist;
pub mod split;

pub use mnist::{DataError, DigitSet, IMAGE_PIXELS, IMAGE_SIDE};
pub use split::Split;
