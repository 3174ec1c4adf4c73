//! What the jet-image view draws, computed in the engine so the worker only posts it: average images
//! per class, one jet through each preprocessing step, and reconstruction error against two measures of
//! an image's complexity (where the bias shows): how many pixels it lights, and how concentrated its
//! intensity is (Σ p²; in the toy the error follows this one more closely, README "Jet images").

use super::experiment::{ClassImages, DirectionResult, JetData, JetError, JetRun};
use super::image::{centred, flipped, image, rotated, SparseImage, PIXELS};
use super::particles::{jets, Jet, JetClass, Particle};
use crate::metrics::Roc;

/// Test jets of each class in the error-against-complexity panel.
pub const COMPLEXITY_POINTS: usize = 400;
/// Points of a ROC curve sent to the page.
pub const ROC_POINTS: usize = 200;

/// The mean of `images` after the κ rescaling, as a dense image.
pub fn average_image(images: &[SparseImage], kappa: f64) -> Vec<f32> {
    let mut sum = vec![0.0f64; PIXELS];
    for image in images {
        for &(i, p) in &image.rescaled(kappa).pixels {
            sum[i as usize] += p as f64;
        }
    }
    let count = images.len().max(1) as f64;
    sum.into_iter().map(|s| (s / count) as f32).collect()
}

/// One jet at each step of the preprocessing: its particles as generated, centred, rotated and flipped,
/// then the image.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PreprocessingSteps {
    pub class: JetClass,
    pub mass: f64,
    /// (share of pT, Δη, Δφ) of each particle after each of the first four steps.
    pub particles: [Vec<(f32, f32, f32)>; 4],
    pub image: SparseImage,
}

impl PreprocessingSteps {
    pub const STEP_NAMES: [&'static str; 5] = ["as generated", "centred on the pT centroid", "principal axis turned vertical", "flipped: heavier half right and on top", "pixelated, 40 × 40"];

    pub fn of(jet: &Jet, class: JetClass) -> Self {
        let points = |particles: &[Particle]| particles.iter().map(|p| (p.z as f32, p.eta as f32, p.phi as f32)).collect::<Vec<_>>();
        let centred_particles = centred(&jet.particles);
        let rotated_particles = rotated(&centred_particles);
        let flipped_particles = flipped(&rotated_particles);
        Self {
            class,
            mass: jet.mass(),
            particles: [points(&jet.particles), points(&centred_particles), points(&rotated_particles), points(&flipped_particles)],
            image: image(jet),
        }
    }

    /// The first jet of `class` from a seed (the first training jet of a study on that seed).
    pub fn example(class: JetClass, seed: u64) -> Self {
        Self::of(&jets(class, 1, seed)[0], class)
    }
}

/// A test jet's lit pixels, concentration and reconstruction error, and whether it is of the class the
/// model was trained on.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComplexityPoint {
    pub lit: u16,
    /// Σ p² of the image as the model saw it (after the κ rescaling): 1 for a single pixel, 1/n for n
    /// equal ones.
    pub concentration: f32,
    pub error: f32,
    pub trained_class: bool,
}

/// Up to `per_class` points of each class (the first test jets, which are in no particular order).
pub fn complexity(result: &DirectionResult, trained: &ClassImages, other: &ClassImages, per_class: usize) -> Vec<ComplexityPoint> {
    let mut points = Vec::with_capacity(2 * per_class);
    for (images, scores, trained_class) in [(&trained.test, &result.scores_trained, true), (&other.test, &result.scores_other, false)] {
        let class = images.iter().zip(scores).take(per_class);
        points.extend(class.map(|(image, &error)| ComplexityPoint {
            lit: image.lit() as u16,
            concentration: concentration(&image.rescaled(result.kappa)),
            error,
            trained_class,
        }));
    }
    points
}

/// Σ p² of an image's intensities.
pub fn concentration(image: &SparseImage) -> f32 {
    image.pixels.iter().map(|&(_, p)| p * p).sum()
}

