//! Resonance searches (SCIENCE.md, "R-ANODE"): a bump in m_jj hunted with densities learned in the
//! sidebands. `rnd_v2` is the toy they are taught on, with exact densities; `preprocess` the scaling the
//! flows see; `background` the sideband-trained background flow and its closure.

pub mod anode;
pub mod background;
pub mod classifier;
pub mod hunt;
pub mod panels;
pub mod preprocess;
pub mod rnd_v2;
