//! Data: the MNIST digit set in the playground's compact binary format, and seeded splits of it.

pub mod anomalies;
pub mod mnist;
pub mod split;

pub use mnist::{DataError, DigitSet, IMAGE_PIXELS, IMAGE_SIDE};
pub use split::Split;
