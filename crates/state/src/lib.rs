//! # anomaly-state
//!
//! What the playground's page is set up with, as plain Rust that `cargo test` runs natively: the share-link
//! codec ([`link`]), the guided tutorials ([`tutorials`]), the named setups a click applies ([`presets`])
//! the parts of the page a classroom link can hide ([`page`]) and the
//! resonance hunt's, the jet-image study's and the Events view's choices ([`hunt`], [`jets`], [`events`]).
//!
//! The engine crate computes; this crate describes setups in the engine's terms (its settings types) and
//! never computes or touches a browser. The web app reads and writes these types and renders them. The
//! modules depend one way: [`tutorials`] and [`page`] on nothing here, [`link`] on both, [`presets`] on the
//! engine only.

pub mod events;
pub mod hunt;
pub mod jets;
pub mod link;
pub mod page;
pub mod presets;
pub mod tutorials;
