//! The R&D v2 toy's calibration (SCIENCE.md, "R&D v2"): its fractions in the signal region and how
//! well the optimal tagger, built from the exact densities, separates signal from background there.

use anomaly_engine::resonance::rnd_v2::{self, Event};
use anomaly_engine::rng::SeededRng;
use anomaly_engine::sic::sic_figures_keeping;

/// Events of the signal region only, drawn from the whole spectrum and kept when they fall inside.
fn signal_region_events(count: usize, draw: fn(&mut SeededRng) -> Event, rng: &mut SeededRng) -> (Vec<Event>, usize) {
    let mut kept = Vec::with_capacity(count);
    let mut drawn = 0;
    while kept.len() < count {
        let e = draw(rng);
        drawn += 1;
        if e.in_signal_region() {
            kept.push(e);
        }
    }
    (kept, drawn)
}

#[test]
fn the_same_seed_gives_the_same_events() {
    assert_eq!(rnd_v2::generate(300, 20, 4), rnd_v2::generate(300, 20, 4));
    assert_ne!(rnd_v2::generate(300, 20, 4), rnd_v2::generate(300, 20, 5));
    let events = rnd_v2::generate(300, 20, 4);
    assert_eq!(events.iter().filter(|e| e.signal).count(), 20);
}

/// About 12.9 % of the background and 78 % of the signal fall in 3.3–3.7 TeV (the LHCO R&D sample: 12.7 %
/// and 77 %). The optimal tagger (the exact likelihood ratio), with max SIC counted where at least 25 of
/// 160,000 signal-region background events pass, gives 17.6 on seed 11, above the supervised classifier of
/// SCIENCE.md (about 16.5 on its toy; 15.5 in the paper), and ε_B = 9.4e-5 at ε_S = 0.2 (SCIENCE.md's
/// supervised: 1.4e-4). At ε_S = 0.5 it gives 4.9e-3, above SCIENCE.md's supervised 3.3e-3: signal that
/// lost a prong is harder to separate in this toy than in the one those figures came from (README).
#[test]
fn the_toy_is_calibrated_like_the_r_and_d_sample() {
    let mut rng = SeededRng::new(11);
    let (background, drawn) = signal_region_events(160_000, rnd_v2::background_event, &mut rng);
    let background_share = background.len() as f64 / drawn as f64;
    let (signal, drawn) = signal_region_events(20_000, rnd_v2::signal_event, &mut rng);
    let signal_share = signal.len() as f64 / drawn as f64;
    assert!((0.126..0.132).contains(&background_share), "{background_share}");
    assert!((0.77..0.81).contains(&signal_share), "{signal_share}");

    let score = |e: &Event| rnd_v2::optimal_score(e);
    let scores: Vec<f32> = background.iter().chain(&signal).map(|e| score(e) as f32).collect();
    let is_signal: Vec<bool> = background.iter().chain(&signal).map(|e| e.signal).collect();
    let figures = sic_figures_keeping(&scores, &is_signal, 25).unwrap();
    let mut signal_scores: Vec<f64> = signal.iter().map(score).collect();
    signal_scores.sort_by(|a, b| b.total_cmp(a));
    let background_efficiency_at = |signal_efficiency: f64| {
        let cut = signal_scores[(signal_efficiency * signal_scores.len() as f64) as usize];
        background.iter().filter(|e| score(e) >= cut).count() as f64 / background.len() as f64
    };
    let (at_20, at_50) = (background_efficiency_at(0.2), background_efficiency_at(0.5));
    println!("optimal tagger: max SIC {:.2} at ε_S {:.3}; ε_B(0.2) {at_20:.2e}, ε_B(0.5) {at_50:.2e}", figures.max_sic, figures.max_sic_signal_efficiency);
    assert!((16.0..20.0).contains(&figures.max_sic), "{}", figures.max_sic);
    assert!((6e-5..1.4e-4).contains(&at_20), "{at_20}");
    assert!((3.5e-3..6.5e-3).contains(&at_50), "{at_50}");
}

#[test]
fn the_csv_has_a_header_and_a_line_per_event() {
    let events = rnd_v2::generate(4, 1, 2);
    let csv = String::from_utf8(rnd_v2::to_csv(&events)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], rnd_v2::HEADER);
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[1..].iter().filter(|l| l.ends_with(",1")).count(), 1);
    assert!(lines[1..].iter().all(|l| l.split(',').count() == 6));
}
