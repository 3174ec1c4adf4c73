//! The tutorials against the link codec: every step's setup is a valid link that reads back to itself,
//! and the Awareness tutorial runs the preset.

use anomaly_engine::awareness::AwarenessSettings;
use anomaly_state::link::{decode, encode};
use anomaly_state::presets::awareness_preset;
use anomaly_state::tutorials::{all_steps, TutorialStep, TUTORIALS};

#[test]
fn every_step_has_a_valid_setup_and_its_own_link() {
    for at in all_steps() {
        let decoded = decode(at.content().setup);
        assert_eq!(decoded.problems, vec![], "{}: {}", at.key(), at.content().setup);
        let link = encode(&at.setup());
        let back = decode(&link);
        assert_eq!(back.problems, vec![], "{link}");
        assert_eq!(back.setup.tutorial, Some(at));
        assert_eq!(back.setup, at.setup());
    }
}

#[test]
fn the_awareness_tutorial_runs_the_preset_except_where_it_varies_the_count() {
    let (digits, awareness) = awareness_preset();
    for at in all_steps().filter(|at| at.tutorial().key == "awareness") {
        let setup = at.setup();
        assert_eq!(setup.digits, digits, "{}", at.key());
        let title = at.content().title;
        let expected = match title {
            "How few is enough?" => AwarenessSettings { labelled_anomalies: 5, ..awareness.clone() },
            _ => awareness.clone(),
        };
        assert_eq!(setup.awareness, expected, "{} ({title})", at.key());
    }
}

#[test]
fn step_keys_read_back_and_bad_ones_do_not() {
    for at in all_steps() {
        assert_eq!(TutorialStep::from_key(&at.key()), Some(at));
    }
    for bad in ["", "vae", "vae.", "vae.0", "vae.99", "nope.1", "vae.-1", "vae.1.2", ".1"] {
        assert_eq!(TutorialStep::from_key(bad), None, "{bad}");
    }
}

#[test]
fn steps_walk_forward_and_back_within_a_tutorial() {
    let first = TutorialStep { tutorial: 1, step: 0 };
    assert_eq!(first.previous(), None);
    let mut at = first;
    let mut seen = 1;
    while let Some(next) = at.next() {
        assert_eq!(next.previous(), Some(at));
        at = next;
        seen += 1;
    }
    assert_eq!(seen, TUTORIALS[1].steps.len());
    assert!(at.is_last());
}

#[test]
fn every_tutorial_cites_an_arxiv_paper_and_has_prompts() {
    for t in &TUTORIALS {
        assert!(t.learn_more.contains("arXiv:"), "{}", t.key);
        for s in t.steps {
            for text in [s.title, s.explain, s.try_this, s.expect, s.show.0, s.show.1] {
                assert!(!text.trim().is_empty(), "{}: {}", t.key, s.title);
            }
        }
    }
}
