//! A visitor's own table of events: reading it (any delimiter, header or not, quotes, BOM, CRLF), choosing
//! what each column is for, preparing the numbers for a model, scoring every row, and writing the scored
//! file back out with the original text unchanged. Plus the toy collider events for visitors without a file.
//!
//! Nothing here knows about the browser: the worker feeds bytes in and reads results out.

pub mod awareness;
pub mod column;
pub mod compare;
pub mod dijet;
pub mod error;
pub mod export;
mod label_names;
pub mod model_file;
pub mod onnx;
pub mod parse;
pub mod prepare;
pub mod resonant;
pub mod run;
pub mod saved_baselines;
pub mod signals;
pub mod score_file;
mod sniff;

pub use column::{Column, ColumnData, ColumnSummary};
pub use error::TableError;
pub use parse::{check_size, parse_bytes, Dialect, Table, TableParser};
