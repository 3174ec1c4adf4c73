//! Where a table's bytes come from: a visitor's `File` (read piece by piece, never whole) or bytes the
//! worker made itself (the toy events). A few bytes anywhere are read synchronously (`FileReaderSync`,
//! workers only); a whole file front to back goes through [`InOrder`].

use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, FileReaderSync, ReadableStreamByobReader};

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

    /// Reads `start..end` front to back, in pieces of the caller's size.
    pub fn in_order(&self, start: u64, end: u64) -> InOrder {
        let stream = match self {
            Source::File(file) => file.slice_with_f64_and_f64(start as f64, end as f64).ok().and_then(|slice| byob_reader(&slice)),
            Source::Bytes(_) => None,
        };
        InOrder { source: self.clone(), stream, buffer: None, position: start, end }
    }

    /// Bytes `start..end` of the source.
    pub fn read(&self, start: u64, end: u64) -> Result<Vec<u8>, String> {
        match self {
            Source::Bytes(bytes) => Ok(bytes[start as usize..end as usize].to_vec()),
            Source::File(file) => {
                let slice: Blob = file.slice_with_f64_and_f64(start as f64, end as f64).map_err(|_| unreadable())?;
                let reader = FileReaderSync::new().map_err(|_| unreadable())?;
                let buffer = reader.read_as_array_buffer(&slice).map_err(|_| unreadable())?;
                Ok(js_sys::Uint8Array::new(buffer.unchecked_ref()).to_vec())
            }
        }
    }
}

fn unreadable() -> String {
    "the browser could not read the file any more (was it changed, moved or deleted since you chose it?). Choose it again".to_string()
}

/// A source read front to back. A file streams into one JS buffer that is handed back and forth
/// (a "bring your own buffer" reader), so a pass over a 170 MB file leaves no spent buffers behind:
/// reading it in `FileReaderSync` slices instead left about 150 MB of them for the garbage collector,
/// on top of the file. Browsers without such a reader for files get the slices.
pub struct InOrder {
    source: Source,
    stream: Option<ReadableStreamByobReader>,
    buffer: Option<js_sys::ArrayBuffer>,
    position: u64,
    end: u64,
}

/// The JS buffer a stream reads into.
const STREAM_BUFFER: u32 = 1 << 20;

impl InOrder {
    /// Replaces `out` with the next `n` bytes (fewer only where the range ends).
    pub async fn read(&mut self, n: u64, out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        let wanted = n.min(self.end - self.position);
        let Some(stream) = &self.stream else {
            *out = self.source.read(self.position, self.position + wanted)?;
            self.position += wanted;
            return Ok(());
        };
        out.reserve(wanted as usize);
        while (out.len() as u64) < wanted {
            let buffer = self.buffer.take().unwrap_or_else(|| js_sys::ArrayBuffer::new(STREAM_BUFFER));
            let room = (wanted - out.len() as u64).min(buffer.byte_length() as u64) as u32;
            let view = js_sys::Uint8Array::new_with_byte_offset_and_length(&buffer, 0, room);
            let result = JsFuture::from(stream.read_with_array_buffer_view(&view)).await.map_err(|_| unreadable())?;
            let value = js_sys::Reflect::get(&result, &"value".into()).map_err(|_| unreadable())?;
            let Some(value) = value.dyn_ref::<js_sys::Uint8Array>() else {
                return Err(unreadable());
            };
            let start = out.len();
            out.resize(start + value.length() as usize, 0);
            value.copy_to(&mut out[start..]);
            self.buffer = Some(value.buffer());
            if value.length() == 0 {
                return Err(unreadable()); // done early: the file shrank since it was chosen
            }
        }
        self.position += wanted;
        Ok(())
    }
}

impl Drop for InOrder {
    /// A pass given up halfway (a cancelled load) lets the browser stop reading.
    fn drop(&mut self) {
        if let Some(stream) = &self.stream {
            let _ = stream.cancel();
        }
    }
}

/// A "bring your own buffer" reader of a blob's bytes, where the browser offers one. Asked for through
/// `Reflect` so that a browser whose blob streams are not byte streams throws a catchable error.
fn byob_reader(blob: &Blob) -> Option<ReadableStreamByobReader> {
    let stream: JsValue = blob.stream().into();
    let get_reader = js_sys::Reflect::get(&stream, &"getReader".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"mode".into(), &"byob".into()).ok()?;
    get_reader.call1(&stream, &options).ok()?.dyn_into::<ReadableStreamByobReader>().ok()
}
