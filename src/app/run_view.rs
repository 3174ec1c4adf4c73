//! What the view of every training run shares, whichever view runs it (digits, a table), so that the run
//! states of the views depend on this module and never on each other.

/// The losses after one epoch: the training loss of its last step, and the validation loss when there are
/// validation rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochLoss {
    pub epoch: usize,
    pub train: f32,
    pub validation: Option<f32>,
}