/// The Pearson correlation of reconstruction error with `measure` (such as the lit pixels) over `points`;
/// 0 when either does not vary.
pub fn correlation_with_error(points: &[ComplexityPoint], measure: impl Fn(&ComplexityPoint) -> f64) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let (mx, my) = points.iter().fold((0.0, 0.0), |(x, y), p| (x + measure(p) / n, y + p.error as f64 / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for p in points {
        let (dx, dy) = (measure(p) - mx, p.error as f64 - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 { 0.0 } else { sxy / (sxx * syy).sqrt() }
}

/// What the page shows before any model trains: one jet of each class through the preprocessing, and
/// the average image of each class at each κ of the study.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyIntro {
    pub examples: Vec<PreprocessingSteps>,
    pub averages: Vec<ClassAverage>,
    /// The mean number of lit pixels of each class's training jets, QCD first.
    pub mean_lit: [f64; 2],
    /// Training jets of each class (the averages are over these).
    pub train_jets: usize,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassAverage {
    pub class: JetClass,
    pub kappa: f64,
    pub image: Vec<f32>,
}

impl StudyIntro {
    pub fn of(data: &JetData, kappas: &[f64], seed: u64) -> Self {
        let classes = [JetClass::Qcd, JetClass::Top];
        let mean_lit = classes.map(|c| {
            let train = &data.class(c).train;
            train.iter().map(|i| i.lit() as f64).sum::<f64>() / train.len().max(1) as f64
        });
        let averages = kappas
            .iter()
            .flat_map(|&kappa| classes.map(|class| ClassAverage { class, kappa, image: average_image(&data.class(class).train, kappa) }))
            .collect();
        Self { examples: classes.iter().map(|&c| PreprocessingSteps::example(c, seed)).collect(), averages, mean_lit, train_jets: data.qcd.train.len() }
    }
}

/// A test jet as the model saw it (after the κ rescaling) beside the model's reconstruction.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reconstructed {
    pub class: JetClass,
    pub input: Vec<f32>,
    pub output: Vec<f32>,
    pub error: f32,
}

/// What the page shows of one finished direction.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DirectionPanel {
    pub trained_on: JetClass,
    pub kappa: f64,
    /// Tagging the other class against the trained one.
    pub auc: f64,
    pub roc: Roc,
    /// The mean reconstruction error of the trained class's test jets, then the other class's.
    pub mean_error: [f64; 2],
    pub complexity: Vec<ComplexityPoint>,
    /// The error's correlation with lit pixels and with concentration, within the trained class, then
    /// within the other class.
    pub lit_correlation: [f64; 2],
    pub concentration_correlation: [f64; 2],
    /// The first test jet of each class, the trained class first.
    pub examples: Vec<Reconstructed>,
}

impl DirectionPanel {
    /// The panel of `run`, finished, whose scores are `result`.
    pub fn of(run: &JetRun, result: &DirectionResult, data: &JetData) -> Result<Self, JetError> {
        let (trained, other) = (data.class(result.trained_on), data.class(result.trained_on.other()));
        let complexity = complexity(result, trained, other, COMPLEXITY_POINTS);
        let within = |trained_class: bool, measure: fn(&ComplexityPoint) -> f64| {
            let points: Vec<ComplexityPoint> = complexity.iter().copied().filter(|p| p.trained_class == trained_class).collect();
            correlation_with_error(&points, measure)
        };
        let lit = |p: &ComplexityPoint| p.lit as f64;
        let concentrated = |p: &ComplexityPoint| p.concentration as f64;
        let mean = |scores: &[f32]| scores.iter().map(|&s| s as f64).sum::<f64>() / scores.len().max(1) as f64;
        let mut examples = Vec::new();
        for (class, scores) in [(trained, &result.scores_trained), (other, &result.scores_other)] {
            let (Some(first), Some(&error)) = (class.test.first(), scores.first()) else { continue };
            let output = run.reconstructions(std::slice::from_ref(first))?.remove(0);
            examples.push(Reconstructed { class: class.class, input: first.rescaled(result.kappa).dense(), output, error });
        }
        Ok(Self {
            trained_on: result.trained_on,
            kappa: result.kappa,
            auc: result.auc(),
            roc: result.roc.thinned(ROC_POINTS),
            mean_error: [mean(&result.scores_trained), mean(&result.scores_other)],
            lit_correlation: [within(true, lit), within(false, lit)],
            concentration_correlation: [within(true, concentrated), within(false, concentrated)],
            complexity,
            examples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jets::experiment::JetData;

    #[test]
    fn the_average_image_keeps_the_total_intensity() {
        let data = JetData::generate(50, 1, 1).unwrap();
        for kappa in [1.0, 0.25] {
            let average = average_image(&data.top.train, kappa);
            let total: f32 = average.iter().sum();
            assert!((total - 1.0).abs() < 1e-4, "{total}");
        }
        assert!(average_image(&[], 1.0).iter().all(|&p| p == 0.0));
    }

    #[test]
    fn the_steps_follow_one_jet_to_its_image() {
        let steps = PreprocessingSteps::example(JetClass::Top, 2);
        let first = &jets(JetClass::Top, 1, 2)[0];
        assert_eq!(steps.image, image(first));
        assert_eq!(steps.mass, first.mass());
        assert!(steps.particles.iter().all(|p| p.len() == first.particles.len()));
        let centroid: f32 = steps.particles[1].iter().map(|&(z, eta, _)| z * eta).sum();
        assert!(centroid.abs() < 1e-5);
    }

    #[test]
    fn complexity_points_pair_each_jet_with_its_score() {
        let data = JetData::generate(3, 4, 1).unwrap();
        let result = DirectionResult {
            trained_on: JetClass::Qcd,
            kappa: 1.0,
            scores_trained: vec![1.0, 2.0, 3.0, 4.0],
            scores_other: vec![5.0, 6.0, 7.0, 8.0],
            roc: crate::metrics::roc_of(&[1.0], &[2.0]).unwrap(),
        };
        let points = complexity(&result, &data.qcd, &data.top, 3);
        assert_eq!(points.len(), 6);
        let qcd = &data.qcd.test[0];
        assert_eq!(points[0], ComplexityPoint { lit: qcd.lit() as u16, concentration: concentration(qcd), error: 1.0, trained_class: true });
        let top = &data.top.test[2];
        assert_eq!(points[5], ComplexityPoint { lit: top.lit() as u16, concentration: concentration(top), error: 7.0, trained_class: false });
        let line: Vec<ComplexityPoint> =
            (0..5).map(|i| ComplexityPoint { lit: i, concentration: 0.5, error: 2.0 * i as f32 + 1.0, trained_class: true }).collect();
        assert!((correlation_with_error(&line, |p| p.lit as f64) - 1.0).abs() < 1e-12);
        assert_eq!(correlation_with_error(&line, |p| p.concentration as f64), 0.0, "a measure that does not vary");
    }

    #[test]
    fn concentration_is_one_for_a_single_pixel_and_one_over_n_for_n_equal_ones() {
        assert_eq!(concentration(&SparseImage { pixels: vec![(7, 1.0)] }), 1.0);
        assert_eq!(concentration(&SparseImage { pixels: vec![(1, 0.25), (2, 0.25), (3, 0.25), (4, 0.25)] }), 0.25);
    }
}
