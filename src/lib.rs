//! # anomaly-playground
//!
//! The web side of Anomaly Playground: a leptos page ([`app`]) that renders state and forwards the
//! visitor's commands, and a web worker ([`worker`]) that owns every heavy computation by driving the
//! engine crate. The two speak only through [`protocol`]: one `Command` enum in, one `Event` enum out.

pub mod app;
pub mod plots;
pub mod protocol;
pub mod worker;
