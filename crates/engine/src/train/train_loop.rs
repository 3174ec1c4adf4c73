//! The one training loop: shuffling, batching, counting steps and epochs, the optimiser, and putting weights
//! back when a loss stops being a finite number. A method only says what the loss of a batch is
//! ([`TrainStep`]); a run is then driven one step at a time through [`Training`].

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use super::{StepReport, TrainData, TrainError};
use crate::method::{StepContext, TrainStep};
use crate::parallel;
use crate::rng::SeededRng;
use crate::settings::OptimiserSettings;

/// Rows a validation pass puts in one batch.
const VALIDATION_CHUNK: usize = 512;

/// The fewest rows a training shard gets: below this, a thread's share of a step costs less than
/// handing it over.
const MIN_SHARD_ROWS: usize = 16;

/// A step's gradients: still to take from its loss, or one set per shard.
enum Gradients {
    Pending(Tensor),
    /// Each shard's gradients, to be added (see `TrainLoop::sum_shards`).
    Shards(Vec<GradStore>),
}

/// How a run steps through its data. Same schedule + same data + same model = same numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub batch_size: usize,
    pub epochs: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Names that derive the run's two random streams from the seed (see [`SeededRng::derive`]): one
    /// shuffles the batches, one gives the noise a loss samples. Runs on the same seed that must not
    /// share streams (stage 1 and its fine-tuning) use different names.
    pub streams: (&'static str, &'static str),
    /// AdamW's decoupled weight decay (0 = plain Adam).
    pub weight_decay: f64,
    /// When set, a step whose gradients have a larger overall (L2) norm is scaled down to this norm first.
    pub max_gradient_norm: Option<f64>,
    /// When set, the learning rate falls from `learning_rate` to this over the run along a half cosine,
    /// so the last epochs settle instead of jittering.
    pub final_learning_rate: Option<f64>,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            batch_size: 64,
            epochs: 1,
            learning_rate: 1e-3,
            seed: 1,
            streams: ("batches", "noise"),
            weight_decay: 0.0,
            max_gradient_norm: None,
            final_learning_rate: None,
        }
    }
}

impl Schedule {
    /// The schedule a visitor's optimiser settings ask for, with the run's stream names.
    pub fn of(optimiser: &OptimiserSettings, streams: (&'static str, &'static str)) -> Self {
        Self {
            batch_size: optimiser.batch_size,
            epochs: optimiser.epochs,
            learning_rate: optimiser.learning_rate,
            seed: optimiser.seed,
            streams,
            ..Self::default()
        }
    }
}

/// What a diverging step puts back.
pub enum Rollback {
    /// The weights from before the latest update, copied before every update.
    LastStep,
    /// The weights the run started from, copied once: a fine-tuning run goes back to the model it tuned.
    Start,
}

/// The object-safe handle a caller drives, whatever the method.
pub trait Training {
    /// Trains on one mini-batch.
    fn step(&mut self) -> Result<StepReport, TrainError>;
    fn is_finished(&self) -> bool;
    fn epochs(&self) -> usize;
    fn batch_size(&self) -> usize;
    fn epochs_done(&self) -> usize;
    /// Steps taken in the current epoch.
    fn step_in_epoch(&self) -> usize;
    fn steps_per_epoch(&self) -> usize;
    fn train_rows(&self) -> usize;
    /// The training loss on the validation rows; `None` without validation rows.
    fn validation_loss(&self) -> Result<Option<f32>, TrainError>;

    /// Steps taken over the whole run.
    fn steps_done(&self) -> usize {
        self.epochs_done() * self.steps_per_epoch() + self.step_in_epoch()
    }

    fn total_steps(&self) -> usize {
        self.epochs() * self.steps_per_epoch()
    }
}

/// A run of method `M` over its data.
pub struct TrainLoop<M> {
    model: M,
    /// The model's variables in a stable order, so snapshots line up with them.
    vars: Vec<Var>,
    /// AdamW, one per variable: each variable's update depends only on its own gradient and state, so
    /// they may run on different threads (see [`crate::parallel`]) with the same arithmetic as one AdamW.
    optimizers: Vec<AdamW>,
    data: TrainData,
    schedule: Schedule,
    order: Vec<usize>,
    cursor: usize,
    epochs_done: usize,
    batch_rng: SeededRng,
    noise_rng: SeededRng,
    rollback: Rollback,
    /// Copies of `vars` that a diverging step puts back (see [`Rollback`]).
    saved: Vec<Tensor>,
    diverged: Option<TrainError>,
}

