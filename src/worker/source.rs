//! Where a table's bytes come from: a visitor's `File` (read slice by slice, never whole) or bytes the
//! worker made itself (the toy events). Reading is synchronous (`FileReaderSync`, workers only), which
//! is what lets the parser run in simple chunks between yields.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{Blob, File, FileReaderSync};

#[derive(Clone)]
pub enum Source {
    File(File),
    Bytes(Rc<Vec<u8>>),
}

impl Source {
    pub fn len(&self) -> u64 {
        match self {
            Source::File(file) => file.size() as u64,
            Source::Bytes(bytes) => bytes.len() as u64,
        }
    }

    /// Bytes `start..end` of the source.
    pub fn read(&self, start: u64, end: u64) -> Result<Vec<u8>, String> {
        match self {
            Source::Bytes(bytes) => Ok(bytes[start as usize..end as usize].to_vec()),
            Source::File(file) => {
                let unreadable = |_| {
                    "the browser could not read the file any more (was it changed, moved or deleted since you chose it?). Choose it again".to_string()
                };
                let slice: Blob = file.slice_with_f64_and_f64(start as f64, end as f64).map_err(unreadable)?;
                let reader = FileReaderSync::new().map_err(unreadable)?;
                let buffer = reader.read_as_array_buffer(&slice).map_err(unreadable)?;
                Ok(js_sys::Uint8Array::new(buffer.unchecked_ref()).to_vec())
            }
        }
    }
}
