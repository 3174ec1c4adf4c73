//! # anomaly-engine
//!
//! The compute core of Anomaly Playground: digit data, the variational autoencoder, its training loop,
//! anomaly scores and the figures of merit (ROC, AUC). Everything here is plain Rust that `cargo test`
//! runs natively; the web app and its worker only forward commands to it and render what it returns.
//!
//! The data flows one way: [`data`] → [`train`] (batches into [`models`]) → [`score`] → [`metrics`] →
//! [`evaluate`], which packs the summaries a page draws. Nothing in this crate may touch a browser API,
//! and nothing here knows of pages: share links, tutorials, presets and page parts live in the
//! `anomaly-state` crate, which builds on this one.

pub mod awareness;
pub mod baselines;
pub mod data;
pub mod digit_session;
pub mod evaluate;
pub mod flows;
pub mod jets;
pub mod inference;
pub(crate) mod kinematics;
pub mod method;
pub mod metrics;
pub mod models;
pub mod objects;
pub mod parallel;
pub mod projection;
pub mod resonance;
pub mod rng;
pub mod score;
pub mod settings;
pub mod sic;
pub mod special;
pub mod table;
pub mod train;

pub use evaluate::Evaluation;
pub use settings::{SettingProblem, TrainSettings};
pub use train::{StepReport, TrainError, Trainer};