impl<M: TrainStep> TrainLoop<M> {
    /// A run that trains `vars` (the variables `model` computes with) on `data`.
    pub fn new(model: M, vars: Vec<Var>, data: TrainData, schedule: Schedule, rollback: Rollback) -> Result<Self, TrainError> {
        if data.train_rows() == 0 {
            return Err(TrainError::NoTrainingData);
        }
        let params = ParamsAdamW { lr: schedule.learning_rate, weight_decay: schedule.weight_decay, ..Default::default() };
        let optimizers = vars.iter().map(|var| AdamW::new(vec![var.clone()], params.clone())).collect::<candle_core::Result<_>>()?;
        let saved = match rollback {
            Rollback::Start => snapshot(&vars)?,
            Rollback::LastStep => Vec::new(),
        };
        Ok(Self {
            model,
            optimizers,
            order: (0..data.train_rows()).collect(),
            data,
            cursor: 0,
            epochs_done: 0,
            batch_rng: SeededRng::derive(schedule.seed, schedule.streams.0),
            noise_rng: SeededRng::derive(schedule.seed, schedule.streams.1),
            schedule,
            rollback,
            saved,
            vars,
            diverged: None,
        })
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    /// The method itself, to change how it computes before the first step.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    pub fn divergence(&self) -> Option<&TrainError> {
        self.diverged.as_ref()
    }

    /// Counts the run as finished without training: for weights read from a file.
    pub fn mark_finished(&mut self) {
        self.cursor = 0;
        self.epochs_done = self.schedule.epochs;
    }

    /// Puts back the weights the run started from (with [`Rollback::Start`]; otherwise does nothing).
    pub fn restore_start(&self) -> candle_core::Result<()> {
        match self.rollback {
            Rollback::Start => restore(&self.vars, &self.saved),
            Rollback::LastStep => Ok(()),
        }
    }

    /// The rows of the next batch, gathered in the epoch's shuffled order. Each epoch reshuffles with the
    /// run's own seeded stream.
    fn next_batch(&mut self) -> candle_core::Result<Tensor> {
        if self.cursor == 0 {
            self.batch_rng.shuffle(&mut self.order);
        }
        let end = (self.cursor + self.schedule.batch_size).min(self.order.len());
        let features = self.data.features;
        let mut batch = Vec::with_capacity((end - self.cursor) * features);
        for &row in &self.order[self.cursor..end] {
            batch.extend_from_slice(&self.data.train[row * features..(row + 1) * features]);
        }
        Tensor::from_vec(batch, (end - self.cursor, features), &Device::Cpu)
    }

    #[cfg(test)]
    pub(crate) fn train_rows_mut(&mut self) -> &mut Vec<f32> {
        &mut self.data.train
    }
}

impl<M: TrainStep + Sync> TrainLoop<M> {
    /// How a batch of `rows` is split over the engine's threads: `Some((shards, noise draws per row))`
    /// when there is more than one thread, the method allows it, and every shard gets at least
    /// [`MIN_SHARD_ROWS`] rows; `None` keeps the batch whole.
    fn shards(&self, rows: usize) -> Option<(usize, usize)> {
        let shards = parallel::threads().min(rows / MIN_SHARD_ROWS);
        let draws = self.model.noise_draws_per_row()?;
        (shards > 1).then_some((shards, draws))
    }

    /// The batch's mean loss and each shard's gradients, each shard computed on its own thread: shard i's
    /// loss is weighted by its share of the rows, so the values and gradients add up to the whole batch's.
    /// The shards draw exactly the noise the whole batch would have drawn, in the same order.
    fn sharded_gradients(&mut self, batch: &Tensor, shards: usize, draws: usize) -> Result<(f32, Gradients), TrainError> {
        let rows = batch.dims()[0];
        let mut parts = Vec::with_capacity(shards);
        for range in parallel::split(rows, shards) {
            let noise = self.noise_rng.clone();
            for _ in 0..range.len() * draws {
                self.noise_rng.normal();
            }
            parts.push((batch.narrow(0, range.start, range.len())?, noise, range.len() as f64 / rows as f64));
        }
        let (model, batches) = (&self.model, &self.batch_rng);
        let (step, total_steps) = (self.steps_done(), self.total_steps());
        let results = parallel::map_parts(parts, |(shard, mut noise, weight)| -> candle_core::Result<(f32, GradStore)> {
            // A shardable loss draws nothing from the batch stream; it still needs one to borrow.
            let mut batches = batches.clone();
            let mut context = StepContext { step, total_steps, batches: &mut batches, noise: &mut noise };
            let loss = model.loss(&shard, &mut context)?.affine(weight, 0.0)?;
            Ok((loss.to_scalar::<f32>()?, loss.backward()?))
        });
        let (values, stores): (Vec<f32>, Vec<GradStore>) = results.into_iter().collect::<candle_core::Result<Vec<_>>>()?.into_iter().unzip();
        Ok((values.iter().sum(), Gradients::Shards(stores)))
    }
}

