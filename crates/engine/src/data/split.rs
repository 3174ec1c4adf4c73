//! Seeded train / validation / test split of a digit set.

use crate::rng::SeededRng;

/// Indices into a [`crate::data::DigitSet`], disjoint and covering it.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    pub test: Vec<usize>,
}

impl Split {
    /// 70 % train, 10 % validation, 20 % test, shuffled by `seed`. The split depends only on the seed and
    /// the set's size, so changing the model settings never moves a digit between train and test.
    pub fn by_seed(len: usize, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..len).collect();
        SeededRng::derive(seed, "split").shuffle(&mut order);
        let n_train = len * 7 / 10;
        let n_val = len / 10;
        let test = order.split_off(n_train + n_val);
        let validation = order.split_off(n_train);
        Self { train: order, validation, test }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_disjoint_complete_and_seeded() {
        let split = Split::by_seed(1000, 42);
        assert_eq!((split.train.len(), split.validation.len(), split.test.len()), (700, 100, 200));
        let mut all: Vec<usize> = split.train.iter().chain(&split.validation).chain(&split.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(split, Split::by_seed(1000, 42));
        assert_ne!(split.test, Split::by_seed(1000, 43).test);
    }
}
