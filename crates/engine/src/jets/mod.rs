//! Jet images (SCIENCE.md, "Jet images"; Finke et al., arXiv:2104.09051): toy QCD and top jets as lists
//! of particles ([`particles`]), turned into the paper's 40 × 40 images ([`image`]), and the experiment
//! that trains an autoencoder on one class and tags the other, both ways round ([`experiment`]); the
//! page's sequence of such runs ([`study`]) and what its view draws ([`panels`]).
//! The jets are a seeded toy, not a simulation of a detector, and the page says so.

pub mod experiment;
pub mod image;
pub mod panels;
pub mod particles;
pub mod study;