impl<M> TrainLoop<M> {
    /// Adds the shards' gradients, each variable's in shard order, the variables side by side; on the
    /// same threads, when `keep_copy`, the copy of each variable a diverging next step would restore
    /// (one wake-up of the pool for both).
    fn sum_shards(&mut self, stores: Vec<GradStore>, keep_copy: bool) -> candle_core::Result<GradStore> {
        let shards = &stores;
        let sums = parallel::map_parts(self.vars.iter().collect(), |var: &Var| -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
            let copy = if keep_copy { Some(var.as_tensor().copy()?) } else { None };
            let mut parts = shards.iter().filter_map(|store| store.get(var.as_tensor()));
            let Some(first) = parts.next() else { return Ok((None, copy)) };
            Ok((Some(parts.try_fold(first.clone(), |sum, part| sum + part)?), copy))
        });
        let sums = sums.into_iter().collect::<candle_core::Result<Vec<_>>>()?;
        // The first shard's store, its entries replaced by the sums (candle offers no empty store).
        let mut gradients = stores.into_iter().next().expect("at least one shard");
        let mut copies = Vec::with_capacity(if keep_copy { self.vars.len() } else { 0 });
        for (var, (sum, copy)) in self.vars.iter().zip(sums) {
            if let Some(sum) = sum {
                gradients.insert(var.as_tensor(), sum);
            }
            copies.extend(copy);
        }
        if keep_copy {
            self.saved = copies;
        }
        Ok(gradients)
    }
}

impl<M: TrainStep + Sync> Training for TrainLoop<M> {
    fn step(&mut self) -> Result<StepReport, TrainError> {
        if let Some(err) = &self.diverged {
            return Err(err.clone());
        }
        let batch = self.next_batch()?;
        let rows = batch.dims()[0];
        let (loss_value, pending) = match self.shards(rows) {
            Some((shards, draws)) => self.sharded_gradients(&batch, shards, draws)?,
            None => {
                let mut context = StepContext {
                    step: self.steps_done(),
                    total_steps: self.total_steps(),
                    batches: &mut self.batch_rng,
                    noise: &mut self.noise_rng,
                };
                let loss = self.model.loss(&batch, &mut context)?;
                (loss.to_scalar::<f32>()?, Gradients::Pending(loss))
            }
        };
        if !loss_value.is_finite() {
            restore(&self.vars, &self.saved)?;
            let err = TrainError::Diverged { epoch: self.epochs_done + 1, step: self.step_in_epoch() + 1, loss: loss_value };
            self.diverged = Some(err.clone());
            return Err(err);
        }
        let keep_copy = matches!(self.rollback, Rollback::LastStep);
        let mut gradients = match pending {
            Gradients::Pending(loss) => {
                if keep_copy {
                    self.saved = snapshot(&self.vars)?;
                }
                loss.backward()?
            }
            Gradients::Shards(stores) => self.sum_shards(stores, keep_copy)?,
        };
        if let Some(max_norm) = self.schedule.max_gradient_norm {
            clip_gradient_norm(&mut gradients, &self.vars, max_norm)?;
        }
        if let Some(end) = self.schedule.final_learning_rate {
            let progress = self.steps_done() as f64 / self.total_steps().max(1) as f64;
            let start = self.schedule.learning_rate;
            let rate = end + (start - end) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
            self.optimizers.iter_mut().for_each(|optimizer| optimizer.set_learning_rate(rate));
        }
        let gradients = &gradients;
        let optimizers: Vec<&mut AdamW> = self.optimizers.iter_mut().collect();
        parallel::map_parts(optimizers, |optimizer| optimizer.step(gradients)).into_iter().collect::<candle_core::Result<()>>()?;
        self.cursor += rows;
        let epoch_finished = self.cursor >= self.order.len();
        if epoch_finished {
            self.cursor = 0;
            self.epochs_done += 1;
        }
        Ok(StepReport {
            epochs_done: self.epochs_done,
            step_in_epoch: self.step_in_epoch(),
            steps_per_epoch: self.steps_per_epoch(),
            rows,
            loss: loss_value,
            epoch_finished,
        })
    }

