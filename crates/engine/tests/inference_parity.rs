//! The fused CPU scorer gives candle's scores, to float rounding, for both likelihoods, with and
//! without the KL term, for odd row counts and extreme inputs.

use anomaly_engine::inference::CpuScorer;
use anomaly_engine::models::Likelihood;
use anomaly_engine::rng::SeededRng;
use anomaly_engine::score::score_rows;
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::settings::{ModelSettings, OptimiserSettings, VaeSettings};

fn trained(features: usize, likelihood: Likelihood, seed: u64) -> Trainer {
    trained_with(features, 24, likelihood, seed)
}

fn trained_with(features: usize, hidden_units: usize, likelihood: Likelihood, seed: u64) -> Trainer {
    let mut rng = SeededRng::new(seed);
    let mut row = || -> Vec<f32> {
        (0..features).map(|_| if likelihood == Likelihood::Gaussian { rng.normal() } else { rng.uniform() }).collect()
    };
    let train: Vec<f32> = (0..96).flat_map(|_| row()).collect();
    let settings = ModelSettings { vae: VaeSettings { hidden_units, latent_dims: 3, ..Default::default() }, optimiser: OptimiserSettings { batch_size: 16, epochs: 2, seed, ..Default::default() } };
    let mut trainer = Trainer::new(&settings, TrainData { features, likelihood, train, validation: vec![] }).unwrap();
    while !trainer.is_finished() {
        trainer.step().unwrap();
    }
    trainer
}

fn assert_close(fused: &[f32], reference: &[f32]) {
    assert_eq!(fused.len(), reference.len());
    for (i, (a, b)) in fused.iter().zip(reference).enumerate() {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "row {i}: fused {a}, candle {b}");
    }
}

#[test]
fn fused_scores_equal_candle_scores() {
    for likelihood in [Likelihood::Gaussian, Likelihood::Bernoulli] {
        for with_kl in [false, true] {
            // Hidden widths: a whole number of vectors; a latent layer whose inputs end in a partial
            // vector; and every layer one vector wide or less.
            for (rows, hidden) in [(1, 22), (3, 24), (4, 3), (5, 22), (37, 24), (37, 3)] {
                let features = 13;
                let trainer = trained_with(features, hidden, likelihood, rows as u64);
                let mut rng = SeededRng::new(99);
                let mut data: Vec<f32> = (0..rows * features).map(|_| rng.normal() * 2.0).collect();
                if likelihood == Likelihood::Bernoulli {
                    data.iter_mut().for_each(|v| *v = v.abs().min(1.0));
                }
                let reference = score_rows(trainer.model(), &data, with_kl).unwrap().scores;
                let scorer = CpuScorer::new(&trainer.model().weights().unwrap(), likelihood, with_kl);
                let mut fused = vec![0f32; rows];
                scorer.score(&data, &mut fused);
                assert_close(&fused, &reference);
            }
        }
    }
}

#[test]
fn extreme_inputs_agree_too() {
    let features = 6;
    let trainer = trained(features, Likelihood::Gaussian, 4);
    let data: Vec<f32> = [1e4f32, -1e4, 0.0, 1e-30, 123.5, -7.0].repeat(5);
    let reference = score_rows(trainer.model(), &data, false).unwrap().scores;
    let mut fused = vec![0f32; 5];
    CpuScorer::new(&trainer.model().weights().unwrap(), Likelihood::Gaussian, false).score(&data, &mut fused);
    assert_close(&fused, &reference);
}

/// Rows like digits: mostly exact zeros, which the scorer skips. Enough rows for several batches, and
/// a width that leaves a narrower last tile of outputs.
fn sparse_rows(rows: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..rows * features).map(|_| if rng.uniform() < 0.8 { 0.0 } else { rng.uniform() }).collect()
}

#[test]
fn skipping_zero_inputs_changes_no_score() {
    // Only layers with 32 outputs or more look for zeros: the encoder's hidden layer (68 outputs, the
    // last tile one vector) reading these rows, and the decoder's output layer (70 outputs) reading ReLU'd units.
    let features = 70;
    for likelihood in [Likelihood::Gaussian, Likelihood::Bernoulli] {
        let trainer = trained_with(features, 68, likelihood, 7);
        let data = sparse_rows(131, features, 8);
        let reference = score_rows(trainer.model(), &data, true).unwrap().scores;
        let scorer = CpuScorer::new(&trainer.model().weights().unwrap(), likelihood, true);
        let mut together = vec![0f32; 131];
        scorer.score(&data, &mut together);
        assert_close(&together, &reference);
        // Which inputs a group skips depends on its other rows; a row's score must not.
        for (r, &score) in together.iter().enumerate() {
            let mut alone = [0f32];
            scorer.score(&data[r * features..(r + 1) * features], &mut alone);
            assert_eq!(alone[0].to_bits(), score.to_bits(), "row {r} alone and in a batch");
        }
    }
}

/// Split over threads (the page's threaded build), every row keeps its score to the last bit, for a row
/// count that leaves a short last run.
#[test]
fn threads_change_no_score() {
    let features = 70;
    let trainer = trained_with(features, 68, Likelihood::Bernoulli, 7);
    let scorer = CpuScorer::new(&trainer.model().weights().unwrap(), Likelihood::Bernoulli, true);
    let rows = 64 * 9 + 5;
    let data = sparse_rows(rows, features, 9);
    let mut one = vec![0f32; rows];
    scorer.score(&data, &mut one);
    for threads in [2, 3] {
        anomaly_engine::parallel::set_threads(threads);
        let mut split = vec![f32::NAN; rows];
        scorer.score(&data, &mut split);
        anomaly_engine::parallel::set_threads(1);
        assert_eq!(split.iter().map(|s| s.to_bits()).collect::<Vec<_>>(), one.iter().map(|s| s.to_bits()).collect::<Vec<_>>(), "{threads} threads");
    }
}

#[test]
fn a_nan_input_gives_a_nan_score_and_spares_its_neighbours() {
    let features = 50;
    let trainer = trained(features, Likelihood::Bernoulli, 9);
    let mut data = sparse_rows(6, features, 10);
    data[2 * features + 17] = f32::NAN;
    let mut scores = vec![0f32; 6];
    CpuScorer::new(&trainer.model().weights().unwrap(), Likelihood::Bernoulli, false).score(&data, &mut scores);
    for (r, score) in scores.iter().enumerate() {
        assert_eq!(score.is_nan(), r == 2, "row {r}: {score}");
    }
}