    fn is_finished(&self) -> bool {
        self.epochs_done >= self.schedule.epochs
    }

    fn epochs(&self) -> usize {
        self.schedule.epochs
    }

    fn batch_size(&self) -> usize {
        self.schedule.batch_size
    }

    fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    fn step_in_epoch(&self) -> usize {
        self.cursor.div_ceil(self.schedule.batch_size)
    }

    fn steps_per_epoch(&self) -> usize {
        self.data.train_rows().div_ceil(self.schedule.batch_size)
    }

    fn train_rows(&self) -> usize {
        self.data.train_rows()
    }

    /// The loss on the validation rows, with noise drawn from a fixed seed so that epochs compare like
    /// with like.
    fn validation_loss(&self) -> Result<Option<f32>, TrainError> {
        let rows = self.data.validation_rows();
        if rows == 0 {
            return Ok(None);
        }
        let mut noise = SeededRng::derive(self.schedule.seed, "validation-noise");
        let mut batches = SeededRng::derive(self.schedule.seed, "validation-batches");
        let features = self.data.features;
        let mut total = 0.0f64;
        for start in (0..rows).step_by(VALIDATION_CHUNK) {
            let end = (start + VALIDATION_CHUNK).min(rows);
            let x = Tensor::from_slice(&self.data.validation[start * features..end * features], (end - start, features), &Device::Cpu)?;
            let mut context =
                StepContext { step: self.steps_done(), total_steps: self.total_steps(), batches: &mut batches, noise: &mut noise };
            total += self.model.loss(&x, &mut context)?.to_scalar::<f32>()? as f64 * (end - start) as f64;
        }
        Ok(Some((total / rows as f64) as f32))
    }
}

/// Scales every gradient by max_norm / ‖g‖ when the gradients' overall L2 norm ‖g‖ exceeds max_norm
/// (candle has no clipping of its own; SCIENCE.md, "Traps"). Returns the norm before clipping.
pub fn clip_gradient_norm(gradients: &mut GradStore, vars: &[Var], max_norm: f64) -> candle_core::Result<f64> {
    let mut squares = 0.0f64;
    for var in vars {
        if let Some(g) = gradients.get(var.as_tensor()) {
            squares += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
        }
    }
    let norm = squares.sqrt();
    if norm > max_norm {
        let factor = max_norm / norm;
        for var in vars {
            if let Some(g) = gradients.remove(var.as_tensor()) {
                gradients.insert(var.as_tensor(), (g * factor)?);
            }
        }
    }
    Ok(norm)
}

/// A copy of every variable, the variables side by side on the engine's threads.
fn snapshot(vars: &[Var]) -> candle_core::Result<Vec<Tensor>> {
    parallel::map_parts(vars.iter().collect(), |var: &Var| var.as_tensor().copy()).into_iter().collect()
}

fn restore(vars: &[Var], saved: &[Tensor]) -> candle_core::Result<()> {
    for (var, tensor) in vars.iter().zip(saved) {
        var.set(tensor)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    /// Gradients (3, 4) and (0, 12) have norm 13: clipped to 6.5 they halve; a larger limit leaves them.
    #[test]
    fn clipping_scales_the_gradients_to_the_norm() {
        let a = Var::zeros(2, DType::F32, &Device::Cpu).unwrap();
        let b = Var::zeros(2, DType::F32, &Device::Cpu).unwrap();
        let target = Tensor::new(&[3f32, 4.0, 0.0, 12.0], &Device::Cpu).unwrap();
        // d/dθ of −Σ target·θ is −target.
        let gradients_of = || {
            let both = Tensor::cat(&[a.as_tensor(), b.as_tensor()], 0).unwrap();
            (both * &target).unwrap().sum_all().unwrap().neg().unwrap().backward().unwrap()
        };
        let vars = [a.clone(), b.clone()];
        let read = |g: &GradStore, v: &Var| g.get(v.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        let mut gradients = gradients_of();
        assert_eq!(clip_gradient_norm(&mut gradients, &vars, 100.0).unwrap(), 13.0);
        assert_eq!(read(&gradients, &a), vec![-3.0, -4.0]);
        let mut gradients = gradients_of();
        clip_gradient_norm(&mut gradients, &vars, 6.5).unwrap();
        assert_eq!(read(&gradients, &a), vec![-1.5, -2.0]);
        assert_eq!(read(&gradients, &b), vec![0.0, -6.0]);
    }
}
